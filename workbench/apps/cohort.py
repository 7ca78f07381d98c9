"""The cohort app for facilitators: the roster with each leader's activity and profile."""

from __future__ import annotations

import html

import ipywidgets as w
import pandas as pd

from ..content import Library
from ..identity import InvalidLink
from ..store import repo
from . import _kernel  # noqa: F401 - before any plotly import: keeps page loads light
from .common import STYLE, engine, error_page, identify


def roster(db, cohort_id: str) -> pd.DataFrame:
    """One row per leader in the cohort: level, events, minutes, last activity."""
    leaders = repo.leaders_frame(db, cohort_id)
    rows = []
    for lid in leaders.leader_id:
        ev = repo.activity_frame(db, lid)
        rows.append({"leader_id": lid, "events": len(ev),
                     "minutes": float(ev["duration_seconds"].fillna(0).sum() / 60) if len(ev) else 0.0,
                     "last_activity": ev["timestamp"].max() if len(ev) else pd.NaT})
    return leaders.merge(pd.DataFrame(rows, columns=["leader_id", "events", "minutes", "last_activity"]), on="leader_id")


def cohort_app(token: str | None = None, library: Library | None = None, db=None) -> w.Widget:
    try:
        ident = identify(token, "facilitator")
    except InvalidLink as exc:
        return error_page(str(exc))
    eng = db or engine()
    try:
        cohort = repo.get_cohort(eng, ident.subject)
    except repo.NotFound:
        return error_page("this link names a cohort that is not in the workbench")
    table = roster(eng, cohort.id)
    body = "".join(
        f"<tr><td>{html.escape(r.name)}</td><td>{r.role_level}</td><td style='text-align:right'>{r.events}</td>"
        f"<td style='text-align:right'>{r.minutes:.0f}</td>"
        f"<td>{'' if pd.isna(r.last_activity) else f'{r.last_activity:%d %b}'}</td></tr>"
        for r in table.itertuples()
    )
    roster_html = w.HTML(
        f"{STYLE}<div class='wb-page'><h2>{html.escape(cohort.name)}</h2>"
        f"<div class='wb-muted'>Facilitator: {html.escape(cohort.facilitator or '-')} · {len(table)} leaders</div>"
        "<table class='wb-roster'><tr><th>Leader</th><th>Level</th><th>Events</th><th>Minutes</th><th>Last active</th></tr>"
        f"{body}</table></div>"
    )
    roster_html.add_class("wb-cohort-roster")
    page = w.VBox([roster_html, *planning(eng, library or Library.load(), cohort.id, table)])
    page.add_class("wb-cohort-app")
    return page


def planning(eng, library: Library, cohort_id: str, table: pd.DataFrame) -> list[w.Widget]:
    """Group formation with a preview, and the session planner; both save to the store."""
    from ..cohort_log import (
        cohort_focus,
        cohort_members,
        forbidden_pairs,
        save_grouping,
        save_sessions,
    )
    from .cohort_widgets import GroupFormationPanel, SessionPlanner

    groups = GroupFormationPanel(cohort_members(eng, cohort_id), library, forbidden_pairs(eng, cohort_id),
                                 on_save=lambda g: save_grouping(eng, cohort_id, g),
                                 names=dict(zip(table.leader_id, table.name, strict=True)))
    planner = SessionPlanner(library, cohort_id, cohort_focus(eng, cohort_id) or list(library.competency_ids[:4]),
                             on_save=lambda sessions: save_sessions(eng, sessions))
    return [w.HTML("<h3>Peer groups</h3>"), groups.widget, w.HTML("<h3>Classroom sessions</h3>"), planner.widget]
