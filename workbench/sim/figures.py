"""Figures of simulated experiments, drawn from their computed records.

:func:`outcome_figure` and :func:`effect_figure` draw one run's record (what
:func:`workbench.services.experiments.analyse_seed` writes to ``<run>.json``);
:func:`report_figures` draws the pooled results of a whole experiment (``results.json``) for
its HTML report. Nothing here computes an estimate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go

__all__ = ["effect_figure", "outcome_figure", "report_figures"]


def outcome_figure(record: Mapping[str, Any]) -> Any:
    """Bar chart of each arm's mean outcome with +-1.96 SE."""
    arms = record["arms"]
    fig = go.Figure(go.Bar(x=[a["arm"] for a in arms], y=[a["mean"] for a in arms],
                           error_y={"type": "data", "array": [1.96 * a["se"] for a in arms]}))
    fig.update_layout(title=f"{record['outcome']} per arm (mean, 95% CI) - {record['run_name']}",
                      yaxis_title=record["outcome"], height=380)
    return fig


def effect_figure(record: Mapping[str, Any]) -> Any:
    """Effect against the control per arm: the posterior 95% interval beside Welch's 95% CI."""
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


def report_figures(results: Mapping[str, Any]) -> list[Any]:
    """Figures of the report, each sized to its content.

    1. Pooled effect of each arm against the control: frequentist (random effects) and Bayesian
       (hierarchical) intervals of the analysed outcome, and the true-skill effect when known.
    2. The per-seed effects of each arm (one box per arm, not one row per seed).
    3. Per-run win shares with their Wilson intervals (secondary).
    """
    cfg = results["config"]
    names, control = cfg["arms"], cfg["control"]
    others = names[1:]
    est = results["estimands"]
    f1 = go.Figure()
    series = [("frequentist (random effects)", est["outcome"]["effects"], "estimate", "low", "high")]
    bay = [a for a in results["decision"]["bayes"]["arms"] if a["arm"] != control]
    series.append(("Bayesian (hierarchical)", bay, "effect_mean", "effect_low", "effect_high"))
    if "true_skill" in est:
        series.append(("true-skill gain", est["true_skill"]["effects"], "estimate", "low", "high"))
    for label, rows, m, lo, hi in series:
        f1.add_trace(go.Scatter(
            x=[r[m] for r in rows], y=others, mode="markers", name=label,
            error_x={"type": "data", "symmetric": False, "array": [r[hi] - r[m] for r in rows],
                     "arrayminus": [r[m] - r[lo] for r in rows]}))
    f1.add_vline(x=0, line_dash="dot")
    f1.update_layout(title=f"Pooled effect vs {control} over {results['n_runs']} seed(s), 95% intervals",
                     xaxis_title=f"difference in {est['outcome']['label']}", scattermode="group",
                     height=180 + 70 * len(others), margin={"t": 60, "b": 50})
    f2 = go.Figure()
    for j, n in enumerate(others):
        f2.add_trace(go.Box(x=[r["contrasts"]["diff"][j] for r in results["runs"]], name=n, boxpoints="outliers"))
    f2.add_vline(x=0, line_dash="dot")
    f2.update_layout(title=f"Effect vs {control} in each seed (distribution over {results['n_runs']} seed(s))",
                     xaxis_title=f"difference in {est['outcome']['label']}", showlegend=False,
                     height=160 + 60 * len(others), margin={"t": 60, "b": 50})
    f3 = go.Figure()
    for rule in ("bayes", "frequentist"):
        sh = [results["arms"][k]["win_share"][rule] for k in names] + [results["no_winner_share"][rule]]
        f3.add_trace(go.Bar(x=[*names, "no winner"], y=[x["share"] for x in sh], name=rule,
                            error_y={"type": "data", "symmetric": False, "array": [x["high"] - x["share"] for x in sh],
                                     "arrayminus": [x["share"] - x["low"] for x in sh]}))
    f3.update_layout(title="Secondary: share of single runs declaring each arm the winner (95% Wilson)",
                     yaxis_title="share of runs", yaxis_range=[0, 1], barmode="group", height=340,
                     margin={"t": 60, "b": 40})
    return [f1, f2, f3]
