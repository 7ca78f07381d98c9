"""A real ``workbench serve`` (Voilà) on a free port, and headless Chromium through Playwright."""

from __future__ import annotations

import os
import shutil
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


SHOTS = Path(os.environ.get("WB_SCREENSHOTS", Path(__file__).resolve().parents[2] / "reports" / "_build" / "screenshots"))


@pytest.fixture(scope="session")
def e2e_db(demo_db, tmp_path_factory) -> str:
    """A private copy of the demo for the browser tests, which write to it (the shared demo stays read-only)."""
    dst = tmp_path_factory.mktemp("e2e") / "e2e.db"
    shutil.copy(Path(demo_db.removeprefix("sqlite:///")), dst)
    return f"sqlite:///{dst}"


@pytest.fixture(scope="session")
def e2e_engine(e2e_db):
    from workbench.store import connect

    eng = connect(e2e_db)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def server(e2e_db, e2e_engine, tmp_path_factory):
    """``workbench serve`` on the e2e database, with the test secret; yields its base URL."""
    home = tmp_path_factory.mktemp("home")
    port = free_port()
    env = {"WORKBENCH_SECRET": SECRET, "WORKBENCH_HOME": str(home)}
    with background(serve_command(e2e_db, port), port, env=env, log=home / "voila.log") as url:
        yield url


def shot(page, name: str) -> None:
    """Keep a screenshot of the page as it is now (``reports/_build/screenshots/NAME.png``)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


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
    try:
        shot(pg, request.node.name)
    finally:
        pg.close()  # closing the page lets Voilà shut its kernel down
        ctx.close()
