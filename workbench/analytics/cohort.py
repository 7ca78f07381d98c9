"""A cohort at a glance: skill distribution, development-area heat map, engagement over time,
leaders who need attention, and comparison with the whole organization.

Pure functions over plain frames; :func:`analyze_cohort` runs them all and
``workbench.services.progress.cohort_overview`` feeds it from the store. Every aggregate over a group
of leaders follows the small-group rule of :mod:`workbench.analytics.privacy`. The definitions
are in ``docs/analytics.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from ..content import Library
from .bands import DEVELOPMENT_AREA, band, probability_below
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
from .privacy import group_mean, is_suppressed, suppress

#: Weeks shown in the engagement series.
ENGAGEMENT_WEEKS = 8
#: Window (days) for the recent engagement measures.
RECENT_DAYS = 28
#: Order in which attention flags are listed for a leader.
FLAG_ORDER = ("inactive", "stalled", "not-started", "no-assessment")


@dataclass(frozen=True)
class AttentionSettings:
    """When a leader is flagged for attention.

    Attributes
    ----------
    inactive_days
        Flag ``inactive`` when the leader has no activity event in the last this many days.
    started_days
        Flag ``stalled`` when a plan module was started more than this many days ago and is not completed.
    unstarted_days
        Flag ``not-started`` when a plan module has been active for more than this many days without being started.
    """

    inactive_days: int = 14
    started_days: int = 21
    unstarted_days: int = 28

    def __post_init__(self) -> None:
        for name in ("inactive_days", "started_days", "unstarted_days"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")


@dataclass(frozen=True)
class CohortOverview:
    """Everything the facilitator's cohort page shows (see the functions of this module).

    ``suppressed`` is true when the cohort itself has fewer than ``MIN_GROUP`` leaders: then
    every cohort aggregate is withheld (individual rows, which only the cohort's facilitator
    sees, are still there).
    """

    cohort_id: str
    organization_id: str | None
    as_of: pd.Timestamp
    members: int
    suppressed: bool
    distribution: pd.DataFrame
    distribution_summary: pd.DataFrame
    heatmap: pd.DataFrame
    engagement: pd.DataFrame
    attention: pd.DataFrame
    roster: pd.DataFrame
    comparison: pd.DataFrame
    engagement_comparison: pd.DataFrame
    settings: AttentionSettings = field(default_factory=AttentionSettings)


def _members(leaders: pd.DataFrame) -> pd.DataFrame:
    out = leaders.copy()
    if "name" not in out.columns:
        out["name"] = out["leader_id"]
    if "role_level" not in out.columns:
        out["role_level"] = None
    return out.drop_duplicates("leader_id").reset_index(drop=True)


def _of_members(estimates: pd.DataFrame, leader_ids) -> pd.DataFrame:
    out = estimates[estimates["leader_id"].isin(set(leader_ids))].dropna(subset=["mean", "sd"])
    return out.astype({"mean": float, "sd": float})


def skill_distribution(
    estimates: pd.DataFrame,
    *,
    competencies: Sequence[str] = (),
    names: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Members' latest skill means per competency, and a summary that honours the small-group rule.

    Returns
    -------
    (points, summary)
        ``points``: ``leader_id, competency, name, mean``. ``summary``: ``competency, name, n``
        (leaders with an estimate), ``mean, median, q1, q3, low, high`` (10th/90th percentiles)
        and ``suppressed`` (values NaN when ``n < MIN_GROUP``).
    """
    est = estimates.dropna(subset=["mean"])
    comps = ordered_competencies(competencies, est["competency"])
    points = est[["leader_id", "competency", "mean"]].copy()
    points["competency"] = points["competency"].astype(object)
    points["mean"] = points["mean"].astype(float)
    points["name"] = [name_of(names, c) for c in points["competency"]]
    g = points.groupby("competency")["mean"]
    summary = pd.DataFrame({"competency": comps, "name": [name_of(names, c) for c in comps]})
    stats = {"n": g.size(), "mean": g.mean(), "median": g.median(), "q1": g.quantile(0.25), "q3": g.quantile(0.75),
             "low": g.quantile(0.1), "high": g.quantile(0.9)}
    for col, s in stats.items():
        summary[col] = summary["competency"].map(s)
    summary["n"] = summary["n"].fillna(0).astype(int)
    summary = suppress(summary, "n", ["mean", "median", "q1", "q3", "low", "high"])
    return points[["leader_id", "competency", "name", "mean"]].reset_index(drop=True), summary


def development_heatmap(
    estimates: pd.DataFrame,
    leaders: pd.DataFrame,
    expectations: Mapping[str, Mapping[str, float]],
    *,
    competencies: Sequence[str] = (),
    names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Leaders x competencies: the probability each skill is below its role's expectation.

    ``p_below = Phi((e - mean) / sd)`` with ``e`` the expectation for the leader's role level (0
    when none is set), and the band (development area when the 90% interval is wholly below ``e``).
    Every member gets a row per competency; members without an estimate have NaN values and an
    empty band.

    Returns
    -------
    pandas.DataFrame
        ``leader_id, leader_name, role_level, competency, name, mean, sd, expectation, p_below, band``.
    """
    members = _members(leaders)
    est = _of_members(estimates, members["leader_id"])
    comps = ordered_competencies(competencies, est["competency"])
    grid = members[["leader_id", "name", "role_level"]].rename(columns={"name": "leader_name"}).merge(
        pd.DataFrame({"competency": comps}), how="cross")
    grid = grid.merge(est[["leader_id", "competency", "mean", "sd"]].astype({"competency": object}),
                      on=["leader_id", "competency"], how="left")
    grid["name"] = [name_of(names, c) for c in grid["competency"]]
    grid["expectation"] = [float(expectations.get(lv, {}).get(c, 0.0)) if isinstance(lv, str) else 0.0
                           for lv, c in zip(grid["role_level"], grid["competency"], strict=True)]
    grid["mean"], grid["sd"] = grid["mean"].astype(float), grid["sd"].astype(float)
    grid["p_below"] = probability_below(grid["mean"], grid["sd"], grid["expectation"])
    grid["band"] = band(grid["mean"], grid["sd"], grid["expectation"])
    cols = ["leader_id", "leader_name", "role_level", "competency", "name", "mean", "sd", "expectation", "p_below",
            "band"]
    return grid[cols]


def engagement_over_time(
    events: pd.DataFrame,
    members: int,
    now: datetime | pd.Timestamp,
    *,
    weeks: int = ENGAGEMENT_WEEKS,
) -> pd.DataFrame:
    """Weekly engagement of a group of ``members`` leaders over the last ``weeks`` ISO weeks.

    Returns
    -------
    pandas.DataFrame
        ``week_start, members, active_leaders`` (leaders with any event that week),
        ``active_share, minutes`` (sum of durations), ``completions`` (modules completed),
        ``suppressed`` (all values NaN when ``members < MIN_GROUP``).
    """
    now = as_utc(now)
    ev = prepare_events(events, now)
    index = week_range(now, weeks)
    out = pd.DataFrame({"week_start": index, "members": int(members)})
    if len(ev):
        ev = ev.assign(week=week_start(ev["timestamp"]))
        g = ev.groupby("week")
        done = ev[(ev["verb"] == "completed") & (ev["object_type"] == "module")].groupby("week").size()
        out["active_leaders"] = out["week_start"].map(g["leader_id"].nunique()).fillna(0).astype(float)
        out["minutes"] = out["week_start"].map(g["minutes"].sum()).fillna(0.0)
        out["completions"] = out["week_start"].map(done).fillna(0).astype(float)
    else:
        out["active_leaders"] = out["minutes"] = out["completions"] = 0.0
    out["active_share"] = out["active_leaders"] / members if members > 0 else np.nan
    out = suppress(out, "members", ["active_leaders", "active_share", "minutes", "completions"])
    return out[["week_start", "members", "active_leaders", "active_share", "minutes", "completions", "suppressed"]]


def _days(delta: pd.Timedelta) -> int:
    return int(delta // pd.Timedelta(days=1))


def attention_flags(
    leaders: pd.DataFrame,
    events: pd.DataFrame,
    recommendations: pd.DataFrame,
    estimates: pd.DataFrame,
    now: datetime | pd.Timestamp,
    *,
    modules: pd.DataFrame | None = None,
    settings: AttentionSettings = AttentionSettings(),
) -> pd.DataFrame:
    """Leaders who need a facilitator's attention, one row per reason.

    Flags (thresholds in ``settings``):

    * ``inactive``: no activity event in the last ``inactive_days`` days (or none at all);
    * ``stalled``: a plan module (recommendation ``active`` or ``started``) was started more than
      ``started_days`` days ago and not completed. It was started at its first module event after it
      was served, or, when the status says ``started`` without such an event, when it was served;
    * ``not-started``: a recommendation ``active`` for more than ``unstarted_days`` days with no module
      event since it was served;
    * ``no-assessment``: the leader has no skill estimate.

    A module completed after it was served is never flagged, whatever its status says.

    Returns
    -------
    pandas.DataFrame
        ``leader_id, name, flag, reason, since`` (when the condition began; NaT when unknown).
    """
    now = as_utc(now)
    members = _members(leaders)
    names = dict(zip(members["leader_id"], members["name"], strict=True))
    ev = prepare_events(events, now)
    ev = ev[ev["leader_id"].isin(names)]
    rows: list[dict] = []

    last = ev.groupby("leader_id")["timestamp"].max()
    cutoff = now - pd.Timedelta(days=settings.inactive_days)
    for lid in members["leader_id"]:
        t = last.get(lid)
        if t is None or pd.isna(t):
            rows.append(dict(leader_id=lid, flag="inactive", since=pd.NaT, reason="No learning activity recorded yet."))
        elif t < cutoff:
            rows.append(dict(leader_id=lid, flag="inactive", since=t,
                             reason=f"No learning activity for {_days(now - t)} days (last on {t:%d %b %Y})."))

    recs = recommendations[recommendations["leader_id"].isin(names)] if len(recommendations) else recommendations
    if len(recs):
        recs = recs[recs["status"].isin(PLAN_STATUSES)].copy()
    if len(recs):
        recs["served_at"] = utc_column(recs["served_at"])
        recs = recs[recs["served_at"] <= now]
        titles = {} if modules is None else dict(zip(modules["module_id"], modules["title"], strict=True))
        mod = ev[(ev["object_type"] == "module") & ev["verb"].isin(MODULE_VERBS)]
        joined = recs[["id", "leader_id", "module_id", "served_at"]].merge(
            mod[["leader_id", "object_id", "verb", "timestamp"]],
            left_on=["leader_id", "module_id"], right_on=["leader_id", "object_id"], how="inner")
        joined = joined[joined["timestamp"] >= joined["served_at"]]
        first_touch = joined.groupby("id")["timestamp"].min()
        done = set(joined.loc[joined["verb"] == "completed", "id"])
        for r in recs.itertuples():
            if r.id in done:
                continue
            title = titles.get(r.module_id, r.module_id)
            touched = first_touch.get(r.id)
            if touched is not None or r.status == "started":
                start = touched if touched is not None else r.served_at
                if now - start > pd.Timedelta(days=settings.started_days):
                    rows.append(dict(leader_id=r.leader_id, flag="stalled", since=start,
                                     reason=f"Started \u201c{title}\u201d {_days(now - start)} days ago "
                                            "and has not completed it."))
            elif now - r.served_at > pd.Timedelta(days=settings.unstarted_days):
                rows.append(dict(leader_id=r.leader_id, flag="not-started", since=r.served_at,
                                 reason=f"\u201c{title}\u201d has been in the plan for {_days(now - r.served_at)} "
                                        "days without being started."))

    assessed = set(estimates["leader_id"]) if len(estimates) else set()
    for lid in members["leader_id"]:
        if lid not in assessed:
            rows.append(dict(leader_id=lid, flag="no-assessment", since=pd.NaT,
                             reason="No skill assessment yet, so development areas are unknown."))

    cols = ["leader_id", "name", "flag", "reason", "since"]
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(rows)
    out["name"] = out["leader_id"].map(names)
    out["since"] = utc_column(out["since"])
    out["_f"] = out["flag"].map({f: i for i, f in enumerate(FLAG_ORDER)})
    out = out.sort_values(["name", "leader_id", "_f", "since"], kind="stable")
    return out[cols].reset_index(drop=True)


def roster(
    leaders: pd.DataFrame,
    events: pd.DataFrame,
    heatmap: pd.DataFrame,
    flags: pd.DataFrame,
    now: datetime | pd.Timestamp,
    *,
    days: int = RECENT_DAYS,
) -> pd.DataFrame:
    """One row per member: ``leader_id, name, role_level, minutes_recent`` (last ``days`` days),
    ``modules_completed`` (all time), ``last_activity, days_since_last_activity,
    development_areas`` (count; NaN when not assessed), ``flags`` (comma-separated) and ``reasons``."""
    now = as_utc(now)
    members = _members(leaders)
    ev = prepare_events(events, now)
    ev = ev[ev["leader_id"].isin(set(members["leader_id"]))]
    recent = ev[ev["timestamp"] > now - pd.Timedelta(days=days)]
    out = members[["leader_id", "name", "role_level"]].copy()
    out["minutes_recent"] = out["leader_id"].map(recent.groupby("leader_id")["minutes"].sum()).fillna(0.0)
    done = ev[(ev["verb"] == "completed") & (ev["object_type"] == "module")]
    out["modules_completed"] = out["leader_id"].map(done.groupby("leader_id")["object_id"].nunique()).fillna(0).astype(int)
    last = ev.groupby("leader_id")["timestamp"].max().reindex(out["leader_id"])
    out["last_activity"] = utc_column(pd.Series(last.to_numpy(), index=out.index))
    out["days_since_last_activity"] = ((now - out["last_activity"]) // pd.Timedelta(days=1)).astype(float)
    assessed = heatmap.dropna(subset=["mean"])
    dev = assessed.groupby("leader_id")["band"].apply(lambda b: int((b == DEVELOPMENT_AREA).sum()))
    out["development_areas"] = out["leader_id"].map(dev).astype(float)
    if len(flags):
        g = flags.groupby("leader_id", sort=False)
        out["flags"] = out["leader_id"].map(g["flag"].apply(", ".join)).fillna("")
        out["reasons"] = out["leader_id"].map(g["reason"].apply(" ".join)).fillna("")
    else:
        out["flags"] = out["reasons"] = ""
    return out.reset_index(drop=True)


def organization_comparison(
    estimates: pd.DataFrame,
    cohort_leaders: Sequence[str],
    expectations: Mapping[str, Mapping[str, float]],
    *,
    competencies: Sequence[str] = (),
    names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Cohort against the rest of the organization, per competency, under the small-group rule.

    ``estimates`` holds the latest estimates of every leader of the organization (with
    ``leader_id, role_level, competency, mean``); the cohort is the rows of ``cohort_leaders``,
    and the ``org_*`` side is every other leader. (Including the cohort there would let its
    facilitator, who sees each member, subtract the cohort and read a small rest exactly.)
    ``*_mean`` is the average skill and ``*_gap`` the average of ``mean - expectation`` for each
    leader's role level (negative: below what the roles expect). A value over fewer than
    ``MIN_GROUP`` leaders is NaN with ``*_suppressed`` set; ``difference`` (cohort minus
    organization mean) is NaN when either side is suppressed.

    Returns
    -------
    pandas.DataFrame
        ``competency, name, cohort_n, cohort_mean, cohort_gap, cohort_suppressed, org_n, org_mean,
        org_gap, org_suppressed, difference``.
    """
    est = estimates.dropna(subset=["mean"]).copy()
    est["competency"] = est["competency"].astype(object)
    levels = est["role_level"] if "role_level" in est.columns else pd.Series(None, index=est.index)
    est["gap"] = est["mean"].astype(float) - [
        float(expectations.get(lv, {}).get(c, 0.0)) if isinstance(lv, str) else 0.0
        for lv, c in zip(levels, est["competency"], strict=True)]
    in_cohort = est["leader_id"].isin(set(cohort_leaders))
    comps = ordered_competencies(competencies, est["competency"])
    rows = []
    for c in comps:
        sel = est["competency"] == c
        row = {"competency": c, "name": name_of(names, c)}
        # the organization side leaves the cohort out: the facilitator knows their own members'
        # values, so "organization including the cohort" minus the cohort would expose the others
        for prefix, mask in (("cohort", sel & in_cohort), ("org", sel & ~in_cohort)):
            n, mean = group_mean(est.loc[mask, "mean"])
            _, gap = group_mean(est.loc[mask, "gap"])
            row |= {f"{prefix}_n": n, f"{prefix}_mean": mean, f"{prefix}_gap": gap,
                    f"{prefix}_suppressed": is_suppressed(n)}
        row["difference"] = row["cohort_mean"] - row["org_mean"]
        rows.append(row)
    cols = ["competency", "name", "cohort_n", "cohort_mean", "cohort_gap", "cohort_suppressed", "org_n", "org_mean",
            "org_gap", "org_suppressed", "difference"]
    return pd.DataFrame(rows, columns=cols)


def engagement_comparison(
    totals: pd.DataFrame,
    cohort_leaders: Sequence[str],
    now: datetime | pd.Timestamp,
    *,
    days: int = RECENT_DAYS,
    inactive_days: int = AttentionSettings.inactive_days,
) -> pd.DataFrame:
    """Recent engagement per leader, cohort against organization, under the small-group rule.

    ``totals`` has one row per leader of the organization (``leader_id, minutes, completions`` over
    the last ``days`` days, ``last_activity``), as ``workbench.store.repo.activity_totals`` returns.

    Returns
    -------
    pandas.DataFrame
        One row per measure (``minutes_per_leader``, ``completions_per_leader``, ``active_share``:
        share with any activity in the last ``inactive_days`` days): ``measure, label, cohort_n,
        cohort, cohort_suppressed, org_n, organization, org_suppressed``.
    """
    now = as_utc(now)
    t = totals.copy()
    t["active"] = (utc_column(t["last_activity"]) > now - pd.Timedelta(days=inactive_days)).astype(float)
    in_cohort = t["leader_id"].isin(set(cohort_leaders))
    measures = (("minutes_per_leader", f"Minutes per leader, last {days} days", "minutes"),
                ("completions_per_leader", f"Modules completed per leader, last {days} days", "completions"),
                ("active_share", f"Share active in the last {inactive_days} days", "active"))
    rows = []
    for key, label, col in measures:
        cn, cv = group_mean(t.loc[in_cohort, col])
        on, ov = group_mean(t.loc[~in_cohort, col])  # the rest of the organization (see organization_comparison)
        rows.append(dict(measure=key, label=label, cohort_n=cn, cohort=cv, cohort_suppressed=is_suppressed(cn),
                         org_n=on, organization=ov, org_suppressed=is_suppressed(on)))
    return pd.DataFrame(rows)


def analyze_cohort(
    cohort_id: str,
    *,
    leaders: pd.DataFrame,
    events: pd.DataFrame,
    recommendations: pd.DataFrame,
    estimates: pd.DataFrame,
    totals: pd.DataFrame | None,
    library: Library,
    now: datetime | pd.Timestamp,
    organization_id: str | None = None,
    weeks: int = ENGAGEMENT_WEEKS,
    days: int = RECENT_DAYS,
    settings: AttentionSettings = AttentionSettings(),
) -> CohortOverview:
    """All cohort analytics from plain frames.

    Parameters
    ----------
    leaders
        The cohort's members: ``leader_id, name, role_level``.
    events, recommendations
        The members' activity events and recommendations (with ``leader_id``).
    estimates
        Latest ``all`` estimates of the organization's leaders (``leader_id, role_level, competency,
        mean, sd``); the cohort's rows are those of its members.
    totals
        Per-leader activity totals of the organization (see :func:`engagement_comparison`), or None.
    library, now
        Names, expectations and modules; the moment of the report.
    weeks, days, settings
        Engagement weeks shown, the recent window, and the attention thresholds.
    """
    now = as_utc(now)
    names = competency_names(library)
    comps = list(library.competency_ids)
    expect = level_expectations(library)
    members = _members(leaders)
    ids = list(members["leader_id"])
    mine = _of_members(estimates, ids)
    points, summary = skill_distribution(mine, competencies=comps, names=names)  # n <= members: small cohorts hidden
    heat = development_heatmap(mine, members, expect, competencies=comps, names=names)
    flags = attention_flags(members, events, recommendations, mine, now,
                            modules=module_catalog(library)[list(CATALOG_COLUMNS)], settings=settings)
    if totals is None:
        totals = pd.DataFrame(columns=["leader_id", "minutes", "completions", "last_activity"])
    return CohortOverview(
        cohort_id=cohort_id,
        organization_id=organization_id,
        as_of=now,
        members=len(ids),
        suppressed=is_suppressed(len(ids)),
        distribution=points,
        distribution_summary=summary,
        heatmap=heat,
        engagement=engagement_over_time(events, len(ids), now, weeks=weeks),
        attention=flags,
        roster=roster(members, events, heat, flags, now, days=days),
        comparison=organization_comparison(estimates, ids, expect, competencies=comps, names=names),
        engagement_comparison=engagement_comparison(totals, ids, now, days=days, inactive_days=settings.inactive_days),
        settings=settings,
    )

