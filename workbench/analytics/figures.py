"""Plotly figures over the computed analytics: thin layers, no computation of their own.

Each function takes a :class:`~workbench.analytics.personal.PersonalProgress` or a
:class:`~workbench.analytics.cohort.CohortOverview` and returns a
``plotly.graph_objects.FigureWidget`` for the apps, or a plain ``go.Figure`` with
``widget=False`` (tests, notebooks, static export). Empty or withheld data gives a figure
that says so instead of an empty chart.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .bands import DEVELOPMENT_AREA
from .cohort import CohortOverview
from .personal import PersonalProgress
from .privacy import MIN_GROUP, SUPPRESSED_NOTE

HEIGHT = 340
COLORS = {"recent": "#2f6f9f", "plan": "#c7d7e6", "need": "#d98c3a", "time": "#2f6f9f", "alert": "#b23a3a",
          "cohort": "#2f6f9f", "org": "#9a9a9a", "passed": "#3f8f5a", "failed": "#b23a3a"}


def _layout(fig: go.Figure, title: str, height: int = HEIGHT, **kw) -> None:
    fig.update_layout(title=dict(text=title, x=0.01, font=dict(size=15)), height=height, template="plotly_white",
                      margin=dict(l=20, r=20, t=50, b=85), legend=dict(orientation="h", yanchor="top", y=-0.25, x=0),
                      **kw)


def _note(fig: go.Figure, text: str) -> go.Figure:
    fig.add_annotation(text=text, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                       font=dict(size=13, color="#666"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _label(text: str, width: int = 22, lines: int = 2) -> str:
    """An axis label of at most ``lines`` lines of ``width`` characters (plotly's ``<br>``), cut with an
    ellipsis when longer; the full text stays in the hover and the chart's table."""
    import textwrap

    parts = textwrap.wrap(text, width) or [text]
    if len(parts) > lines:
        parts = parts[:lines]
        parts[-1] = parts[-1][: width - 1].rstrip() + "\u2026"
    return "<br>".join(parts)


def _out(fig: go.Figure, widget: bool) -> go.Figure | go.FigureWidget:
    return go.FigureWidget(fig) if widget else fig


# ------------------------------------------------------------------ personal
def time_figure(progress: PersonalProgress, widget: bool = True) -> go.Figure | go.FigureWidget:
    """Minutes per competency in the recent window next to the minutes planned."""
    t = progress.time
    fig = go.Figure()
    title = (f"Time per competency: {t.minutes_recent:.0f} min in the last {t.days} days "
             f"(budget {t.budget_recent:.0f})")
    _layout(fig, title, barmode="group")
    if t.table.empty or (t.table["minutes_recent"].sum() == 0 and t.table["planned_minutes"].sum() == 0):
        return _out(_note(fig, "No learning time or plan yet."), widget)
    tab = t.table.iloc[::-1]
    fig.add_bar(y=tab["name"], x=tab["minutes_recent"], orientation="h", name=f"Last {t.days} days",
                marker_color=COLORS["recent"], hovertemplate="%{y}: %{x:.0f} min<extra></extra>")
    fig.add_bar(y=tab["name"], x=tab["planned_minutes"], orientation="h", name="In my plan",
                marker_color=COLORS["plan"], hovertemplate="%{y}: %{x:.0f} min planned<extra></extra>")
    fig.update_xaxes(title_text="minutes")
    fig.update_layout(margin=dict(l=140))
    return _out(fig, widget)


def investment_figure(progress: PersonalProgress, widget: bool = True) -> go.Figure | go.FigureWidget:
    """Share of development need against share of recent time, for competencies with a need."""
    u = progress.under_invested
    fig = go.Figure()
    _layout(fig, f"Where my time went (last {progress.days} days) vs where I need it", barmode="group")
    u = u[u["need_share"] > 0] if len(u) else u
    if u.empty:
        return _out(_note(fig, "No development need found, or no assessment yet."), widget)
    u = u.iloc[::-1]
    labels = [f"{n} \u25cf" if flag else n for n, flag in zip(u["name"], u["under_invested"], strict=True)]
    fig.add_bar(y=labels, x=u["need_share"], orientation="h", name="Share of need", marker_color=COLORS["need"],
                hovertemplate="%{y}: %{x:.0%} of need<extra></extra>")
    fig.add_bar(y=labels, x=u["time_share"], orientation="h", name="Share of time",
                marker_color=[COLORS["alert"] if f else COLORS["time"] for f in u["under_invested"]],
                hovertemplate="%{y}: %{x:.0%} of time<extra></extra>")
    fig.update_xaxes(title_text="share", tickformat=".0%", range=[0, 1])
    fig.update_layout(margin=dict(l=140))
    if u["under_invested"].any():
        fig.add_annotation(text="\u25cf under-invested development area", x=1, y=1.06, xref="paper", yref="paper",
                           showarrow=False, xanchor="right", font=dict(size=11, color=COLORS["alert"]))
    return _out(fig, widget)


def trajectory_figure(progress: PersonalProgress, widget: bool = True, columns: int = 4) -> go.Figure | go.FigureWidget:
    """Skill estimates over time, one small panel per competency: mean, 90% interval, expectation."""
    tr = progress.trajectory
    if tr.empty:
        fig = go.Figure()
        _layout(fig, "My skills over time (90% intervals)")
        return _out(_note(fig, "No assessment yet."), widget)
    comps = list(dict.fromkeys(tr["competency"]))
    names = [tr.loc[tr["competency"] == c, "name"].iloc[0] for c in comps]
    rows = math.ceil(len(comps) / columns)
    fig = make_subplots(rows=rows, cols=columns, shared_yaxes=True, subplot_titles=names,
                        vertical_spacing=0.18, horizontal_spacing=0.03)
    for k, c in enumerate(comps):
        d = tr[tr["competency"] == c]
        r, col = k // columns + 1, k % columns + 1
        color = COLORS["alert"] if d["band"].iloc[-1] == DEVELOPMENT_AREA else COLORS["recent"]
        if len(d) > 1:
            x = list(d["estimated_at"]) + list(d["estimated_at"][::-1])
            fig.add_trace(go.Scatter(x=x, y=list(d["high"]) + list(d["low"][::-1]), fill="toself", mode="lines",
                                     line=dict(width=0), fillcolor="rgba(47,111,159,0.15)", hoverinfo="skip",
                                     showlegend=False), row=r, col=col)
        fig.add_trace(go.Scatter(
            x=d["estimated_at"], y=d["mean"], mode="lines+markers", line=dict(color=color), showlegend=False,
            error_y=dict(type="data", symmetric=False, array=d["high"] - d["mean"], arrayminus=d["mean"] - d["low"],
                         color=color),
            customdata=np.stack([d["low"], d["high"]], axis=1), name=names[k],
            hovertemplate="%{x|%d %b %Y}: %{y:.2f} (90%: %{customdata[0]:.2f} to %{customdata[1]:.2f})<extra></extra>",
        ), row=r, col=col)
        fig.add_hline(y=float(d["expectation"].iloc[-1]), line=dict(dash="dot", width=1, color="#888"), row=r, col=col)
    _layout(fig, "My skills over time (90% intervals; dotted: what my role expects)", height=max(HEIGHT, 190 * rows))
    fig.update_layout(margin=dict(b=40))
    dates = sorted(set(tr["estimated_at"]))
    pad = max((dates[-1] - dates[0]) * 0.1, pd.Timedelta(days=5))
    ticks = dates if len(dates) <= 3 else [dates[0], dates[len(dates) // 2], dates[-1]]
    fig.update_xaxes(range=[dates[0] - pad, dates[-1] + pad], tickvals=ticks, tickformat="%d %b")
    fig.update_yaxes(title_text="skill", col=1)
    fig.update_annotations(font_size=11)
    return _out(fig, widget)


def activity_figure(progress: PersonalProgress, widget: bool = True) -> go.Figure | go.FigureWidget:
    """Minutes per week, with the weekly budget and the streak in the title."""
    s, t = progress.streak, progress.time
    last = ("no activity yet" if s.days_since_last_activity is None
            else "last active today" if s.days_since_last_activity == 0
            else f"last active {s.days_since_last_activity} day{'s' if s.days_since_last_activity != 1 else ''} ago")
    fig = go.Figure()
    _layout(fig, f"Weekly activity: streak {s.current_weeks} week{'s' if s.current_weeks != 1 else ''} "
                 f"(longest {s.longest_weeks}), {last}")
    fig.add_bar(x=s.weekly["week_start"], y=s.weekly["minutes"], name="minutes",
                marker_color=[COLORS["recent"] if a else COLORS["plan"] for a in s.weekly["active"]],
                hovertemplate="week of %{x|%d %b}: %{y:.0f} min<extra></extra>")
    if t.weekly_budget:
        fig.add_hline(y=t.weekly_budget, line=dict(dash="dot", color="#888"),
                      annotation_text=f"budget {t.weekly_budget} min", annotation_position="top left")
    fig.update_xaxes(title_text="week starting", tickformat="%d %b", tickvals=s.weekly["week_start"])
    fig.update_yaxes(title_text="minutes")
    fig.update_layout(margin=dict(b=50))
    return _out(fig, widget)


def checks_figure(progress: PersonalProgress, widget: bool = True) -> go.Figure | go.FigureWidget:
    """Latest knowledge-check score per module, coloured by its result."""
    c = progress.checks
    fig = go.Figure()
    _layout(fig, "Knowledge checks (latest score)")
    if c.empty:
        return _out(_note(fig, "No knowledge checks taken yet."), widget)
    c = c.iloc[::-1]
    titles = list(c["title"])
    fig.add_bar(y=titles, x=c["last_score"], orientation="h", showlegend=False,
                marker_color=[COLORS.get(r, COLORS["recent"]) for r in c["last_result"]],
                customdata=np.stack([c["last_result"], c["attempts"]], axis=1),
                hovertemplate="%{y}: %{x:.0%} (%{customdata[0]}, %{customdata[1]} attempt(s))<extra></extra>")
    fig.update_xaxes(title_text="score", tickformat=".0%", range=[0, 1])
    # module titles as labels of at most two short lines: on a phone the axis has about 290 px in all,
    # so a one-line title of 40 characters would push the labels off the left of the screen
    fig.update_yaxes(tickmode="array", tickvals=titles, ticktext=[_label(t) for t in titles])
    fig.update_layout(height=max(HEIGHT, 34 * len(c) + 110))
    return _out(fig, widget)


# -------------------------------------------------------------------- cohort
def distribution_figure(overview: CohortOverview, widget: bool = True) -> go.Figure | go.FigureWidget:
    """Members' skill per competency as box plots with every member's point."""
    fig = go.Figure()
    _layout(fig, "Skill distribution in the cohort (latest estimates)")
    summ = overview.distribution_summary
    shown = set(summ.loc[~summ["suppressed"], "competency"]) if len(summ) else set()
    pts = overview.distribution[overview.distribution["competency"].isin(shown)]
    if pts.empty:
        return _out(_note(fig, SUPPRESSED_NOTE if len(overview.distribution) else "No assessments yet."), widget)
    order = [c for c in summ["competency"] if c in shown]
    label = dict(zip(summ["competency"], summ["name"], strict=True))
    pts = pts.assign(_o=pts["competency"].map({c: i for i, c in enumerate(order)})).sort_values("_o", kind="stable")
    fig.add_trace(go.Box(x=pts["name"], y=pts["mean"], boxpoints="all", jitter=0.4, pointpos=0, showlegend=False,
                         marker=dict(size=4, color=COLORS["cohort"]), line=dict(color=COLORS["cohort"]),
                         hovertemplate="%{x}: %{y:.2f}<extra></extra>"))
    fig.update_xaxes(categoryorder="array", categoryarray=[label[c] for c in order])
    fig.update_yaxes(title_text="skill (0 = organization average)", zeroline=True)
    if len(shown) < len(summ):
        fig.add_annotation(text=f"Competencies with fewer than {MIN_GROUP} assessed leaders are not shown.",
                           x=0, y=1.06, xref="paper", yref="paper", showarrow=False, xanchor="left",
                           font=dict(size=11, color="#666"))
    return _out(fig, widget)


def heatmap_figure(overview: CohortOverview, widget: bool = True, height: int | None = None) -> go.Figure | go.FigureWidget:
    """Leaders x competencies: probability each skill is below what the leader's role expects.

    ``height`` defaults to one that keeps every leader's name readable (300 to 440 px)."""
    h = overview.heatmap
    n = h["leader_id"].nunique() if len(h) else 0
    fig = go.Figure()
    _layout(fig, "Development areas: chance each skill is below the role's expectation",
            height=height or max(HEIGHT - 40, min(440, 12 * n + 120)))
    if h.empty or h["p_below"].isna().all():
        return _out(_note(fig, "No assessments yet."), widget)
    comps = list(dict.fromkeys(h["competency"]))
    labels = [h.loc[h["competency"] == c, "name"].iloc[0] for c in comps]
    leaders = list(dict.fromkeys(h["leader_id"]))
    who = dict(zip(h["leader_id"], h["leader_name"], strict=False))
    z = h.pivot(index="leader_id", columns="competency", values="p_below").reindex(index=leaders, columns=comps)
    bands = h.pivot(index="leader_id", columns="competency", values="band").reindex(index=leaders, columns=comps)
    bands = bands.where(bands.notna() & (bands != ""), "not assessed")
    text = [[f"{who[lid]}, {label}: {b}" for label, b in zip(labels, row, strict=True)]
            for lid, row in zip(leaders, bands.to_numpy(), strict=True)]
    # rows keyed by leader id (two leaders may share a name), labelled with names
    fig.add_trace(go.Heatmap(
        z=z.to_numpy(dtype=float), x=labels, y=leaders, zmin=0, zmax=1, text=text,
        colorscale=[[0, "#f4f7fb"], [0.5, "#f2c48d"], [1, "#b23a3a"]],
        colorbar=dict(title=dict(text="P(below)"), tickformat=".0%", len=0.8),
        hovertemplate="%{text} (%{z:.0%})<extra></extra>", xgap=1, ygap=1,
    ))
    fig.update_yaxes(autorange="reversed", tickfont=dict(size=9), tickmode="array", tickvals=leaders,
                     ticktext=[who[lid] for lid in leaders])
    fig.update_layout(margin=dict(l=120, b=90))
    return _out(fig, widget)


def engagement_figure(overview: CohortOverview, widget: bool = True) -> go.Figure | go.FigureWidget:
    """Weekly active leaders and module completions (bars) and minutes (line)."""
    e = overview.engagement
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    _layout(fig, "Engagement per week", barmode="group")
    if e.empty or e["suppressed"].all():
        return _out(_note(fig, SUPPRESSED_NOTE if len(e) else "No weeks to show."), widget)
    fig.add_trace(go.Bar(x=e["week_start"], y=e["active_leaders"], name="active leaders", marker_color=COLORS["cohort"],
                         hovertemplate="week of %{x|%d %b}: %{y:.0f} active<extra></extra>"), secondary_y=False)
    fig.add_trace(go.Bar(x=e["week_start"], y=e["completions"], name="modules completed", marker_color=COLORS["plan"],
                         hovertemplate="week of %{x|%d %b}: %{y:.0f} completed<extra></extra>"), secondary_y=False)
    fig.add_trace(go.Scatter(x=e["week_start"], y=e["minutes"], name="minutes", mode="lines+markers",
                             line=dict(color=COLORS["need"]),
                             hovertemplate="week of %{x|%d %b}: %{y:.0f} min<extra></extra>"), secondary_y=True)
    fig.update_xaxes(tickformat="%d %b", tickvals=e["week_start"], title_text="week starting")
    fig.update_yaxes(title_text="leaders / modules", secondary_y=False, rangemode="tozero")
    fig.update_yaxes(title_text="minutes", secondary_y=True, rangemode="tozero", showgrid=False)
    return _out(fig, widget)


def comparison_figure(overview: CohortOverview, widget: bool = True) -> go.Figure | go.FigureWidget:
    """Cohort mean skill against the rest of the organization's, per competency (withheld values are not drawn)."""
    c = overview.comparison
    fig = go.Figure()
    _layout(fig, "Cohort vs the rest of the organization: average skill")
    if c.empty or c["cohort_mean"].isna().all() and c["org_mean"].isna().all():
        return _out(_note(fig, SUPPRESSED_NOTE if len(c) else "No assessments yet."), widget)
    c = c.iloc[::-1]
    for lo, hi, y in zip(c["cohort_mean"], c["org_mean"], c["name"], strict=True):
        if not (pd.isna(lo) or pd.isna(hi)):
            fig.add_shape(type="line", x0=lo, x1=hi, y0=y, y1=y, line=dict(color="#ccc", width=3), layer="below")
    fig.add_trace(go.Scatter(x=c["org_mean"], y=c["name"], mode="markers", name="rest of the organization",
                             marker=dict(size=10, color=COLORS["org"], symbol="line-ns-open", line=dict(width=3)),
                             customdata=c["org_n"], hovertemplate="%{y}: %{x:.2f} (%{customdata} leaders)<extra></extra>"))
    fig.add_trace(go.Scatter(x=c["cohort_mean"], y=c["name"], mode="markers", name="this cohort",
                             marker=dict(size=11, color=COLORS["cohort"]), customdata=c["cohort_n"],
                             hovertemplate="%{y}: %{x:.2f} (%{customdata} leaders)<extra></extra>"))
    fig.update_xaxes(title_text="average skill (0 = organization average)", zeroline=True)
    fig.update_layout(margin=dict(l=140))
    if c["cohort_suppressed"].any() or c["org_suppressed"].any():
        fig.add_annotation(text=SUPPRESSED_NOTE, x=0, y=1.06, xref="paper", yref="paper", showarrow=False,
                           xanchor="left", font=dict(size=11, color="#666"))
    return _out(fig, widget)


PERSONAL_FIGURES = (time_figure, investment_figure, trajectory_figure, activity_figure, checks_figure)
COHORT_FIGURES = (distribution_figure, heatmap_figure, engagement_figure, comparison_figure)
