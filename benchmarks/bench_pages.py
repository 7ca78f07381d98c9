"""Time to first content of the Voilà apps, in headless Chromium, against a one-widget reference page.

A real ``workbench serve`` runs on a demo database; a second Voilà server (same flags, no gate)
serves a reference notebook that only displays one ``ipywidgets.HTML``. Each page is opened in a
fresh browser context and timed from navigation to its first content becoming visible:

* reference: the reference notebook's widget (Voilà's own floor: start a kernel, run, render),
  and a second reference with one small plotly ``FigureWidget`` (what any chart adds);
* leader: the header (``.wb-leader-header``), then the profile chart (``.js-plotly-plot``);
* facilitator: the header (``.wb-cohort-header``), the attention list, the first chart;
* refused link: the 403 page (no kernel starts);
* every tab of the leader and facilitator pages, opened in turn after the page's first content: the
  time from the click to the tab showing something (its placeholder or its content) and to its
  content (no placeholder left). The Progress tab is opened twice: the second opening, with
  nothing changed, shows the content it computed the first time.

Pages and tabs are timed at a phone viewport (390 x 844) and a desktop one (1280 x 900).

The ratio column divides each median by the reference median of the same run. Also timed, in a
fresh Python process: importing the leader app and building one leader's page (the kernel's share).
"""

from __future__ import annotations

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
    voila_command,
)

from ._common import BenchResult, Column, demo_db

SECRET = "bench-secret"
LEADER, COHORT = "L0001", "C01"
VIEWPORTS = {"phone": (390, 844), "desktop": (1280, 900)}
COLUMNS = [
    Column("viewport", "viewport", justify="left"),
    Column("page", "page", justify="left"),
    Column("waits_for", "first content", justify="left"),
    Column("n", "n"),
    Column("median", "median s", "{:.2f}"),
    Column("min", "min s", "{:.2f}"),
    Column("max", "max s", "{:.2f}"),
    Column("ratio", "x reference", "{:.2f}"),
]

def _notebook(source: str) -> dict:
    return {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}],
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


REFERENCE_NB = _notebook("import ipywidgets as w\nbox = w.HTML('<h2>reference</h2>')\nbox.add_class('wb-ref')\nbox")
#: the same with one small plotly FigureWidget: what a chart adds on its own (plotly's import and its browser bundle)
PLOT_NB = _notebook("import plotly.graph_objects as go\nfig = go.FigureWidget(go.Bar(x=[1, 2, 3], y=[3, 1, 2]))\nfig")


def _build_page_in_process(db_url: str) -> float:
    """Seconds for a fresh interpreter to import the leader app and build a leader's page."""
    code = (
        "import os, time; t0 = time.perf_counter()\n"
        "from workbench.apps.leader import leader_app\n"
        "from workbench.services.identity import make_token\n"
        f"leader_app(make_token('leader', {LEADER!r}))\n"
        "print(time.perf_counter() - t0)\n"
    )
    env = {"WORKBENCH_DB": db_url, "WORKBENCH_SECRET": SECRET, "OPENBLAS_NUM_THREADS": "1"}
    import os

    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _time_tabs(pg, viewport: str, page: str, again: str | None, times: dict) -> None:
    """Open every tab of a page in turn (then ``again`` a second time): seconds from the click to the
    tab showing something, and to its content."""
    pg.locator(".lm-TabBar-tab").first.wait_for(state="visible", timeout=180_000)
    titles = [t.inner_text() for t in pg.locator(".lm-TabBar-tab").all()]
    for n, title in enumerate([*titles[1:], *([again] if again else [])]):
        section = f".wb-section-{title.lower().replace(' ', '-')}"
        t0 = time.perf_counter()
        pg.locator(".lm-TabBar-tab", has_text=title).first.click()
        pg.wait_for_function("s => { const b = document.querySelector(s); return b && b.offsetParent !== null "
                             "&& b.children.length > 0; }", arg=section, timeout=180_000)
        shown = time.perf_counter() - t0
        pg.wait_for_function("s => { const b = document.querySelector(s); return b && b.children.length > 0 "
                             "&& !b.querySelector('.wb-section-loading'); }", arg=section, timeout=180_000)
        done = time.perf_counter() - t0
        label = f"tab {title}" + (" (opened again)" if n >= len(titles) - 1 else "")
        times.setdefault((viewport, page, f"{label}: something"), []).append(shown)
        times.setdefault((viewport, page, f"{label}: content"), []).append(done)


def run(quick: bool = False, db: str | None = None, log: Callable[[str], None] = print) -> BenchResult:
    import json

    from playwright.sync_api import sync_playwright

    from workbench.services.identity import app_url, make_token

    repeat = 3 if quick else 7
    result = BenchResult("pages", "Voilà apps: time to first content in headless Chromium", COLUMNS,
                         meta={"repeat": repeat, "leader": LEADER, "cohort": COHORT})
    if not Path(chromium_path()).exists():
        result.notes.append("skipped: Debian's chromium is not installed (scripts/system-deps.sh installs it)")
        return result
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        db = demo_db(tmpdir, db, log)
        ref_dir = tmpdir / "ref"
        ref_dir.mkdir()
        (ref_dir / "reference.ipynb").write_text(json.dumps(REFERENCE_NB))
        (ref_dir / "plot.ipynb").write_text(json.dumps(PLOT_NB))
        env = {"WORKBENCH_SECRET": SECRET, "WORKBENCH_HOME": str(tmpdir / "home"), "OPENBLAS_NUM_THREADS": "1"}
        p_app, p_ref = free_port(), free_port()
        with background(serve_command(db, p_app), p_app, env=env, log=tmpdir / "app.log") as app, \
                background(voila_command(ref_dir, p_ref, gate=False), p_ref, env=env, log=tmpdir / "ref.log",
                           cwd=ref_dir) as ref, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=list(CHROMIUM_FLAGS))
            pages = [
                ("reference (one widget)", f"{ref}/voila/render/reference.ipynb", [(".wb-ref", "widget")]),
                ("reference (one plotly chart)", f"{ref}/voila/render/plot.ipynb", [(".js-plotly-plot", "chart")]),
                ("leader", app_url(app, "leader.ipynb", make_token("leader", LEADER, key=SECRET)),
                 [(".wb-leader-header", "header"), (".wb-focus", "strengths"), (".js-plotly-plot", "profile chart")]),
                ("facilitator", app_url(app, "cohort.ipynb", make_token("facilitator", COHORT, key=SECRET)),
                 [(".wb-cohort-header", "header"), (".wb-attention", "attention list"),
                  (".js-plotly-plot", "engagement chart")]),
                ("refused link", f"{app}/voila/render/leader.ipynb?token=forged", [("h1", "403 page")]),
            ]
            times: dict[tuple[str, str, str], list[float]] = {}
            tabbed = {"leader": "Progress", "facilitator": None}
            for i in range(repeat + 1):  # the first round warms caches (bytecode, fonts) and is not counted
                for vp, (width, height) in VIEWPORTS.items():
                    for name, url, waits in pages:
                        if vp != "desktop" and name.startswith("reference"):
                            continue  # the references are Voilà's floor: one viewport is enough
                        ctx = browser.new_context(viewport={"width": width, "height": height})
                        pg = ctx.new_page()
                        t0 = time.perf_counter()
                        pg.goto(url, wait_until="commit", timeout=180_000)
                        for selector, label in waits:
                            pg.locator(selector).first.wait_for(state="visible", timeout=180_000)
                            if i:
                                times.setdefault((vp, name, label), []).append(time.perf_counter() - t0)
                        if name in tabbed:
                            _time_tabs(pg, vp, name, tabbed[name], times if i else {})
                        pg.close()
                        ctx.close()
                log(f"round {i}/{repeat} done")
            browser.close()
        ref_median = statistics.median(times[("desktop", "reference (one widget)", "widget")])
        for (vp, name, label), ts in times.items():
            med = statistics.median(ts)
            result.rows.append(dict(viewport=vp, page=name, waits_for=label, n=len(ts), median=med, min=min(ts),
                                    max=max(ts), ratio=med / ref_median, times=ts))
        build = [_build_page_in_process(db) for _ in range(3 if quick else 5)]
        result.rows.append(dict(viewport="-", page="leader, in process", waits_for="import + build page", n=len(build),
                                median=statistics.median(build), min=min(build), max=max(build), ratio=None,
                                times=build))
    result.notes.append("Timed from navigation start; each page in a fresh browser context; one warm-up round "
                        "not counted. The ratio compares with the reference page's median in the same run.")
    return result
