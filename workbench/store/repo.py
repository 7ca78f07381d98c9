"""Queries and writes the apps and the command line share.

Reads return plain data (pandas frames, dicts). Every function takes a :data:`~workbench.store.db.Bind`:
an engine (the function runs in a transaction of its own) or the session of an open transaction (it
joins it, so a service composes several reads and writes into one transaction).
Everything that concerns one leader takes that leader's id and touches only their rows.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import pandas as pd
from sqlalchemy import func, select, update

from .db import Bind, joined
from .models import (
    ActivityEvent,
    AssessmentSession,
    Cohort,
    Leader,
    Rater,
    Recommendation,
    Response,
    SkillEstimate,
    utcnow,
)


class NotFound(LookupError):
    pass


def _get(engine: Bind, model, key: str, what: str):
    """One row by primary key, detached from the session; :class:`NotFound` naming it otherwise."""
    with joined(engine) as s:
        row = s.get(model, key)
        if row is None:
            raise NotFound(f"no {what} with id {key!r}")
        s.expunge(row)
        return row


def get_leader(engine: Bind, leader_id: str) -> Leader:
    return _get(engine, Leader, leader_id, "leader")


def first_leader(engine: Bind) -> Leader | None:
    """The leader with the smallest id (detached), or None in an empty store."""
    with joined(engine) as s:
        row = s.scalars(select(Leader).order_by(Leader.id).limit(1)).first()
        if row is not None:
            s.expunge(row)
        return row


def get_cohort(engine: Bind, cohort_id: str) -> Cohort:
    return _get(engine, Cohort, cohort_id, "cohort")


def get_invitation(engine: Bind, invitation_id: str) -> Rater:
    """A rater invitation (a row of ``raters``)."""
    return _get(engine, Rater, invitation_id, "rater invitation")


def leaders_frame(engine: Bind, cohort_id: str | None = None) -> pd.DataFrame:
    q = select(
        Leader.id, Leader.name, Leader.cohort_id, Leader.role_level, Leader.first_time,
        Leader.function, Leader.manager_id, Leader.weekly_minutes,
    ).order_by(Leader.id)
    if cohort_id is not None:
        q = q.where(Leader.cohort_id == cohort_id)
    with joined(engine) as s:
        rows = s.execute(q).all()
    return pd.DataFrame(rows, columns=[
        "leader_id", "name", "cohort_id", "role_level", "first_time", "function", "manager_id", "weekly_minutes",
    ])


def leader_emails(engine: Bind, cohort_id: str) -> dict[str, str]:
    """Leader id -> email for the cohort's leaders who have one (calendar attendees)."""
    with joined(engine) as s:
        rows = s.execute(select(Leader.id, Leader.email).where(Leader.cohort_id == cohort_id,
                                                               Leader.email.is_not(None)).order_by(Leader.id)).all()
    return {lid: email for lid, email in rows if email}


def latest_estimates(engine: Bind, leader_id: str, source: str = "all") -> pd.DataFrame:
    """The leader's most recent estimate per competency: ``competency, mean, sd, estimated_at``."""
    latest = (
        select(SkillEstimate.competency, func.max(SkillEstimate.estimated_at).label("t"))
        .where(SkillEstimate.leader_id == leader_id, SkillEstimate.source == source)
        .group_by(SkillEstimate.competency)
        .subquery()
    )
    q = (
        select(SkillEstimate.competency, SkillEstimate.mean, SkillEstimate.sd, SkillEstimate.estimated_at)
        .join(latest, (SkillEstimate.competency == latest.c.competency) & (SkillEstimate.estimated_at == latest.c.t))
        .where(SkillEstimate.leader_id == leader_id, SkillEstimate.source == source)
        .order_by(SkillEstimate.competency)
    )
    with joined(engine) as s:
        rows = s.execute(q).all()
    return pd.DataFrame(rows, columns=["competency", "mean", "sd", "estimated_at"])


#: Events that count: a voided statement keeps its row but no longer counts (docs/xapi.md).
LIVE = ActivityEvent.voided_by.is_(None)


def activity_frame(engine: Bind, leader_id: str) -> pd.DataFrame:
    """The leader's activity events, oldest first."""
    q = (
        select(
            ActivityEvent.timestamp, ActivityEvent.verb, ActivityEvent.object_type, ActivityEvent.object_id,
            ActivityEvent.competency, ActivityEvent.duration_seconds, ActivityEvent.score_scaled,
        )
        .where(ActivityEvent.leader_id == leader_id, LIVE)
        .order_by(ActivityEvent.timestamp, ActivityEvent.id)
    )
    with joined(engine) as s:
        rows = s.execute(q).all()
    return pd.DataFrame(rows, columns=[
        "timestamp", "verb", "object_type", "object_id", "competency", "duration_seconds", "score_scaled",
    ])


def leader_data_version(engine: Bind, leader_id: str) -> tuple:
    """A fingerprint of the rows a leader's progress is computed from, read with a few aggregate
    queries: it changes whenever one of the leader's statements is stored or voided, an estimate is
    added, a recommendation is served or changes status, or the leader's weekly budget or role level
    changes. Equal fingerprints mean the same rows."""
    with joined(engine) as s:
        events = s.execute(select(func.count(), func.max(ActivityEvent.stored_at), func.count(ActivityEvent.voided_by))
                           .where(ActivityEvent.leader_id == leader_id)).one()
        estimates = s.execute(select(func.count(), func.max(SkillEstimate.estimated_at))
                              .where(SkillEstimate.leader_id == leader_id)).one()
        recs = s.execute(select(Recommendation.status, func.count(), func.max(Recommendation.served_at))
                         .where(Recommendation.leader_id == leader_id).group_by(Recommendation.status)
                         .order_by(Recommendation.status)).all()
        leader = s.execute(select(Leader.weekly_minutes, Leader.role_level).where(Leader.id == leader_id)).one_or_none()
    return (tuple(events), tuple(estimates), tuple(tuple(r) for r in recs), tuple(leader) if leader else None)


def open_session(engine: Bind, leader_id: str, rater_role: str = "self", rater_id: str | None = None,
                 form: str = "full") -> str:
    """The leader's open draft session for this rater, or a new one. Returns its id."""
    with joined(engine) as s:
        if s.get(Leader, leader_id) is None:
            raise NotFound(f"no leader with id {leader_id!r}")
        q = select(AssessmentSession.id).where(
            AssessmentSession.leader_id == leader_id,
            AssessmentSession.rater_role == rater_role,
            AssessmentSession.status == "draft",
        )
        q = q.where(AssessmentSession.rater_id.is_(None) if rater_id is None else AssessmentSession.rater_id == rater_id)
        existing = s.scalars(q.order_by(AssessmentSession.started_at.desc())).first()
        if existing:
            return existing
        sid = uuid.uuid4().hex
        s.add(AssessmentSession(id=sid, leader_id=leader_id, rater_id=rater_id, rater_role=rater_role, form=form))
        return sid


def save_response(engine: Bind, session_id: str, item_id: str, value: int | None, categories: tuple[int, ...],
                  at: datetime | None = None, *, allow_missing: bool = False) -> None:
    """Save (or change) one answer in a draft session; refuses out-of-range values.

    ``value=None`` ("not observed / can't say", stored as missing) only with ``allow_missing``.
    """
    if value is None:
        if not allow_missing:
            raise ValueError(f"item {item_id} needs an answer in {list(categories)}; "
                             "'not observed' is offered to other raters only")
    elif isinstance(value, bool) or not isinstance(value, int) or value not in categories:
        raise ValueError(f"answer {value!r} for item {item_id} is outside its categories {list(categories)}")
    with joined(engine) as s:
        sess = s.get(AssessmentSession, session_id)
        if sess is None:
            raise NotFound(f"no assessment session {session_id!r}")
        if sess.status != "draft":
            raise ValueError(f"session {session_id} is already submitted; answers can no longer change")
        row = s.scalars(select(Response).where(Response.session_id == session_id, Response.item_id == item_id)).first()
        if row is None:
            s.add(Response(session_id=session_id, item_id=item_id, value=value, answered_at=at or utcnow()))
        else:
            row.value, row.answered_at = value, at or utcnow()


def responses_frame(engine: Bind, organization_id: str | None = None, submitted_only: bool = True) -> pd.DataFrame:
    """Long-format responses: ``session_id, leader_id, rater_id, rater_role, item_id, value``."""
    q = select(
        Response.session_id, AssessmentSession.leader_id, AssessmentSession.rater_id,
        AssessmentSession.rater_role, Response.item_id, Response.value,
    ).join(AssessmentSession, Response.session_id == AssessmentSession.id)
    if submitted_only:
        q = q.where(AssessmentSession.status == "submitted")
    if organization_id is not None:
        q = q.join(Leader, Leader.id == AssessmentSession.leader_id).where(Leader.organization_id == organization_id)
    with joined(engine) as s:
        rows = s.execute(q.order_by(Response.session_id, Response.item_id)).all()
    return pd.DataFrame(rows, columns=["session_id", "leader_id", "rater_id", "rater_role", "item_id", "value"])


def responses_wide(engine: Bind, organization_id: str | None = None) -> pd.DataFrame:
    """Submitted responses in the responses CSV contract's shape: one row per answer sheet,
    ``respondent_id`` (the leader rated), ``rater``, then one column per item (strings, '' = missing)."""
    long = responses_frame(engine, organization_id)
    if long.empty:
        return pd.DataFrame(columns=["respondent_id", "rater"])
    wide = long.pivot(index=["session_id", "leader_id", "rater_role"], columns="item_id", values="value")
    wide = wide.reset_index().drop(columns="session_id").rename(columns={"leader_id": "respondent_id", "rater_role": "rater"})
    items = sorted(c for c in wide.columns if c not in ("respondent_id", "rater"))
    wide = wide.sort_values(["respondent_id", "rater"], kind="stable").reset_index(drop=True)
    out = wide[["respondent_id", "rater"] + items].astype(object)
    out[items] = out[items].map(lambda v: "" if pd.isna(v) else str(int(v)))
    return out


def completed_modules(engine: Bind, leader_id: str) -> set[str]:
    q = select(ActivityEvent.object_id).where(
        ActivityEvent.leader_id == leader_id, ActivityEvent.verb == "completed", ActivityEvent.object_type == "module",
        LIVE,
    )
    with joined(engine) as s:
        return set(s.scalars(q))


def minutes_since(engine: Bind, leader_id: str, since: datetime) -> float:
    """Minutes of activity (sum of statement durations) since a time."""
    q = select(func.coalesce(func.sum(ActivityEvent.duration_seconds), 0.0)).where(
        ActivityEvent.leader_id == leader_id, ActivityEvent.timestamp >= since, LIVE
    )
    with joined(engine) as s:
        return float(s.scalar(q)) / 60.0


def minutes_by_competency(engine: Bind, leader_id: str) -> dict[str, float]:
    q = (
        select(ActivityEvent.competency, func.sum(ActivityEvent.duration_seconds))
        .where(ActivityEvent.leader_id == leader_id, ActivityEvent.competency.is_not(None), LIVE)
        .group_by(ActivityEvent.competency)
    )
    with joined(engine) as s:
        return {c: float(v or 0) / 60.0 for c, v in s.execute(q).all()}


def module_popularity(engine: Bind, organization_id: str | None = None) -> dict[str, int]:
    """How many completions each module has (the popular baseline's signal)."""
    q = (
        select(ActivityEvent.object_id, func.count())
        .where(ActivityEvent.verb == "completed", ActivityEvent.object_type == "module", LIVE)
        .group_by(ActivityEvent.object_id)
    )
    if organization_id is not None:
        q = q.join(Leader, Leader.id == ActivityEvent.leader_id).where(Leader.organization_id == organization_id)
    with joined(engine) as s:
        return {k: int(v) for k, v in s.execute(q).all()}


def active_recommendations(engine: Bind, leader_id: str) -> pd.DataFrame:
    q = (
        select(Recommendation.id, Recommendation.module_id, Recommendation.strategy, Recommendation.score,
               Recommendation.reason, Recommendation.propensity, Recommendation.status, Recommendation.served_at)
        .where(Recommendation.leader_id == leader_id, Recommendation.status.in_(("active", "started")))
        .order_by(Recommendation.served_at, Recommendation.rank)
    )
    with joined(engine) as s:
        rows = s.execute(q).all()
    return pd.DataFrame(rows, columns=["id", "module_id", "strategy", "score", "reason", "propensity", "status", "served_at"])



def set_recommendation_status(engine: Bind, leader_id: str, module_id: str, from_: tuple[str, ...], to: str) -> int:
    """Move the leader's recommendations of a module from one of the statuses ``from_`` to ``to``;
    returns how many moved."""
    with joined(engine) as s:
        res = s.execute(update(Recommendation)
                        .where(Recommendation.leader_id == leader_id, Recommendation.module_id == module_id,
                               Recommendation.status.in_(from_))
                        .values(status=to))
    return int(res.rowcount or 0)


def dismissed_since(engine: Bind, leader_id: str, since: datetime) -> frozenset[str]:
    """Modules the leader dismissed from recommendations served since a time."""
    q = select(Recommendation.module_id).where(
        Recommendation.leader_id == leader_id, Recommendation.status == "dismissed", Recommendation.served_at >= since)
    with joined(engine) as s:
        return frozenset(s.scalars(q))


def check_attempts(engine: Bind, leader_id: str, module_id: str) -> int:
    """How many attempts (passed or failed, not voided) the leader has stored at a module's knowledge check."""
    q = select(func.count()).select_from(ActivityEvent).where(
        ActivityEvent.leader_id == leader_id, ActivityEvent.object_type == "knowledge-check",
        ActivityEvent.object_id == module_id, ActivityEvent.verb.in_(("passed", "failed")), LIVE)
    with joined(engine) as s:
        return int(s.scalar(q) or 0)


def estimate_rows(engine: Bind, leader_id: str, source: str) -> list[tuple]:
    """Every estimate of one leader from one source, oldest first, with the calibration it was scored
    with: ``(competency, mean, sd, calibration_id)``."""
    q = (select(SkillEstimate.competency, SkillEstimate.mean, SkillEstimate.sd, SkillEstimate.calibration_id)
         .where(SkillEstimate.leader_id == leader_id, SkillEstimate.source == source)
         .order_by(SkillEstimate.estimated_at, SkillEstimate.id))
    with joined(engine) as s:
        return [tuple(r) for r in s.execute(q).all()]

# ------------------------------------------------------------------ reads for analytics
# Each read is one query returning a frame; ``workbench.services.progress`` turns them into analytics.

_EVENT_COLUMNS = ["timestamp", "verb", "object_type", "object_id", "competency", "duration_seconds", "score_scaled"]


def estimate_history(engine: Bind, leader_id: str, source: str = "all") -> pd.DataFrame:
    """Every skill estimate of one leader from one source, oldest first:
    ``competency, mean, sd, estimated_at``."""
    q = (
        select(SkillEstimate.competency, SkillEstimate.mean, SkillEstimate.sd, SkillEstimate.estimated_at)
        .where(SkillEstimate.leader_id == leader_id, SkillEstimate.source == source)
        .order_by(SkillEstimate.estimated_at, SkillEstimate.id)
    )
    with joined(engine) as s:
        rows = s.execute(q).all()
    return pd.DataFrame(rows, columns=["competency", "mean", "sd", "estimated_at"])


def activity_events(engine: Bind, cohort_id: str | None = None, organization_id: str | None = None,
                    since: datetime | None = None) -> pd.DataFrame:
    """Activity events of many leaders in one query, oldest first: ``leader_id`` and the columns of
    :func:`activity_frame`. Restricted to a cohort's or an organization's leaders when given."""
    q = select(ActivityEvent.leader_id, *(getattr(ActivityEvent, c) for c in _EVENT_COLUMNS)).where(
        LIVE, ActivityEvent.leader_id.is_not(None))
    if cohort_id is not None or organization_id is not None:
        q = q.join(Leader, Leader.id == ActivityEvent.leader_id)
        if cohort_id is not None:
            q = q.where(Leader.cohort_id == cohort_id)
        if organization_id is not None:
            q = q.where(Leader.organization_id == organization_id)
    if since is not None:
        q = q.where(ActivityEvent.timestamp >= since)
    with joined(engine) as s:
        rows = s.execute(q.order_by(ActivityEvent.timestamp, ActivityEvent.id)).all()
    return pd.DataFrame(rows, columns=["leader_id", *_EVENT_COLUMNS])


def latest_estimates_of_group(engine: Bind, cohort_id: str | None = None, organization_id: str | None = None,
                              source: str = "all") -> pd.DataFrame:
    """The latest estimate per leader and competency for a cohort's or an organization's leaders, in
    one query: ``leader_id, cohort_id, role_level, competency, mean, sd, estimated_at``. Leaders
    without estimates have no rows."""
    latest = (
        select(SkillEstimate.leader_id, SkillEstimate.competency, func.max(SkillEstimate.estimated_at).label("t"))
        .where(SkillEstimate.source == source)
        .group_by(SkillEstimate.leader_id, SkillEstimate.competency)
        .subquery()
    )
    q = (
        select(SkillEstimate.leader_id, Leader.cohort_id, Leader.role_level, SkillEstimate.competency,
               SkillEstimate.mean, SkillEstimate.sd, SkillEstimate.estimated_at)
        .join(latest, (SkillEstimate.leader_id == latest.c.leader_id)
              & (SkillEstimate.competency == latest.c.competency) & (SkillEstimate.estimated_at == latest.c.t))
        .join(Leader, Leader.id == SkillEstimate.leader_id)
        .where(SkillEstimate.source == source)
    )
    if cohort_id is not None:
        q = q.where(Leader.cohort_id == cohort_id)
    if organization_id is not None:
        q = q.where(Leader.organization_id == organization_id)
    with joined(engine) as s:
        rows = s.execute(q.order_by(SkillEstimate.leader_id, SkillEstimate.competency, SkillEstimate.id)).all()
    out = pd.DataFrame(rows, columns=["leader_id", "cohort_id", "role_level", "competency", "mean", "sd", "estimated_at"])
    # two estimates stamped with the same instant: keep the one written last
    return out.drop_duplicates(["leader_id", "competency"], keep="last").reset_index(drop=True)


def recommendation_history(engine: Bind, leader_id: str | None = None, cohort_id: str | None = None) -> pd.DataFrame:
    """Every recommendation (all statuses) served to one leader or to a cohort's leaders, oldest first:
    ``id, leader_id, module_id, strategy, reason, rank, status, served_at``."""
    if (leader_id is None) == (cohort_id is None):
        raise ValueError("give exactly one of leader_id and cohort_id")
    q = select(Recommendation.id, Recommendation.leader_id, Recommendation.module_id, Recommendation.strategy,
               Recommendation.reason, Recommendation.rank, Recommendation.status, Recommendation.served_at)
    if leader_id is not None:
        q = q.where(Recommendation.leader_id == leader_id)
    else:
        q = q.join(Leader, Leader.id == Recommendation.leader_id).where(Leader.cohort_id == cohort_id)
    with joined(engine) as s:
        rows = s.execute(q.order_by(Recommendation.served_at, Recommendation.rank, Recommendation.id)).all()
    return pd.DataFrame(rows, columns=["id", "leader_id", "module_id", "strategy", "reason", "rank", "status", "served_at"])


def logged_plans(engine: Bind, organization_id: str, strategy: str | None = None) -> pd.DataFrame:
    """Every recommendation served to the organization's leaders with what off-policy evaluation
    needs, oldest first: ``plan`` (leader and served time: one weekly plan), ``leader_id, rank,
    module_id, strategy, propensity, status, served_at, context`` (the dict the engine saw).
    Read it with :meth:`workbench.recommend.ope.LoggedPlans.from_frame`."""
    q = (select(Recommendation.leader_id, Recommendation.served_at, Recommendation.rank, Recommendation.module_id,
                Recommendation.strategy, Recommendation.propensity, Recommendation.status, Recommendation.context)
         .join(Leader, Leader.id == Recommendation.leader_id).where(Leader.organization_id == organization_id))
    if strategy is not None:
        q = q.where(Recommendation.strategy == strategy)
    with joined(engine) as s:
        rows = s.execute(q.order_by(Recommendation.served_at, Recommendation.leader_id, Recommendation.rank)).all()
    cols = ["leader_id", "served_at", "rank", "module_id", "strategy", "propensity", "status", "context"]
    out = pd.DataFrame(rows, columns=cols)
    out.insert(0, "plan", out["leader_id"] + "@" + out["served_at"].astype(str))
    return out


def activity_totals(engine: Bind, organization_id: str, since: datetime, until: datetime | None = None) -> pd.DataFrame:
    """One row per leader of the organization (also those with no activity), in one query:
    ``leader_id, cohort_id, minutes`` and ``completions`` (modules) since a time, and
    ``last_activity`` (latest event of any kind, NaT when none); events after ``until`` are left out."""
    from sqlalchemy import case

    recent = ActivityEvent.timestamp >= since
    q = (
        select(
            Leader.id, Leader.cohort_id,
            func.coalesce(func.sum(case((recent, ActivityEvent.duration_seconds), else_=None)), 0.0),
            func.count(case((recent & (ActivityEvent.verb == "completed") & (ActivityEvent.object_type == "module"),
                             ActivityEvent.id), else_=None)),
            func.max(ActivityEvent.timestamp),
        )
        .outerjoin(ActivityEvent, (ActivityEvent.leader_id == Leader.id) & LIVE
                   & (ActivityEvent.timestamp <= until if until is not None else True))
        .where(Leader.organization_id == organization_id)
        .group_by(Leader.id, Leader.cohort_id)
        .order_by(Leader.id)
    )
    with joined(engine) as s:
        rows = s.execute(q).all()
    out = pd.DataFrame(rows, columns=["leader_id", "cohort_id", "seconds", "completions", "last_activity"])
    out["minutes"] = out.pop("seconds").astype(float) / 60.0
    out["completions"] = out["completions"].astype(int)
    out["last_activity"] = pd.to_datetime(out["last_activity"], utc=True)
    return out[["leader_id", "cohort_id", "minutes", "completions", "last_activity"]]
