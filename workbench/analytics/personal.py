"""One leader's progress: time against the plan, modules, under-invested areas, skill trajectory,
streaks and knowledge checks.

Every function is pure: plain frames in, frozen results out, nothing read after ``now``.
:func:`analyze_leader` runs them all; ``workbench.services.progress.personal_progress`` feeds it from the
store. The definitions are in ``docs/analytics.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from ..content import Library
from ..recommend.needs import development_need
from .bands import DEVELOPMENT_AREA, band, interval90, probability_below
from .frames import (
    CATALOG_COLUMNS,
    MODULE_VERBS,
    PLAN_STATUSES,
    as_utc,
    competency_names,
    level_expectations,
    module_catalog,
    name_of,
    ordered_competencies,
    prepare_events,
    utc_column,
    week_range,
    week_start,
)

#: Default look-back window (days) for "recent" time.
RECENT_DAYS = 28
#: A development area is under-invested when its share of time is below this fraction of its share of need.
INVESTMENT_RATIO = 0.5
#: Weeks shown in the weekly activity frame.
ACTIVITY_WEEKS = 12


@dataclass(frozen=True)
class TimeSpent:
    """Minutes per competency against the plan.

    ``table`` has one row per competency: ``competency, name, minutes_recent`` (last ``days``
    days), ``minutes_total`` (all time), ``share_recent`` (of the recent minutes that name a
    competency; NaN when there are none), ``planned_minutes`` and ``planned_modules`` (modules of
    the active and started recommendations, by primary competency).
    """

    table: pd.DataFrame
    days: int
    weekly_budget: int
    #: The weekly budget over the window: ``weekly_budget * days / 7``.
    budget_recent: float
    #: All timed minutes in the window, including activity that names no competency.
    minutes_recent: float
    minutes_total: float
    minutes_last_7_days: float
    planned_minutes: float


@dataclass(frozen=True)
class ModuleProgress:
    """Modules started and completed.

    ``table``: ``module_id, title, competency, started_at, completed_at, minutes, status``
    (``"completed"`` or ``"started"``), most recently started first.
    """

    table: pd.DataFrame
    started: int
    completed: int
    #: ``completed / started``; NaN when nothing was started.
    completion_rate: float


@dataclass(frozen=True)
class Streak:
    """Weeks with timed activity, and how recent the last activity is.

    ``weekly``: ``week_start, minutes, events, active`` for the last weeks up to ``as_of``.
    """

    current_weeks: int
    longest_weeks: int
    active_weeks: int
    last_activity: pd.Timestamp | None
    days_since_last_activity: int | None
    weekly: pd.DataFrame


@dataclass(frozen=True)
class PersonalProgress:
    """Everything the leader's progress page shows (see the functions of this module)."""

    leader_id: str
    as_of: pd.Timestamp
    days: int
    time: TimeSpent
    modules: ModuleProgress
    under_invested: pd.DataFrame
    trajectory: pd.DataFrame
    streak: Streak
    checks: pd.DataFrame


def _window(ev: pd.DataFrame, now: pd.Timestamp, days: int) -> pd.DataFrame:
    return ev[ev["timestamp"] > now - pd.Timedelta(days=days)]


def _minutes_by_competency(ev: pd.DataFrame) -> pd.Series:
    timed = ev[ev["competency"].notna()]
    return timed.groupby("competency")["minutes"].sum()


def _catalog(modules: pd.DataFrame | None) -> pd.DataFrame:
    if modules is None:
        return pd.DataFrame(columns=list(CATALOG_COLUMNS))
    return modules[list(CATALOG_COLUMNS)].drop_duplicates("module_id")


def time_spent(
    events: pd.DataFrame,
    recommendations: pd.DataFrame,
    modules: pd.DataFrame,
    now: datetime | pd.Timestamp,
    *,
    days: int = RECENT_DAYS,
    weekly_minutes: int = 0,
    competencies: Sequence[str] = (),
    names: Mapping[str, str] | None = None,
) -> TimeSpent:
    """Minutes spent per competency, recently and overall, next to the minutes planned.

    Parameters
    ----------
    events
        The leader's activity (columns of ``activity_frame``); minutes are statement durations.
    recommendations
        The leader's recommendations (``module_id, status``); those ``active`` or ``started`` are the plan.
    modules
        The module catalog (:func:`~workbench.analytics.frames.module_catalog`).
    now
        The moment of the report; later events are ignored. Recent means ``(now - days, now]``.
    days, weekly_minutes
        Window length and the leader's weekly time budget.
    competencies, names
        Competencies to list (in order; others seen are appended) and their readable names.
    """
    if days <= 0:
        raise ValueError(f"days must be positive, got {days}")
    now = as_utc(now)
    ev = prepare_events(events, now)
    recent = _window(ev, now, days)
    plan = recommendations[recommendations["status"].isin(PLAN_STATUSES)] if len(recommendations) else recommendations
    planned = (plan[["module_id"]].merge(_catalog(modules), on="module_id", how="inner")
               if len(plan) else pd.DataFrame(columns=list(CATALOG_COLUMNS)))
    comps = ordered_competencies(competencies, ev["competency"], planned["competency"])
    total_by, recent_by = _minutes_by_competency(ev), _minutes_by_competency(recent)
    planned_by = planned.groupby("competency")["minutes"].sum() if len(planned) else pd.Series(dtype=float)
    planned_n = planned.groupby("competency").size() if len(planned) else pd.Series(dtype=int)
    table = pd.DataFrame({"competency": comps, "name": [name_of(names, c) for c in comps]})
    table["minutes_recent"] = table["competency"].map(recent_by).fillna(0.0).astype(float)
    table["minutes_total"] = table["competency"].map(total_by).fillna(0.0).astype(float)
    named = table["minutes_recent"].sum()
    table["share_recent"] = table["minutes_recent"] / named if named > 0 else np.nan
    table["planned_minutes"] = table["competency"].map(planned_by).fillna(0.0).astype(float)
    table["planned_modules"] = table["competency"].map(planned_n).fillna(0).astype(int)
    return TimeSpent(
        table=table, days=int(days), weekly_budget=int(weekly_minutes),
        budget_recent=float(weekly_minutes) * days / 7.0,
        minutes_recent=float(recent["minutes"].sum()), minutes_total=float(ev["minutes"].sum()),
        minutes_last_7_days=float(_window(ev, now, 7)["minutes"].sum()),
        planned_minutes=float(planned["minutes"].sum()) if len(planned) else 0.0,
    )


def module_progress(events: pd.DataFrame, modules: pd.DataFrame | None, now: datetime | pd.Timestamp) -> ModuleProgress:
    """Modules the leader started and completed.

    A module counts as started from its first module event (launched, progressed or completed)
    and as completed from its first ``completed`` event. Minutes are the durations of its module
    events (knowledge checks are counted under :func:`knowledge_checks`).
    """
    ev = prepare_events(events, now)
    mod = ev[(ev["object_type"] == "module") & ev["verb"].isin(MODULE_VERBS)]
    cols = ["module_id", "title", "competency", "started_at", "completed_at", "minutes", "status"]
    if mod.empty:
        return ModuleProgress(pd.DataFrame(columns=cols), 0, 0, float("nan"))
    g = mod.groupby("object_id")
    table = pd.DataFrame({
        "started_at": g["timestamp"].min(),
        "minutes": g["minutes"].sum(),
        "event_competency": g["competency"].first(),
    })
    table["completed_at"] = mod[mod["verb"] == "completed"].groupby("object_id")["timestamp"].min()
    table = table.rename_axis("module_id").reset_index()
    table = table.merge(_catalog(modules)[["module_id", "title", "competency"]], on="module_id", how="left")
    table["title"] = table["title"].fillna(table["module_id"])
    table["competency"] = table["competency"].fillna(table["event_competency"])
    table["status"] = np.where(table["completed_at"].notna(), "completed", "started")
    table = table.sort_values(["started_at", "module_id"], ascending=[False, True], kind="stable")
    started, completed = len(table), int(table["completed_at"].notna().sum())
    return ModuleProgress(table[cols].reset_index(drop=True), started, completed, completed / started)


def latest_from_history(history: pd.DataFrame, now: datetime | pd.Timestamp | None = None) -> pd.DataFrame:
    """The latest estimate per competency (``competency, mean, sd, estimated_at``) from an estimate history."""
    h = history.copy()
    h["estimated_at"] = utc_column(h["estimated_at"])
    if now is not None:
        h = h[h["estimated_at"] <= as_utc(now)]
    h = h.sort_values("estimated_at", kind="stable")
    return h.drop_duplicates("competency", keep="last")[["competency", "mean", "sd", "estimated_at"]].reset_index(drop=True)


def under_invested(
    estimates: pd.DataFrame,
    events: pd.DataFrame,
    expectations: Mapping[str, float],
    now: datetime | pd.Timestamp,
    *,
    days: int = RECENT_DAYS,
    ratio: float = INVESTMENT_RATIO,
    names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Development areas that got too little of the leader's recent time for how much they need it.

    For each estimated competency ``c`` (posterior ``N(mean, sd)``, expectation ``e`` for the
    leader's role level, 0 when the organization sets none):

    * ``need = max(0, (e - mean) * Phi(|e - mean| / sd))`` (``workbench.recommend.needs``) and
      ``need_share = need / sum(need)`` over all competencies;
    * ``time_share = minutes / sum(minutes)``: the share of the recent minutes that name a
      competency (0 for all when none were logged);
    * ``under_invested`` when ``c`` is a development area (90% interval wholly below ``e``) and
      ``time_share < ratio * need_share``.

    Returns
    -------
    pandas.DataFrame
        ``competency, name, mean, sd, expectation, p_below, band, need, need_share, minutes,
        time_share, investment`` (``time_share / need_share``, NaN without need),
        ``under_invested, reason``; largest need first.
    """
    if not 0 < ratio:
        raise ValueError(f"ratio must be positive, got {ratio}")
    now = as_utc(now)
    cols = ["competency", "name", "mean", "sd", "expectation", "p_below", "band", "need", "need_share", "minutes",
            "time_share", "investment", "under_invested", "reason"]
    est = estimates.dropna(subset=["mean", "sd"])
    if est.empty:
        return pd.DataFrame(columns=cols)
    ev = _window(prepare_events(events, now), now, days)
    by_comp = _minutes_by_competency(ev)
    total = float(by_comp.sum())
    out = pd.DataFrame({"competency": est["competency"].astype(object).to_numpy(),
                        "mean": est["mean"].astype(float).to_numpy(), "sd": est["sd"].astype(float).to_numpy()})
    out["name"] = [name_of(names, c) for c in out["competency"]]
    out["expectation"] = [float(expectations.get(c, 0.0)) for c in out["competency"]]
    out["p_below"] = probability_below(out["mean"], out["sd"], out["expectation"])
    out["band"] = band(out["mean"], out["sd"], out["expectation"])
    out["need"] = np.maximum(development_need(out["mean"], out["sd"], out["expectation"]), 0.0)
    need_total = float(out["need"].sum())
    out["need_share"] = out["need"] / need_total if need_total > 0 else 0.0
    out["minutes"] = out["competency"].map(by_comp).fillna(0.0).astype(float)
    out["time_share"] = out["minutes"] / total if total > 0 else 0.0
    out["investment"] = np.where(out["need_share"] > 0, out["time_share"] / out["need_share"].where(out["need_share"] > 0),
                                 np.nan)
    out["under_invested"] = (out["band"] == DEVELOPMENT_AREA) & (out["time_share"] < ratio * out["need_share"])
    out["reason"] = [
        (f"{r.name} is a development area that needs {r.need_share:.0%} of your attention but got "
         f"{r.time_share:.0%} of your learning time in the last {days} days."
         if total > 0 else
         f"{r.name} is a development area and no learning time was logged in the last {days} days.")
        if r.under_invested else ""
        for r in out.itertuples()
    ]
    out = out.sort_values(["need", "competency"], ascending=[False, True], kind="stable")
    return out[cols].reset_index(drop=True)


def skill_trajectory(
    history: pd.DataFrame,
    now: datetime | pd.Timestamp | None = None,
    *,
    expectations: Mapping[str, float] | None = None,
    competencies: Sequence[str] = (),
    names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Estimates over time with their 90% intervals.

    Returns
    -------
    pandas.DataFrame
        ``competency, name, estimated_at, mean, sd, low, high, expectation, band`` (band against
        the expectation, 0 when none), in competency order and then oldest first.
    """
    cols = ["competency", "name", "estimated_at", "mean", "sd", "low", "high", "expectation", "band"]
    h = history.copy()
    if h.empty:
        return pd.DataFrame(columns=cols)
    h["estimated_at"] = utc_column(h["estimated_at"])
    if now is not None:
        h = h[h["estimated_at"] <= as_utc(now)]
    order = {c: i for i, c in enumerate(ordered_competencies(competencies, h["competency"]))}
    h = h.assign(_o=h["competency"].map(order)).sort_values(["_o", "estimated_at"], kind="stable")
    h["competency"] = h["competency"].astype(object)
    h["name"] = [name_of(names, c) for c in h["competency"]]
    h["low"], h["high"] = interval90(h["mean"], h["sd"])
    h["expectation"] = [float((expectations or {}).get(c, 0.0)) for c in h["competency"]]
    h["band"] = band(h["mean"], h["sd"], h["expectation"])
    return h[cols].reset_index(drop=True)


def streaks(events: pd.DataFrame, now: datetime | pd.Timestamp, *, weeks: int = ACTIVITY_WEEKS) -> Streak:
    """Current and longest run of active ISO weeks, and days since the last activity.

    A week (Monday to Sunday, UTC) is active when it holds an event with a positive duration.
    The current streak counts consecutive active weeks back from this week, or from last week
    when this week has no activity yet (a streak is broken only by a whole week without activity).
    The last activity is the latest event of any kind; ``days_since_last_activity`` is whole days.
    """
    now = as_utc(now)
    ev = prepare_events(events, now)
    timed = ev[ev["duration_seconds"] > 0]
    active = sorted(set(week_start(timed["timestamp"]))) if len(timed) else []
    runs, run, prev = [], 0, None
    for wk in active:
        run = run + 1 if prev is not None and wk - prev == pd.Timedelta(days=7) else 1
        runs.append(run)
        prev = wk
    this_week = week_start(now)
    current = runs[-1] if active and this_week - active[-1] <= pd.Timedelta(days=7) else 0
    last = ev["timestamp"].max() if len(ev) else None
    since = int((now - last) // pd.Timedelta(days=1)) if last is not None else None
    index = week_range(now, weeks)
    wk_all = week_start(ev["timestamp"]) if len(ev) else pd.Series(dtype="datetime64[ns, UTC]")
    weekly = pd.DataFrame({"week_start": index})
    weekly["minutes"] = weekly["week_start"].map(ev.groupby(wk_all)["minutes"].sum() if len(ev) else {}).fillna(0.0)
    weekly["events"] = weekly["week_start"].map(ev.groupby(wk_all).size() if len(ev) else {}).fillna(0).astype(int)
    weekly["active"] = weekly["week_start"].isin(active)
    return Streak(current, max(runs, default=0), len(active), last, since, weekly)


def knowledge_checks(events: pd.DataFrame, modules: pd.DataFrame | None, now: datetime | pd.Timestamp) -> pd.DataFrame:
    """Knowledge-check results per module (``passed``/``failed`` statements on a knowledge check).

    Returns
    -------
    pandas.DataFrame
        ``module_id, title, competency, attempts, passed`` (attempts passed), ``best_score``,
        ``last_score`` (scaled 0-1, NaN when not reported), ``last_result``, ``last_at``; most recent first.
    """
    cols = ["module_id", "title", "competency", "attempts", "passed", "best_score", "last_score", "last_result",
            "last_at"]
    ev = prepare_events(events, now)
    kc = ev[(ev["object_type"] == "knowledge-check") & ev["verb"].isin(("passed", "failed"))]
    if kc.empty:
        return pd.DataFrame(columns=cols)
    g = kc.groupby("object_id")
    last = kc.drop_duplicates("object_id", keep="last").set_index("object_id")
    out = pd.DataFrame({
        "attempts": g.size(),
        "passed": g["verb"].apply(lambda v: int((v == "passed").sum())),
        "best_score": g["score_scaled"].max(),
        "last_score": last["score_scaled"],
        "last_result": last["verb"],
        "last_at": last["timestamp"],
        "event_competency": last["competency"],
    }).rename_axis("module_id").reset_index()
    out = out.merge(_catalog(modules)[["module_id", "title", "competency"]], on="module_id", how="left")
    out["title"] = out["title"].fillna(out["module_id"])
    out["competency"] = out["competency"].fillna(out["event_competency"])
    out = out.sort_values(["last_at", "module_id"], ascending=[False, True], kind="stable")
    return out[cols].reset_index(drop=True)


def analyze_leader(
    leader_id: str,
    *,
    events: pd.DataFrame,
    history: pd.DataFrame,
    recommendations: pd.DataFrame,
    library: Library,
    role_level: str,
    weekly_minutes: int,
    now: datetime | pd.Timestamp,
    days: int = RECENT_DAYS,
) -> PersonalProgress:
    """All personal analytics for one leader from plain frames.

    Parameters
    ----------
    events
        The leader's activity events.
    history
        The leader's skill estimates over time (source ``all``): ``competency, mean, sd, estimated_at``.
    recommendations
        The leader's recommendations (all statuses): ``module_id, status, served_at``.
    library
        Competency names, module minutes and the organization's expectations.
    role_level, weekly_minutes
        The leader's role level (selects the expectations) and weekly time budget.
    now
        The moment of the report; nothing later is used.
    days
        The window for recent time and investment.
    """
    now = as_utc(now)
    names = competency_names(library)
    comps = list(library.competency_ids)
    catalog = module_catalog(library)
    expect = level_expectations(library).get(role_level, {})
    return PersonalProgress(
        leader_id=leader_id,
        as_of=now,
        days=int(days),
        time=time_spent(events, recommendations, catalog, now, days=days, weekly_minutes=weekly_minutes,
                        competencies=comps, names=names),
        modules=module_progress(events, catalog, now),
        under_invested=under_invested(latest_from_history(history, now), events, expect, now, days=days, names=names),
        trajectory=skill_trajectory(history, now, expectations=expect, competencies=comps, names=names),
        streak=streaks(events, now),
        checks=knowledge_checks(events, catalog, now),
    )
