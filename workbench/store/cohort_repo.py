"""Queries on a cohort's peer groups, classroom sessions and discussion posts (the aggregates
:mod:`workbench.services.cohorts` writes).

Every function takes a :data:`~workbench.store.db.Bind`: an engine (a transaction of its own) or the
session of an open transaction (it joins it). Rows are returned attached to ``bind``'s session.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from .db import Bind, joined
from .models import ClassroomSession, DiscussionPost, PeerGroupMember


def replace_groups(bind: Bind, cohort_id: str, groups: list[list[str]] | tuple, formed_at: datetime) -> None:
    """Store a cohort's peer groups (``<cohort>-G1``, ``-G2``, ... in order), replacing its previous ones."""
    with joined(bind) as s:
        s.execute(delete(PeerGroupMember).where(PeerGroupMember.cohort_id == cohort_id))
        for g, ids in enumerate(groups, 1):
            for lid in ids:
                s.add(PeerGroupMember(cohort_id=cohort_id, group_id=f"{cohort_id}-G{g}", leader_id=lid,
                                      formed_at=formed_at))


def group_members(bind: Bind, leader_id: str) -> list[str]:
    """The members of the leader's peer group by id (the leader included), or [] without a group."""
    with joined(bind) as s:
        gid = s.scalar(select(PeerGroupMember.group_id).where(PeerGroupMember.leader_id == leader_id))
        if gid is None:
            return []
        return list(s.scalars(select(PeerGroupMember.leader_id).where(PeerGroupMember.group_id == gid)
                              .order_by(PeerGroupMember.leader_id)))


def classroom_sessions(bind: Bind, cohort_id: str) -> list[ClassroomSession]:
    """The cohort's stored classroom sessions, soonest first."""
    with joined(bind) as s:
        return list(s.scalars(select(ClassroomSession).where(ClassroomSession.cohort_id == cohort_id)
                              .order_by(ClassroomSession.starts_at)).all())


def posts(bind: Bind, cohort_id: str) -> list[DiscussionPost]:
    """Every post of a cohort's discussion (hidden ones too), oldest first."""
    with joined(bind) as s:
        return list(s.scalars(select(DiscussionPost).where(DiscussionPost.cohort_id == cohort_id)
                              .order_by(DiscussionPost.created_at, DiscussionPost.id)).all())
