"""Whole processes against a reference: ``workbench score`` vs mirt's EAP, and ``workbench calibrate
--method map`` vs mirt's EM, on the same files, in the same run, one after the other; and ``workbench
demo --force`` (the demo organization, into a fresh SQLite file) against the floor every workbench
process stands on, a Python process that only imports the demo's libraries.

What a user waits for is the process: start-up and imports, reading the CSV, the computation and
writing the result. Each side is timed as a fresh Python process (wall clock, median of the
repetitions; CPU seconds of user and system time beside it), alternating workbench and mirt so that load from other work on the machine hits both
alike. The mirt side reads the same CSV with pandas and gets the same item parameters (scoring) or
the same responses (calibration, 41 quadrature points as ours). Recovery of the discriminations
(RMSE against the generating values) is printed beside the calibration times.
"""

from __future__ import annotations

import importlib.util
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from workbench.skills.data import write_responses_csv
from workbench.skills.params import params_to_json
from workbench.skills.simulate import correlated_thetas, make_test, simulate_data

from ._common import BenchResult, Column

COLUMNS = [
    Column("task", "task", justify="left"),
    Column("size", "size", justify="left"),
    Column("reference", "reference", justify="left"),
    Column("workbench_s", "workbench (s)", "{:.2f}"),
    Column("reference_s", "reference (s)", "{:.2f}"),
    Column("ratio", "workbench / reference", "{:.2f}"),
    Column("workbench_cpu_s", "workbench CPU (s)", "{:.2f}"),
    Column("reference_cpu_s", "reference CPU (s)", "{:.2f}"),
    Column("cpu_ratio", "CPU ratio", "{:.2f}"),
    Column("rmse_a_workbench", "RMSE a (ours)", "{:.3f}"),
    Column("rmse_a_mirt", "RMSE a (mirt)", "{:.3f}"),
]

MIRT_SCORE = """
import json, sys, numpy as np, pandas as pd, mirt
from mirt.models.polytomous import GradedResponseModel
doc = json.load(open(sys.argv[1])); y = pd.read_csv(sys.argv[2]).iloc[:, 1:].to_numpy() - 1
m = GradedResponseModel(y.shape[1], [len(it["categories"]) for it in doc["items"]])
m.set_parameters(discrimination=np.array([float(it["a"]["mean"]) for it in doc["items"]]),
                 thresholds=np.array([it["b"]["mean"] for it in doc["items"]], dtype=float))
m._is_fitted = True
r = mirt.fscores(m, np.ascontiguousarray(y, dtype=np.int32), method="EAP", n_quadpts=61)
pd.DataFrame({"theta": np.asarray(r.theta).ravel()}).to_csv(sys.argv[3], index=False)
"""

MIRT_FIT = """
import json, sys, numpy as np, pandas as pd, mirt
y = pd.read_csv(sys.argv[1]).iloc[:, 1:].to_numpy() - 1
fit = mirt.fit_mirt(y, model="GRM", n_categories=[5] * y.shape[1], n_quadpts=41)
json.dump({"a": np.asarray(fit.model.discrimination, float).ravel().tolist()}, open(sys.argv[2], "w"))
"""

#: the libraries ``workbench demo`` imports (the demo's own start-up floor; no workbench code)
IMPORTS_ONLY = "import alembic, numpy, pandas, pydantic, scipy.optimize, scipy.special, sqlalchemy.orm, typer"
DEMO_AS_OF = "2026-12-01"  # a fixed date: the same rows in every run
WORKBENCH = [sys.executable, "-m", "workbench.cli"]


def _timed(cmd: list[str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, env=_env())
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed: {out.stderr.strip().splitlines()[-1:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _times(ours: list[tuple[float, float]], theirs: list[tuple[float, float]]) -> dict[str, float]:
    """Medians of wall and CPU seconds on each side, and their ratios."""
    (wa, ca), (wb, cb) = np.median(ours, axis=0), np.median(theirs, axis=0)
    return {"workbench_s": float(wa), "reference_s": float(wb), "ratio": float(wa / wb), "workbench_cpu_s": float(ca),
            "reference_cpu_s": float(cb), "cpu_ratio": float(ca / cb),
            "workbench_runs": [list(map(float, t)) for t in ours], "reference_runs": [list(map(float, t)) for t in theirs]}


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "OPENBLAS_NUM_THREADS": "1"}


def _files(tmp: Path, n: int, n_items: int, seed: int, name: str):
    rng = np.random.default_rng(seed)
    params = make_test(n_items, 1, rng)
    data = simulate_data(params, correlated_thetas(n, 1, 0.0, rng), rng)
    path = tmp / f"{name}.csv"
    write_responses_csv(path, data.respondent_ids, data.y, data.items)
    (tmp / f"{name}.json").write_text(json.dumps(params_to_json(params)))
    return path, tmp / f"{name}.json", params


def _demo_row(tmp: Path, reps: int, log: Callable[[str], None]) -> dict[str, object]:
    """``workbench demo --force`` into a fresh SQLite file, alternating with the imports-only reference."""
    ours, theirs = [], []
    for i in range(reps):
        log(f"building the demo organization, repetition {i + 1} of {reps}")
        ours.append(_timed([*WORKBENCH, "demo", "--force", "--as-of", DEMO_AS_OF, "--db",
                            f"sqlite:///{tmp / f'demo-{i}.db'}"]))
        theirs.append(_timed([sys.executable, "-c", IMPORTS_ONLY]))
    return {"task": "demo build (workbench demo --force)", "size": "312 leaders, 8 weeks",
            "reference": "Python importing the demo's libraries", **_times(ours, theirs)}


def run(quick: bool = False, log: Callable[[str], None] = print) -> BenchResult:
    reps = 2 if quick else 3
    n_score, n_cal = (20_000, 2_000) if quick else (100_000, 10_000)
    result = BenchResult("processes", "Whole processes: workbench vs a reference (same run)", COLUMNS,
                         meta={"repetitions": reps, "score_rows": n_score, "calibration_rows": n_cal, "items": 60})
    workbench = WORKBENCH
    with tempfile.TemporaryDirectory(prefix="wb-bench-") as d:
        tmp = Path(d)
        result.rows.append(_demo_row(tmp, reps, log))
        if importlib.util.find_spec("mirt") is None:
            result.rows += [{"task": task, "reference": "mirt: not installed"} for task in
                            ("score (EAP, 61 points)", "calibrate (map vs EM, 41 points)")]
            return result
        log(f"simulating {n_score:,} x 60 for scoring and {n_cal:,} x 60 for calibration")
        r_score, p_score, _ = _files(tmp, n_score, 60, 11, "score")
        r_cal, _, truth = _files(tmp, n_cal, 60, 12, "cal")
        ours, theirs = [], []
        for i in range(reps):
            log(f"scoring, repetition {i + 1} of {reps}")
            ours.append(_timed([*workbench, "score", str(r_score), "--params", str(p_score), "--out",
                                str(tmp / "s.csv")]))
            theirs.append(_timed([sys.executable, "-c", MIRT_SCORE, str(p_score), str(r_score), str(tmp / "m.csv")]))
        result.rows.append({"task": "score (EAP, 61 points)", "size": f"{n_score:,} x 60",
                            "reference": "mirt fscores (EAP)", **_times(ours, theirs)})
        log("calibrating (map) and fitting mirt's EM")
        a = _timed([*workbench, "calibrate", str(r_cal), "--out", str(tmp / "cp.json"), "--method", "map"])
        b = _timed([sys.executable, "-c", MIRT_FIT, str(r_cal), str(tmp / "mp.json")])
        ours_a = np.array([it["a"]["mean"] for it in json.loads((tmp / "cp.json").read_text())["items"]])
        mirt_a = np.array(json.loads((tmp / "mp.json").read_text())["a"])
        result.rows.append({"task": "calibrate (map vs EM, 41 points)", "size": f"{n_cal:,} x 60",
                            "reference": "mirt fit_mirt (EM)", **_times([a], [b]),
                            "rmse_a_workbench": float(np.sqrt(np.mean((ours_a - truth.a) ** 2))),
                            "rmse_a_mirt": float(np.sqrt(np.mean((mirt_a - truth.a) ** 2)))})
    result.notes.append("wall clock and CPU (user + system) of fresh processes, workbench and the reference alternating; the "
                        "machine's load average is recorded with the result (other work skews wall clock on both "
                        "sides; CPU time much less)")
    return result
