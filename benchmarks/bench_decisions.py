"""Decision rules of an experiment: A/A false-winner rates, power and coverage, and the estimands.

Rates are measured on synthetic per-seed outcomes (:func:`workbench.sim.evidence.simulate_aa`:
the sampling model of per-seed arm means, outcome SD 1, seed-to-seed SD ``tau`` of each arm's
mean), with seeds other than the calibration's. Each row is one design; every experiment is
analysed by both pooled views (:func:`~workbench.sim.evidence.pool_frequentist`,
:func:`~workbench.sim.evidence.pool_bayes` with the grid backend and the calibrated threshold).
Intervals are 95% Wilson intervals over experiments.

Without ``--quick`` the estimand rows simulate leaders (priority against random, 12 weeks) and
compare the baseline-adjusted measured effect, the unadjusted one and the true-skill effect.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._common import BenchResult, Column

COLUMNS = [
    Column("case", "case", justify="left"),
    Column("experiments", "experiments"),
    Column("freq", "frequentist rate", "{:.3f}"),
    Column("freq_ci", "95% interval", justify="left"),
    Column("bayes", "Bayesian rate", "{:.3f}"),
    Column("bayes_ci", "95% interval", justify="left"),
    Column("cover_f", "coverage freq", "{:.3f}"),
    Column("cover_b", "coverage Bayes", "{:.3f}"),
]


def _ci(k: int, n: int) -> str:
    from workbench.services.experiments import wilson

    lo, hi = wilson(k, n)
    return f"[{lo:.3f}, {hi:.3f}]"


def _design(n_arms: int, n: int, effects: list[float] | None, seed: int, **kw: float) -> dict:
    from workbench.sim import evidence as ev

    exps = ev.simulate_aa(n_arms, n, effects=effects, seed=seed, **kw)
    f = [ev.pool_frequentist(e, "arm0") for e in exps]
    b = [ev.pool_bayes(e, "arm0", 1.0, n_draws=2000, seed=i) for i, e in enumerate(exps)]
    if effects is None:
        kf, kb = sum(x.winner is not None for x in f), sum(x.winner is not None for x in b)
        cover_f = cover_b = None
    else:
        kf, kb = sum(x.winner == "arm1" for x in f), sum(x.winner == "arm1" for x in b)
        cover_f = float(np.mean([x.effects[0].low <= effects[0] <= x.effects[0].high for x in f]))
        cover_b = float(np.mean([x.arms[1].effect_low <= effects[0] <= x.arms[1].effect_high for x in b]))
    return {"experiments": n, "freq": kf / n, "freq_ci": _ci(kf, n), "bayes": kb / n, "bayes_ci": _ci(kb, n),
            "cover_f": cover_f, "cover_b": cover_b}


def _estimands(log: Callable[[str], None]) -> list[str]:
    """Measured (adjusted and not) vs true-skill effect of priority against random, and a no-op arm's gain."""
    from workbench.services.experiments import sim_inputs
    from workbench.sim import parse_config, run_experiment

    library, item_params = sim_inputs()
    cfg = parse_config({"name": "estimand", "population": 4000, "weeks": 12, "seeds": 3,
                        "arms": [{"name": "random", "strategy": "random"},
                                 {"name": "priority", "strategy": "priority"}]})
    log("decisions: estimands, 3 seeds of 4,000 leaders x 12 weeks")
    r = run_experiment(cfg, library, item_params)
    f = r.frequentist().effects[0]
    true = [s.true_contrasts.diff[0] for s in r.seeds]
    raw = [s.welch["priority"].diff for s in r.seeds]
    return [f"estimand (priority vs random, measured_need_gain, 3 seeds x 4,000 leaders, 12 weeks): "
            f"baseline-adjusted {f.estimate:+.4f} [{f.low:+.4f}, {f.high:+.4f}], unadjusted {np.mean(raw):+.4f}, "
            f"true-skill {np.mean(true):+.4f}; measured/true = {f.estimate / np.mean(true):.2f}",
            "per-arm levels: random arm measured need gain "
            f"{np.mean([s.summaries[0].mean for s in r.seeds]):+.3f} vs true "
            f"{np.mean([s.outcomes['random'].true_need_gain.mean() for s in r.seeds]):+.3f} (regression to the mean)"]


def run(quick: bool = False, log: Callable[[str], None] = print) -> BenchResult:
    n = 400 if quick else 2000
    result = BenchResult("decisions", "Experiment decisions: A/A false-winner rates, power and coverage (alpha 0.05)",
                         COLUMNS, meta={"experiments": n, "alpha": 0.05})
    cases = [
        ("A/A, 2 arms, 8 seeds x 400 leaders", 2, None, {}),
        ("A/A, 3 arms, 8 seeds x 400 leaders", 3, None, {}),
        ("A/A, 3 arms, 20 seeds x 100 leaders", 3, None, {"n_seeds": 20, "leaders": 100, "tau": 0.02}),
        ("effect 0.06 SD, 2 arms, 8 seeds x 400", 2, [0.06], {}),
        ("effect 0.06 SD vs 0, 3 arms, 8 seeds x 400", 3, [0.06, 0.0], {}),
    ]
    for i, (name, arms, eff, kw) in enumerate(cases):
        log(f"decisions: {name}")
        result.rows.append({"case": name, **_design(arms, n, eff, 1000 + i, **kw)})
    result.notes.append("A/A rows: share of experiments declaring any winner (stated rate 5% for both views); "
                        "effect rows: power (arm1 declared the winner) and coverage of the 95% intervals.")
    if not quick:
        result.notes.extend(_estimands(log))
    return result
