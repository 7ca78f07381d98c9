"""Queries on calibrations (the aggregate :mod:`workbench.services.calibration` writes; the
assessment service reads the one to score with).

Every function takes a :data:`~workbench.store.db.Bind`: an engine (a transaction of its own) or the
session of an open transaction (it joins it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select, update

from .db import Bind, joined
from .models import Calibration, Organization, SkillEstimate


def candidates(bind: Bind, organization_id: str | None) -> list[Row]:
    """The calibrations an organization may score with (its own and the shared ones):
    ``id, method, created_at, organization_id, active``."""
    q = select(Calibration.id, Calibration.method, Calibration.created_at, Calibration.organization_id,
               Calibration.active)
    q = q.where((Calibration.organization_id == organization_id) | Calibration.organization_id.is_(None))
    with joined(bind) as s:
        return list(s.execute(q).all())


def params_of(bind: Bind, calibration_id: str) -> dict[str, Any] | None:
    """The parameters document of a calibration."""
    with joined(bind) as s:
        return s.scalar(select(Calibration.params).where(Calibration.id == calibration_id))


def organization_ids(bind: Bind) -> list[str]:
    with joined(bind) as s:
        return list(s.scalars(select(Organization.id).order_by(Organization.id)))


def active_id(bind: Bind, organization_id: str) -> str | None:
    with joined(bind) as s:
        return s.scalar(select(Calibration.id).where(Calibration.organization_id == organization_id,
                                                     Calibration.active.is_(True)))


def make_active(bind: Bind, organization_id: str, calibration_id: str, now: datetime) -> None:
    """Make a calibration its organization's only active one, activated ``now``."""
    with joined(bind) as s:
        s.execute(update(Calibration).where(Calibration.organization_id == organization_id,
                                            Calibration.id != calibration_id).values(active=False))
        s.execute(update(Calibration).where(Calibration.id == calibration_id).values(active=True, activated_at=now))


def activations(bind: Bind, organization_id: str) -> list[Row]:
    """The organization's calibrations ever activated, last activated first: ``id, active, activated_at``."""
    with joined(bind) as s:
        return list(s.execute(select(Calibration.id, Calibration.active, Calibration.activated_at)
                              .where(Calibration.organization_id == organization_id,
                                     Calibration.activated_at.is_not(None))
                              .order_by(Calibration.activated_at.desc(), Calibration.id.desc())).all())


def listing(bind: Bind, organization_id: str | None = None) -> tuple[list[Row], dict[str, int]]:
    """Stored calibrations, newest first (``id, organization_id, method, created_at, active,
    activated_at, published_by, provenance``), and how many estimates were scored with each."""
    q = select(Calibration.id, Calibration.organization_id, Calibration.method, Calibration.created_at,
               Calibration.active, Calibration.activated_at, Calibration.published_by, Calibration.provenance)
    if organization_id is not None:
        q = q.where(Calibration.organization_id == organization_id)
    with joined(bind) as s:
        rows = list(s.execute(q.order_by(Calibration.created_at.desc(), Calibration.id)).all())
        used = dict(s.execute(select(SkillEstimate.calibration_id, func.count())
                              .group_by(SkillEstimate.calibration_id)).all())
    return rows, used


def active(bind: Bind, organization_id: str | None) -> Row | None:
    """The organization's active calibration: ``id, method, created_at, activated_at, published_by``."""
    with joined(bind) as s:
        return s.execute(select(Calibration.id, Calibration.method, Calibration.created_at, Calibration.activated_at,
                                Calibration.published_by).where(Calibration.organization_id == organization_id,
                                                                Calibration.active.is_(True))).first()
