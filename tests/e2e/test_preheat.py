"""Preheated kernels (``workbench serve --preheat``): pages of different leaders given waiting kernels
each show only their own leader; a refused link takes no waiting kernel; only the server's own kernels
may ask for a page's request."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from workbench.apps.serving import background, free_port, serve_command
from workbench.services.identity import app_url, make_token

from ._http import request, ws_handshake, ws_url
from .conftest import SECRET, shot

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("voila")]
TIMEOUT = 120_000
POOL = 2


def _given(log: Path) -> list[str]:
    return re.findall(r"Page of leader\.ipynb given preheated kernel ([0-9a-f-]{36})", log.read_text())


def _wait_for_pool(log: Path, size: int, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text()
        if text.count("preheated for leader.ipynb") - len(_given(log)) >= size:
            return
        time.sleep(0.5)
    raise TimeoutError(f"the pool did not fill to {size}: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def preheated(e2e_db, tmp_path_factory):
    home = tmp_path_factory.mktemp("preheated")
    port = free_port()
    log = home / "serve.log"
    env = {"WORKBENCH_SECRET": SECRET, "WORKBENCH_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    cmd = serve_command(e2e_db, port, "--max-kernels", "8", "--preheat", str(POOL))
    with background(cmd, port, env=env, log=log) as url:
        _wait_for_pool(log, POOL)
        yield url, log


def _strangers(engine) -> dict[str, str]:
    """Two leaders whose names are unique in the organization and who are not each other's manager or
    colleagues in one cohort, so neither name has a legitimate place on the other's page."""
    import sqlalchemy as sa

    from workbench.store import models as m
    from workbench.store.db import transaction

    with transaction(engine) as s:
        rows = s.execute(sa.select(m.Leader.id, m.Leader.name, m.Leader.manager_id, m.Leader.cohort_id)
                         .order_by(m.Leader.id)).all()
    count: dict[str, int] = {}
    for r in rows:
        count[r.name] = count.get(r.name, 0) + 1
    unique = [r for r in rows[30:] if count[r.name] == 1]
    managers = {r.manager_id for r in rows}
    for a in unique:
        for b in unique:
            if (a.id < b.id and a.cohort_id != b.cohort_id and a.id not in managers and b.id not in managers
                    and a.manager_id != b.id and b.manager_id != a.id):
                return {a.id: a.name, b.id: b.name}
    raise AssertionError("no two unrelated leaders with unique names in the demo")


def test_two_leaders_on_preheated_kernels_each_see_only_their_own_page(preheated, browser, demo_engine):
    url, log = preheated
    # a refused link takes no waiting kernel
    forged = make_token("leader", "L0031", key="not-the-secret")
    assert request(app_url(url, "leader.ipynb", forged)).status == 403
    assert _given(log) == []
    names = _strangers(demo_engine)
    assert len(set(names.values())) == 2
    contexts, pages = [], {}
    try:
        for lid in names:  # both open while both pooled kernels are still waiting
            ctx = browser.new_context()
            contexts.append(ctx)
            pages[lid] = ctx.new_page()
            pages[lid].goto(app_url(url, "leader.ipynb", make_token("leader", lid, key=SECRET)), timeout=TIMEOUT)
        kernels = {}
        for lid, page in pages.items():
            page.locator(".wb-leader-header").wait_for(state="visible", timeout=TIMEOUT)
            page.locator(".wb-focus").first.wait_for(state="visible", timeout=TIMEOUT)
            kernels[lid] = page.evaluate(
                "JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
            header = page.inner_text(".wb-leader-header")
            other = next(o for o in names if o != lid)
            assert names[lid] in header and names[other] not in header
            assert names[other] not in page.inner_text("body")
            shot(page, f"preheated-{lid}")
        # both pages ran on kernels that were waiting before their request, one kernel each
        assert sorted(_given(log)) == sorted(kernels.values()) and len(set(kernels.values())) == 2
    finally:
        for ctx in contexts:
            ctx.close()


def test_only_the_servers_kernels_may_ask_for_a_pages_request(preheated):
    url, log = preheated
    _wait_for_pool(log, 1)
    waiting = re.findall(r"Kernel ([0-9a-f-]{36}) preheated for leader\.ipynb", log.read_text())
    kernel = next(k for k in reversed(waiting) if k not in _given(log))
    query = ws_url(url, f"/voila/query/{kernel}")
    assert ws_handshake(query, v1=False)[0] == 404  # no key: as if the route did not exist
    r = request(url.replace("ws", "http") + f"/voila/query/{kernel}")
    assert r.status == 404 and "Nothing here" in r.body
    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    from ._http import run_async

    async def wrong_key():
        try:
            await websocket_connect(HTTPRequest(query, headers={"X-Workbench-Kernel-Key": "0" * 32}))
        except HTTPClientError as e:
            return e.code
        return 101

    assert run_async(wrong_key) == 404
