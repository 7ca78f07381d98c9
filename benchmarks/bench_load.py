"""Many leader pages at once against one ``workbench serve``, against a bare Voilà page: time to first
content, memory, errors.

One run measures, on the same machine:

1. a bare Voilà page (a notebook of one small widget, plain ``voila`` with the same flags), one page
   at a time: the floor any Voilà page pays (start or take a kernel, render, run);
2. for each preheating setting (kernels kept started and waiting for leader pages, see
   :func:`workbench.apps.server.default_pool_sizes`): one ``workbench serve`` on a demo database with a
   kernel cap that admits every page, single leader pages one at a time (each after the pool has
   refilled, as a page arriving on its own would find it), then ``pages`` pages of different leaders
   at the same moment.

By default pages are opened the way Voilà's page script opens them, without a browser: fetch the page
(which gives it a kernel and sets its cookie), connect the kernel websocket
(``v1.kernel.websocket.jupyter.org``) and Voilà's execution websocket, ask for the notebook to run, and
read the results. Timed from the request: the first cell result that shows something (the first content: the leader
header, the bare page's widget) and the last (the first tab built). Headless Chromium on the same 2-core
machine spends more processor time on 30 pages' scripts than the server does, so it measures the client
as much as the server; ``browser=True`` opens the pages in it instead (timed until the header, then the
profile chart, are visible).

An error is any answer but 200, a refused socket, or a page not built within the timeout. With every
page open it measures each page's kernel (resident and unique memory; kernels found by the page's
kernel id), the kernels still waiting in the pool, and the Voilà server process.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from workbench.apps.server import default_burst_sizes, default_pool_sizes
from workbench.apps.serving import (
    CHROMIUM_FLAGS,
    background,
    chromium_path,
    free_port,
    serve_command,
    voila_command,
)

from ._common import BenchResult, Column, demo_db

SECRET = "bench-secret"
TIMEOUT_MS = 300_000
COLUMNS = [
    Column("what", "run", justify="left"),
    Column("preheat", "preheated"),
    Column("n", "pages"),
    Column("errors", "errors"),
    Column("p50", "p50 first content s", "{:.2f}"),
    Column("p95", "p95 first content s", "{:.2f}"),
    Column("chart_p95", "p95 page built s", "{:.2f}"),
    Column("ratio", "p95 / single p95", "{:.2f}"),
    Column("bare_ratio", "p95 / bare p95", "{:.2f}"),
    Column("rss", "RSS per page MB", "{:.0f}"),
    Column("uss", "USS per page MB", "{:.0f}"),
    Column("pool_rss", "RSS per waiting kernel MB", "{:.0f}"),
    Column("server", "server RSS MB", "{:.0f}"),
    Column("cpu_server", "server CPU s per page", "{:.2f}"),
    Column("cpu_page", "kernel CPU s per page", "{:.2f}"),
    Column("cpu_refill", "refill CPU s", "{:.1f}"),
]
BARE_NOTEBOOK = {
    "cells": [{"cell_type": "code", "execution_count": None, "id": "bare", "metadata": {}, "outputs": [],
               "source": "import ipywidgets as w\nw.HTML('<b>Hello</b>')"}],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
    "nbformat": 4, "nbformat_minor": 5,
}


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
            r = await AsyncHTTPClient().fetch(url, request_timeout=TIMEOUT_MS / 1000,
                                             connect_timeout=TIMEOUT_MS / 1000)
        except HTTPClientError as exc:
            return None, None, f"HTTP {exc.code}", sockets
        kernel = r.body.decode().split('"kernelId": "', 1)[1].split('"', 1)[0]
        sockets.append(kernel)
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
                if first is None and payload.get("output_cell", {}).get("outputs"):
                    first = time.perf_counter() - t0  # the first cell that shows something
                if payload["cell_index"] + 1 == payload["total_cell"]:
                    if first is None:
                        return None, None, "no cell showed anything", sockets
                    return first, time.perf_counter() - t0, None, sockets
    except Exception as exc:  # a timeout or a refused socket is an error of the run, not of the benchmark
        return None, None, type(exc).__name__, sockets


def _close(sockets: list) -> None:
    for s in sockets:
        if isinstance(s, asyncio.Future):
            s.cancel()
        elif not isinstance(s, str):  # (the kernel id)
            s.close()


def _cpu(serve_pid: int) -> dict[int, tuple[str, float]]:
    """Processor seconds (user + system) so far of the Voilà server and of every kernel: {pid: (command, s)}."""
    import psutil

    out = {}
    for p in psutil.Process(serve_pid).children(recursive=True):
        try:
            cmd, t = " ".join(p.cmdline()), p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        if "ipykernel" in cmd or "workbench.apps.server" in cmd:
            out[p.pid] = (cmd, t.user + t.system)
    return out


def _cpu_split(before: dict, after: dict, page_kernels: set[str]) -> dict[str, float]:
    """Processor seconds spent between two :func:`_cpu` readings: by the server, by the pages' kernels and
    by the other kernels (waiting ones being preheated)."""
    split = {"server": 0.0, "pages": 0.0, "others": 0.0}
    for pid, (cmd, t) in after.items():
        spent = t - before.get(pid, (cmd, 0.0))[1]
        key = ("server" if "workbench.apps.server" in cmd
               else "pages" if any(f"kernel-{k}.json" in cmd for k in page_kernels) else "others")
        split[key] += spent
    return split


def _memory(serve_pid: int, page_kernels: set[str]) -> tuple[list[tuple[float, float]], list[float], float]:
    """(RSS, USS) in MB of the pages' kernels, the RSS of the other kernels (waiting in the pool), and the
    Voilà server's RSS. A kernel is known by its connection file (``kernel-<id>.json``)."""
    import psutil

    pages, waiting, server = [], [], 0.0
    for p in psutil.Process(serve_pid).children(recursive=True):
        cmd = " ".join(p.cmdline())
        if "ipykernel" in cmd:
            mi = p.memory_full_info()
            if any(f"kernel-{k}.json" in cmd for k in page_kernels):
                pages.append((mi.rss / 2**20, mi.uss / 2**20))
            else:
                waiting.append(mi.rss / 2**20)
        elif "workbench.apps.server" in cmd:
            server = p.memory_info().rss / 2**20
    return pages, waiting, server


async def _opener(stack: contextlib.AsyncExitStack, base: str, browser_mode: bool):
    """(open a page, close it) for the chosen client."""
    if browser_mode:
        from playwright.async_api import async_playwright

        pw = await stack.enter_async_context(async_playwright())
        browser = await pw.chromium.launch(executable_path=chromium_path(), headless=True, args=list(CHROMIUM_FLAGS))

        async def open_page(u):
            return await _open(browser, u)

        async def close(handle):
            await handle.close()
    else:
        from tornado.httpclient import AsyncHTTPClient

        # independent visitors: no queue of the client's own (tornado's default is 10 connections,
        # and a request queued 20 s fails)
        AsyncHTTPClient.configure(None, max_clients=1000)

        async def open_page(u):
            return await _open_protocol(base, u)

        async def close(handle):
            _close(handle)
    return open_page, close


def _pool_filled(server_log: Path, size: int, log, timeout: float = 600.0):
    """A coroutine function that returns once the server's log shows ``size`` leader kernels waiting."""

    async def wait() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = server_log.read_text(errors="replace")
            if text.count("preheated for leader.ipynb") - text.count("Page of leader.ipynb given") >= size:
                await asyncio.sleep(1.0)  # the last one's import settles
                return
            await asyncio.sleep(0.5)
        log(f"the pool did not fill to {size} in {timeout:.0f} s")

    return wait


def _kernel_of(handle) -> str | None:
    return next((s for s in handle if isinstance(s, str)), None) if isinstance(handle, list) else None


async def _singles(open_page, close, urls: list[str], settle) -> tuple[list[float], list[float], int]:
    """Pages one at a time (after one not counted, to warm caches), each once ``settle()`` returns."""
    *_, handle = await open_page(urls[-1])
    await close(handle)
    firsts, lasts, errors = [], [], 0
    for u in urls[:-1]:
        await settle()
        first, last, err, handle = await open_page(u)
        await close(handle)
        errors += err is not None
        if err is None:
            firsts.append(first)
            lasts.append(last)
    return firsts, lasts, errors


async def _bare(base: str, singles: int, browser_mode: bool, log) -> dict:
    async with contextlib.AsyncExitStack() as stack:
        open_page, close = await _opener(stack, base, browser_mode)
        url = f"{base}/voila/render/bare.ipynb"
        firsts, lasts, errors = await _singles(open_page, close, [url] * (singles + 1), lambda: asyncio.sleep(1.0))
    log(f"bare pages: {[round(t, 2) for t in firsts]}")
    return dict(what="bare Voilà page, one at a time", n=len(firsts) + errors, errors=errors,
                p50=statistics.median(firsts) if firsts else None, p95=_pct(firsts, 0.95) if firsts else None,
                chart_p95=_pct(lasts, 0.95) if lasts else None, times=firsts, last=lasts)


async def _run(app: str, leaders: list[str], singles: int, serve_pid: int, browser_mode: bool, log,
               settle, preheat: int, bare_p95: float | None) -> list[dict]:
    from workbench.services.identity import app_url, make_token

    def url(lid: str) -> str:
        return app_url(app, "leader.ipynb", make_token("leader", lid, key=SECRET))

    async with contextlib.AsyncExitStack() as stack:
        open_page, close = await _opener(stack, app, browser_mode)
        await settle()  # the pool fills after the server starts
        single, single_last, single_err = await _singles(
            open_page, close, [url(lid) for lid in leaders[:singles]] + [url(leaders[-1])], settle)
        log(f"single pages: {[round(t, 2) for t in single]}")
        await settle()
        cpu_before, t0 = _cpu(serve_pid), time.perf_counter()
        results = await asyncio.gather(*(open_page(url(lid)) for lid in leaders))
        wall = time.perf_counter() - t0
        firsts = [r[0] for r in results if r[2] is None]
        lasts = [r[1] for r in results if r[2] is None]
        errors = [r[2] for r in results if r[2] is not None]
        log(f"concurrent pages: {len(firsts)} built, errors {errors}")
        page_kernels = {k for r in results if (k := _kernel_of(r[3]))}
        kernels, waiting, server = _memory(serve_pid, page_kernels)
        cpu = _cpu_split(cpu_before, _cpu(serve_pid), page_kernels)
        log(f"processor seconds during the burst ({wall:.0f} s): {cpu}")
        for *_, handle in results:
            await close(handle)
    single_p95 = _pct(single, 0.95) if single else None
    p95 = _pct(firsts, 0.95) if firsts else None
    return [
        dict(what="leader page, one at a time", preheat=preheat, n=len(single) + single_err, errors=single_err,
             p50=statistics.median(single) if single else None, p95=single_p95,
             chart_p95=_pct(single_last, 0.95) if single_last else None, ratio=1.0 if single else None,
             bare_ratio=single_p95 / bare_p95 if single_p95 and bare_p95 else None, times=single, last=single_last),
        dict(what=f"{len(leaders)} leader pages at once", preheat=preheat, n=len(leaders), errors=len(errors),
             p50=statistics.median(firsts) if firsts else None, p95=p95,
             chart_p95=_pct(lasts, 0.95) if lasts else None,
             ratio=p95 / single_p95 if p95 and single_p95 else None,
             bare_ratio=p95 / bare_p95 if p95 and bare_p95 else None,
             rss=statistics.mean(k[0] for k in kernels) if kernels else None,
             uss=statistics.mean(k[1] for k in kernels) if kernels else None,
             pool_rss=statistics.mean(waiting) if waiting else None, waiting=len(waiting),
             server=server, kernels=len(kernels), times=firsts, last=lasts, error_kinds=errors,
             cpu_server=cpu["server"] / len(leaders), cpu_page=cpu["pages"] / len(leaders),
             cpu_refill=cpu["others"], burst_wall=wall),
    ]


def run(quick: bool = False, db: str | None = None, pages: int = 30, browser: bool = False,
        preheats: tuple[int, ...] | None = None, log: Callable[[str], None] = print) -> BenchResult:
    """``preheats``: the leader pools to compare (-1: ``workbench serve``'s default for the cap; default
    -1 with ``quick``, else 0 (none, as before preheating), -1 and ``pages`` (a pool for the whole burst))."""
    import json

    singles = 3 if quick else 5
    preheats = preheats if preheats is not None else ((-1,) if quick else (0, -1, pages))
    how = "in headless Chromium" if browser else "as the page script opens them"
    result = BenchResult("load", f"{pages} leader pages at once against one workbench serve ({how})", COLUMNS,
                         meta={"pages": pages, "singles": singles, "browser": browser, "preheats": list(preheats)})
    if browser and not Path(chromium_path()).exists():
        result.notes.append("skipped: Debian's chromium is not installed (scripts/system-deps.sh installs it)")
        return result
    import psutil

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        db = demo_db(tmpdir, db, log)
        env = {"WORKBENCH_SECRET": SECRET, "WORKBENCH_HOME": str(tmpdir / "home"), "OPENBLAS_NUM_THREADS": "1"}
        bare_dir = tmpdir / "bare"
        bare_dir.mkdir()
        (bare_dir / "bare.ipynb").write_text(json.dumps(BARE_NOTEBOOK))
        port = free_port()
        with background(voila_command(bare_dir, port, gate=False), port, env=env, log=tmpdir / "bare.log"):
            bare = asyncio.run(_bare(f"http://127.0.0.1:{port}", singles, browser, log))
        result.rows.append(bare)
        # admits every page, and lets the largest pool fill beside them (waiting kernels are refilled only
        # while pages and waiting kernels together stay under the cap)
        cap = pages + singles + 2 + max([p for p in preheats if p > 0] + [6]) + 2
        leaders = [f"L{i:04d}" for i in range(1, pages + 1)]
        for preheat in preheats:
            port = free_port()
            cmd = serve_command(db, port, "--max-kernels", str(cap), "--preheat", str(preheat))
            log(f"workbench serve, preheat {preheat}")
            with background(cmd, port, env=env, log=tmpdir / f"serve-{preheat}.log"):
                serve_pid = next(p.pid for p in psutil.process_iter(["cmdline"])
                                 if p.info["cmdline"] and "serve" in p.info["cmdline"] and str(port) in p.info["cmdline"])
                pool = preheat if preheat >= 0 else default_pool_sizes(cap)["leader.ipynb"]
                burst = default_burst_sizes(cap, {"leader.ipynb": pool})["leader.ipynb"]
                result.meta[f"leader_pool_{preheat}"] = {"waiting": pool, "burst": burst}
                log(f"leader pool: {pool} waiting before the pages come, growing up to {burst} while they are taken")
                settle = _pool_filled(tmpdir / f"serve-{preheat}.log", pool, log)
                result.rows += asyncio.run(_run(f"http://127.0.0.1:{port}", leaders, singles, serve_pid, browser,
                                                log, settle, preheat, bare["p95"]))
        result.meta["kernel_cap"] = cap
        result.meta["default_pool"] = default_pool_sizes(cap)
    what = ("the header visible, then the profile chart, each page in its own context of one headless Chromium "
            "on the same machine") if browser else ("the first cell result that shows something (the header; the bare page's widget), "
                                                    "then the last (the first tab built), read from Voilà's "
                                                    "execution websocket")
    result.notes.append(f"First content: {what}; kernel cap {cap} (admits every page). Preheated: leader kernels "
                        f"kept waiting (-1: the default for the cap, {default_pool_sizes(cap)['leader.ipynb']} here; "
                        "0: none); while pages are taken the pool grows (one kernel at a time, never while as many pages run as "
                        f"there are cores) up to the burst size, a quarter of the cap ({cap // 4} here) or the pool if "
                        "larger. Processor seconds: spent during the burst by the server and by the pages' kernels, "
                        "per page, and by kernels being preheated. Memory: mean over the pages' kernels with every page open (USS: memory no other "
                        "process shares), and over kernels still waiting in the pool.")
    result.notes.append("Goal of issue 19: no errors and p95 <= 3x one page's p95, on the same machine in the same run.")
    return result
