"""Queries on assessment sessions and their answers (the aggregate :mod:`workbench.services.assessment`
writes; :mod:`workbench.services.calibration` reads the submitted sheets).

Every function takes a :data:`~workbench.store.db.Bind`: an engine (a transaction of its own) or the
session of an open transaction (it joins it). Opening a draft and saving an answer stay in
:mod:`workbench.store.repo` (:func:`~workbench.store.repo.open_session`,
:func:`~workbench.store.repo.save_response`), where the other writers of a leader's record are.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Row, func, select

from .db import Bind, joined
from .models import AssessmentSession, Leader, Response


def response_count(bind: Bind, session_id: str) -> int:
    """How many answers (including "not observed") a session has."""
    with joined(bind) as s:
        return int(s.scalar(select(func.count()).select_from(Response).where(Response.session_id == session_id)) or 0)


def has_answers(bind: Bind, session_id: str) -> bool:
    with joined(bind) as s:
        return s.scalar(select(Response.id).where(Response.session_id == session_id).limit(1)) is not None


def latest_session(bind: Bind, leader_id: str, rater_role: str, rater_id: str | None, status: str, *,
                   any_rater: bool = False) -> AssessmentSession | None:
    """The newest session about ``leader_id`` from this rater in ``status`` (a draft by when it was
    started, a submitted sheet by when it was submitted). With ``any_rater`` every session of the
    role counts, whoever opened it. The row stays attached to ``bind`` when it is a session."""
    q = select(AssessmentSession).where(AssessmentSession.leader_id == leader_id,
                                        AssessmentSession.rater_role == rater_role,
                                        AssessmentSession.status == status)
    if not any_rater:
        q = q.where(AssessmentSession.rater_id.is_(None) if rater_id is None else AssessmentSession.rater_id == rater_id)
    newest = AssessmentSession.started_at if status == "draft" else AssessmentSession.submitted_at
    with joined(bind) as s:
        return s.scalars(q.order_by(newest.desc(), AssessmentSession.id)).first()


def ordered_answers(bind: Bind, session_id: str) -> dict[str, int | None]:
    """A session's saved answers in the order given; None is "not observed"."""
    with joined(bind) as s:
        rows = s.execute(select(Response.item_id, Response.value).where(Response.session_id == session_id)
                         .order_by(Response.answered_at, Response.id)).all()
    return {item_id: None if value is None else int(value) for item_id, value in rows}


def session_organization(bind: Bind, session_id: str) -> str | None:
    """The organization of the leader a session is about (None for an unknown session)."""
    with joined(bind) as s:
        return s.scalar(select(Leader.organization_id)
                        .join(AssessmentSession, AssessmentSession.leader_id == Leader.id)
                        .where(AssessmentSession.id == session_id))


def session_rater(bind: Bind, session_id: str) -> Row | None:
    """``rater_role, rater_id, status`` of a session, or None when there is no such session."""
    with joined(bind) as s:
        return s.execute(select(AssessmentSession.rater_role, AssessmentSession.rater_id, AssessmentSession.status)
                         .where(AssessmentSession.id == session_id)).first()


def submitted_sheets(bind: Bind, leader_id: str) -> tuple[list[tuple[str, str, datetime]], list[tuple]]:
    """The submitted sessions about a leader, ``(id, rater_role, submitted_at)`` in submission order,
    and their answers ``(session_id, item_id, value)``."""
    with joined(bind) as s:
        sessions = s.execute(
            select(AssessmentSession.id, AssessmentSession.rater_role, AssessmentSession.submitted_at)
            .where(AssessmentSession.leader_id == leader_id, AssessmentSession.status == "submitted")
            .order_by(AssessmentSession.submitted_at, AssessmentSession.id)).all()
        rows = s.execute(
            select(Response.session_id, Response.item_id, Response.value)
            .join(AssessmentSession, Response.session_id == AssessmentSession.id)
            .where(AssessmentSession.leader_id == leader_id, AssessmentSession.status == "submitted")).all()
    return [tuple(r) for r in sessions], [tuple(r) for r in rows]


def leaders_with_sheets(bind: Bind, organization_id: str) -> list[str]:
    """The organization's leaders with at least one submitted sheet about them, by id."""
    with joined(bind) as s:
        return list(s.scalars(select(AssessmentSession.leader_id).distinct()
                              .join(Leader, Leader.id == AssessmentSession.leader_id)
                              .where(Leader.organization_id == organization_id,
                                     AssessmentSession.status == "submitted")
                              .order_by(AssessmentSession.leader_id)))


def submitted_answers(bind: Bind, organization_id: str | None = None, since: datetime | None = None,
                      until: datetime | None = None) -> list[Row]:
    """Every answer of the sheets submitted in ``[since, until)`` (by an organization's leaders when
    given): ``id`` (session), ``leader_id, rater_role, submitted_at, item_id, value``."""
    q = (select(AssessmentSession.id, AssessmentSession.leader_id, AssessmentSession.rater_role,
                AssessmentSession.submitted_at, Response.item_id, Response.value)
         .join(Response, Response.session_id == AssessmentSession.id)
         .join(Leader, Leader.id == AssessmentSession.leader_id)
         .where(AssessmentSession.status == "submitted"))
    if organization_id is not None:
        q = q.where(Leader.organization_id == organization_id)
    if since is not None:
        q = q.where(AssessmentSession.submitted_at >= since)
    if until is not None:
        q = q.where(AssessmentSession.submitted_at < until)
    with joined(bind) as s:
        return list(s.execute(q).all())
