"""The cohort app for facilitators: the roster with each leader's activity and profile."""

from __future__ import annotations

import html

import ipywidgets as w
import pandas as pd

from ..content import Library
from ..identity import InvalidLink
from ..store import repo
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
    page = w.HTML(
        f"{STYLE}<div class='wb-page'><h2>{html.escape(cohort.name)}</h2>"
        f"<div class='wb-muted'>Facilitator: {html.escape(cohort.facilitator or '-')} · {len(table)} leaders</div>"
        "<table class='wb-roster'><tr><th>Leader</th><th>Level</th><th>Events</th><th>Minutes</th><th>Last active</th></tr>"
        f"{body}</table></div>"
    )
    page.add_class("wb-cohort-app")
    return page
