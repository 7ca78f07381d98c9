"""Many leader pages at once against one ``workbench serve``: time to first content, memory, errors.

One ``workbench serve`` runs on a demo database with a kernel cap that admits every page
(``--max-kernels`` above the page count). Headless Chromium first opens single leader pages one
after another (the baseline of the same run), then ``pages`` leader pages of different leaders
at the same moment, each in its own browser context. For every page it times navigation to the
leader header becoming visible (the first content) and to the profile chart; a page that does
not show them within the timeout, or answers anything but 200, is an error. With every page open,
it measures each page's kernel (resident and unique memory) and the Voilà server process.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
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

from ._common import BenchResult, Column

SECRET = "bench-secret"
TIMEOUT_MS = 300_000
COLUMNS = [
    Column("what", "run", justify="left"),
    Column("n", "pages"),
    Column("errors", "errors"),
    Column("p50", "p50 first content s", "{:.2f}"),
    Column("p95", "p95 first content s", "{:.2f}"),
    Column("chart_p95", "p95 profile chart s", "{:.2f}"),
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


async def _run(app: str, leaders: list[str], singles: int, serve_pid: int, log) -> list[dict]:
    from playwright.async_api import async_playwright

    from workbench.identity import app_url, make_token

    def url(lid: str) -> str:
        return app_url(app, "leader.ipynb", make_token("leader", lid, key=SECRET))

    rows = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), headless=True, args=list(CHROMIUM_FLAGS))
        # one page to warm caches (bytecode, fonts), not counted; then single pages one at a time
        *_, ctx = await _open(browser, url(leaders[-1]))
        await ctx.close()
        single, single_chart, single_err = [], [], 0
        for lid in leaders[:singles]:
            first, chart, err, ctx = await _open(browser, url(lid))
            await ctx.close()
            single_err += err is not None
            if err is None:
                single.append(first)
                single_chart.append(chart)
        log(f"single pages: {[round(t, 2) for t in single]}")
        await asyncio.sleep(3)
        results = await asyncio.gather(*(_open(browser, url(lid)) for lid in leaders))
        firsts = [r[0] for r in results if r[2] is None]
        charts = [r[1] for r in results if r[2] is None]
        errors = [r[2] for r in results if r[2] is not None]
        log(f"concurrent pages: {len(firsts)} shown, errors {errors}")
        kernels, server = _memory(serve_pid)
        for *_, ctx in results:
            await ctx.close()
        await browser.close()
    single_p95 = _pct(single, 0.95) if single else None
    rows.append(dict(what="one page at a time", n=len(single) + single_err, errors=single_err,
                     p50=statistics.median(single) if single else None, p95=single_p95,
                     chart_p95=_pct(single_chart, 0.95) if single_chart else None, ratio=1.0 if single else None,
                     times=single))
    rows.append(dict(what=f"{len(leaders)} pages at once", n=len(leaders), errors=len(errors),
                     p50=statistics.median(firsts) if firsts else None, p95=_pct(firsts, 0.95) if firsts else None,
                     chart_p95=_pct(charts, 0.95) if charts else None,
                     ratio=_pct(firsts, 0.95) / single_p95 if firsts and single_p95 else None,
                     rss=statistics.mean(k[0] for k in kernels) if kernels else None,
                     uss=statistics.mean(k[1] for k in kernels) if kernels else None,
                     server=server, kernels=len(kernels), times=firsts, error_kinds=errors))
    return rows


def run(quick: bool = False, db: str | None = None, pages: int = 30, log: Callable[[str], None] = print) -> BenchResult:
    singles = 3 if quick else 5
    result = BenchResult("load", f"{pages} leader pages at once against one workbench serve", COLUMNS,
                         meta={"pages": pages, "singles": singles})
    if not Path(chromium_path()).exists():
        result.notes.append("skipped: Debian's chromium is not installed (scripts/system-deps.sh installs it)")
        return result
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        if db is None:
            db = f"sqlite:///{tmpdir / 'demo.db'}"
            log("building the demo organization")
            subprocess.run([sys.executable, "-m", "workbench.cli", "demo", "--db", db], check=True, capture_output=True)
        env = {"WORKBENCH_SECRET": SECRET, "WORKBENCH_HOME": str(tmpdir / "home"), "OPENBLAS_NUM_THREADS": "1"}
        port = free_port()
        cap = pages + singles + 2
        cmd = serve_command(db, port, "--max-kernels", str(cap))
        leaders = [f"L{i:04d}" for i in range(1, pages + 1)]
        import psutil

        with background(cmd, port, env=env, log=tmpdir / "serve.log"):
            serve_pid = next(p.pid for p in psutil.process_iter(["cmdline"])
                             if p.info["cmdline"] and "serve" in p.info["cmdline"] and str(port) in p.info["cmdline"])
            result.rows = asyncio.run(_run(f"http://127.0.0.1:{port}", leaders, singles, serve_pid, log))
        result.meta["kernel_cap"] = cap
    result.notes.append(f"First content: the leader header; kernel cap {cap} (admits every page). Each page in its "
                        "own browser context of one headless Chromium on the same machine. Memory: mean over the "
                        "page kernels with every page open (USS: memory no other process shares).")
    result.notes.append("Goal of issue 19: no errors and p95 <= 3x one page's p95, on the same machine in the same run.")
    return result
