"""Queries on rater invitations (rows of ``raters``, the aggregate :mod:`workbench.services.invitations`
writes) and the state of the answer sheets opened through them.

Every function takes a :data:`~workbench.store.db.Bind`: an engine (a transaction of its own) or the
session of an open transaction (it joins it).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select

from .db import Bind, joined
from .models import AssessmentSession, Leader, Rater, Response


def _where(roles: Iterable[str], ids: Iterable[str] | None, leader_id: str | None, cohort_id: str | None) -> list:
    where = [Rater.role.in_(tuple(roles))]
    if ids is not None:
        where.append(Rater.id.in_(tuple(ids)))
    if leader_id is not None:
        where.append(Rater.leader_id == leader_id)
    if cohort_id is not None:
        where.append(Leader.cohort_id == cohort_id)
    return where


def invitations_with_sheets(bind: Bind, roles: Iterable[str], *, ids: Iterable[str] | None = None,
                            leader_id: str | None = None, cohort_id: str | None = None
                            ) -> tuple[list[Rater], dict[str, list[tuple]]]:
    """Invitations of the given rater ``roles``, narrowed to some ids, a leader or a cohort (all that
    are given), ordered by leader, role, invitation time and id; and per invitation its sessions as
    ``(status, started_at, submitted_at, answers saved)``. Rows stay attached to ``bind``'s session."""
    roles = tuple(roles)
    where = _where(roles, ids, leader_id, cohort_id)
    with joined(bind) as s:
        raters = list(s.scalars(select(Rater).join(Leader, Leader.id == Rater.leader_id).where(*where)
                                .order_by(Rater.leader_id, Rater.role, Rater.invited_at, Rater.id)).all())
        if not raters:
            return [], {}
        # answers counted for these invitations' sessions only (not grouped over every response in the store)
        answered = (select(Response.session_id, func.count().label("n"))
                    .join(AssessmentSession, AssessmentSession.id == Response.session_id)
                    .join(Rater, Rater.id == AssessmentSession.rater_id)
                    .join(Leader, Leader.id == Rater.leader_id)
                    .where(*where).group_by(Response.session_id).subquery())
        q = (select(AssessmentSession.rater_id, AssessmentSession.status, AssessmentSession.started_at,
                    AssessmentSession.submitted_at, func.coalesce(answered.c.n, 0))
             .join(Rater, Rater.id == AssessmentSession.rater_id)
             .join(Leader, Leader.id == Rater.leader_id)
             .outerjoin(answered, answered.c.session_id == AssessmentSession.id)
             .where(*where))
        by_rater: dict[str, list[tuple]] = {}
        for rid, status, started_at, submitted_at, n in s.execute(q).all():
            by_rater.setdefault(rid, []).append((status, started_at, submitted_at, int(n)))
    return raters, by_rater
