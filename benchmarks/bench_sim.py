"""Simulation benchmark: leader-weeks per second of one run, and a seed grid on 2 Dask workers vs serial.

One run is :func:`workbench.sim.run_seed` on ``experiments/configs/priority_vs_random.yaml``
(2,000 leaders split over random and priority, 12 weeks, conjugate analysis), in process. The
grid is 4 seeds of the same config, executed serially in this process and as in-process
functions submitted to a ``LocalCluster`` of 2 single-threaded worker processes (workers warmed
up first with one seed each; the cluster start is reported separately). Without
``--quick`` the papermill path (:func:`workbench.services.experiments.run_config`, conjugate
analysis, one kernel per seed) is timed the same way.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from ._common import BenchResult, Column, timed

CONFIG = Path(__file__).resolve().parents[1] / "experiments" / "configs" / "priority_vs_random.yaml"
GRID_SEEDS = (0, 1, 2, 3)
WORKERS = 2

COLUMNS = [
    Column("case", "case", justify="left"),
    Column("runs", "runs"),
    Column("leader_weeks", "leader-weeks", "{:,}"),
    Column("serial_s", "serial s", "{:.2f}"),
    Column("dask_s", "2 workers s", "{:.2f}"),
    Column("speedup", "speed-up", "{:.2f}x"),
    Column("rate", "leader-weeks / s", "{:,.0f}"),
    Column("identical", "same results"),
]

_CACHE: dict[str, object] = {}


def _inputs() -> tuple[object, object]:
    if "lib" not in _CACHE:
        from workbench.services.experiments import sim_inputs

        _CACHE["lib"], _CACHE["items"] = sim_inputs()
    return _CACHE["lib"], _CACHE["items"]


def seed_task(config_data: dict, seed: int) -> tuple[int, tuple[float, ...]]:
    """One seed in process: (leader-weeks, arm means). Top level so Dask can ship it."""
    from workbench.sim import parse_config, run_seed

    lib, items = _inputs()
    r = run_seed(parse_config(config_data), lib, items, seed)  # type: ignore[arg-type]
    return r.leader_weeks, tuple(s.mean for s in r.summaries)


def run(quick: bool = False, log: Callable[[str], None] = print) -> BenchResult:
    """Time one run, then the 4-seed grid serially and on 2 Dask workers (and via papermill unless quick)."""
    import os

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from dask.distributed import Client, LocalCluster

    from workbench.sim import load_config

    config = load_config(CONFIG)
    data = config.model_dump()
    result = BenchResult("sim", f"Simulation: one run and a {len(GRID_SEEDS)}-seed grid ({config.name})", COLUMNS,
                         meta={"config": str(CONFIG.name), "grid_seeds": GRID_SEEDS, "workers": WORKERS})
    _inputs()
    log("sim: one run in process")
    secs, (lw, _) = timed(lambda: seed_task(data, 0))
    result.rows.append({"case": "one run, in process", "runs": 1, "leader_weeks": lw, "serial_s": secs,
                        "rate": lw / secs})
    log("sim: grid serial")
    s_secs, serial = timed(lambda: [seed_task(data, s) for s in GRID_SEEDS])
    log("sim: starting LocalCluster")
    start_s, cluster = timed(lambda: LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True,
                                                  dashboard_address=None))
    try:
        with Client(cluster) as client:
            client.run(seed_task, data, 99)  # warm up every worker: library, item parameters, catalog
            log("sim: grid on dask")
            d_secs, dask = timed(lambda: client.gather([client.submit(seed_task, data, s, pure=False)
                                                        for s in GRID_SEEDS]))
    finally:
        cluster.close()
    total = sum(x[0] for x in serial)
    result.rows.append({"case": "grid, in-process functions", "runs": len(GRID_SEEDS), "leader_weeks": total,
                        "serial_s": s_secs, "dask_s": d_secs, "speedup": s_secs / d_secs, "rate": total / d_secs,
                        "identical": serial == dask})
    if not quick:
        from workbench.services.experiments import run_config

        with tempfile.TemporaryDirectory() as tmp:
            cfg = Path(tmp) / "grid.yaml"
            cfg.write_text(CONFIG.read_text().replace("seeds: 3", f"seeds: {len(GRID_SEEDS)}"))
            log("sim: papermill grid serial")
            ps = run_config(cfg, Path(tmp) / "serial", serial=True, method="conjugate", progress=lambda *a: None)
            log("sim: papermill grid on dask")
            pd_ = run_config(cfg, Path(tmp) / "dask", workers=WORKERS, method="conjugate", progress=lambda *a: None)
            same = ps.results_path.read_text() == pd_.results_path.read_text()
        result.rows.append({"case": "grid, papermill notebooks", "runs": len(GRID_SEEDS), "leader_weeks": total,
                            "serial_s": ps.seconds, "dask_s": pd_.seconds, "speedup": ps.seconds / pd_.seconds,
                            "rate": total / pd_.seconds, "identical": same})
    result.notes += [
        f"LocalCluster start ({WORKERS} processes, 1 thread each): {start_s:.2f} s, not included above",
        "leader-weeks / s: of the serial run for one run, of the 2-worker run for the grids",
        "papermill rows include the cluster start and one kernel start + imports per run (method=conjugate)",
        f"machine: {os.cpu_count()} cores; speed-up is bounded by {WORKERS} workers",
    ]
    return result
