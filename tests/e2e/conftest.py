"""A real ``workbench serve`` (Voilà) on a free port, and headless Chromium through Playwright."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workbench.apps.serving import (
    CHROMIUM_FLAGS,
    background,
    chromium_path,
    free_port,
    serve_command,
)

CHROMIUM = chromium_path()
SECRET = "e2e-secret"


@pytest.fixture(scope="session")
def server(demo_db, tmp_path_factory):
    """``workbench serve`` on the demo database, with the test secret; yields its base URL."""
    home = tmp_path_factory.mktemp("home")
    port = free_port()
    env = {"WORKBENCH_SECRET": SECRET, "WORKBENCH_HOME": str(home)}
    with background(serve_command(demo_db, port), port, env=env, log=home / "voila.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: run scripts/system-deps.sh (make test does)")
        pytest.skip("chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_FLAGS))
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    ctx = browser.new_context(viewport={"width": 1200, "height": 900})
    pg = ctx.new_page()
    yield pg
    shots = Path(os.environ.get("WB_SCREENSHOTS", Path(__file__).resolve().parents[2] / "reports" / "_build" / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    try:
        pg.screenshot(path=str(shots / f"{request.node.name}.png"), full_page=True)
    finally:
        pg.close()  # closing the page lets Voilà shut its kernel down
        ctx.close()
