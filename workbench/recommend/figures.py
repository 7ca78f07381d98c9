"""Figures of the recommender's research notebooks, drawn from computed tables and reports.

Each function takes what :mod:`workbench.recommend.tuning` or :mod:`workbench.recommend.paths`
computed (a frame with its ``attrs``, or a :class:`~workbench.recommend.paths.PathReport`) and
returns a plotly figure; nothing here computes a metric.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .paths import PathReport
from .tuning import _LABELS, METRICS, TUNABLE

__all__ = ["comparison_figure", "content_gap_figure", "pacing_figure", "tuning_figure"]


def comparison_figure(table: pd.DataFrame, metrics: Sequence[str] | None = None) -> go.Figure:
    """Bars per strategy, one panel per metric (default: all but the SE, leaders and empty)."""
    metrics = list(metrics or [m for m in METRICS if m not in ("benefit_se", "empty")])
    bad = [m for m in metrics if m not in table.columns]
    if bad:
        raise ValueError(f"the table has no column {bad}; it has {list(table.columns)}")
    cols = min(3, len(metrics))
    rows = -(-len(metrics) // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[_LABELS.get(m, m) for m in metrics],
                        vertical_spacing=0.14, horizontal_spacing=0.08)
    for i, m in enumerate(metrics):
        err = None
        if m == "benefit" and "benefit_se" in table:
            err = {"type": "data", "array": 1.96 * table["benefit_se"], "visible": True}
        fig.add_trace(go.Bar(x=table["strategy"], y=table[m], error_y=err, marker_color="steelblue",
                             showlegend=False, hovertemplate="%{x}: %{y:.3g}<extra></extra>"),
                      row=i // cols + 1, col=i % cols + 1)
    title = "Strategies compared"
    if table.attrs.get("population"):
        title += f" on {table.attrs['population']}"
    fig.update_layout(title=title, height=300 * rows, bargap=0.3)
    return fig


def tuning_figure(table: pd.DataFrame, x: str | None = None,
                  metrics: Sequence[str] = ("benefit", "priority_alignment")) -> go.Figure:
    """The tuning curve: each metric against ``x`` (default the first tuned parameter), one
    line per value of a second tuned parameter; the best setting is marked with a star. The
    hover text of the benefit shows each point's paired difference to the best (95%)."""
    params = list(table.attrs.get("parameters") or [c for c in table.columns if c in TUNABLE])
    x = x or params[0]
    if x not in table.columns:
        raise ValueError(f"the table has no column {x!r}")
    bad = [m for m in metrics if m not in table.columns]
    if bad:
        raise ValueError(f"the table has no column {bad}")
    others = [p for p in params if p != x]
    by = others[0] if others else None
    groups = table.groupby(by, sort=True) if by else [(None, table)]
    fig = make_subplots(rows=len(metrics), cols=1, shared_xaxes=True,
                        subplot_titles=[_LABELS.get(m, m) for m in metrics], vertical_spacing=0.12)
    palette = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
    for j, (key, part) in enumerate(groups):
        part = part.sort_values(x)
        key = key[0] if isinstance(key, tuple) else key
        label = f"{by} = {key:g}" if by else "grid"
        for i, m in enumerate(metrics, start=1):
            hover = f"{x}=%{{x:g}}: %{{y:.4g}}"
            custom = None
            if m == "benefit" and "benefit_vs_best" in part:
                custom = np.stack([part["benefit_vs_best"], 1.96 * part["benefit_vs_best_se"]], axis=1)
                hover += "<br>vs best: %{customdata[0]:+.4f} ± %{customdata[1]:.4f}"
            fig.add_trace(go.Scatter(x=part[x], y=part[m], mode="lines+markers", name=label, legendgroup=label,
                                     showlegend=i == 1, customdata=custom, hovertemplate=hover + "<extra></extra>",
                                     line={"color": palette[j % len(palette)]}),
                          row=i, col=1)
    if "best" in table and table["best"].any():
        best = table[table["best"]].iloc[0]
        for i, m in enumerate(metrics, start=1):
            fig.add_trace(go.Scatter(x=[best[x]], y=[best[m]], mode="markers", name="best", legendgroup="best",
                                     showlegend=i == 1, marker={"symbol": "star", "size": 14, "color": "black"}),
                          row=i, col=1)
    fig.update_xaxes(title_text=x + (" (0 = greedy)" if x == "temperature" else ""), row=len(metrics), col=1)
    objective = table.attrs.get("objective", "benefit")
    fig.update_layout(title=f"Tuning {', '.join(params)} (best by {objective})", height=280 * len(metrics) + 80)
    return fig


def pacing_figure(report: PathReport) -> go.Figure:
    """Minutes per week, stacked by step, with the weekly budget as a line."""
    fig = go.Figure()
    for s in report.steps:
        fig.add_trace(go.Bar(x=[s.week], y=[s.minutes], name=f"{s.position}. {s.id}",
                             hovertemplate=f"{s.position}. {s.title} ({s.kind}): {s.minutes} min<extra></extra>"))
    fig.add_hline(y=report.weekly_minutes, line_dash="dash", line_color="crimson",
                  annotation_text=f"budget {report.weekly_minutes:g} min/week", annotation_position="top left")
    fig.update_layout(barmode="stack", title=f"Pacing: {report.total_minutes} min over {report.n_weeks} weeks "
                      f"({report.persona.name})", xaxis_title="week", yaxis_title="minutes",
                      xaxis={"tickmode": "linear", "dtick": 1}, legend={"traceorder": "normal"})
    return fig


def content_gap_figure(gaps: pd.DataFrame) -> go.Figure:
    """Heatmap of module counts, competencies x the ``by`` cells; gaps are marked with "!"."""
    by = tuple(gaps.attrs.get("by") or [c for c in ("level", "format") if c in gaps.columns])
    if not by or "n_modules" not in gaps:
        raise ValueError("not a content_gaps() table")
    threshold = gaps.attrs.get("threshold")
    col = gaps[list(by)].astype(str).agg(" / ".join, axis=1)
    comps = list(dict.fromkeys(gaps["competency"]))
    cols = list(dict.fromkeys(col))
    frame = gaps.assign(_col=col)
    counts = frame.pivot(index="competency", columns="_col", values="n_modules").reindex(index=comps, columns=cols)
    gap = frame.pivot(index="competency", columns="_col", values="gap").reindex(index=comps, columns=cols)
    text = np.where(gap.to_numpy(dtype=bool), counts.to_numpy().astype(int).astype(str).astype(object) + " !",
                    counts.to_numpy().astype(int).astype(str))
    fig = go.Figure(go.Heatmap(z=counts.to_numpy(), x=cols, y=comps, text=text, texttemplate="%{text}",
                               colorscale="Blues", zmin=0, colorbar={"title": "modules"},
                               hovertemplate="%{y} / %{x}: %{z} modules<extra></extra>"))
    title = "Modules per competency and " + " and ".join(by)
    if threshold is not None:
        n_gaps = int(gaps["gap"].sum())
        title += f" ({n_gaps} cells below {threshold}, marked !)"
    fig.update_layout(title=title, yaxis={"autorange": "reversed"}, height=max(360, 40 * len(comps) + 160),
                      xaxis={"tickangle": -30 if len(cols) > 6 else 0})
    return fig

