"""The cohort app for facilitators: analytics, roster with attention flags, rater invitations, groups and sessions."""

from __future__ import annotations

import html

import ipywidgets as w
import pandas as pd

from ..content import Library
from ..services import people
from ..services.identity import InvalidLink
from . import _kernel  # noqa: F401 - before any plotly import: keeps page loads light
from .common import LazyTabs, chart, engine, error_page, identify, page_header, table_html
from .registry import COHORT, build_tabs, live_tabs

#: the fewest members worth forming peer groups for (groups have 4 to 6 people)
MIN_GROUPING = 4
SECTIONS = COHORT.titles


def cohort_app(token: str | None = None, library: Library | None = None, db=None) -> w.Widget:
    """The facilitator's page for the cohort named by the signed link; an error page otherwise."""
    first, rest = cohort_parts(token, library, db)
    return first if "wb-error-page" in first._dom_classes else w.VBox([first, rest()])


def cohort_parts(token: str | None = None, library: Library | None = None, db=None):
    """``(header, build_rest)``, as :func:`workbench.apps.leader.leader_parts`: the notebook shows
    the header while the analytics and the tabs are built."""
    try:
        ident = identify(token, "facilitator")
    except InvalidLink as exc:
        return error_page(str(exc)), lambda: w.HTML("")
    eng = db or engine()
    try:
        cohort = people.cohort(eng, ident.subject)
    except people.NotFound:
        return error_page("this link names a cohort that is not in the workbench"), lambda: w.HTML("")
    header = cohort_header(cohort, people.cohort_size(eng, cohort.id))
    return header, lambda: CohortPage(eng, library or Library.load(), cohort, header=header).tabs


def cohort_header(cohort, members: int) -> w.HTML:
    return page_header(cohort.name, f"Facilitator: {cohort.facilitator or '-'} · {members} leaders", "wb-cohort-header")


class CohortPage:
    """One cohort's page for its facilitator: overview, roster and skills, rater invitations,
    groups and sessions. Only this cohort's leaders are read individually; organization figures
    are aggregates over groups of at least 5 leaders (:mod:`workbench.analytics.privacy`)."""

    def __init__(self, eng, library: Library, cohort, header: w.Widget | None = None):
        from ..services.progress import cohort_overview

        self.eng, self.library, self.cohort = eng, library, cohort
        self.overview = cohort_overview(eng, library, cohort.id)
        self.names = dict(zip(self.overview.roster.leader_id, self.overview.roster.name, strict=True))
        header = header or cohort_header(cohort, self.overview.members)
        self.pages = LazyTabs(build_tabs(self, COHORT), live=live_tabs(COHORT), css_class="wb-cohort-tabs")
        self.tabs, self.boxes = self.pages.tabs, self.pages.boxes
        self.widget = w.VBox([header, self.tabs])
        self.widget.add_class("wb-cohort-app")
        self.tabs.add_class("wb-app")

    @property
    def built(self) -> set[str]:
        return self.pages.built

    def open(self, name: str, select: bool = True) -> w.VBox:
        return self.pages.open(name, select)

    def summary(self) -> list[w.Widget]:
        from ..analytics import figures

        o = self.overview
        att = o.attention
        if att.empty:
            body = "Nobody needs attention right now."
        else:
            body = "<ul>" + "".join(f"<li><b>{html.escape(str(r.name))}</b>: {html.escape(str(r.reason))}</li>"
                                    for r in att.itertuples()) + "</ul>"
        attention = w.HTML(f"<div class='wb-card'><b>Needs attention ({att.leader_id.nunique() if len(att) else 0} "
                           f"leaders)</b>{body}</div>")
        attention.add_class("wb-attention")
        return [attention, chart(figures.engagement_figure(o, widget=False)), chart(figures.comparison_figure(o, widget=False))]

    def roster(self) -> list[w.Widget]:
        from ..analytics import figures

        t = self.overview.roster
        frame = pd.DataFrame({
            "Leader": t["name"], "Level": t["role_level"], "Minutes (28 days)": t["minutes_recent"].round(0),
            "Modules done": t["modules_completed"],
            "Last active": [None if pd.isna(d) else f"{d:%d %b}" for d in t["last_activity"]],
            "Development areas": t["development_areas"], "Flags": t["flags"].fillna(""),
        })
        from ..services.calibration import active_calibration_note

        note = html.escape(active_calibration_note(self.eng, self.cohort.organization_id))
        numeric = ("Minutes (28 days)", "Modules done", "Development areas")
        table = w.HTML(
            "<div class='wb-card'>"
            + table_html(frame, caption="Roster", css_class="wb-roster", numeric=numeric,
                         formats={"Minutes (28 days)": "{:.0f}", "Development areas": "{:.0f}"})
            + f"<div class='wb-muted wb-calibration-note'>{note}</div></div>"
        )
        table.add_class("wb-cohort-roster")
        return [table, chart(figures.distribution_figure(self.overview, widget=False)), chart(figures.heatmap_figure(self.overview, widget=False))]

    def invitations(self) -> list[w.Widget]:
        from .feedback import invitations_section

        return invitations_section(self.eng, self.cohort.id, self.names, sender=self.cohort.facilitator)

    def planning(self) -> list[w.Widget]:
        return planning(self.eng, self.library, self.cohort.id, self.names)


def planning(eng, library: Library, cohort_id: str, names: dict[str, str]) -> list[w.Widget]:
    """Group formation with a preview, and the session planner; both save to the store."""
    from ..services.cohorts import (
        cohort_focus,
        cohort_members,
        forbidden_pairs,
        save_grouping,
        save_sessions,
        set_timezone,
        timezone_for,
    )
    from .cohort_widgets import GroupFormationPanel, SessionPlanner

    members = cohort_members(eng, cohort_id, library)
    if len(members) >= MIN_GROUPING:
        groups = GroupFormationPanel(members, library, forbidden_pairs(eng, cohort_id),
                                     on_save=lambda g: save_grouping(eng, cohort_id, g), names=names).widget
    else:
        groups = w.HTML(f"<h3>Peer groups</h3><div class='wb-card'>Peer groups can be formed once the cohort has at "
                        f"least {MIN_GROUPING} members and someone has been assessed ({len(members)} so far).</div>")
        groups.add_class("wb-groups-waiting")
    focus = (cohort_focus(eng, cohort_id, library=library) if members else []) or list(library.competency_ids[:4])
    cohort = people.cohort(eng, cohort_id)
    emails = people.leader_emails(eng, cohort_id)
    planner = SessionPlanner(
        library, cohort_id, focus, on_save=lambda sessions: save_sessions(eng, sessions),
        on_timezone=lambda tz: set_timezone(eng, tz, cohort_id=cohort_id),
        tz=timezone_for(eng, library, cohort_id=cohort_id), organizer=(cohort.facilitator, ""),
        attendees=[(names.get(lid), e) for lid, e in emails.items()])
    return [groups, planner.widget]  # each panel carries its own heading
