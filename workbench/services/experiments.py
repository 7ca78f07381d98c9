"""Run an experiment config as a grid of papermill notebooks, serially or on Dask, and report.

This is an edge module (it imports papermill, dask, plotly and ``workbench.demo``); the
simulation itself is :mod:`workbench.sim`. One *run* is one seed of the config (the config
schema has no other grid): ``experiments/ab_strategies.ipynb`` is executed with papermill for
that seed, simulates it with :func:`workbench.sim.run_seed`, analyses the outcome with Welch's
test and the Bayesian model (the config's ``method``, else PyMC; :func:`workbench.sim.bayes_arms`), and writes
``<out_dir>/<run_name>.json``. :func:`run_config` executes every run, in parallel on Dask
(a local cluster of 2 processes, or a given scheduler) or serially, then aggregates the run
records, sorted by seed, into ``results.json`` and ``report.html``. Every run is seeded and the
aggregation does not depend on completion order, so serial and Dask runs give identical results.

Before any run starts, :func:`check_memory` compares an estimate of the memory the runs need
at once with the memory this machine has available, and refuses an experiment that would not
fit. Runs write into a hidden staging folder beside the output folder (``.<name>.partial``);
only a complete experiment is moved into place, so a failed or interrupted one never leaves a
folder that looks like a result, and ``resume=True`` continues it from the runs already written.

The decision of an experiment is made once, from the evidence pooled over its seeds
(:mod:`workbench.sim.evidence`): random-effects pooling with Holm's adjustment, and a
hierarchical Bayesian model, each with its stated false-winner rate. Per-run winners remain
as a secondary table of win shares with Wilson intervals.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.content import Library
from workbench.skills.grm import ItemParams

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "experiments" / "ab_strategies.ipynb"
ITEM_SEED = 7  # the demo's item parameters (workbench.sim.demo_item_params), as in tests/sim
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
    from workbench.sim import demo_item_params

    library = Library.load()
    return library, demo_item_params(library, item_seed)


def analyse_seed(config: Any, seed: int, *, library: Library, item_params: ItemParams, method: str = "pymc",
                 draws: int = 1000, tune: int = 1000, chains: int = 2, run_name: str | None = None) -> dict[str, Any]:
    """Simulate one seed of ``config`` and analyse it: a JSON-ready record of the run.

    The simulation is :func:`workbench.sim.run_seed`; the per-run Bayesian analysis is re-done
    with ``method`` and the given sampler settings, and the per-run rules use the config's
    ``alpha`` (and ``threshold``, if set). The contrasts against the control (baseline-adjusted
    for measured outcomes) and those of the true-skill outcome are recorded for pooling.

    Returns
    -------
    dict
        ``run_name``, ``config``, ``seed``, ``outcome``, ``method``, ``digest``, ``leader_weeks``,
        ``arms`` (per arm: strategy, n, mean, sd, se and the means of every outcome),
        ``frequentist`` (Welch per arm after the control), ``posterior``
        (:class:`~workbench.sim.ArmPosterior` fields per arm), ``diagnostics`` (PyMC's sampler
        checks; empty for ``conjugate``), ``decision`` (per-run rules), ``contrasts``,
        ``true_contrasts`` and ``outcome_sd``.
    """
    from workbench.sim import OUTCOMES, ExperimentConfig, bayes_arms, decide, run_seed
    from workbench.sim.ab import per_run_threshold

    if not isinstance(config, ExperimentConfig):
        raise ValueError(f"config must be an ExperimentConfig (see load_config), got {type(config).__name__}")
    res = run_seed(config.model_copy(update={"method": "conjugate"}), library, item_params, int(seed))
    values = {k: o.outcome(config.outcome) for k, o in res.outcomes.items()}
    bayes = bayes_arms(values, method, seed=int(seed), draws=draws, tune=tune, chains=chains)
    decision = decide(values, bayes, per_run_threshold(config), config.alpha)
    arms = []
    for s in res.summaries:
        o = res.outcomes[s.arm]
        arms.append({**asdict(s), "outcomes": {k: float(np.mean(o.outcome(k))) for k in OUTCOMES}})
    return {
        "run_name": run_name or default_run_name(config.name, seed),
        "config": config.name, "seed": int(seed), "outcome": config.outcome, "method": method,
        "digest": run_digest(config, int(seed), method, draws, tune),
        "threshold": config.threshold, "alpha": config.alpha, "leader_weeks": res.leader_weeks,
        "arms": arms,
        "frequentist": {k: asdict(w) for k, w in res.welch.items()},
        "posterior": [asdict(p) for p in bayes.arms],
        "diagnostics": bayes.diagnostics or {},
        "decision": asdict(decision),
        "contrasts": res.contrasts.to_dict(),
        "true_contrasts": res.true_contrasts.to_dict() if res.true_contrasts is not None else {},
        "outcome_sd": res.outcome_sd,
    }


def run_digest(config: Any, seed: int, method: str, draws: int, tune: int) -> str:
    """What makes a run's record reusable by ``--resume``: the config, the seed and the analysis settings."""
    import hashlib

    text = json.dumps({"config": config.model_dump(mode="json"), "seed": int(seed), "method": method,
                       "draws": int(draws), "tune": int(tune)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


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


def contrast_table(record: Mapping[str, Any]) -> Any:
    """Per arm after the control: this run's contrast of the outcome (baseline-adjusted when measured),
    its standard error, and the true-skill contrast the simulator knows (what the experiment pools)."""
    import pandas as pd

    c, t = record["contrasts"], record.get("true_contrasts") or {}
    rows = []
    for j, arm in enumerate(c["arms"]):
        row = {"arm": arm, "effect": c["diff"][j], "se": math.sqrt(c["cov"][j][j]),
               "baseline_adjusted": c["adjusted"]}
        if t:
            row |= {"true_skill_effect": t["diff"][j], "true_skill_se": math.sqrt(t["cov"][j][j])}
        rows.append(row)
    return pd.DataFrame(rows).set_index("arm")


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


def resolve_method(config: Any, method: str | None) -> str:
    """The Bayesian method of a run: the command line's, else the config's, else ``pymc``.

    A command-line method that contradicts a method written in the config is refused.
    """
    if method is not None and method not in ("pymc", "conjugate"):
        raise ValueError(f"method must be 'pymc' or 'conjugate', got {method!r}")
    if method is not None and config.method is not None and method != config.method:
        raise ValueError(f"--method {method} conflicts with the config's method: {config.method} "
                         "(change one of them)")
    return method or config.method or "pymc"


def staging_folder(out: Path) -> Path:
    """The hidden folder beside ``out`` where an experiment's runs are written until it is complete."""
    return out.parent / f".{out.name}.partial"


def _done(spec: RunSpec, stage: Path, digest: str) -> bool:
    """Whether ``stage`` already holds a complete record of this run (same config, seed and analysis)."""
    path = stage / "runs" / f"{spec.run_name}.json"
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(rec, dict) and rec.get("digest") == digest


def run_config(config_path: str | Path, out_dir: str | Path, scheduler: str | None = None, serial: bool = False,
               progress: Progress | None = None, *, workers: int = 2, method: str | None = None, draws: int = 1000,
               tune: int = 1000, notebook: str | Path = NOTEBOOK, resume: bool = False,
               static: bool = True) -> RunSummary:
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
        Bayesian analysis (``"pymc"`` or ``"conjugate"``; None: the config's ``method``, else
        ``pymc``; :func:`resolve_method`) and the PyMC sampler settings.
    notebook
        The notebook to execute (default ``experiments/ab_strategies.ipynb``).
    resume
        Continue an interrupted experiment: runs already complete in the staging folder (same
        config, seed and analysis settings) are kept and only the others are executed. Without
        it, a leftover staging folder is discarded and every run starts afresh.
    static
        Give the report's figures PNG fallbacks (:func:`static_images`; a few seconds).

    Raises
    ------
    ValueError
        One line, before any run: missing or invalid config, a ``method`` contradicting the
        config's, ``serial`` with a ``scheduler``, unreachable scheduler, an experiment too big for
        this machine's memory (:func:`check_memory`).
    RuntimeError
        A run's notebook failed (the run name and the error). Nothing of the failed experiment
        appears in ``out_dir``: runs write to the hidden staging folder ``.<name>.partial`` beside
        it (kept, so ``resume=True`` can continue), and a finished experiment is moved into
        ``out_dir`` only at the end.
    """
    config = _load(config_path)
    if serial and scheduler is not None:
        raise ValueError("give either serial=True or a scheduler address, not both")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    method = resolve_method(config, method)
    check_memory(config, serial=serial, workers=workers, local=scheduler is None)
    out = Path(out_dir).resolve()
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out}: exists and is not a folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = staging_folder(out)
    if stage.exists() and not resume:
        shutil.rmtree(stage)
    stage.mkdir(exist_ok=True)
    specs = expand_grid(config, config_path, stage, method=method, draws=draws, tune=tune)
    digests = {s.run_name: run_digest(config, s.seed, method, draws, tune) for s in specs}
    kept = [s for s in specs if _done(s, stage, digests[s.run_name])]
    todo = [s for s in specs if s not in kept]
    step, close = _progress_callback(progress, len(specs))
    t0 = time.perf_counter()
    try:
        done = len(kept)
        if kept:
            step(done, len(specs), f"{done} kept from an earlier attempt")
        if serial:
            for s in todo:
                execute_run(s, notebook)
                done += 1
                step(done, len(specs), s.run_name)
            executor = "serial"
        elif todo:
            _run_dask(todo, Path(notebook), scheduler, workers, lambda d, t, n: step(done + d, len(specs), n))
            executor = f"dask {scheduler}" if scheduler else f"local dask ({workers} workers)"
        else:
            executor = "serial"
    finally:
        close()
    paths = [stage / "runs" / f"{s.run_name}.json" for s in specs]
    records = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    results = aggregate(records, config_path=str(Path(config_path)), draws=draws, tune=tune)
    results["resumed_runs"] = len(kept)
    (stage / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    write_report(results, stage / "report.html", static=static)
    _publish(stage, out)
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

#: The report lists at most this many runs (evenly spread over the seeds); results.json keeps all.
REPORT_MAX_RUNS = 40


def wilson(count: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval of a proportion (statsmodels)."""
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(int(count), int(n), alpha=alpha, method="wilson")
    return float(lo), float(hi)


def _contrasts(rec: Mapping[str, Any], key: str) -> Any:
    from workbench.sim.evidence import Contrasts

    c = rec[key]
    return Contrasts(tuple(c["arms"]), tuple(c["diff"]), tuple(tuple(r) for r in c["cov"]), bool(c["adjusted"]))


def outcome_label(outcome: str, adjusted: bool) -> str:
    return f"{outcome} (baseline-adjusted)" if adjusted else outcome


def aggregate(records: Sequence[Mapping[str, Any]], config_path: str | None = None, *, draws: int = 1000,
              tune: int = 1000) -> dict[str, Any]:
    """Combine run records (any order) into the ``results.json`` document.

    ``decision``: the pooled evidence of :mod:`workbench.sim.evidence`: the frequentist view
    (random-effects pooling over seeds, Holm across arms) and the Bayesian view (hierarchical
    model; PyMC when the runs used ``pymc``, else the exact grid backend), each with its winner,
    stated false-winner rate and a plain-language statement, and a one-line ``headline``.
    ``estimands``: the pooled effect of the analysed outcome (baseline-adjusted when measured),
    of the unadjusted difference and, when the simulator knows it, of the true-skill outcome.
    ``arms``: per-arm levels over runs and the per-run win shares with Wilson intervals.
    """
    from workbench.sim import evidence as ev

    if not records:
        raise ValueError("no run records to aggregate")
    runs = sorted(records, key=lambda r: (int(r["seed"]), str(r["run_name"])))
    first = runs[0]
    names = [a["arm"] for a in first["arms"]]
    control = names[0]
    alpha, threshold, method = float(first["alpha"]), first["threshold"], first["method"]
    seeds_c = [_contrasts(r, "contrasts") for r in runs]
    label = outcome_label(first["outcome"], seeds_c[0].adjusted)
    sd = float(np.mean([r["outcome_sd"] for r in runs])) or 1.0
    freq = ev.pool_frequentist(seeds_c, control, alpha)
    bayes = ev.pool_bayes(seeds_c, control, sd, alpha=alpha, threshold=threshold,
                          backend="pymc" if method == "pymc" else "grid", seed=int(first["seed"]), draws=draws,
                          tune=tune)
    estimands: dict[str, Any] = {"outcome": {"label": label, "effects": [asdict(e) for e in freq.effects]}}
    unadj = [ev.contrasts_from(r["frequentist"], names) for r in runs]
    estimands["unadjusted"] = {"label": first["outcome"],
                               "effects": [asdict(e) for e in ev.pool_frequentist(unadj, control, alpha).effects]}
    if all(r.get("true_contrasts") for r in runs):
        true_c = [_contrasts(r, "true_contrasts") for r in runs]
        estimands["true_skill"] = {"label": "true-skill gain (known to the simulator)",
                                   "effects": [asdict(e) for e in ev.pool_frequentist(true_c, control, alpha).effects]}
    n = len(runs)
    arms: dict[str, Any] = {}
    for i, name in enumerate(names):
        a = [r["arms"][i] for r in runs]
        means = np.array([x["mean"] for x in a])
        ns = np.array([x["n"] for x in a], dtype=float)
        ctrl = np.array([r["arms"][0]["mean"] for r in runs])
        shares = {}
        for rule, key in (("bayes", "bayes_winner"), ("frequentist", "frequentist_winner")):
            k = sum(r["decision"][key] == name for r in runs)
            lo, hi = wilson(k, n)
            shares[rule] = {"share": k / n, "low": lo, "high": hi}
        arms[name] = {
            "strategy": a[0]["strategy"], "runs": n, "n_total": int(ns.sum()),
            "mean_of_means": float(means.mean()), "sd_of_means": float(means.std(ddof=1)) if n > 1 else 0.0,
            "pooled_mean": float((means * ns).sum() / ns.sum()),
            "mean_vs_control": float((means - ctrl).mean()),
            "mean_prob_best": float(np.mean([r["posterior"][i]["prob_best"] for r in runs])),
            "win_share": shares,
        }
    none_share = {}
    for rule, key in (("bayes", "bayes_winner"), ("frequentist", "frequentist_winner")):
        k = sum(r["decision"][key] is None for r in runs)
        lo, hi = wilson(k, n)
        none_share[rule] = {"share": k / n, "low": lo, "high": hi}
    diag = [r["diagnostics"] for r in runs if r.get("diagnostics")]
    per_run_diag = {}
    if diag:
        per_run_diag = {"max_rhat": max(d["max_rhat"] for d in diag), "min_ess_bulk": min(d["min_ess_bulk"] for d in diag),
                        "divergences": int(sum(d["divergences"] for d in diag)),
                        "runs_failing": int(sum(bool(ev.Diagnostics(d["max_rhat"], d["min_ess_bulk"],
                                                                     d["divergences"]).problems()) for d in diag))}
    return {
        "config": {"name": first["config"], "path": config_path, "outcome": first["outcome"], "method": method,
                   "threshold": threshold, "alpha": alpha, "arms": names, "control": control,
                   "seeds": [int(r["seed"]) for r in runs]},
        "n_runs": n, "leader_weeks": int(sum(r["leader_weeks"] for r in runs)),
        "decision": {
            "headline": ev.headline(freq, bayes),
            "frequentist": {"winner": freq.winner, "rule": freq.rule, "alpha": alpha,
                            "stated_false_winner_rate": freq.stated_false_winner_rate,
                            "statement": ev.frequentist_statement(freq, label),
                            "effects": [asdict(e) for e in freq.effects]},
            "bayes": {"winner": bayes.winner, "backend": bayes.backend, "threshold": bayes.threshold,
                      "threshold_source": bayes.threshold_source,
                      "stated_false_winner_rate": bayes.stated_false_winner_rate,
                      "statement": ev.bayes_statement(bayes, label),
                      "arms": [asdict(a) for a in bayes.arms], "tau_mean": bayes.tau_mean,
                      "sigma_mean": bayes.sigma_mean, "diagnostics": asdict(bayes.diagnostics),
                      "warnings": list(bayes.warnings)},
        },
        "estimands": estimands,
        "arms": arms,
        "no_winner_share": none_share,
        "per_run_diagnostics": per_run_diag,
        "runs": [{k: r[k] for k in ("run_name", "seed", "arms", "frequentist", "posterior", "decision", "contrasts")}
                 for r in runs],
    }


def sample_runs(runs: Sequence[Mapping[str, Any]], at_most: int = REPORT_MAX_RUNS) -> list[Mapping[str, Any]]:
    """At most ``at_most`` runs, evenly spread over the list (all of them when fewer)."""
    if len(runs) <= at_most:
        return list(runs)
    idx = np.unique(np.linspace(0, len(runs) - 1, at_most).round().astype(int))
    return [runs[i] for i in idx]


def static_images(figs: Sequence[Any]) -> list[str | None]:
    """PNG data URIs of ``figs`` (kaleido with the system's Chromium, one browser for all of them).

    A figure that cannot be rendered here (kaleido or a browser missing or failing) gets None;
    the report then keeps only its interactive version.
    """
    import base64
    import warnings

    try:
        import kaleido
        import plotly.io as pio
    except ImportError:
        return [None] * len(figs)
    out: list[str | None] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kaleido.start_sync_server(silence_warnings=True)
            try:
                for f in figs:
                    png = pio.to_image(f, format="png", width=900, height=int(f.layout.height or 400))
                    out.append("data:image/png;base64," + base64.b64encode(png).decode())
            finally:
                kaleido.stop_sync_server(silence_warnings=True)
    except Exception:  # no usable browser or a failed render: interactive figures only
        out += [None] * (len(figs) - len(out))
    return out


def _fmt(x: Any, spec: str = "+.4f") -> str:
    return "n/a" if x is None else format(x, spec)


def _interval(x: Mapping[str, Any], mid: str = "estimate", low: str = "low", high: str = "high") -> str:
    return f"{_fmt(x[mid])} [{_fmt(x[low])}, {_fmt(x[high])}]"


def _html_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """``rows`` (already formatted text) as an HTML table, every cell escaped (pandas ``to_html``)."""
    import pandas as pd

    frame = pd.DataFrame(list(rows), columns=list(columns))
    return frame.to_html(index=False, escape=True, border=0, na_rep="")


def write_report(results: Mapping[str, Any], path: str | Path, *, static: bool = True) -> Path:
    """Self-contained HTML report: the decision first, then pooled effects, then per-run detail.

    plotly.js is embedded once (works offline). With ``static``, each figure also gets a PNG
    fallback (shown when scripts do not run) if :func:`static_images` can render one here.
    Per-seed detail is collapsed and lists at most :data:`REPORT_MAX_RUNS` runs.
    """
    import html

    e = html.escape
    cfg = results["config"]
    dec = results["decision"]
    fd, bd = dec["frequentist"], dec["bayes"]
    est = results["estimands"]
    control = cfg["control"]
    seeds = cfg["seeds"]
    seed_text = (", ".join(map(str, seeds)) if len(seeds) <= 12
                 else f"{len(seeds)} seeds from {min(seeds)} to {max(seeds)}")
    warn = "".join(f"<p class='warn'>WARNING: {e(w)}</p>" for w in bd["warnings"])
    prd = results.get("per_run_diagnostics") or {}
    if prd.get("runs_failing"):
        warn += (f"<p class='warn'>WARNING: the per-run PyMC fits failed a sampler check in {prd['runs_failing']} "
                 f"run(s) (max r-hat {prd['max_rhat']:.3f}, min ESS {prd['min_ess_bulk']:.0f}, "
                 f"{prd['divergences']} divergences); the per-run table is affected, the pooled decision is not.</p>")
    # pooled effects table
    by = {k: {x["arm"]: x for x in v["effects"]} for k, v in est.items()}
    bay = {a["arm"]: a for a in bd["arms"]}
    effects = []
    for n in cfg["arms"][1:]:
        f = by["outcome"][n]
        t = by.get("true_skill", {}).get(n)
        effects.append({
            "arm": n, "effect [95% CI]": _interval(f), "Holm p": f"{f['p_holm']:.3g}",
            "τ² / I²": f"{f['tau2']:.2g} / {f['i2']:.0%}",
            "Bayes effect [95% CrI]": _interval(bay[n], "effect_mean", "effect_low", "effect_high"),
            "P(better)": f"{bay[n]['prob_better']:.3f}", "P(best)": f"{bay[n]['prob_best']:.3f}",
            "unadjusted [95% CI]": _interval(by["unadjusted"][n]),
            "true-skill effect [95% CI]": _interval(t) if t else "not known"})
    effects_table = _html_table(effects, ["arm", "effect [95% CI]", "Holm p", "τ² / I²", "Bayes effect [95% CrI]",
                                          "P(better)", "P(best)", "unadjusted [95% CI]", "true-skill effect [95% CI]"])
    d = bd["diagnostics"]
    diag_text = ("exact numerical integration (no sampler)" if d["max_rhat"] is None else
                 f"NUTS {d['chains']} chains x {d['draws']} draws: max r-hat {d['max_rhat']:.3f}, "
                 f"min bulk ESS {d['min_ess_bulk']:.0f}, {d['divergences']} divergences")
    rate_cols = ["view", "rule", "stated false-winner rate (identical arms)"]
    rates = _html_table([
        {"view": "frequentist", "rule": fd["rule"],
         rate_cols[2]: f"at most {fd['stated_false_winner_rate']:.0%}"},
        {"view": "Bayesian", "rule": f"P(best) > {bd['threshold']:.3f} ({bd['threshold_source']}), hierarchical "
                                     f"model, {bd['backend']}: {diag_text}",
         rate_cols[2]: f"{bd['stated_false_winner_rate']:.1%}"}], rate_cols)
    arm_cols = ["arm", "strategy", "leaders", "mean level", "mean vs control", "SD over runs",
                "single-run Bayes wins [95%]", "single-run Welch wins [95%]"]
    arm_table = _html_table([
        dict(zip(arm_cols, [
            n, a["strategy"], f"{a['n_total']:,}", f"{a['pooled_mean']:.4f}",
            "control" if n == control else _fmt(a["mean_vs_control"]), f"{a['sd_of_means']:.4f}",
            *(f"{a['win_share'][r]['share']:.0%} [{a['win_share'][r]['low']:.0%}, {a['win_share'][r]['high']:.0%}]"
              for r in ("bayes", "frequentist"))], strict=True))
        for n, a in results["arms"].items()], arm_cols)
    shown = sample_runs(results["runs"])
    run_cols = ["seed", *(f"{n} vs {control}" for n in cfg["arms"][1:]), "Welch winner", "Bayes winner"]
    run_table = _html_table([
        dict(zip(run_cols, [str(r["seed"]), *(_fmt(x) for x in r["contrasts"]["diff"]),
                            r["decision"]["frequentist_winner"] or "none", r["decision"]["bayes_winner"] or "none"],
                 strict=True)) for r in shown], run_cols)
    from workbench.sim.figures import report_figures

    figs = report_figures(results)
    imgs = static_images(figs) if static else [None] * len(figs)
    parts = []
    for i, (f, img) in enumerate(zip(figs, imgs, strict=True)):
        div = f.to_html(full_html=False, include_plotlyjs=(i == 0), default_width="100%")
        parts.append(div + (f"<noscript><img alt='figure {i + 1}' src='{img}'></noscript>" if img else ""))
    runs_note = (f"all {len(results['runs'])} runs" if len(shown) == len(results["runs"]) else
                 f"{len(shown)} of {len(results['runs'])} runs, evenly spread over the seeds; results.json has all")
    doc = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>Experiment {e(cfg['name'])}</title>"
        "<style>body{font-family:sans-serif;max-width:1000px;margin:auto}td,th{padding:2px 8px;text-align:right}"
        ".summary{border:1px solid #888;padding:8px 16px;background:#f6f6f6}.warn{color:#a00;font-weight:bold}"
        "</style></head><body>"
        f"<h1>Experiment {e(cfg['name'])}</h1>"
        f"<div class='summary'><h2>{e(dec['headline'])}</h2>{warn}"
        f"<p><b>Frequentist.</b> {e(fd['statement'])}</p><p><b>Bayesian.</b> {e(bd['statement'])}</p></div>"
        f"<p>{results['n_runs']} run(s) (seeds {e(seed_text)}), outcome <b>{e(cfg['outcome'])}</b>, control "
        f"<b>{e(control)}</b>, {results['leader_weeks']:,} leader-weeks simulated. Effects are pooled over seeds with "
        "random effects (each seed is its own simulated world). For measured outcomes the analysed effect is "
        "adjusted for the pre-assessment (ANCOVA), and the true-skill effect is shown beside it "
        "(docs/simulation.md explains why measured effects are smaller).</p>"
        "<h2>Error rates</h2>" + rates +
        "<h2>Pooled effects against the control</h2>" + effects_table
        + parts[0] + parts[1] +
        "<h2>Arms (secondary)</h2>" + arm_table +
        "<p>Mean levels of measured gains include regression to the mean (the same in every arm); compare arms "
        "through the effects above.</p>" + parts[2] +
        f"<details><summary>Per-seed detail ({e(runs_note)})</summary>" + run_table + "</details>"
        "</body></html>")
    p = Path(path)
    p.write_text(doc, encoding="utf-8")
    return p
