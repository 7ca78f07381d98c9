"""Plain inputs for the analytics: event frames made uniform, the module catalog, names, ISO weeks.

Every analytics function takes plain pandas frames. The helpers here bring them to one shape
(UTC timestamps, a ``minutes`` column, nothing after ``now``) so the measures never have to
care whether a frame came from the store or was written by hand in a test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from ..content import Library

#: The columns of an activity frame (``workbench.store.repo.activity_frame``).
EVENT_COLUMNS = ("timestamp", "verb", "object_type", "object_id", "competency", "duration_seconds", "score_scaled")
#: Module events that show a module was opened.
MODULE_VERBS = ("launched", "progressed", "completed")
#: Recommendation statuses that make up the current plan.
PLAN_STATUSES = ("active", "started")
#: Columns of :func:`module_catalog`.
CATALOG_COLUMNS = ("module_id", "title", "minutes", "competency")


def as_utc(t: datetime | pd.Timestamp | str) -> pd.Timestamp:
    """A timezone-aware UTC timestamp; a naive value is taken to be UTC already."""
    ts = pd.Timestamp(t)
    return ts.tz_localize(UTC) if ts.tzinfo is None else ts.tz_convert(UTC)


def utc_column(values: pd.Series) -> pd.Series:
    """A column of timestamps as UTC (naive values are taken to be UTC)."""
    return pd.to_datetime(values, utc=True)


def prepare_events(events: pd.DataFrame, now: datetime | pd.Timestamp) -> pd.DataFrame:
    """Events up to and including ``now``, oldest first, with UTC timestamps and ``minutes``
    (the statement's duration in minutes; 0 when it has none). Missing optional columns are added empty."""
    ev = events.copy()
    for col in EVENT_COLUMNS:
        if col not in ev.columns:
            ev[col] = np.nan
    ev["timestamp"] = utc_column(ev["timestamp"])
    ev["duration_seconds"] = pd.to_numeric(ev["duration_seconds"], errors="coerce").astype(float)
    ev["score_scaled"] = pd.to_numeric(ev["score_scaled"], errors="coerce").astype(float)
    ev["competency"] = ev["competency"].astype(object).where(ev["competency"].notna(), None)
    ev["minutes"] = ev["duration_seconds"].fillna(0.0) / 60.0
    ev = ev[ev["timestamp"] <= as_utc(now)]
    return ev.sort_values("timestamp", kind="stable").reset_index(drop=True)


def module_catalog(library: Library) -> pd.DataFrame:
    """The library's modules: ``module_id, title, minutes, competency`` (the primary competency)."""
    rows = [(m.id, m.title, int(m.minutes), m.primary_competency) for m in library.modules.values()]
    return pd.DataFrame(rows, columns=list(CATALOG_COLUMNS))


def competency_names(library: Library) -> dict[str, str]:
    """``{competency id: readable name}`` in the framework's order."""
    return {c: comp.name for c, comp in library.competencies.items()}


def level_expectations(library: Library) -> dict[str, dict[str, float]]:
    """``{role level: {competency: expected skill}}`` from the organization profile (empty without one)."""
    org = library.organization
    return {level: dict(values) for level, values in (org.expectations.items() if org else ())}


def name_of(names: Mapping[str, str] | None, competency: str) -> str:
    """The readable name of a competency, or its id when unknown."""
    return (names or {}).get(competency, competency)


def ordered_competencies(first: Sequence[str], *more: pd.Series | Sequence[str]) -> list[str]:
    """``first`` in its order, then any other competency seen in ``more``, sorted."""
    known = list(dict.fromkeys(first))
    extra = set()
    for values in more:
        extra |= {c for c in pd.Series(values, dtype=object).dropna()}
    return known + sorted(extra - set(known))


def week_start(ts: pd.Series | pd.Timestamp) -> pd.Series | pd.Timestamp:
    """The Monday 00:00 UTC that starts the ISO week of each timestamp."""
    if isinstance(ts, pd.Series):
        day = ts.dt.tz_convert(UTC).dt.normalize()
        return day - pd.to_timedelta(day.dt.day_of_week, unit="D")
    day = as_utc(ts).normalize()
    return day - pd.Timedelta(days=day.weekday())


def week_range(last: pd.Timestamp, weeks: int) -> pd.DatetimeIndex:
    """The starts of the ``weeks`` ISO weeks ending with the week of ``last``, oldest first."""
    end = week_start(last)
    return pd.date_range(end=end, periods=max(int(weeks), 1), freq="7D")
