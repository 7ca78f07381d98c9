"""Run an experiment config as a grid of papermill notebooks, serially or on Dask, and report.

This is an edge module (it imports papermill, dask, plotly and ``workbench.demo``); the
simulation itself is :mod:`workbench.sim`. One *run* is one seed of the config (the config
schema has no other grid): ``experiments/ab_strategies.ipynb`` is executed with papermill for
that seed, simulates it with :func:`workbench.sim.run_seed`, analyses the outcome with Welch's
test and the Bayesian model (PyMC by default, :func:`workbench.sim.bayes_arms`), and writes
``<out_dir>/<run_name>.json``. :func:`run_config` executes every run, in parallel on Dask
(a local cluster of 2 processes, or a given scheduler) or serially, then aggregates the run
records, sorted by seed, into ``results.json`` and ``report.html``. Every run is seeded and the
aggregation does not depend on completion order, so serial and Dask runs give identical results.

Before any run starts, :func:`check_memory` compares an estimate of the memory the runs need
at once with the memory this machine has available, and refuses an experiment that would not
fit. Runs write into a hidden staging folder beside the output folder; only a complete
experiment is moved into place, so a failed or interrupted one never leaves a folder that
looks like a result.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.content import Library
from workbench.skills.grm import ItemParams

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "experiments" / "ab_strategies.ipynb"
ITEM_SEED = 7  # the demo's item parameters (workbench.demo.demo_item_params), as in tests/sim
KERNEL = "python3"
#: Peak memory of one simulated leader in a run (measured 5-10 KiB from 2,000 to 100,000 leaders, 2 or 4
#: arms; the arms split the population, so the count of arms does not matter), with a margin.
MEMORY_PER_LEADER = 16 * 1024
#: Memory of one run besides its leaders: a notebook kernel with the workbench, PyMC and plotly
#: imported (about 170 MB measured before simulating) and the papermill client, with a margin.
MEMORY_PER_RUN = 400 * 1024 * 1024
#: A Dask worker process of the local cluster.
MEMORY_PER_WORKER = 150 * 1024 * 1024
Progress = Callable[[int, int, str], None]  # (runs done, runs in total, name of the run just finished)


@dataclass(frozen=True)
class RunSpec:
    """One run of the grid: its name, seed and the papermill parameters of the notebook."""

    run_name: str
    seed: int
    parameters: Mapping[str, Any]


@dataclass(frozen=True)
class RunSummary:
    """What :func:`run_config` did: where the outputs are, how many runs and how long it took."""

    config_name: str
    out_dir: Path
    results_path: Path
    report_path: Path
    notebooks: tuple[Path, ...]
    n_runs: int
    executor: str  # "serial", "local dask (2 workers)" or "dask <address>"
    seconds: float


# ---------------------------------------------------------------------------------------------
# One run (called from the notebook)


def sim_inputs(item_seed: int = ITEM_SEED) -> tuple[Library, ItemParams]:
    """The shipped library and the demo's item parameters, as the simulation needs them."""
    from workbench.demo import demo_item_params

    library = Library.load()
    return library, demo_item_params(library, item_seed)


def analyse_seed(config: Any, seed: int, *, library: Library, item_params: ItemParams, method: str = "pymc",
                 draws: int = 1000, tune: int = 1000, chains: int = 2, run_name: str | None = None) -> dict[str, Any]:
    """Simulate one seed of ``config`` and analyse it: a JSON-ready record of the run.

    The simulation is :func:`workbench.sim.run_seed`; the Bayesian analysis is re-done with
    ``method`` (``"pymc"`` by default, whatever the config says) and the given sampler
    settings, and the decision rules use the config's ``threshold`` and ``alpha``.

    Returns
    -------
    dict
        ``run_name``, ``config``, ``seed``, ``outcome``, ``method``, ``leader_weeks``, ``arms``
        (per arm: strategy, n, mean, sd, se and the means of every outcome), ``frequentist``
        (Welch per arm after the control), ``posterior`` (:class:`~workbench.sim.ArmPosterior`
        fields per arm) and ``decision``.
    """
    from workbench.sim import ExperimentConfig, bayes_arms, decide, run_seed

    if not isinstance(config, ExperimentConfig):
        raise ValueError(f"config must be an ExperimentConfig (see load_config), got {type(config).__name__}")
    res = run_seed(config.model_copy(update={"method": "conjugate"}), library, item_params, int(seed))
    values = {k: o.outcome(config.outcome) for k, o in res.outcomes.items()}
    bayes = bayes_arms(values, method, seed=int(seed), draws=draws, tune=tune, chains=chains)
    decision = decide(values, bayes, config.threshold, config.alpha)
    from workbench.sim import OUTCOMES

    arms = []
    for s in res.summaries:
        o = res.outcomes[s.arm]
        arms.append({**asdict(s), "outcomes": {k: float(np.mean(o.outcome(k))) for k in OUTCOMES}})
    return {
        "run_name": run_name or default_run_name(config.name, seed),
        "config": config.name, "seed": int(seed), "outcome": config.outcome, "method": method,
        "threshold": config.threshold, "alpha": config.alpha, "leader_weeks": res.leader_weeks,
        "arms": arms,
        "frequentist": {k: asdict(w) for k, w in res.welch.items()},
        "posterior": [asdict(p) for p in bayes.arms],
        "decision": asdict(decision),
    }


def default_run_name(config_name: str, seed: int) -> str:
    return f"{config_name}-seed{int(seed)}"


def write_record(record: Mapping[str, Any], out_dir: str | Path) -> Path:
    """Write a run record to ``<out_dir>/<run_name>.json``."""
    path = Path(out_dir) / f"{record['run_name']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def effect_table(record: Mapping[str, Any]) -> Any:
    """Per arm after the control: Welch's difference and CI beside the posterior effect and interval."""
    import pandas as pd

    rows = []
    for p in record["posterior"][1:]:
        w = record["frequentist"][p["arm"]]
        rows.append({"arm": p["arm"], "welch_diff": w["diff"], "welch_low": w["ci_low"], "welch_high": w["ci_high"],
                     "p_value": w["p_value"], "posterior_effect": p["effect_mean"], "posterior_low": p["effect_low"],
                     "posterior_high": p["effect_high"], "prob_better": p["prob_better"], "prob_best": p["prob_best"]})
    return pd.DataFrame(rows).set_index("arm")


def outcome_figure(record: Mapping[str, Any]) -> Any:
    """Bar chart of each arm's mean outcome with +-1.96 SE."""
    import plotly.graph_objects as go

    arms = record["arms"]
    fig = go.Figure(go.Bar(x=[a["arm"] for a in arms], y=[a["mean"] for a in arms],
                           error_y={"type": "data", "array": [1.96 * a["se"] for a in arms]}))
    fig.update_layout(title=f"{record['outcome']} per arm (mean, 95% CI) - {record['run_name']}",
                      yaxis_title=record["outcome"], height=380)
    return fig


def effect_figure(record: Mapping[str, Any]) -> Any:
    """Effect against the control per arm: the posterior 95% interval beside Welch's 95% CI."""
    import plotly.graph_objects as go

    post = record["posterior"][1:]
    names = [p["arm"] for p in post]
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=[p["effect_mean"] for p in post], y=[f"{n} (posterior)" for n in names], mode="markers", name="posterior",
        error_x={"type": "data", "symmetric": False, "array": [p["effect_high"] - p["effect_mean"] for p in post],
                 "arrayminus": [p["effect_mean"] - p["effect_low"] for p in post]}))
    w = [record["frequentist"][n] for n in names]
    fig.add_trace(go.Scatter(
        x=[x["diff"] for x in w], y=[f"{n} (Welch)" for n in names], mode="markers", name="Welch",
        error_x={"type": "data", "symmetric": False, "array": [x["ci_high"] - x["diff"] for x in w],
                 "arrayminus": [x["diff"] - x["ci_low"] for x in w]}))
    fig.add_vline(x=0, line_dash="dot")
    control = record["arms"][0]["arm"]
    fig.update_layout(title=f"Effect vs {control} ({record['method']} posterior and Welch, 95%)",
                      xaxis_title=f"difference in {record['outcome']}", height=300 + 40 * len(names))
    return fig


# ---------------------------------------------------------------------------------------------
# The grid and its execution


def _load(config_path: str | Path) -> Any:
    from workbench.sim import load_config

    p = Path(config_path)
    if not p.is_file():
        raise ValueError(f"{p}: config file not found")
    return load_config(p)


def expand_grid(config: Any, config_path: str | Path, out_dir: str | Path, *, method: str = "pymc",
                draws: int = 1000, tune: int = 1000) -> list[RunSpec]:
    """One :class:`RunSpec` per seed of the config (the config schema has no other grid dimension)."""
    out = Path(out_dir).resolve()
    base = {"config_path": str(Path(config_path).resolve()), "out_dir": str(out / "runs"), "method": method,
            "draws": int(draws), "tune": int(tune)}
    return [RunSpec(default_run_name(config.name, s), s, {**base, "seed": int(s),
                                                          "run_name": default_run_name(config.name, s)})
            for s in config.seed_list]


def execute_run(spec: RunSpec, notebook: str | Path = NOTEBOOK) -> str:
    """Execute the notebook for one run with papermill; returns the path of the run's JSON.

    The executed notebook is written next to the JSON (``<out_dir>/runs/<run_name>.ipynb``).
    """
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    runs = Path(spec.parameters["out_dir"])
    runs.mkdir(parents=True, exist_ok=True)
    try:
        pm.execute_notebook(str(notebook), str(runs / f"{spec.run_name}.ipynb"), parameters=dict(spec.parameters),
                            kernel_name=KERNEL, progress_bar=False, log_output=False, cwd=str(ROOT))
    except PapermillExecutionError as err:
        raise RuntimeError(f"run {spec.run_name}: notebook failed: {err.ename}: {err.evalue}") from None
    return str(runs / f"{spec.run_name}.json")


@dataclass(frozen=True)
class MemoryEstimate:
    """What :func:`check_memory` compared: bytes the runs need at once, and bytes allowed."""

    needed: int
    allowed: int
    concurrent_runs: int

    @property
    def fits(self) -> bool:
        return self.needed <= self.allowed


def available_memory() -> int:
    """Bytes of memory this machine can give now without swapping (psutil's ``available``)."""
    import psutil

    return int(psutil.virtual_memory().available)


def estimate_memory(config: Any, concurrent_runs: int, workers: int = 0) -> int:
    """Bytes an experiment needs at its peak: ``concurrent_runs`` runs of the whole population each."""
    per_run = MEMORY_PER_RUN + int(config.population) * MEMORY_PER_LEADER
    return concurrent_runs * per_run + workers * MEMORY_PER_WORKER


def check_memory(config: Any, *, serial: bool, workers: int, local: bool = True) -> MemoryEstimate:
    """Refuse (one-line ``ValueError``) an experiment whose runs would not fit in memory here.

    Serial runs one at a time; a local Dask cluster runs up to ``workers`` at once. With a
    remote scheduler (``local=False``) only one run is checked against this machine, as the
    least any worker needs. The limit is ``EXPERIMENT_MEMORY_SHARE`` of the available memory.
    """
    from workbench.limits import EXPERIMENT_MEMORY_SHARE

    n_seeds = len(config.seed_list)
    concurrent = 1 if serial or not local else min(workers, n_seeds)
    est = MemoryEstimate(estimate_memory(config, concurrent, 0 if serial or not local else workers),
                         int(EXPERIMENT_MEMORY_SHARE * available_memory()), concurrent)
    if not est.fits:
        gb = 1024**3
        raise ValueError(
            f"experiment '{config.name}' needs about {est.needed / gb:.1f} GB ({config.population:,} leaders x "
            f"{concurrent} run(s) at once) but the limit here is {est.allowed / gb:.1f} GB "
            f"({EXPERIMENT_MEMORY_SHARE:.0%} of the memory available); lower the population"
            + (" or run with --serial" if concurrent > 1 else "")
        )
    return est


def _progress_callback(progress: Progress | None, total: int) -> tuple[Progress, Callable[[], None]]:
    if progress is not None:
        return progress, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=total, desc="experiment runs", unit="run", file=sys.stderr)

    def step(done: int, _total: int, name: str) -> None:
        bar.set_postfix_str(name)
        bar.update(done - bar.n)

    return step, bar.close


def _run_dask(specs: Sequence[RunSpec], notebook: Path, scheduler: str | None, workers: int,
              step: Progress) -> list[str]:
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout="5s")
        except (OSError, TimeoutError) as err:
            raise ValueError(f"cannot reach the Dask scheduler at {scheduler}: {str(err).splitlines()[0]}") from None
    try:
        futures = {client.submit(execute_run, s, str(notebook), key=f"run-{s.run_name}", pure=False): s
                   for s in specs}
        paths = []
        for i, fut in enumerate(as_completed(futures), 1):
            paths.append(fut.result())
            step(i, len(specs), futures[fut].run_name)
        return paths
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_config(config_path: str | Path, out_dir: str | Path, scheduler: str | None = None, serial: bool = False,
               progress: Progress | None = None, *, workers: int = 2, method: str = "pymc", draws: int = 1000,
               tune: int = 1000, notebook: str | Path = NOTEBOOK) -> RunSummary:
    """Run every seed of an experiment config through the notebook and aggregate the results.

    Parameters
    ----------
    config_path
        YAML experiment config (:func:`workbench.sim.load_config`).
    out_dir
        Output directory: ``runs/<run_name>.ipynb`` and ``runs/<run_name>.json`` per run,
        ``results.json`` and ``report.html``.
    scheduler
        Address of a running Dask scheduler (its workers need ``workbench`` installed and this
        repository's notebook path visible); None starts a local cluster of ``workers`` processes.
    serial
        Execute the runs one after the other in this process (no Dask).
    progress
        Called as ``progress(done, total, run_name)`` after each run; None shows a tqdm bar on stderr.
    workers
        Processes of the local cluster.
    method, draws, tune
        Bayesian analysis of each run (``"pymc"`` or ``"conjugate"``) and the PyMC sampler settings.
    notebook
        The notebook to execute (default ``experiments/ab_strategies.ipynb``).

    Raises
    ------
    ValueError
        One line: missing or invalid config, ``serial`` with a ``scheduler``, unreachable scheduler,
        an experiment too big for this machine's memory (:func:`check_memory`, before any run).
    RuntimeError
        A run's notebook failed (the run name and the error). Nothing of the failed experiment is
        left in ``out_dir``: runs write to a hidden ``.<name>.partial-*`` folder beside it, which is
        removed, and a finished experiment is moved into ``out_dir`` only at the end.
    """
    config = _load(config_path)
    if serial and scheduler is not None:
        raise ValueError("give either serial=True or a scheduler address, not both")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if method not in ("pymc", "conjugate"):
        raise ValueError(f"method must be 'pymc' or 'conjugate', got {method!r}")
    check_memory(config, serial=serial, workers=workers, local=scheduler is None)
    out = Path(out_dir).resolve()
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out}: exists and is not a folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        specs = expand_grid(config, config_path, stage, method=method, draws=draws, tune=tune)
        step, close = _progress_callback(progress, len(specs))
        t0 = time.perf_counter()
        try:
            if serial:
                paths = []
                for i, s in enumerate(specs, 1):
                    paths.append(execute_run(s, notebook))
                    step(i, len(specs), s.run_name)
                executor = "serial"
            else:
                paths = _run_dask(specs, Path(notebook), scheduler, workers, step)
                executor = f"dask {scheduler}" if scheduler else f"local dask ({workers} workers)"
        finally:
            close()
        records = [json.loads(Path(p).read_text(encoding="utf-8")) for p in paths]
        results = aggregate(records, config_path=str(Path(config_path)))
        (stage / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        write_report(results, stage / "report.html")
        _publish(stage, out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return RunSummary(config.name, out, out / "results.json", out / "report.html",
                      tuple(out / "runs" / f"{s.run_name}.ipynb" for s in specs), len(specs), executor,
                      time.perf_counter() - t0)


def _publish(stage: Path, out: Path) -> None:
    """Move a finished experiment from its staging folder into ``out``, results last.

    Files of an earlier experiment in ``out`` with the same names are replaced; others are kept.
    """
    (out / "runs").mkdir(parents=True, exist_ok=True)
    for f in sorted((stage / "runs").iterdir()):
        os.replace(f, out / "runs" / f.name)
    os.replace(stage / "report.html", out / "report.html")
    os.replace(stage / "results.json", out / "results.json")


# ---------------------------------------------------------------------------------------------
# Aggregation and report


def _share(winners: Sequence[str | None], names: Sequence[str]) -> dict[str, float]:
    n = len(winners)
    out = {a: sum(w == a for w in winners) / n for a in names}
    out["none"] = sum(w is None for w in winners) / n
    return out


def aggregate(records: Sequence[Mapping[str, Any]], config_path: str | None = None) -> dict[str, Any]:
    """Combine run records (any order) into the ``results.json`` document.

    Per arm: mean and SD over runs of the arm's mean outcome, the leader-weighted pooled mean,
    the effect against the control (mean over runs of the posterior effect and P(better), and a
    fixed-effect inverse-variance pooling of Welch's differences with its 95% CI) and the share
    of runs in which each rule declared it the winner. ``decision`` holds those shares per rule
    (with ``none``) and the overall winner: the arm that won a majority of runs, else None.
    """
    if not records:
        raise ValueError("no run records to aggregate")
    runs = sorted(records, key=lambda r: (int(r["seed"]), str(r["run_name"])))
    names = [a["arm"] for a in runs[0]["arms"]]
    control = names[0]
    arms: dict[str, Any] = {}
    for i, name in enumerate(names):
        a = [r["arms"][i] for r in runs]
        p = [r["posterior"][i] for r in runs]
        means = np.array([x["mean"] for x in a])
        ns = np.array([x["n"] for x in a], dtype=float)
        entry: dict[str, Any] = {
            "strategy": a[0]["strategy"], "runs": len(runs), "n_total": int(ns.sum()),
            "mean_of_means": float(means.mean()), "sd_of_means": float(means.std(ddof=1)) if len(runs) > 1 else 0.0,
            "pooled_mean": float((means * ns).sum() / ns.sum()),
            "mean_prob_best": float(np.mean([x["prob_best"] for x in p])),
            "bayes_win_share": float(np.mean([r["decision"]["bayes_winner"] == name for r in runs])),
            "frequentist_win_share": float(np.mean([r["decision"]["frequentist_winner"] == name for r in runs])),
        }
        if name != control:
            w = [r["frequentist"][name] for r in runs]
            se = np.array([x["se"] for x in w])
            diff = np.array([x["diff"] for x in w])
            if np.all(se > 0):
                wt = 1 / se**2
                pooled, pse = float((wt * diff).sum() / wt.sum()), float(1 / math.sqrt(wt.sum()))
            else:
                pooled, pse = float(diff.mean()), 0.0
            entry["effect"] = {
                "posterior_mean": float(np.mean([x["effect_mean"] for x in p])),
                "posterior_low_mean": float(np.mean([x["effect_low"] for x in p])),
                "posterior_high_mean": float(np.mean([x["effect_high"] for x in p])),
                "mean_prob_better": float(np.mean([x["prob_better"] for x in p])),
                "pooled_welch_diff": pooled, "pooled_welch_se": pse,
                "pooled_welch_low": pooled - 1.96 * pse, "pooled_welch_high": pooled + 1.96 * pse,
            }
        arms[name] = entry
    decision: dict[str, Any] = {}
    for rule, key in (("bayes", "bayes_winner"), ("frequentist", "frequentist_winner")):
        share = _share([r["decision"][key] for r in runs], names)
        top = max(names, key=lambda n: share[n])  # noqa: B023
        decision[rule] = {"share": share, "overall_winner": top if share[top] > 0.5 else None,
                          "any_winner_rate": float(np.mean([r["decision"][key] is not None for r in runs]))}
    first = runs[0]
    return {
        "config": {"name": first["config"], "path": config_path, "outcome": first["outcome"],
                   "method": first["method"], "threshold": first["threshold"], "alpha": first["alpha"],
                   "arms": names, "control": control, "seeds": [int(r["seed"]) for r in runs]},
        "n_runs": len(runs), "leader_weeks": int(sum(r["leader_weeks"] for r in runs)),
        "arms": arms, "decision": decision,
        "runs": [{k: r[k] for k in ("run_name", "seed", "arms", "frequentist", "posterior", "decision")}
                 for r in runs],
    }


def report_figures(results: Mapping[str, Any]) -> list[Any]:
    """Figures of the report: arm means per run, effect intervals per run, winner shares."""
    import plotly.graph_objects as go

    names, runs, outcome = results["config"]["arms"], results["runs"], results["config"]["outcome"]
    f1 = go.Figure()
    for i, n in enumerate(names):
        f1.add_trace(go.Box(y=[r["arms"][i]["mean"] for r in runs], name=n, boxpoints="all", jitter=0.3,
                            text=[r["run_name"] for r in runs]))
    f1.update_layout(title=f"Mean {outcome} per arm, one point per run", yaxis_title=outcome, height=400)
    f2 = go.Figure()
    for i, n in enumerate(names[1:], 1):
        p = [r["posterior"][i] for r in runs]
        f2.add_trace(go.Scatter(
            x=[x["effect_mean"] for x in p], y=[f"seed {r['seed']}" for r in runs], mode="markers", name=n,
            error_x={"type": "data", "symmetric": False, "array": [x["effect_high"] - x["effect_mean"] for x in p],
                     "arrayminus": [x["effect_mean"] - x["effect_low"] for x in p]}))
    f2.add_vline(x=0, line_dash="dot")
    f2.update_layout(title=f"Posterior effect vs {names[0]} per run (mean, 95% interval; {results['config']['method']})",
                     xaxis_title=f"difference in {outcome}", height=260 + 22 * len(runs))
    f3 = go.Figure()
    for rule in ("bayes", "frequentist"):
        share = results["decision"][rule]["share"]
        f3.add_trace(go.Bar(x=[*names, "none"], y=[share[k] for k in [*names, "none"]], name=rule))
    f3.update_layout(title="Share of runs declaring each arm the winner", yaxis_title="share of runs",
                     yaxis_range=[0, 1], barmode="group", height=380)
    return [f1, f2, f3]


def write_report(results: Mapping[str, Any], path: str | Path) -> Path:
    """Self-contained HTML report (plotly.js embedded once, so it works offline)."""
    import html

    cfg = results["config"]
    rows = "".join(
        f"<tr><td>{html.escape(n)}</td><td>{a['strategy']}</td><td>{a['n_total']}</td>"
        f"<td>{a['pooled_mean']:.4f}</td><td>{a['sd_of_means']:.4f}</td><td>{a['mean_prob_best']:.3f}</td>"
        f"<td>{a['bayes_win_share']:.2f}</td><td>{a['frequentist_win_share']:.2f}</td>"
        + (f"<td>{a['effect']['pooled_welch_diff']:+.4f} [{a['effect']['pooled_welch_low']:+.4f}, "
           f"{a['effect']['pooled_welch_high']:+.4f}]</td>" if "effect" in a else "<td>control</td>")
        + "</tr>" for n, a in results["arms"].items())
    figs = report_figures(results)
    parts = [f.to_html(full_html=False, include_plotlyjs=(i == 0)) for i, f in enumerate(figs)]
    dec = results["decision"]
    doc = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>Experiment {html.escape(cfg['name'])}</title>"
        "<style>body{font-family:sans-serif;max-width:1000px;margin:auto}td,th{padding:2px 8px;text-align:right}"
        "</style></head><body>"
        f"<h1>Experiment {html.escape(cfg['name'])}</h1>"
        f"<p>{results['n_runs']} runs (seeds {', '.join(map(str, cfg['seeds']))}), outcome <b>{cfg['outcome']}</b>, "
        f"Bayesian analysis: {cfg['method']}, threshold {cfg['threshold']}, alpha {cfg['alpha']}, "
        f"{results['leader_weeks']:,} leader-weeks simulated.</p>"
        f"<p>Overall winner (majority of runs): Bayesian rule: <b>{dec['bayes']['overall_winner']}</b>, "
        f"frequentist rule: <b>{dec['frequentist']['overall_winner']}</b>. A winner was declared in "
        f"{dec['bayes']['any_winner_rate']:.0%} (Bayesian) and {dec['frequentist']['any_winner_rate']:.0%} "
        "(frequentist) of runs.</p>"
        "<table><tr><th>arm</th><th>strategy</th><th>leaders</th><th>pooled mean</th><th>SD over runs</th>"
        "<th>mean P(best)</th><th>Bayes wins</th><th>Welch wins</th><th>pooled effect vs control [95% CI]</th></tr>"
        f"{rows}</table>" + "".join(parts) + "</body></html>")
    p = Path(path)
    p.write_text(doc, encoding="utf-8")
    return p
