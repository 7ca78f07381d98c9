"""Personal analytics on small hand-made frames with exactly known answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from workbench.analytics import (
    analyze_leader,
    knowledge_checks,
    latest_from_history,
    module_progress,
    skill_trajectory,
    streaks,
    time_spent,
    under_invested,
)

from .conftest import NOW, events

NAMES = {"a": "Alpha", "b": "Beta", "c": "Gamma", "d": "Delta"}


@pytest.fixture
def history_events() -> pd.DataFrame:
    """Two months of one leader's activity (see the comments for the minutes)."""
    return events(
        ("2026-01-05 09:00", "launched", "module", "m1", "a", None, None),
        ("2026-01-05 09:30", "completed", "module", "m1", "a", 1800, None),  # 30 min, old
        ("2026-01-05 09:32", "passed", "knowledge-check", "m1", "a", None, 0.75),
        ("2026-02-10 10:00", "launched", "module", "m2", "b", None, None),
        ("2026-02-10 10:20", "progressed", "module", "m2", "b", 1200, None),  # 20 min, recent
        ("2026-02-16 10:00", "completed", "scenario", "s1", "b", 600, 0.8),  # 10 min, recent
        ("2026-02-25 08:00", "launched", "module", "m3", "a", None, None),
        ("2026-02-25 08:15", "completed", "module", "m3", "a", 900, None),  # 15 min, recent
        ("2026-02-25 08:17", "failed", "knowledge-check", "m3", "a", None, 0.25),
        ("2026-03-02 10:00", "attended", "classroom", "s-1", None, 3000, None),  # 50 min, no competency
        ("2026-03-02 11:00", "passed", "knowledge-check", "m3", "a", None, 1.0),
        ("2026-03-05 09:00", "completed", "module", "m2", "b", 3600, None),  # after NOW: ignored
    )


@pytest.fixture
def plan() -> pd.DataFrame:
    return pd.DataFrame({
        "module_id": ["m2", "m4", "m1", "not-in-library"],
        "status": ["started", "active", "completed", "active"],
        "served_at": pd.to_datetime(["2026-02-01"] * 4, utc=True),
    })


# --------------------------------------------------------------------- time
def test_time_spent_recent_total_and_plan(history_events, plan, catalog):
    t = time_spent(history_events, plan, catalog, NOW, days=28, weekly_minutes=60, competencies=["a", "b", "c", "d"],
                   names=NAMES)
    tab = t.table.set_index("competency")
    assert list(t.table["competency"]) == ["a", "b", "c", "d"]
    assert list(t.table["name"]) == ["Alpha", "Beta", "Gamma", "Delta"]
    assert tab["minutes_recent"].to_dict() == pytest.approx({"a": 15.0, "b": 30.0, "c": 0.0, "d": 0.0})
    assert tab["minutes_total"].to_dict() == pytest.approx({"a": 45.0, "b": 30.0, "c": 0.0, "d": 0.0})
    assert tab["share_recent"].to_dict() == pytest.approx({"a": 1 / 3, "b": 2 / 3, "c": 0.0, "d": 0.0})
    # the plan: m2 (started, b, 25 min) and m4 (active, c, 40 min); completed and unknown modules are not planned
    assert tab["planned_minutes"].to_dict() == pytest.approx({"a": 0.0, "b": 25.0, "c": 40.0, "d": 0.0})
    assert tab["planned_modules"].to_dict() == {"a": 0, "b": 1, "c": 1, "d": 0}
    assert t.planned_minutes == 65.0
    assert t.minutes_recent == pytest.approx(95.0)  # includes the 50 classroom minutes without a competency
    assert t.minutes_total == pytest.approx(125.0)  # the future completion is not counted
    assert t.minutes_last_7_days == pytest.approx(50.0)  # 25 Feb 08:15 is just outside (25 Feb 12:00, 4 Mar 12:00]
    assert (t.weekly_budget, t.budget_recent, t.days) == (60, 240.0, 28)


def test_time_window_follows_days(history_events, plan, catalog):
    t = time_spent(history_events, plan, catalog, NOW, days=7)
    assert t.minutes_recent == pytest.approx(50.0)
    assert t.table["minutes_recent"].sum() == 0.0 and t.table["share_recent"].isna().all()
    with pytest.raises(ValueError, match="days"):
        time_spent(history_events, plan, catalog, NOW, days=0)


def test_time_spent_with_no_activity_and_no_plan(catalog):
    t = time_spent(events(), pd.DataFrame(columns=["module_id", "status"]), catalog, NOW, competencies=["a", "b"])
    assert t.table["minutes_total"].tolist() == [0.0, 0.0]
    assert t.minutes_total == 0.0 and t.planned_minutes == 0.0


# ------------------------------------------------------------------ modules
def test_module_progress_counts_and_lists(history_events, catalog):
    mp = module_progress(history_events, catalog, NOW)
    assert (mp.started, mp.completed) == (3, 2)
    assert mp.completion_rate == pytest.approx(2 / 3)
    tab = mp.table
    assert tab["module_id"].tolist() == ["m3", "m2", "m1"]  # most recently started first
    assert tab["status"].tolist() == ["completed", "started", "completed"]  # m2's completion is after NOW
    assert tab["title"].tolist() == ["Module three", "Module two", "Module one"]
    assert tab["minutes"].tolist() == pytest.approx([15.0, 20.0, 30.0])
    assert tab.loc[0, "completed_at"] == pd.Timestamp("2026-02-25 08:15", tz="UTC")
    assert pd.isna(tab.loc[1, "completed_at"])
    # the scenario and the knowledge checks are not modules
    assert set(tab["module_id"]) == {"m1", "m2", "m3"}


def test_module_progress_when_nothing_started(catalog):
    mp = module_progress(events(("2026-03-01", "attended", "classroom", "x", None, 60, None)), catalog, NOW)
    assert (mp.started, mp.completed) == (0, 0) and math.isnan(mp.completion_rate) and mp.table.empty


def test_a_completion_without_launch_counts_as_started(catalog):
    mp = module_progress(events(("2026-03-01", "completed", "module", "zz", "d", 60, None)), catalog, NOW)
    assert (mp.started, mp.completed, mp.completion_rate) == (1, 1, 1.0)
    assert mp.table.loc[0, "title"] == "zz" and mp.table.loc[0, "competency"] == "d"  # not in the catalog


# ----------------------------------------------------------- under-invested
def _planted_estimates() -> pd.DataFrame:
    return pd.DataFrame({
        "competency": ["a", "b", "c", "d"],
        "mean": [-1.0, -0.6, 0.5, 1.0],
        "sd": [0.2, 0.2, 0.3, 0.2],
    })


EXPECT = {"a": 0.0, "b": 0.0, "c": 0.5}  # d: no expectation set, so 0


def _planted_events() -> pd.DataFrame:
    return events(
        ("2026-01-10", "completed", "module", "old", "a", 500 * 60, None),  # long ago: outside 28 days
        ("2026-02-20", "completed", "module", "m1", "a", 5 * 60, None),
        ("2026-02-21", "completed", "module", "m2", "b", 40 * 60, None),
        ("2026-02-22", "completed", "module", "m9", "d", 55 * 60, None),
    )


def test_planted_under_invested_area():
    """a is the biggest gap but got 5% of the time; b (a smaller gap) got 40%; d is a strength."""
    out = under_invested(_planted_estimates(), _planted_events(), EXPECT, NOW, days=28, names=NAMES).set_index("competency")
    need_a = 1.0 * norm.cdf(1.0 / 0.2)
    need_b = 0.6 * norm.cdf(0.6 / 0.2)
    share_a, share_b = need_a / (need_a + need_b), need_b / (need_a + need_b)
    assert out["band"].to_dict() == {"a": "development area", "b": "development area", "c": "in range",
                                     "d": "strength"}
    assert out["need"].to_dict() == pytest.approx({"a": need_a, "b": need_b, "c": 0.0, "d": 0.0}, rel=1e-9)
    assert out["need_share"].to_dict() == pytest.approx({"a": share_a, "b": share_b, "c": 0.0, "d": 0.0}, rel=1e-9)
    assert out["minutes"].to_dict() == pytest.approx({"a": 5.0, "b": 40.0, "c": 0.0, "d": 55.0})
    assert out["time_share"].to_dict() == pytest.approx({"a": 0.05, "b": 0.40, "c": 0.0, "d": 0.55})
    assert out.loc["a", "investment"] == pytest.approx(0.05 / share_a)
    assert math.isnan(out.loc["d", "investment"])
    assert out["p_below"].to_dict() == pytest.approx(
        {"a": norm.cdf(5.0), "b": norm.cdf(3.0), "c": 0.5, "d": norm.cdf(-5.0)}, rel=1e-9)
    assert out.index[out["under_invested"]].tolist() == ["a"]
    assert out.loc["a", "reason"].startswith("Alpha is a development area that needs 63% of your attention but got 5%")
    assert out.loc["b", "reason"] == ""
    assert out.index.tolist() == ["a", "b", "c", "d"]  # largest need first, then by id


def test_the_ratio_sets_the_bar():
    est, ev = _planted_estimates(), _planted_events()
    # a's time share 0.05 against its need share 0.625: under at ratio 0.1 (0.0625), not at 0.05 (0.031)
    assert under_invested(est, ev, EXPECT, NOW, ratio=0.1)["under_invested"].sum() == 1
    assert under_invested(est, ev, EXPECT, NOW, ratio=0.05)["under_invested"].sum() == 0
    # a generous bar also catches b: 0.40 < 1.2 * 0.375
    flagged = under_invested(est, ev, EXPECT, NOW, ratio=1.2)
    assert set(flagged.loc[flagged["under_invested"], "competency"]) == {"a", "b"}


def test_no_time_logged_makes_every_development_area_under_invested():
    out = under_invested(_planted_estimates(), events(), EXPECT, NOW, names=NAMES)
    assert set(out.loc[out["under_invested"], "competency"]) == {"a", "b"}
    assert (out["time_share"] == 0).all()
    assert "no learning time was logged in the last 28 days" in out.loc[0, "reason"]


def test_expectations_move_the_development_areas():
    est = pd.DataFrame({"competency": ["a"], "mean": [0.2], "sd": [0.1]})
    assert under_invested(est, events(), {}, NOW)["band"].tolist() == ["strength"]
    assert under_invested(est, events(), {"a": 0.6}, NOW)["band"].tolist() == ["development area"]


def test_no_estimates_gives_an_empty_frame():
    out = under_invested(pd.DataFrame(columns=["competency", "mean", "sd"]), events(), EXPECT, NOW)
    assert out.empty and "under_invested" in out.columns


# --------------------------------------------------------------- trajectory
@pytest.fixture
def history() -> pd.DataFrame:
    return pd.DataFrame({
        "competency": ["b", "a", "a", "a"],
        "mean": [0.4, -1.0, -0.5, 0.9],
        "sd": [0.2, 0.3, 0.2, 0.1],
        "estimated_at": pd.to_datetime(["2026-01-10", "2026-01-10", "2026-02-20", "2026-04-01"], utc=True),
    })


def test_trajectory_orders_and_intervals(history):
    tr = skill_trajectory(history, NOW, expectations={"a": -0.2}, competencies=["a", "b"], names=NAMES)
    assert tr["competency"].tolist() == ["a", "a", "b"]  # the April estimate is after NOW
    assert tr["name"].tolist() == ["Alpha", "Alpha", "Beta"]
    assert tr["mean"].tolist() == [-1.0, -0.5, 0.4]
    assert tr["low"].tolist() == pytest.approx([-1.4935, -0.829, 0.071], abs=2e-4)
    assert tr["high"].tolist() == pytest.approx([-0.5065, -0.171, 0.729], abs=2e-4)
    assert tr["expectation"].tolist() == [-0.2, -0.2, 0.0]
    # -0.171 is above -0.2: the second estimate of a is no longer a development area
    assert tr["band"].tolist() == ["development area", "in range", "strength"]
    assert skill_trajectory(history.iloc[:0]).empty


def test_latest_from_history(history):
    latest = latest_from_history(history, NOW).set_index("competency")
    assert latest.loc["a", "mean"] == -0.5 and latest.loc["b", "mean"] == 0.4
    assert latest_from_history(history).set_index("competency").loc["a", "mean"] == 0.9


# ------------------------------------------------------------------ streaks
def test_streaks_current_longest_and_last_activity(history_events):
    s = streaks(history_events, NOW, weeks=4)
    # timed weeks: 5 Jan | 9 Feb, 16 Feb, 23 Feb, 2 Mar (this week)
    assert (s.current_weeks, s.longest_weeks, s.active_weeks) == (4, 4, 5)
    assert s.last_activity == pd.Timestamp("2026-03-02 11:00", tz="UTC")
    assert s.days_since_last_activity == 2
    assert s.weekly["week_start"].dt.strftime("%Y-%m-%d").tolist() == ["2026-02-09", "2026-02-16", "2026-02-23",
                                                                       "2026-03-02"]
    assert s.weekly["minutes"].tolist() == pytest.approx([20.0, 10.0, 15.0, 50.0])
    assert s.weekly["events"].tolist() == [2, 1, 3, 2]
    assert s.weekly["active"].all()


def test_a_streak_survives_a_quiet_start_of_week_but_not_a_whole_quiet_week():
    ev = events(("2026-02-17", "progressed", "module", "m1", "a", 60, None),
                ("2026-02-24", "progressed", "module", "m1", "a", 60, None))
    assert streaks(ev, NOW).current_weeks == 2  # nothing yet this week; last week counts
    assert streaks(ev, NOW + pd.Timedelta(days=7)).current_weeks == 0  # a whole week went by
    assert streaks(ev, NOW + pd.Timedelta(days=7)).longest_weeks == 2


def test_untimed_events_are_not_activity_weeks_but_are_last_activity():
    ev = events(("2026-03-03 08:00", "passed", "knowledge-check", "m1", "a", None, 1.0))
    s = streaks(ev, NOW)
    assert (s.current_weeks, s.longest_weeks, s.active_weeks) == (0, 0, 0)
    assert s.days_since_last_activity == 1
    empty = streaks(events(), NOW)
    assert empty.last_activity is None and empty.days_since_last_activity is None
    assert len(empty.weekly) == 12 and empty.weekly["minutes"].sum() == 0


def test_streak_crosses_the_year_boundary():
    ev = events(("2025-12-23", "progressed", "module", "m1", "a", 60, None),  # ISO week 52 of 2025
                ("2025-12-30", "progressed", "module", "m1", "a", 60, None),  # ISO week 1 of 2026
                ("2026-01-06", "progressed", "module", "m1", "a", 60, None))
    assert streaks(ev, pd.Timestamp("2026-01-07", tz="UTC")).longest_weeks == 3


# --------------------------------------------------------- knowledge checks
def test_knowledge_checks_per_module(history_events, catalog):
    kc = knowledge_checks(history_events, catalog, NOW)
    assert kc["module_id"].tolist() == ["m3", "m1"]
    m3, m1 = kc.iloc[0], kc.iloc[1]
    assert (m3.attempts, m3.passed, m3.best_score, m3.last_score, m3.last_result) == (2, 1, 1.0, 1.0, "passed")
    assert (m1.attempts, m1.passed, m1.best_score, m1.last_result) == (1, 1, 0.75, "passed")
    assert m3.title == "Module three" and m3.last_at == pd.Timestamp("2026-03-02 11:00", tz="UTC")
    assert knowledge_checks(events(), catalog, NOW).empty


# ---------------------------------------------------------------- together
def test_analyze_leader_with_the_library(library):
    comps = list(library.competency_ids)
    mods = [m for m in library.modules.values()][:2]
    ev = events(
        ("2026-02-20 09:00", "launched", "module", mods[0].id, mods[0].primary_competency, None, None),
        ("2026-02-20 09:40", "completed", "module", mods[0].id, mods[0].primary_competency, 2400, None),
    )
    hist = pd.DataFrame({"competency": comps, "mean": np.linspace(-1.5, 1.5, len(comps)), "sd": 0.2,
                         "estimated_at": pd.Timestamp("2026-02-01", tz="UTC")})
    recs = pd.DataFrame({"module_id": [mods[1].id], "status": ["active"],
                         "served_at": [pd.Timestamp("2026-02-15", tz="UTC")]})
    p = analyze_leader("L9", events=ev, history=hist, recommendations=recs, library=library, role_level="senior",
                       weekly_minutes=45, now=NOW)
    assert p.leader_id == "L9" and p.as_of == NOW and p.days == 28
    assert p.time.table["competency"].tolist() == comps
    assert p.time.table["name"].tolist() == [library.competencies[c].name for c in comps]
    assert p.time.planned_minutes == mods[1].minutes
    assert p.time.minutes_recent == pytest.approx(40.0) and p.time.budget_recent == pytest.approx(180.0)
    assert (p.modules.started, p.modules.completed) == (1, 1)
    assert len(p.trajectory) == len(comps)
    senior = library.organization.expectations["senior"]
    assert p.trajectory["expectation"].tolist() == [senior.get(c, 0.0) for c in comps]
    assert p.under_invested["under_invested"].any()  # the weakest competencies got none of the 40 minutes
    assert (p.streak.current_weeks, p.streak.longest_weeks) == (0, 1) and p.checks.empty  # 16 Feb week only
