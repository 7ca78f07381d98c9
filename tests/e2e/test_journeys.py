"""Whole journeys in headless Chromium against a real ``workbench serve``.

A new leader answers the adaptive assessment (reloading half-way: it resumes), sees their
profile and plan, starts a module, logs time, completes it and sees Progress change. A rater
answers through their signed link, and the leader's view of peers appears only once three
peers have answered. Closed and tampered rater links show nothing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from workbench.services import invitations as inv
from workbench.services.identity import app_url, make_token
from workbench.store import models as m
from workbench.store import repo
from workbench.store.db import transaction

from .conftest import SECRET, shot

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("voila")]
TIMEOUT = 120_000
NEW_LEADER = "L9001"


def tab(page, scope: str, title: str) -> None:
    page.locator(f"{scope} .lm-TabBar-tab", has_text=title).first.click()


def answered(page) -> int:
    """How many answers the form counts (its progress line starts with the number)."""
    return int(page.locator(".wb-assessment-progress").inner_text().split()[0])


def answer(page, until: int | None = None) -> int:
    """Answer question after question (a varied but fixed pattern) until the form asks no more, or
    ``until`` answers; each click is saved before the next question shows. Returns the count.

    A click can land on an option that is being replaced by the next question's; then the count
    does not move and the click is simply repeated.
    """
    n = answered(page)
    more = page.locator(".wb-assessment-option, .wb-assessment-question:has-text('every question for now')")
    while until is None or n < until:
        more.first.wait_for(state="visible", timeout=30_000)
        options = page.locator(".wb-assessment-option")
        if options.count() == 0:
            if "every question for now" in page.locator(".wb-assessment-question").inner_text():
                break
            continue  # the options were being replaced: look again
        value = (2, 3, 4, 4, 3, 5, 2, 4)[n % 8]
        target = page.locator(f".wb-assessment-option-{value}")
        try:
            (target if target.count() else options).first.click(timeout=5_000)
            page.wait_for_function(
                "n => parseInt(document.querySelector('.wb-assessment-progress').innerText) > n", arg=n,
                timeout=15_000)
        except PlaywrightTimeout:  # the click hit an outgoing button: look again and click again
            n = answered(page)
            continue
        n = answered(page)
    return n


@pytest.fixture(scope="module")
def new_leader(e2e_engine):
    """A first-time leader with nothing recorded yet, in cohort C01."""
    with transaction(e2e_engine) as s:
        if s.get(m.Leader, NEW_LEADER) is None:
            s.add(m.Leader(id=NEW_LEADER, organization_id="northwind", cohort_id="C01", name="Robin Newcomb",
                           role="Team lead, Operations", function="Operations", role_level="first-time",
                           first_time=True, weekly_minutes=60))
    return NEW_LEADER


def test_a_new_leader_assesses_plans_learns_and_sees_progress(server, page, e2e_engine, new_leader, library):
    page.goto(app_url(server, "leader.ipynb", make_token("leader", new_leader, key=SECRET)), timeout=TIMEOUT)
    page.locator(".wb-focus").wait_for(state="visible", timeout=TIMEOUT)
    assert "No assessment yet" in page.locator(".wb-focus").inner_text()

    # the adaptive assessment: every click is saved at once ...
    tab(page, ".wb-leader-tabs", "Assessment")
    page.locator(".wb-assessment-option").first.wait_for(state="visible", timeout=TIMEOUT)
    assert answer(page, until=5) == 5
    shot(page, "leader-assessment-in-progress")
    # ... so a reload half-way resumes where the leader left off
    page.reload(timeout=TIMEOUT)
    page.locator(".wb-leader-header").wait_for(state="visible", timeout=TIMEOUT)
    tab(page, ".wb-leader-tabs", "Assessment")
    page.locator(".wb-assessment-option").first.wait_for(state="visible", timeout=TIMEOUT)
    assert answered(page) == 5
    n = answer(page)
    assert 16 <= n < 56  # adaptive: at least two per competency, fewer than the whole bank
    page.locator(".wb-assessment-submit").click()
    page.locator(".wb-assessment-done").wait_for(state="visible", timeout=TIMEOUT)
    shot(page, "leader-assessment-submitted")
    sessions = repo.responses_frame(e2e_engine)
    assert (sessions.leader_id == new_leader).sum() == n
    assert not repo.latest_estimates(e2e_engine, new_leader).empty

    # the profile now shows strengths and development areas with intervals
    tab(page, ".wb-leader-tabs", "My profile")
    expect(page.locator(".wb-focus")).to_contain_text("Strengths", timeout=TIMEOUT)
    page.locator(".wb-section-my-profile .js-plotly-plot").first.wait_for(state="visible", timeout=TIMEOUT)
    shot(page, "leader-profile")

    # the plan: reasons, start, log time, complete
    tab(page, ".wb-leader-tabs", "My plan")
    item = page.locator(".wb-plan-item").first
    item.wait_for(state="visible", timeout=TIMEOUT)
    assert item.locator(".wb-plan-reason").inner_text().strip()
    module_id = next(c for c in item.get_attribute("class").split() if c.startswith("wb-plan-item-"))
    module_id = module_id.removeprefix("wb-plan-item-")
    shot(page, "leader-plan")
    title = library.modules[module_id].title
    item.locator(".wb-plan-start").click()
    # Start opens the module in Explore's reader ...
    expect(page.locator(".wb-section-explore .wb-reader-title")).to_contain_text(title, timeout=30_000)
    # ... and back on the plan the card is redrawn as started (wait for the new one before typing into it)
    tab(page, ".wb-leader-tabs", "My plan")
    page.locator(f".wb-plan-item-{module_id} .wb-plan-status-started").wait_for(state="visible", timeout=30_000)
    minutes = page.locator(f".wb-plan-item-{module_id} .wb-plan-minutes input")
    minutes.click()
    minutes.press("Control+A")
    minutes.press_sequentially("20")  # typed, as a person would: each key reaches the kernel
    minutes.press("Tab")
    page.locator(f".wb-plan-item-{module_id} .wb-plan-log").click()
    expect(page.locator(".wb-plan-budget")).to_contain_text("20 of 60", timeout=30_000)
    page.locator(f".wb-plan-item-{module_id} .wb-plan-complete").click()
    expect(page.locator(f".wb-plan-item-{module_id}")).to_have_count(0, timeout=30_000)
    assert module_id in repo.completed_modules(e2e_engine, new_leader)

    # progress shows it
    tab(page, ".wb-leader-tabs", "Progress")
    activity = page.locator(".wb-activity")
    expect(activity).to_contain_text("1 completed", timeout=TIMEOUT)
    expect(activity).to_contain_text("20 of your 60 weekly minutes")
    shot(page, "leader-progress")


def test_explore_and_take_a_knowledge_check(server, page, e2e_engine, library):
    leader = "L0004"
    page.goto(app_url(server, "leader.ipynb", make_token("leader", leader, key=SECRET)), timeout=TIMEOUT)
    page.locator(".wb-leader-header").wait_for(state="visible", timeout=TIMEOUT)
    tab(page, ".wb-leader-tabs", "Explore")
    search = page.locator(".wb-explore-search input")
    search.wait_for(state="visible", timeout=TIMEOUT)
    search.fill("giving feedback")
    search.press("Enter")
    page.locator(".wb-explore-result").first.wait_for(state="visible", timeout=30_000)
    page.locator(".wb-explore-result .wb-explore-open").first.click()
    page.locator(".wb-reader-body").wait_for(state="visible", timeout=30_000)
    title = page.locator(".wb-reader-title").inner_text().strip()
    module = next(md for md in library.modules.values() if md.title == title)
    for q in page.locator(".wb-check-question").all():
        q.locator("input[type=radio]").first.check()
    page.locator(".wb-check-submit").click()
    expect(page.locator(".wb-check-result")).to_contain_text(re.compile(r"\d"), timeout=30_000)
    shot(page, "leader-explore-reader")
    ev = repo.activity_frame(e2e_engine, leader)
    assert ((ev.object_type == "knowledge-check") & (ev.object_id == module.id)).any()


def test_rater_answers_and_peers_appear_only_from_three(server, page, browser, e2e_engine):
    leader = "L0001"  # the demo's leader with two peers submitted: peers hidden
    summary = inv.leader_summary(e2e_engine, leader)
    assert summary.role("peer").submitted == 2 and not summary.role("peer").visible
    leader_url = app_url(server, "leader.ipynb", make_token("leader", leader, key=SECRET))
    page.goto(leader_url, timeout=TIMEOUT)
    status = page.locator(".wb-others-status")
    status.wait_for(state="visible", timeout=TIMEOUT)
    assert re.search(r"Peers: \d+ invited\. Their pooled view appears once at least 3", status.inner_text())
    shot(page, "leader-others-hidden")

    invitation = inv.invite(e2e_engine, leader, "peer", name="Pat Example", email="pat.example@northwind.example")
    ctx = browser.new_context(viewport={"width": 1200, "height": 900})
    rater = ctx.new_page()
    try:
        rater.goto(app_url(server, "rater.ipynb", make_token("rater", invitation.id, key=SECRET)), timeout=TIMEOUT)
        header = rater.locator(".wb-rater-header")
        header.wait_for(state="visible", timeout=TIMEOUT)
        name = repo.get_leader(e2e_engine, leader).name
        assert name in header.inner_text()
        body = rater.inner_text("body")
        assert "Strengths" not in body and "Development areas" not in body  # nothing of the leader's results
        rater.locator(".wb-assessment-option").first.wait_for(state="visible", timeout=TIMEOUT)
        total = int(rater.locator(".wb-assessment-progress").inner_text().split()[-1])
        assert answer(rater, until=10) == 10
        shot(rater, "rater-form")
        assert answer(rater) == total  # a fixed form: every question, worded for a peer
        rater.locator(".wb-assessment-submit").click()
        rater.locator(".wb-assessment-done").wait_for(state="visible", timeout=TIMEOUT)
        shot(rater, "rater-submitted")
        # the same link now opens nothing: the form is closed
        rater.goto(app_url(server, "rater.ipynb", make_token("rater", invitation.id, key=SECRET)), timeout=TIMEOUT)
        rater.locator(".wb-error-page").wait_for(state="visible", timeout=TIMEOUT)
        assert "already submitted" in rater.inner_text("body")
    finally:
        rater.close()
        ctx.close()

    assert inv.leader_summary(e2e_engine, leader).role("peer").visible
    page.goto(leader_url, timeout=TIMEOUT)
    status.wait_for(state="visible", timeout=TIMEOUT)
    expect(status).to_contain_text(re.compile(r"Peers: \d+ invited; your view pools 3\."), timeout=TIMEOUT)
    text = page.inner_text(".wb-others")
    for r in inv.invitations_for(e2e_engine, leader):
        if r.role != "manager" and r.name:
            assert r.name not in text  # counted, never named
    shot(page, "leader-others-visible")


def test_closed_and_tampered_rater_links_show_nothing(server, page, e2e_engine):
    leader = "L0003"
    name = repo.get_leader(e2e_engine, leader).name
    expired = inv.invite(e2e_engine, leader, "peer", name="Lee Late", email="lee.late@northwind.example", days=1,
                         now=datetime.now(UTC) - timedelta(days=3))
    page.goto(app_url(server, "rater.ipynb", make_token("rater", expired.id, key=SECRET)), timeout=TIMEOUT)
    page.locator(".wb-error-page").wait_for(state="visible", timeout=TIMEOUT)
    assert "expired" in page.inner_text("body") and name not in page.inner_text("body")
    shot(page, "rater-expired")
    token = make_token("rater", expired.id, key=SECRET)
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    response = page.goto(f"{server}/voila/render/rater.ipynb?token={tampered}", timeout=TIMEOUT)
    assert response.status == 403 and name not in page.inner_text("body")
    with transaction(e2e_engine) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(m.AssessmentSession)
                        .where(m.AssessmentSession.rater_id == expired.id)) == 0  # nothing was opened
