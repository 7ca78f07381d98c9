"""Who a page is about: the leader or cohort a signed link names, and their latest skill estimates.

The apps read these through here rather than from :mod:`workbench.store.repo`, so every page goes
through the service layer (``docs/architecture.md``, "Layers").
"""

from __future__ import annotations

import pandas as pd

from ..store import repo
from ..store.db import Bind
from ..store.models import Cohort, Leader, Rater
from ..store.repo import NotFound

__all__ = ["NotFound", "cohort", "cohort_size", "first_leader", "invitation", "latest_estimates", "leader"]


def leader(engine: Bind, leader_id: str) -> Leader:
    """The leader's row (detached); :class:`NotFound` when no leader has this id."""
    return repo.get_leader(engine, leader_id)


def first_leader(engine: Bind) -> Leader | None:
    """The leader with the smallest id, or None in an empty store (``workbench serve`` prints their link)."""
    return repo.first_leader(engine)


def cohort(engine: Bind, cohort_id: str) -> Cohort:
    """The cohort's row (detached); :class:`NotFound` when no cohort has this id."""
    return repo.get_cohort(engine, cohort_id)


def cohort_size(engine: Bind, cohort_id: str) -> int:
    """How many leaders the cohort has."""
    return len(repo.leaders_frame(engine, cohort_id))


def latest_estimates(engine: Bind, leader_id: str, source: str = "all") -> pd.DataFrame:
    """The leader's most recent estimate per competency from one source (``self``, ``others`` or
    ``all``): ``competency, mean, sd, estimated_at``."""
    return repo.latest_estimates(engine, leader_id, source=source)


def invitation(engine: Bind, invitation_id: str) -> Rater:
    """A rater invitation's row (detached); :class:`NotFound` when there is none with this id."""
    return repo.get_invitation(engine, invitation_id)


def leader_emails(engine: Bind, cohort_id: str) -> dict[str, str]:
    """Leader id -> email for the cohort's leaders who have one (calendar attendees)."""
    return repo.leader_emails(engine, cohort_id)


def cohort_members(engine: Bind, cohort_id: str) -> pd.DataFrame:
    """The cohort's leaders (``repo.leaders_frame``)."""
    return repo.leaders_frame(engine, cohort_id)
