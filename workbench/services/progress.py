"""Progress analytics read from the store: the edge between ``workbench.store`` and
``workbench.analytics`` (pure).

The apps call :func:`personal_progress` for a leader's own page and :func:`cohort_overview`
for a facilitator's cohort page, then put the figures of :mod:`workbench.analytics.figures`
on the result. Each reads a handful of tables with one query per table, whatever the number
of leaders.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from ..analytics import (
    AttentionSettings,
    CohortOverview,
    PersonalProgress,
    analyze_cohort,
    analyze_leader,
)
from ..analytics.cohort import ENGAGEMENT_WEEKS
from ..analytics.personal import RECENT_DAYS
from ..content import Library
from ..store import repo


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def personal_progress(engine: Engine, library: Library, leader_id: str, now: datetime | None = None,
                      days: int = RECENT_DAYS) -> PersonalProgress:
    """One leader's progress analytics (only that leader's rows are read).

    Parameters
    ----------
    engine, library
        The store and the content library.
    leader_id
        The leader; :class:`workbench.store.repo.NotFound` when unknown.
    now
        The moment of the report (default: the current time); later rows are ignored.
    days
        The window for recent time and for under-investment.
    """
    now = _now(now)
    leader = repo.get_leader(engine, leader_id)
    return analyze_leader(
        leader.id,
        events=repo.activity_frame(engine, leader.id),
        history=repo.estimate_history(engine, leader.id, source="all"),
        recommendations=repo.recommendation_history(engine, leader_id=leader.id),
        library=library,
        role_level=leader.role_level,
        weekly_minutes=int(leader.weekly_minutes or 0),
        now=now,
        days=days,
    )


def progress_version(engine: Engine, leader_id: str, now: datetime | None = None) -> tuple:
    """Changes whenever :func:`personal_progress` for the leader may give another result: the
    leader's rows (:func:`workbench.store.repo.leader_data_version`) and the day (the recent
    window and the streak move with the calendar). The leader app rebuilds its Progress tab only
    when this changes."""
    return _now(now).date().isoformat(), repo.leader_data_version(engine, leader_id)


def cohort_overview(engine: Engine, library: Library, cohort_id: str, now: datetime | None = None, *,
                    inactive_days: int = 14, started_days: int = 21, unstarted_days: int = 28,
                    weeks: int = ENGAGEMENT_WEEKS, days: int = RECENT_DAYS) -> CohortOverview:
    """A cohort's analytics, compared with its organization.

    Parameters
    ----------
    engine, library
        The store and the content library.
    cohort_id
        The cohort; :class:`workbench.store.repo.NotFound` when unknown.
    now
        The moment of the report (default: the current time).
    inactive_days, started_days, unstarted_days
        Attention thresholds (see :class:`workbench.analytics.AttentionSettings`).
    weeks, days
        Weeks of engagement shown; the window for recent engagement.
    """
    now = _now(now)
    settings = AttentionSettings(inactive_days=inactive_days, started_days=started_days, unstarted_days=unstarted_days)
    cohort = repo.get_cohort(engine, cohort_id)
    org = cohort.organization_id
    return analyze_cohort(
        cohort.id,
        leaders=repo.leaders_frame(engine, cohort.id),
        events=repo.activity_events(engine, cohort_id=cohort.id),
        recommendations=repo.recommendation_history(engine, cohort_id=cohort.id),
        estimates=repo.latest_estimates_of_group(engine, organization_id=org, source="all"),
        totals=repo.activity_totals(engine, org, since=now - timedelta(days=days), until=now),
        library=library,
        now=now,
        organization_id=org,
        weeks=weeks,
        days=days,
        settings=settings,
    )
