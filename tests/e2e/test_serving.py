"""``workbench serve`` under attack: the kernel-websocket freeze, every route a link holder can reach,
kernel caps, tokens in logs and a clean shutdown. One guarded server per module, small caps."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from workbench.apps.serving import background, free_port, serve_command, wait_for_port
from workbench.services.identity import app_url, make_token
from workbench.store import repo

from ._http import last_cell, request, run_async, ws_handshake, ws_url
from .conftest import SECRET

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("voila")]
TIMEOUT = 120_000
PER_LINK, SERVER_CAP = 2, 3


@dataclass(frozen=True)
class Server:
    url: str
    log: Path


@pytest.fixture(scope="module")
def guarded(e2e_db, tmp_path_factory):
    """``workbench serve`` with at most 2 pages per link and 3 in all; its log is kept."""
    home = tmp_path_factory.mktemp("guarded")
    port = free_port()
    env = {"WORKBENCH_SECRET": SECRET, "WORKBENCH_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    log = home / "serve.log"
    cmd = serve_command(e2e_db, port, "--max-kernels", str(SERVER_CAP), "--kernels-per-link", str(PER_LINK))
    with background(cmd, port, env=env, log=log) as url:
        yield Server(url, log)


def link(server: Server, kind: str, subject: str, app: str = "leader.ipynb") -> str:
    return app_url(server.url, app, make_token(kind, subject, key=SECRET))


def open_page(server: Server, subject: str) -> tuple[str, str]:
    """A leader page fetched as a plain HTTP client: its kernel id and the cookies it set."""
    r = request(link(server, "leader", subject))
    assert r.status == 200 and r.kernel_id, r.body[:300]
    return r.kernel_id, r.cookies


def close_kernel(server: Server, kernel_id: str, cookies: str) -> None:
    assert request(f"{server.url}/api/kernels/{kernel_id}", "DELETE", cookies=cookies).status == 204


def close_tab(server: Server, ctx, page) -> None:
    """Close a browser page and shut its kernel down at once, as its owner (tests leave no kernels)."""
    kernel = page_kernel(page)
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in ctx.cookies())
    page.close()
    ctx.close()
    if kernel:
        close_kernel(server, kernel, cookies)


def page_kernel(page) -> str | None:
    return page.evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")


def channels(server: Server, kernel_id: str) -> str:
    return ws_url(server.url, f"/api/kernels/{kernel_id}/channels?session_id=attacker")


def execute(server: Server, kernel_id: str, cookies: str) -> tuple[int, list[str]]:
    """Ask Voilà to run the page's notebook through its execution websocket, as the page does."""
    msg = json.dumps({"action": "execute", "payload": {"kernel_id": kernel_id}})
    return ws_handshake(ws_url(server.url, f"/voila/execution/{kernel_id}"), cookies, v1=False,
                        messages=[msg], until=last_cell)


def test_the_kernel_websocket_freeze_is_closed_and_others_are_still_served(guarded, browser, demo_engine):
    """Issue 19: a link holder opened ``/api/kernels/<id>/channels`` without the v1 subprotocol, asked Voilà
    to execute, and the server spun at full CPU for everyone. Now that socket is refused, another
    person's kernel answers nobody but them, and pages keep being served."""
    victim_ctx = browser.new_context()
    victim = victim_ctx.new_page()
    mine, cookies = open_page(guarded, "L0011")  # the attacker's own page, with their own link
    try:
        victim.goto(link(guarded, "leader", "L0012"), timeout=TIMEOUT)
        victim.locator(".wb-leader-header").wait_for(state="visible", timeout=TIMEOUT)
        theirs = page_kernel(victim)
        assert theirs and theirs != mine

        # the attack on the attacker's own kernel: the old protocol is refused before any upgrade
        assert ws_handshake(channels(guarded, mine), cookies, v1=False)[0] == 400
        # the attacker's own page still runs (the execution socket is theirs)
        status, replies = execute(guarded, mine, cookies)
        assert status == 101 and last_cell(replies[-1])
        # someone else's kernel: refused on every route, whatever the protocol, with or without a cookie
        for cookie in (cookies, ""):
            assert ws_handshake(channels(guarded, theirs), cookie, v1=True)[0] == 403
            assert ws_handshake(channels(guarded, theirs), cookie, v1=False)[0] == 400
            assert execute(guarded, theirs, cookie)[0] == 403
            assert request(f"{guarded.url}/api/kernels/{theirs}", cookies=cookie).status == 403
            assert request(f"{guarded.url}/api/kernels/{theirs}", "DELETE", cookies=cookie).status == 403
            assert request(f"{guarded.url}/voila/api/shutdown/{theirs}", "POST", cookies=cookie).status == 403

        # the victim's page is untouched and still works: a tab built on demand shows
        victim.locator(".wb-leader-tabs .lm-TabBar-tab", has_text="Progress").first.click()
        victim.locator(".wb-activity").wait_for(state="visible", timeout=TIMEOUT)
        assert repo.get_leader(demo_engine, "L0012").name in victim.inner_text(".wb-leader-header")
    finally:
        close_tab(guarded, victim_ctx, victim)
        close_kernel(guarded, mine, cookies)
    # and a new visitor is served a whole page afterwards
    ctx = browser.new_context()
    other = ctx.new_page()
    try:
        other.goto(link(guarded, "leader", "L0013"), timeout=TIMEOUT)
        other.locator(".wb-focus").wait_for(state="visible", timeout=TIMEOUT)
    finally:
        close_tab(guarded, ctx, other)


#: every route a visitor might try that no page needs: a styled 404, whoever asks
NOT_FOUND = [
    ("GET", "/voila"), ("GET", "/voila/"), ("GET", "/voila/tree"), ("GET", "/voila/tree/leader.ipynb"),
    ("GET", "/voila/api/contents"), ("GET", "/voila/api/contents/leader.ipynb"), ("GET", "/api/contents"),
    ("GET", "/voila/files/leader.ipynb"), ("GET", "/voila/files/../../pyproject.toml"),
    ("GET", "/api/kernels"), ("POST", "/api/kernels"), ("GET", "/api/sessions"), ("POST", "/api/sessions"),
    ("GET", "/api/kernelspecs"), ("GET", "/api/terminals"), ("GET", "/login"), ("GET", "/logout"),
    ("GET", "/voila/query/00000000-0000-0000-0000-000000000000"), ("GET", "/lab"), ("GET", "/tree"),
    ("GET", "/api/kernels/00000000-0000-0000-0000-000000000000"),
    ("POST", "/api/kernels/00000000-0000-0000-0000-000000000000/interrupt"),
    ("POST", "/api/kernels/00000000-0000-0000-0000-000000000000/restart"),
]


def test_every_route_a_link_holder_can_reach(guarded, demo_engine):
    """The audit: only the page, its assets and its own kernel's endpoints answer."""
    token = make_token("leader", "L0014", key=SECRET)
    for method, path in NOT_FOUND:
        for cookies in ("", f"token={token}"):
            r = request(f"{guarded.url}{path}?token={token}", method, cookies=cookies)
            assert r.status == 404, (method, path, r.status)
            assert "leader.ipynb" not in r.body and "Traceback" not in r.body
            assert "Nothing here" in r.body or path.startswith("/api/kernels/0"), (method, path, r.body)
    # the root: a landing page saying how to get in, never a listing of the notebooks
    r = request(f"{guarded.url}/?token={token}")
    assert r.status == 200 and "personal link" in r.body and ".ipynb" not in r.body and "<script" not in r.body
    # pages: only the three apps, only with their own kind of link
    assert request(f"{guarded.url}/voila/render/leader.ipynb").status == 403
    assert request(f"{guarded.url}/voila/render/cohort.ipynb?token={token}").status == 403
    for name in ("../../pyproject.toml", "research.ipynb", "leader.py", "nothing.txt"):
        r = request(f"{guarded.url}/voila/render/{name}?token={token}")
        assert r.status in (403, 404) and "Cannot open this page" in r.body or r.status == 404, (name, r.status)
    # the page's own assets answer anyone (they are Voilà's, not ours), and so does plotly's chart code
    # at the one versioned path the charts load it from (apps/assets.py), and nothing else beside it
    assert request(f"{guarded.url}/voila/static/voila.js").status == 200
    from workbench.apps import assets

    r = request(f"{guarded.url}/{assets.bundle_route()}")
    assert r.status == 200 and "max-age=31536000" in r.headers.get("Cache-Control", "")
    folder = assets.bundle_folder()
    for other in ("plotly.min.js", "../../voila.js", "%2e%2e/widgetbundle.js"):
        assert request(f"{guarded.url}/{folder}/{other}").status == 404, other
    assert request(f"{guarded.url}/voila/workbench-assets/plotly-0.0.1/widgetbundle.js").status == 404
    # a kernel's endpoints: its own page's cookie only
    kernel, cookies = open_page(guarded, "L0014")
    try:
        assert request(f"{guarded.url}/api/kernels/{kernel}").status == 403
        assert request(f"{guarded.url}/api/kernels/{kernel}", cookies=cookies).status == 200
        assert request(f"{guarded.url}/voila/api/shutdown/{kernel}", "POST").status == 403
        assert request(f"{guarded.url}/api/kernels/{kernel}", "DELETE").status == 403
        page_name = repo.get_leader(demo_engine, "L0014").name
        assert page_name not in request(f"{guarded.url}/api/kernels/{kernel}", cookies=cookies).body
    finally:
        close_kernel(guarded, kernel, cookies)
    assert request(f"{guarded.url}/api/kernels/{kernel}", cookies=cookies).status == 404  # it is gone


def test_kernel_caps_per_link_and_per_server(guarded):
    """Two open pages per link, three on the server; the next one gets a clear page, and room
    comes back when a page closes."""
    import asyncio

    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    from workbench.apps.server import KERNEL_WS_PROTOCOL

    async def connect(kernel: str, cookies: str):
        req = HTTPRequest(channels(guarded, kernel), headers={"Cookie": cookies})
        return await websocket_connect(req, subprotocols=[KERNEL_WS_PROTOCOL])

    async def scenario():
        opened, sockets = [], []
        try:
            for subject in ("L0015", "L0015"):  # two pages of one link, both connected (open tabs)
                kernel, cookies = await asyncio.to_thread(open_page, guarded, subject)
                opened.append((kernel, cookies))
                sockets.append(await connect(kernel, cookies))
            third = await asyncio.to_thread(request, link(guarded, "leader", "L0015"))
            assert third.status == 429 and "Too many open pages" in third.body and "2 pages open" in third.body
            assert "<main class=\"wb-message-page\">" in third.body and "Traceback" not in third.body
            kernel, cookies = await asyncio.to_thread(open_page, guarded, "L0016")  # another link: room left
            opened.append((kernel, cookies))
            sockets.append(await connect(kernel, cookies))
            full = await asyncio.to_thread(request, link(guarded, "leader", "L0017"))
            assert full.status == 503 and "as many pages open as it can hold" in full.body
            # a tab closes: its page's kernel is shut down, and the next person gets in
            sockets.pop(0).close()
            await asyncio.to_thread(close_kernel, guarded, *opened.pop(0))
            kernel, cookies = await asyncio.to_thread(open_page, guarded, "L0017")
            opened.append((kernel, cookies))
        finally:
            for ws in sockets:
                ws.close()
            for kernel, cookies in opened:
                await asyncio.to_thread(close_kernel, guarded, kernel, cookies)

    run_async(scenario)


def test_tokens_never_reach_the_log(guarded):
    """The log names a link only by the first 8 hex digits of its SHA-256, for good and bad requests."""
    from workbench.apps.gate import token_digest

    good = make_token("leader", "L0018", key=SECRET)
    forged = make_token("leader", "L0018", key="not-the-secret")
    wrong_kind = make_token("facilitator", "C01", key=SECRET)
    for token in (good, forged, wrong_kind):
        r = request(f"{guarded.url}/voila/render/leader.ipynb?token={token}&x=1")  # 200, 403, 403
        if r.kernel_id:
            close_kernel(guarded, r.kernel_id, r.cookies)
        request(f"{guarded.url}/voila/tree?token={token}")  # 404
        request(f"{guarded.url}/voila/static/nothing.js?token={token}")  # 404 from a static handler
        request(f"{guarded.url}/voila/render/leader.ipynb", cookies=f"token={token}")  # 403 without one
    text = guarded.log.read_text()
    for token in (good, forged, wrong_kind):
        assert token not in text
        assert token.split(".")[-1] not in text  # not even the signature
    assert f"refused leader.ipynb for link sha256:{token_digest(forged)}" in text
    assert f"refused leader.ipynb for link sha256:{token_digest(wrong_kind)}" in text
    assert f"opened leader.ipynb for link sha256:{token_digest(good)}" in text


def test_sigterm_stops_voila_and_every_kernel(e2e_db, tmp_path):
    """``workbench serve`` stopped with SIGTERM: the port closes and no process it started is left."""
    import psutil

    port = free_port()
    env = {**os.environ, "WORKBENCH_SECRET": SECRET, "WORKBENCH_HOME": str(tmp_path)}
    with open(tmp_path / "serve.log", "w") as out:
        proc = subprocess.Popen(serve_command(e2e_db, port), env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        wait_for_port(port, timeout=120)
        server = Server(f"http://127.0.0.1:{port}", tmp_path / "serve.log")
        open_page(server, "L0019")  # a kernel starts (and stays: nobody closes the page)
        tree = psutil.Process(proc.pid).children(recursive=True)
        assert any("ipykernel" in " ".join(p.cmdline()) for p in tree), [p.cmdline() for p in tree]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        gone, alive = psutil.wait_procs(tree, timeout=10)
        assert not alive, [p.cmdline() for p in alive]
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0  # nothing answers on the port
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
