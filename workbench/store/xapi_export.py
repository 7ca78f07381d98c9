"""Statements for other systems: local activity rendered in the organization's vocabulary.

A local statement (:func:`workbench.store.xapi.make_statement`) is rendered with

- the actor ``{"name": <leader name>, "account": {"homePage": <org home page>, "name": <leader id>}}``
  (name and account are what a fresh store needs to seed its leaders);
- ADL registry activity types (:data:`ACTIVITY_TYPES`);
- ``context``: ``registration`` (one UUID per cohort, or per leader's plan without a cohort),
  ``platform``, ``language``, and ``contextActivities`` linking a knowledge check to its
  module (parent), a scenario to the modules of its leadership moments (other), a classroom
  session to its cohort (parent) and everything a cohort member does to the cohort (grouping);
- a knowledge check's score as ``raw``/``min``/``max`` (questions right of the module's) besides ``scaled``;
- ``stored`` (when this store recorded it) and ``authority`` (the organization).

Derived statements, made at export from other tables where the privacy rules allow it:
visible discussion posts (``commented``; the post's text stays in the workbench) and the
other raters' assessment submissions pooled exactly as the leader may see them
(``completed`` by the identified group ``<leader>/raters/<role>``: no rater identity, no
answers, one statement per block that entered the leader's view, dated when it did).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from .db import transaction
from .models import (
    ActivityEvent,
    AssessmentSession,
    ClassroomSession,
    Cohort,
    DiscussionPost,
    Leader,
)
from .xapi import VERBS, split_object, xapi_time
from .xapi_profile import XapiProfile, parse_profile

ADL_ACTIVITY = "http://adlnet.gov/expapi/activities/"
ACTIVITY_TYPES = {
    "module": ADL_ACTIVITY + "module",
    "knowledge-check": ADL_ACTIVITY + "assessment",
    "assessment": ADL_ACTIVITY + "assessment",
    "scenario": ADL_ACTIVITY + "simulation",
    "classroom-session": ADL_ACTIVITY + "meeting",
    "cohort": ADL_ACTIVITY + "course",
    "discussion": "http://id.tincanapi.com/activitytype/discussion",
}
PLATFORM = "Leadership Workbench"
LANGUAGE = "en-US"
XAPI_VERSION = "1.0.3"
#: Namespace of the workbench's derived statement ids and registrations (uuid5).
NAMESPACE = uuid.UUID("6f1f3c1e-2a52-5b8e-9d7c-8e1f0b7a4c11")


def registration(profile: XapiProfile, leader_id: str, cohort_id: str | None) -> str:
    """One registration per cohort, or per leader's own plan for a leader in no cohort."""
    what = f"cohort/{cohort_id}" if cohort_id else f"plan/{leader_id}"
    return str(uuid.uuid5(NAMESPACE, profile.home_page + what))


def activity(kind: str, oid: str, name: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"objectType": "Activity", "id": f"urn:workbench:{kind}:{oid}",
                           "definition": {"type": ACTIVITY_TYPES[kind]}}
    if name:
        out["definition"]["name"] = {"en-US": name}
    return out


@dataclass
class _Ctx:
    """What rendering needs, read once per export."""

    leaders: dict[str, tuple[str, str, str | None]]  # id -> (name, organization, cohort)
    profiles: dict[str, XapiProfile]
    cohorts: dict[str, str]  # id -> name
    sessions: dict[str, str]  # classroom session id -> cohort id
    library: Any = None

    @classmethod
    def load(cls, s, library=None) -> _Ctx:
        from .models import Organization

        leaders = {lid: (name, org, cohort) for lid, name, org, cohort in
                   s.execute(select(Leader.id, Leader.name, Leader.organization_id, Leader.cohort_id))}
        profiles = {oid: parse_profile((settings or {}).get("xapi"), f"organization {oid} xapi settings")
                    for oid, settings in s.execute(select(Organization.id, Organization.settings))}
        cohorts = dict(s.execute(select(Cohort.id, Cohort.name)).all())
        sessions = dict(s.execute(select(ClassroomSession.id, ClassroomSession.cohort_id)).all())
        return cls(leaders, profiles, cohorts, sessions, library)

    def actor(self, leader_id: str) -> dict[str, Any]:
        name, org, _ = self.leaders[leader_id]
        return {"objectType": "Agent", "name": name,
                "account": {"homePage": self.profiles[org].home_page, "name": leader_id}}

    def context(self, leader_id: str, kind: str, oid: str, extensions: dict[str, Any] | None) -> dict[str, Any]:
        _, org, cohort = self.leaders[leader_id]
        profile = self.profiles[org]
        acts: dict[str, list[dict[str, Any]]] = {}
        lib = self.library
        if kind == "knowledge-check":
            title = lib.modules[oid].title if lib is not None and oid in lib.modules else None
            acts["parent"] = [activity("module", oid, title)]
        elif kind == "scenario" and lib is not None and oid in lib.scenarios:
            mods = sorted({m for mo in lib.scenarios[oid].moments if mo in lib.moments
                           for m in lib.moments[mo].modules if m in lib.modules})
            if mods:
                acts["other"] = [activity("module", m, lib.modules[m].title) for m in mods]
        elif kind == "classroom-session" and oid in self.sessions:
            cid = self.sessions[oid]
            acts["parent"] = [activity("cohort", cid, self.cohorts.get(cid))]
        elif kind == "discussion":
            cid, _, prompt = oid.partition("/")
            acts["parent"] = [activity("cohort", cid, self.cohorts.get(cid))]
            if lib is not None and prompt in lib.modules:
                acts["other"] = [activity("module", prompt, lib.modules[prompt].title)]
        if cohort and kind not in ("classroom-session", "discussion"):
            acts["grouping"] = [activity("cohort", cohort, self.cohorts.get(cohort))]
        out: dict[str, Any] = {"registration": registration(profile, leader_id, cohort), "platform": PLATFORM,
                               "language": LANGUAGE}
        if acts:
            out["contextActivities"] = acts
        if extensions:
            out["extensions"] = extensions
        return out

    def authority(self, leader_id: str) -> dict[str, Any]:
        _, org, _ = self.leaders[leader_id]
        return self.profiles[org].authority(org)


def render_local(row: ActivityEvent, ctx: _Ctx) -> dict[str, Any]:
    """A local row as a full statement in its organization's current vocabulary."""
    st = row.statement
    kind, oid = row.object_type, row.object_id
    obj = st.get("object") or {}
    title = ((obj.get("definition") or {}).get("name") or {}).get("en-US")
    lib = ctx.library
    if lib is not None and kind in ("module", "knowledge-check") and oid in lib.modules:
        title = lib.modules[oid].title + (": knowledge check" if kind == "knowledge-check" else "")
    elif lib is not None and kind == "scenario" and oid in lib.scenarios:
        title = lib.scenarios[oid].title
    out: dict[str, Any] = {
        "id": row.id,
        "actor": ctx.actor(row.leader_id),
        "verb": {"id": VERBS[row.verb], "display": {"en-US": row.verb}},
        "object": activity(kind, oid, title) if kind in ACTIVITY_TYPES else obj,
    }
    result = dict(st.get("result") or {})
    if result.get("score"):
        score = dict(result["score"])
        if kind == "knowledge-check" and lib is not None and oid in lib.modules and "raw" not in score \
                and score.get("scaled") is not None:
            n = len(lib.modules[oid].knowledge_check)
            raw = score["scaled"] * n
            if abs(raw - round(raw)) < 1e-6:
                score.update(raw=int(round(raw)), min=0, max=n)
        result["score"] = score
    if result:
        out["result"] = result
    out["context"] = ctx.context(row.leader_id, kind, oid, (st.get("context") or {}).get("extensions"))
    out["timestamp"] = xapi_time(row.timestamp)
    out["stored"] = xapi_time(row.stored_at)
    out["authority"] = ctx.authority(row.leader_id)
    out["version"] = XAPI_VERSION
    return out


def render_imported(row: ActivityEvent) -> dict[str, Any]:
    """An imported row as received, with this store's ``stored`` time."""
    return {**row.statement, "stored": xapi_time(row.stored_at)}


def render(row: ActivityEvent, ctx: _Ctx) -> dict[str, Any]:
    return render_local(row, ctx) if row.origin == "local" else render_imported(row)


def derived_statements(s, ctx: _Ctx, leader_ids: set[str] | None = None) -> list[tuple[datetime, dict[str, Any]]]:
    """Discussion posts and pooled assessment submissions, as ``(stored time, statement)``."""
    from ..skills.raters import MIN_ANONYMOUS_RATERS, included_sheets

    out = []
    hidden = set(s.scalars(select(DiscussionPost.id).where(DiscussionPost.hidden.is_(True))))
    for post in s.scalars(select(DiscussionPost).order_by(DiscussionPost.created_at, DiscussionPost.id)):
        if post.hidden or post.parent_id in hidden or post.author_id not in ctx.leaders:
            continue
        if leader_ids is not None and post.author_id not in leader_ids:
            continue
        oid = f"{post.cohort_id}/{post.prompt or 'general'}"
        name = "Cohort discussion" + (f": {ctx.library.modules[post.prompt].title}"
                                      if ctx.library is not None and post.prompt in ctx.library.modules else "")
        st = {
            "id": str(uuid.uuid5(NAMESPACE, f"discussion-post:{post.id}")),
            "actor": ctx.actor(post.author_id),
            "verb": {"id": VERBS["commented"], "display": {"en-US": "commented"}},
            "object": activity("discussion", oid, name),
            "context": ctx.context(post.author_id, "discussion", oid, None),
            "timestamp": xapi_time(post.created_at),
            "stored": xapi_time(post.created_at),
            "authority": ctx.authority(post.author_id),
            "version": XAPI_VERSION,
        }
        out.append((post.created_at, st))
    sheets: dict[str, list[tuple[str, str, datetime]]] = {}
    for sid, lid, role, at in s.execute(
            select(AssessmentSession.id, AssessmentSession.leader_id, AssessmentSession.rater_role,
                   AssessmentSession.submitted_at)
            .where(AssessmentSession.status == "submitted", AssessmentSession.rater_role != "self",
                   AssessmentSession.submitted_at.is_not(None))
            .order_by(AssessmentSession.submitted_at, AssessmentSession.id)):
        if lid in ctx.leaders and (leader_ids is None or lid in leader_ids):
            sheets.setdefault(lid, []).append((sid, role, at))
    for lid, rows in sheets.items():
        shown = set(included_sheets([(sid, role) for sid, role, _ in rows]))
        blocks: dict[str, list[datetime]] = {}
        for sid, role, at in rows:
            if sid in shown:
                blocks.setdefault(role, []).append(at)
        for role, times in blocks.items():
            size = 1 if role == "manager" else MIN_ANONYMOUS_RATERS
            for k in range(0, len(times) - size + 1, size):
                at = max(times[k:k + size])
                st = {
                    "id": str(uuid.uuid5(NAMESPACE, f"rater-pool:{lid}:{role}:{k // size}")),
                    "actor": {"objectType": "Group", "name": f"{role.replace('_', ' ')} raters",
                              "account": {"homePage": ctx.profiles[ctx.leaders[lid][1]].home_page,
                                          "name": f"{lid}/raters/{role}"}},
                    "verb": {"id": VERBS["completed"], "display": {"en-US": "completed"}},
                    "object": activity("assessment", f"{lid}/multi-rater", "Multi-rater feedback"),
                    "result": {"completion": True,
                               "extensions": {"urn:workbench:rater-role": role, "urn:workbench:sheets": size}},
                    "context": ctx.context(lid, "assessment", f"{lid}/multi-rater",
                                           {"urn:workbench:rated-leader": ctx.actor(lid)}),
                    "timestamp": xapi_time(at),
                    "stored": xapi_time(at),
                    "authority": ctx.authority(lid),
                    "version": XAPI_VERSION,
                }
                out.append((at, st))
    return out


def export_rows(engine: Engine, *, leader_ids: Iterable[str] | None = None, since: datetime | None = None,
                library: Any = None, derived: bool = True, include_voided: bool = False,
                ) -> list[tuple[datetime, str, datetime, dict[str, Any]]]:
    """Every exported statement as ``(stored time, id, timestamp, statement)``."""
    wanted = set(leader_ids) if leader_ids is not None else None
    out = []
    with transaction(engine) as s:
        ctx = _Ctx.load(s, library)
        q = select(ActivityEvent)
        if wanted is not None:
            q = q.where(ActivityEvent.leader_id.in_(sorted(wanted)))
        if not include_voided:
            q = q.where(ActivityEvent.voided_by.is_(None))
        ids = set()
        for row in s.scalars(q.execution_options(yield_per=1000)):
            if since is not None and row.timestamp < since:
                continue
            out.append((row.stored_at, row.id, row.timestamp, render(row, ctx)))
            ids.add(row.id)
        if derived:
            for stored, st in derived_statements(s, ctx, wanted):
                ts = stored
                if st["id"] in ids or (since is not None and ts < since):
                    continue
                out.append((stored, st["id"], ts, st))
    return out


def export_all(engine: Engine, *, leader_ids: Iterable[str] | None = None, since: datetime | None = None,
               library: Any = None, derived: bool = True) -> list[dict[str, Any]]:
    rows = export_rows(engine, leader_ids=leader_ids, since=since, library=library, derived=derived)
    rows.sort(key=lambda r: (r[2], r[1]))
    return [r[3] for r in rows]


__all__ = ["ACTIVITY_TYPES", "PLATFORM", "LANGUAGE", "registration", "render", "render_local", "export_rows",
           "export_all", "derived_statements", "split_object"]
