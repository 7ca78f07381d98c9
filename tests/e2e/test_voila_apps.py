"""The Voilà apps served by ``workbench serve``, opened in headless Chromium."""

from __future__ import annotations

import pytest

from workbench.identity import app_url, make_token
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
    page.locator(".wb-activity").wait_for(state="visible", timeout=TIMEOUT)
    assert "Development areas" in page.locator(".wb-focus").inner_text()


@pytest.mark.parametrize("token", ["", "forged", "wrong-key"])
def test_bad_link_shows_only_an_error(server, page, demo_engine, token):
    if token == "wrong-key":
        token = make_token("leader", "L0005", key="another-secret")
    page.goto(f"{server}/voila/render/leader.ipynb?token={token}", timeout=TIMEOUT)
    page.locator(".wb-error-page").wait_for(state="visible", timeout=TIMEOUT)
    body = page.inner_text("body")
    assert "Cannot open this page" in body
    assert repo.get_leader(demo_engine, "L0005").name not in body


def test_cohort_page(server, page, demo_engine):
    page.goto(app_url(server, "cohort.ipynb", make_token("facilitator", "C02", key=SECRET)), timeout=TIMEOUT)
    page.locator(".wb-cohort-app").wait_for(state="visible", timeout=TIMEOUT)
    names = repo.leaders_frame(demo_engine, "C02").name
    text = page.inner_text(".wb-cohort-app")
    assert all(n in text for n in names)
