"""A real ``workbench serve`` (Voilà) on a free port, and headless Chromium through Playwright."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import free_port, wait_for_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
SECRET = "e2e-secret"


@pytest.fixture(scope="session")
def server(demo_db, tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    port = free_port()
    env = {**os.environ, "WORKBENCH_SECRET": SECRET, "WORKBENCH_HOME": str(home)}
    log = open(home / "voila.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "workbench.cli", "serve", "--port", str(port), "--db", demo_db],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port, timeout=120)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: run scripts/system-deps.sh (make test does)")
        pytest.skip("chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
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
