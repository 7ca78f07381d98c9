"""The leader app: one leader's own competencies and learning activity.

Only the leader named by the page's signed link is ever read from the store.
"""

from __future__ import annotations

import html

import ipywidgets as w
import pandas as pd
import plotly.graph_objects as go

from ..content import Library
from ..identity import InvalidLink
from ..store import repo
from .common import STYLE, engine, error_page, identify

Z90 = 1.645


def profile_table(estimates: pd.DataFrame, library: Library) -> pd.DataFrame:
    """Estimates with names, 90% intervals and a plain-language band, weakest first."""
    if estimates.empty:
        return pd.DataFrame(columns=["competency", "name", "mean", "low", "high", "band"])
    df = estimates.copy()
    df["name"] = [library.competencies[c].name if c in library.competencies else c for c in df["competency"]]
    df["low"], df["high"] = df["mean"] - Z90 * df["sd"], df["mean"] + Z90 * df["sd"]
    df["band"] = "in range"
    df.loc[df["high"] < 0, "band"] = "development area"
    df.loc[df["low"] > 0, "band"] = "strength"
    return df.sort_values("mean")[["competency", "name", "mean", "sd", "low", "high", "band"]].reset_index(drop=True)


def activity_summary(events: pd.DataFrame, library: Library) -> pd.DataFrame:
    """Minutes and completed modules per competency."""
    names = {c: comp.name for c, comp in library.competencies.items()}
    base = pd.DataFrame({"competency": list(names), "name": list(names.values())})
    if events.empty:
        return base.assign(minutes=0.0, completed=0)
    timed = events.dropna(subset=["competency"])
    minutes = timed.groupby("competency")["duration_seconds"].sum().div(60)
    done = timed[(timed.verb == "completed") & (timed.object_type == "module")].groupby("competency").size()
    out = base.assign(minutes=base.competency.map(minutes).fillna(0.0).round(1),
                      completed=base.competency.map(done).fillna(0).astype(int))
    return out


def profile_figure(table: pd.DataFrame) -> go.FigureWidget:
    fig = go.FigureWidget(
        data=[go.Scatter(
            x=table["mean"], y=table["name"], mode="markers",
            error_x=dict(type="data", symmetric=False, array=table["high"] - table["mean"],
                         arrayminus=table["mean"] - table["low"]),
            marker=dict(size=11), hovertemplate="%{y}: %{x:.2f}<extra></extra>",
        )],
        layout=go.Layout(height=340, margin=dict(l=150, r=20, t=30, b=40), title="My competencies (90% intervals)",
                         xaxis=dict(title="skill (0 = organization average)", zeroline=True, range=[-3, 3])),
    )
    return fig


def leader_app(token: str | None = None, library: Library | None = None, db=None) -> w.Widget:
    """The whole leader page; an error page when the link is missing, tampered or expired."""
    try:
        ident = identify(token, "leader")
    except InvalidLink as exc:
        return error_page(str(exc))
    eng = db or engine()
    try:
        leader = repo.get_leader(eng, ident.subject)
    except repo.NotFound:
        return error_page("this link names a leader who is not in the workbench")
    library = library or Library.load()
    table = profile_table(repo.latest_estimates(eng, leader.id), library)
    events = repo.activity_frame(eng, leader.id)
    summary = activity_summary(events, library)

    header = w.HTML(
        f"{STYLE}<div class='wb-page'><h2>{html.escape(leader.name)}</h2>"
        f"<div class='wb-muted'>{html.escape(leader.role or '')} · {leader.role_level} leader · "
        f"cohort {html.escape(leader.cohort_id or '-')}</div></div>"
    )
    header.add_class("wb-leader-header")
    dev = table[table.band == "development area"]["name"].tolist() or table.head(2)["name"].tolist()
    strong = table[table.band == "strength"]["name"].tolist() or table.tail(2)["name"].tolist()
    focus = w.HTML(
        "<div class='wb-card'><b>Strengths:</b> " + html.escape(", ".join(reversed(strong))) +
        "<br><b>Development areas:</b> " + html.escape(", ".join(dev)) + "</div>"
        if not table.empty else "<div class='wb-card'>No assessment yet.</div>"
    )
    focus.add_class("wb-focus")
    chart = profile_figure(table) if not table.empty else w.HTML("")
    rows = "".join(
        f"<tr><td>{html.escape(r.name)}</td><td style='text-align:right'>{r.minutes:.0f}</td>"
        f"<td style='text-align:right'>{r.completed}</td></tr>" for r in summary.itertuples()
    )
    last = events["timestamp"].max() if not events.empty else None
    activity = w.HTML(
        "<div class='wb-card'><b>My learning activity</b>"
        f"<div class='wb-muted'>Last activity: {last:%d %b %Y} · {len(events)} events</div>" if last is not None else
        "<div class='wb-card'><b>My learning activity</b><div class='wb-muted'>No activity yet</div>"
    )
    activity.value += ("<table><tr><th style='text-align:left'>Competency</th><th>Minutes</th><th>Modules done</th></tr>"
                       f"{rows}</table></div>")
    activity.add_class("wb-activity")
    sections = [header, focus, chart, activity]
    if leader.cohort_id:
        sections.append(my_cohort(eng, library, leader))
    page = w.VBox(sections)
    page.add_class("wb-leader-app")
    return page


def my_cohort(eng, library: Library, leader) -> w.Widget:
    """My peer group, my cohort's upcoming sessions and its discussion (only my cohort's)."""
    from ..cohort_log import add_post, group_view, posts_for, sessions_for
    from ..cohorts import Viewer
    from .cohort_widgets import MyGroupPanel

    viewer = Viewer(leader.id, leader.cohort_id)

    def on_post(text, prompt):
        add_post(eng, viewer, text, prompt.id if prompt is not None else None)

    panel = MyGroupPanel(group_view(eng, library, leader.id), sessions_for(eng, leader.cohort_id),
                         posts_for(eng, viewer), viewer, on_post=on_post)
    box = w.VBox([w.HTML("<h3>My cohort</h3>"), panel.widget])
    box.add_class("wb-my-cohort")
    return box
