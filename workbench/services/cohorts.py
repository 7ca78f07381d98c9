"""Cohorts in the store: members and constraints read from it, peer groups, classroom
sessions, peer feedback and discussion written back. The edge between ``workbench.cohorts``
(pure) and ``workbench.store``."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter

from sqlalchemy import Engine

from ..cohorts import (
    ClassroomSession,
    Grouping,
    Member,
    PeerFeedback,
    Post,
    Thresholds,
    Viewer,
    apply_peer_feedback,
    development_areas,
    form_groups,
    schedule_sessions,
    visible_posts,
)
from ..content import Library
from ..practice import posterior_from_estimates
from ..store import cohort_repo, repo
from ..store import models as m
from ..store.db import transaction
from ..store.xapi import make_statement, to_event


def cohort_members(engine: Engine, cohort_id: str, library: Library | None = None) -> list[Member]:
    """Each leader of the cohort with their latest skill estimates (the prior N(0, 1) when not
    assessed yet; nobody at all when no one in the cohort is) and their role level's
    expectations (from ``library``'s organization profile; the shipped library by default)."""
    repo.get_cohort(engine, cohort_id)
    library = library or Library.load()
    org = library.organization
    expect = {lv: dict(v) for lv, v in (org.expectations.items() if org else ())}
    leaders = repo.leaders_frame(engine, cohort_id)
    rows = []
    for r in leaders.itertuples():
        est = repo.latest_estimates(engine, r.leader_id)
        rows.append((r, {e.competency: (float(e.mean), float(e.sd)) for e in est.itertuples()}))
    # a member not assessed yet takes the skill model's prior, N(0, 1), on the competencies others have
    comps = sorted({c for _, skills in rows for c in skills})
    return [Member(r.leader_id, skills or dict.fromkeys(comps, (0.0, 1.0)), r.role_level, r.function or "",
                   expectations=expect.get(r.role_level, {}))
            for r, skills in rows if skills or comps]



def forbidden_pairs(engine: Engine, cohort_id: str) -> list[tuple[str, str]]:
    """Pairs who must not share a group: a leader and their manager (reporting lines)."""
    leaders = repo.leaders_frame(engine, cohort_id)
    ids = set(leaders.leader_id)
    return [(r.leader_id, r.manager_id) for r in leaders.itertuples() if r.manager_id in ids]


def form_and_save(engine: Engine, cohort_id: str, min_size: int = 4, max_size: int = 6, seed: int = 0,
                  save: bool = True, library: Library | None = None) -> Grouping:
    members = cohort_members(engine, cohort_id, library)
    if len(members) < min_size:
        raise ValueError(f"cohort {cohort_id} has {len(members)} leaders; a group needs at least {min_size}")
    grouping = form_groups(members, min_size=min_size, max_size=max_size, forbidden=forbidden_pairs(engine, cohort_id),
                           seed=seed)
    if save:
        save_grouping(engine, cohort_id, grouping)
    return grouping


def save_grouping(engine: Engine, cohort_id: str, grouping: Grouping) -> None:
    """Store a cohort's peer groups, replacing its previous ones."""
    cohort_repo.replace_groups(engine, cohort_id, grouping.groups, dt.datetime.now(dt.UTC))



def calendar_attendees(engine: Engine, cohort_id: str) -> list[tuple[str | None, str]]:
    """``(name, email)`` of the cohort's leaders who have an email, by leader id (calendar invitees)."""
    with transaction(engine) as s:
        names = repo.leaders_frame(s, cohort_id).set_index("leader_id")["name"].to_dict()
        return [(names.get(lid), email) for lid, email in repo.leader_emails(s, cohort_id).items()]


def peer_group(engine: Engine, leader_id: str) -> list[str]:
    """The leader's peer group (their own id included), or [] before groups are formed."""
    return cohort_repo.group_members(engine, leader_id)


def cohort_focus(engine: Engine, cohort_id: str, k: int = 4, library: Library | None = None) -> list[str]:
    """The cohort's most shared development areas, most common first."""
    areas = development_areas(cohort_members(engine, cohort_id, library))
    counts = Counter(c for v in areas.values() for c in v)
    return [c for c, _ in counts.most_common(k)]


def plan_sessions(engine: Engine, library: Library, cohort_id: str, start: dt.date, count: int = 4,
                  weekday: int = 2, at: dt.time = dt.time(15, 0), cadence_days: int = 14,
                  save: bool = True, tz: str | None = None) -> tuple[ClassroomSession, ...]:
    """Sessions on the cohort's shared development areas, stored as classroom sessions; ``at`` is
    local time in ``tz`` (default the cohort's zone, :func:`timezone_for`)."""
    cohort = repo.get_cohort(engine, cohort_id)
    tz = check_timezone(tz) if tz is not None else timezone_for(engine, library, cohort_id=cohort_id)
    focus = cohort_focus(engine, cohort_id, library=library) or list(library.competency_ids[:count])
    levels = Counter(repo.leaders_frame(engine, cohort_id).role_level)
    level = levels.most_common(1)[0][0] if levels else "first-time"
    sessions = schedule_sessions(library, cohort_id, focus, start=start, weekday=weekday, at=at, count=count,
                                 cadence_days=cadence_days, tz=tz, level=level, location="Virtual classroom",
                                 title=f"{cohort.name}: learning together")
    if save:
        save_sessions(engine, sessions)
    return sessions


def save_sessions(engine: Engine, sessions) -> None:
    with transaction(engine) as s:
        for sess in sessions:
            rec = sess.to_record()
            s.merge(m.ClassroomSession(**{k: v for k, v in rec.items() if k in m.ClassroomSession.__table__.columns}))


def sessions_for(engine: Engine, cohort_id: str) -> list[ClassroomSession]:
    """The cohort's stored classroom sessions as domain objects, soonest first."""
    from ..cohorts import AgendaItem

    with transaction(engine) as s:
        rows = cohort_repo.classroom_sessions(s, cohort_id)
        return [ClassroomSession(r.id, r.cohort_id, r.title, r.starts_at, r.minutes,
                                 tuple(AgendaItem(**a) for a in (r.agenda or {}).get("items", [])),
                                 group_id=r.group_id, location=r.location, competency=(r.agenda or {}).get("competency"))
                for r in rows]


def group_view(engine: Engine, library: Library, leader_id: str) -> list[tuple[str, list[str], list[str]]]:
    """The leader's peer group as (name, strengths, development areas) with competency names.

    Peers see each other's strengths (what they can help with); development areas are shown
    only for the leader themself, since a leader sees only their own assessment results.
    """
    ids = peer_group(engine, leader_id)
    if not ids:
        return []
    leader = repo.get_leader(engine, leader_id)
    members = [mb for mb in cohort_members(engine, leader.cohort_id, library) if mb.leader_id in ids]
    areas = development_areas(members)
    names = repo.leaders_frame(engine, leader.cohort_id).set_index("leader_id")["name"]
    out = []
    for mb in members:
        strong = [library.competencies[c].name for c, (mu, sd) in mb.skills.items() if Thresholds().strong(mu, sd)]
        own = mb.leader_id == leader_id
        out.append((names.get(mb.leader_id, mb.leader_id), strong,
                    [library.competencies[c].name for c in areas.get(mb.leader_id, ())] if own else []))
    return out


def record_attendance(engine: Engine, session_id: str, leader_ids: list[str], at: dt.datetime | None = None) -> int:
    """Attendance as xAPI ``attended`` statements."""
    with transaction(engine) as s:
        sess = s.get(m.ClassroomSession, session_id)
        if sess is None:
            raise repo.NotFound(f"no classroom session {session_id!r}")
        for lid in leader_ids:
            s.add(to_event(make_statement(lid, "attended", "classroom-session", session_id, at or sess.starts_at,
                                          title=sess.title, duration=sess.minutes * 60.0)))
    return len(leader_ids)


def record_peer_feedback(engine: Engine, library: Library, feedback: PeerFeedback, at: dt.datetime | None = None):
    """Peer ratings as other-rater evidence: the receiver's estimates move, and are stored."""
    est = repo.latest_estimates(engine, feedback.receiver)
    posterior = posterior_from_estimates(library.competency_ids,
                                         {r.competency: (float(r.mean), float(r.sd)) for r in est.itertuples()})
    updates = apply_peer_feedback(posterior, feedback)
    when = at or dt.datetime.now(dt.UTC)
    with transaction(engine) as s:
        for comp, u in updates.items():
            s.add(m.SkillEstimate(leader_id=feedback.receiver, competency=comp, mean=u.after_mean, sd=u.after_sd,
                                  source="all", estimated_at=when))
    return updates


def _viewer_for(engine: Engine, viewer: Viewer) -> Viewer:
    if viewer.role == "leader" and repo.get_leader(engine, viewer.id).cohort_id != viewer.cohort_id:
        raise PermissionError(f"leader {viewer.id} is not a member of cohort {viewer.cohort_id}")
    return viewer


def add_post(engine: Engine, author: Viewer, body: str, prompt: str | None = None, parent_id: str | None = None) -> str:
    _viewer_for(engine, author)
    body = (body or "").strip()
    if not body:
        raise ValueError("a post needs some text")
    pid = uuid.uuid4().hex
    with transaction(engine) as s:
        s.add(m.DiscussionPost(id=pid, cohort_id=author.cohort_id, author_id=author.id, parent_id=parent_id,
                               prompt=prompt, body=body[:5000]))
    return pid


def posts_for(engine: Engine, viewer: Viewer) -> list[Post]:
    """The discussion as this viewer may see it (cohort members and its facilitator only)."""
    _viewer_for(engine, viewer)
    with transaction(engine) as s:
        rows = cohort_repo.posts(s, viewer.cohort_id)
        posts = [Post(r.id, r.cohort_id, r.author_id, r.body, parent_id=r.parent_id, prompt_id=r.prompt,
                      hidden=r.hidden, created_at=r.created_at) for r in rows]
    return visible_posts(posts, viewer)


def hide_post(engine: Engine, post_id: str, by: Viewer) -> None:
    """Hide a post; only the facilitator of the post's cohort may (``PermissionError`` otherwise)."""
    from ..cohorts import hide

    with transaction(engine) as s:
        row = s.get(m.DiscussionPost, post_id)
        if row is None:
            raise repo.NotFound(f"no post {post_id!r}")
        hide(Post(row.id, row.cohort_id, row.author_id, row.body, parent_id=row.parent_id), by)
        row.hidden = True


# ------------------------------------------------------------------------------ time zones
def check_timezone(tz: str) -> str:
    """``tz`` when it names an IANA time zone (``Europe/London``), else ``ValueError`` naming it."""
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown time zone {tz!r}: use an IANA name such as 'Europe/London'") from exc
    return tz


def set_timezone(engine: Engine, tz: str | None, *, leader_id: str | None = None, cohort_id: str | None = None) -> None:
    """Set (or with None clear, back to the default) one leader's or one cohort's time zone."""
    if (leader_id is None) == (cohort_id is None):
        raise ValueError("give exactly one of leader_id and cohort_id")
    if tz is not None:
        check_timezone(tz)
    with transaction(engine) as s:
        row = s.get(m.Leader, leader_id) if leader_id is not None else s.get(m.Cohort, cohort_id)
        if row is None:
            raise repo.NotFound(f"no {'leader' if leader_id is not None else 'cohort'} "
                                f"{leader_id if leader_id is not None else cohort_id!r}")
        row.timezone = tz


def timezone_for(engine: Engine, library: Library | None = None, *, leader_id: str | None = None,
                 cohort_id: str | None = None) -> str:
    """The time zone to show a leader's or a cohort's times in: their own when set; for a leader
    then their cohort's; then the organization profile's (``timezone`` in ``organization.yaml``)."""
    library = library or Library.load()
    with transaction(engine) as s:
        if leader_id is not None:
            leader = s.get(m.Leader, leader_id)
            if leader is None:
                raise repo.NotFound(f"no leader {leader_id!r}")
            if leader.timezone:
                return leader.timezone
            cohort_id = leader.cohort_id
        if cohort_id is not None:
            cohort = s.get(m.Cohort, cohort_id)
            if cohort is not None and cohort.timezone:
                return cohort.timezone
    return library.organization.timezone
