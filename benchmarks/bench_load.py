"""Many leader pages at once against one ``workbench serve``: time to first content, memory, errors.

One ``workbench serve`` runs on a demo database with a kernel cap that admits every page
(``--max-kernels`` above the page count). By default pages are opened the way Voilà's page
script opens them, without a browser: fetch the page (which starts its kernel and sets its
cookie), connect the kernel websocket (``v1.kernel.websocket.jupyter.org``) and Voilà's execution
websocket, ask for the notebook to run, and read the results. Timed from the request: the first
cell's result (the leader header: the first content) and the last (the first tab built). Headless
Chromium on the same 2-core machine spends more processor time on 30 pages' scripts than the
server does, so it measures the client as much as the server; ``browser=True`` opens the pages in
it instead (timed until the header, then the profile chart, are visible).

First single pages one after another (the baseline of the same run), then ``pages`` pages of
different leaders at the same moment. An error is any answer but 200, a refused socket, or a page
not built within the timeout. With every page open it measures each page's kernel (resident and
unique memory) and the Voilà server process.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from workbench.apps.serving import (
    CHROMIUM_FLAGS,
    background,
    chromium_path,
    free_port,
    serve_command,
)

from ._common import BenchResult, Column, demo_db

SECRET = "bench-secret"
TIMEOUT_MS = 300_000
COLUMNS = [
    Column("what", "run", justify="left"),
    Column("n", "pages"),
    Column("errors", "errors"),
    Column("p50", "p50 first content s", "{:.2f}"),
    Column("p95", "p95 first content s", "{:.2f}"),
    Column("chart_p95", "p95 page built s", "{:.2f}"),
    Column("ratio", "p95 / single p95", "{:.2f}"),
    Column("rss", "RSS per page MB", "{:.0f}"),
    Column("uss", "USS per page MB", "{:.0f}"),
    Column("server", "server RSS MB", "{:.0f}"),
]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def _open(browser, url: str) -> tuple[float | None, float | None, str | None, object]:
    """(seconds to header, seconds to chart, error, context) for one page in a fresh context."""
    ctx = await browser.new_context()
    page = await ctx.new_page()
    t0 = time.perf_counter()
    try:
        response = await page.goto(url, wait_until="commit", timeout=TIMEOUT_MS)
        if response is None or response.status != 200:
            return None, None, f"HTTP {response.status if response else '?'}", ctx
        await page.locator(".wb-leader-header").wait_for(state="visible", timeout=TIMEOUT_MS)
        first = time.perf_counter() - t0
        await page.locator(".js-plotly-plot").first.wait_for(state="visible", timeout=TIMEOUT_MS)
        return first, time.perf_counter() - t0, None, ctx
    except Exception as exc:  # a timeout or a crash is an error of the run, not of the benchmark
        return None, None, type(exc).__name__, ctx


async def _open_protocol(base: str, url: str) -> tuple[float | None, float | None, str | None, list]:
    """(seconds to the first cell's result, to the last, error, open sockets) for one page, as its script would."""
    import json

    from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    from workbench.apps.server import KERNEL_WS_PROTOCOL

    t0 = time.perf_counter()
    sockets: list = []
    try:
        try:
            r = await AsyncHTTPClient().fetch(url, request_timeout=TIMEOUT_MS / 1000)
        except HTTPClientError as exc:
            return None, None, f"HTTP {exc.code}", sockets
        kernel = r.body.decode().split('"kernelId": "', 1)[1].split('"', 1)[0]
        headers = {"Cookie": "; ".join(c.split(";", 1)[0] for c in r.headers.get_list("Set-Cookie"))}
        ws = base.replace("http://", "ws://", 1)
        channels = await websocket_connect(HTTPRequest(f"{ws}/api/kernels/{kernel}/channels?session_id={kernel}",
                                                       headers=headers), subprotocols=[KERNEL_WS_PROTOCOL])
        sockets.append(channels)

        async def drain():  # the page's widget messages: read and dropped, as a page would show them
            while await channels.read_message() is not None:
                pass

        sockets.append(asyncio.ensure_future(drain()))
        execution = await websocket_connect(HTTPRequest(f"{ws}/voila/execution/{kernel}", headers=headers))
        sockets.append(execution)
        await execution.write_message(json.dumps({"action": "execute", "payload": {"kernel_id": kernel}}))
        first = None
        while True:
            msg = await asyncio.wait_for(execution.read_message(), TIMEOUT_MS / 1000)
            if msg is None:
                return None, None, "execution socket closed", sockets
            payload = json.loads(msg).get("payload", {})
            if "cell_index" in payload:
                first = first or time.perf_counter() - t0
                if payload["cell_index"] + 1 == payload["total_cell"]:
                    return first, time.perf_counter() - t0, None, sockets
    except Exception as exc:  # a timeout or a refused socket is an error of the run, not of the benchmark
        return None, None, type(exc).__name__, sockets


def _close(sockets: list) -> None:
    for s in sockets:
        if isinstance(s, asyncio.Future):
            s.cancel()
        else:
            s.close()


def _memory(serve_pid: int) -> tuple[list[tuple[float, float]], float]:
    """(RSS, USS) in MB of every kernel under the serve process, and the Voilà server's RSS."""
    import psutil

    kernels, server = [], 0.0
    for p in psutil.Process(serve_pid).children(recursive=True):
        cmd = " ".join(p.cmdline())
        if "ipykernel" in cmd:
            mi = p.memory_full_info()
            kernels.append((mi.rss / 2**20, mi.uss / 2**20))
        elif "workbench.apps.server" in cmd:
            server = p.memory_info().rss / 2**20
    return kernels, server


async def _run(app: str, leaders: list[str], singles: int, serve_pid: int, browser_mode: bool, log) -> list[dict]:
    from workbench.services.identity import app_url, make_token

    def url(lid: str) -> str:
        return app_url(app, "leader.ipynb", make_token("leader", lid, key=SECRET))

    async with contextlib.AsyncExitStack() as stack:
        if browser_mode:
            from playwright.async_api import async_playwright

            pw = await stack.enter_async_context(async_playwright())
            browser = await pw.chromium.launch(executable_path=chromium_path(), headless=True,
                                               args=list(CHROMIUM_FLAGS))

            async def open_page(u):
                return await _open(browser, u)

            async def close(handle):
                await handle.close()
        else:
            async def open_page(u):
                return await _open_protocol(app, u)

            async def close(handle):
                _close(handle)

        # one page to warm caches (bytecode, fonts), not counted; then single pages one at a time
        *_, handle = await open_page(url(leaders[-1]))
        await close(handle)
        single, single_last, single_err = [], [], 0
        for lid in leaders[:singles]:
            first, last, err, handle = await open_page(url(lid))
            await close(handle)
            single_err += err is not None
            if err is None:
                single.append(first)
                single_last.append(last)
        log(f"single pages: {[round(t, 2) for t in single]}")
        await asyncio.sleep(3)
        results = await asyncio.gather(*(open_page(url(lid)) for lid in leaders))
        firsts = [r[0] for r in results if r[2] is None]
        lasts = [r[1] for r in results if r[2] is None]
        errors = [r[2] for r in results if r[2] is not None]
        log(f"concurrent pages: {len(firsts)} built, errors {errors}")
        kernels, server = _memory(serve_pid)
        for *_, handle in results:
            await close(handle)
    single_p95 = _pct(single, 0.95) if single else None
    return [
        dict(what="one page at a time", n=len(single) + single_err, errors=single_err,
             p50=statistics.median(single) if single else None, p95=single_p95,
             chart_p95=_pct(single_last, 0.95) if single_last else None, ratio=1.0 if single else None,
             times=single, last=single_last),
        dict(what=f"{len(leaders)} pages at once", n=len(leaders), errors=len(errors),
             p50=statistics.median(firsts) if firsts else None, p95=_pct(firsts, 0.95) if firsts else None,
             chart_p95=_pct(lasts, 0.95) if lasts else None,
             ratio=_pct(firsts, 0.95) / single_p95 if firsts and single_p95 else None,
             rss=statistics.mean(k[0] for k in kernels) if kernels else None,
             uss=statistics.mean(k[1] for k in kernels) if kernels else None,
             server=server, kernels=len(kernels), times=firsts, last=lasts, error_kinds=errors),
    ]


def run(quick: bool = False, db: str | None = None, pages: int = 30, browser: bool = False,
        log: Callable[[str], None] = print) -> BenchResult:
    singles = 3 if quick else 5
    how = "in headless Chromium" if browser else "as the page script opens them"
    result = BenchResult("load", f"{pages} leader pages at once against one workbench serve ({how})", COLUMNS,
                         meta={"pages": pages, "singles": singles, "browser": browser})
    if browser and not Path(chromium_path()).exists():
        result.notes.append("skipped: Debian's chromium is not installed (scripts/system-deps.sh installs it)")
        return result
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        db = demo_db(tmpdir, db, log)
        env = {"WORKBENCH_SECRET": SECRET, "WORKBENCH_HOME": str(tmpdir / "home"), "OPENBLAS_NUM_THREADS": "1"}
        port = free_port()
        cap = pages + singles + 2
        cmd = serve_command(db, port, "--max-kernels", str(cap))
        leaders = [f"L{i:04d}" for i in range(1, pages + 1)]
        import psutil

        with background(cmd, port, env=env, log=tmpdir / "serve.log"):
            serve_pid = next(p.pid for p in psutil.process_iter(["cmdline"])
                             if p.info["cmdline"] and "serve" in p.info["cmdline"] and str(port) in p.info["cmdline"])
            result.rows = asyncio.run(_run(f"http://127.0.0.1:{port}", leaders, singles, serve_pid, browser, log))
        result.meta["kernel_cap"] = cap
    what = ("the header visible, then the profile chart, each page in its own context of one headless Chromium "
            "on the same machine") if browser else ("the first cell's result (the header), then the last (the first "
                                                    "tab built), read from Voilà's execution websocket")
    result.notes.append(f"First content: {what}; kernel cap {cap} (admits every page). Memory: mean over the page "
                        "kernels with every page open (USS: memory no other process shares).")
    result.notes.append("Goal of issue 19: no errors and p95 <= 3x one page's p95, on the same machine in the same run.")
    return result
