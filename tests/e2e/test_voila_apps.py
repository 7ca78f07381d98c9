"""The Voilà apps served by ``workbench serve``, opened in headless Chromium."""

from __future__ import annotations

import pytest

from workbench.services.identity import app_url, make_token
from workbench.store import repo

from .conftest import SECRET

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("voila")]
TIMEOUT = 120_000


def test_leader_page_shows_the_leader(server, page, demo_engine):
    leader = repo.get_leader(demo_engine, "L0005")
    page.goto(app_url(server, "leader.ipynb", make_token("leader", leader.id, key=SECRET)), timeout=TIMEOUT)
    header = page.locator(".wb-leader-header")
    header.wait_for(state="visible", timeout=TIMEOUT)
    assert leader.name in header.inner_text()
    assert "Development areas" in page.locator(".wb-focus").inner_text()
    page.locator(".lm-TabBar-tab", has_text="Progress").click()
    page.locator(".wb-activity").wait_for(state="visible", timeout=TIMEOUT)


@pytest.mark.parametrize("token", ["", "forged", "wrong-key", "wrong-kind", "expired"])
def test_bad_link_is_refused_before_a_kernel_starts(server, page, demo_engine, token, monkeypatch):
    if token == "wrong-key":
        token = make_token("leader", "L0005", key="another-secret")
    elif token == "wrong-kind":
        token = make_token("facilitator", "C01", key=SECRET)
    elif token == "expired":
        import time

        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() - 15 * 24 * 3600)  # signed 15 days ago
        token = make_token("leader", "L0005", key=SECRET)
        monkeypatch.undo()
    response = page.goto(f"{server}/voila/render/leader.ipynb?token={token}", timeout=TIMEOUT)
    assert response.status == 403
    body = page.inner_text("body")
    assert "Cannot open this page" in body
    assert repo.get_leader(demo_engine, "L0005").name not in body


def test_cohort_page(server, page, demo_engine):
    page.goto(app_url(server, "cohort.ipynb", make_token("facilitator", "C02", key=SECRET)), timeout=TIMEOUT)
    page.locator(".wb-attention").wait_for(state="visible", timeout=TIMEOUT)
    page.locator(".wb-cohort-tabs .lm-TabBar-tab", has_text="Roster and skills").click()
    page.locator(".wb-cohort-roster").wait_for(state="visible", timeout=TIMEOUT)
    names = repo.leaders_frame(demo_engine, "C02").name
    text = page.inner_text(".wb-cohort-roster")
    assert all(n in text for n in names)
    others = set(repo.leaders_frame(demo_engine, "C03").name) - set(names)
    assert not any(n in text for n in others)
