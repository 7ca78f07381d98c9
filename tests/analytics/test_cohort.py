"""Cohort analytics on small hand-made frames: exact values, attention flags, the small-group rule."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from workbench.analytics import (
    MIN_GROUP,
    AttentionSettings,
    analyze_cohort,
    attention_flags,
    development_heatmap,
    engagement_comparison,
    engagement_over_time,
    organization_comparison,
    roster,
    skill_distribution,
)

from .conftest import NOW, events

EXPECT = {"first-time": {"a": -0.5, "b": -0.5}, "senior": {"a": 0.5, "b": 0.5}}
NAMES = {"a": "Alpha", "b": "Beta", "c": "Gamma"}


@pytest.fixture
def leaders() -> pd.DataFrame:
    return pd.DataFrame({
        "leader_id": ["L1", "L2", "L3", "L4", "L5", "L6"],
        "name": ["Ada", "Ben", "Cy", "Dee", "Eve", "Fay"],
        "role_level": ["first-time", "first-time", "first-time", "senior", "senior", "senior"],
    })


@pytest.fixture
def estimates() -> pd.DataFrame:
    """Latest estimates of a 10-leader organization: L1-L6 are the cohort, L6 is not assessed.
    Competency a: L1-L5 and L7-L10; b: L1-L4 and L7-L10; c: L7-L9 only."""
    rows = []
    a = {"L1": -1.0, "L2": -0.5, "L3": 0.0, "L4": 0.5, "L5": 1.0, "L7": 2.0, "L8": 2.0, "L9": 2.0, "L10": 2.0}
    b = {"L1": 0.1, "L2": 0.2, "L3": 0.3, "L4": 0.4, "L7": 1.0, "L8": 1.0, "L9": 1.0, "L10": 1.0}
    c = {"L7": 0.3, "L8": 0.3, "L9": 0.3}
    level = {"L1": "first-time", "L2": "first-time", "L3": "first-time", "L4": "senior", "L5": "senior",
             "L7": "senior", "L8": "senior", "L9": "first-time", "L10": "first-time"}
    for comp, values in (("a", a), ("b", b), ("c", c)):
        for lid, m in values.items():
            rows.append((lid, "X" if lid in {"L1", "L2", "L3", "L4", "L5"} else "Y", level[lid], comp, m, 0.5))
    return pd.DataFrame(rows, columns=["leader_id", "cohort_id", "role_level", "competency", "mean", "sd"])


def _cohort(estimates: pd.DataFrame) -> pd.DataFrame:
    return estimates[estimates["cohort_id"] == "X"]


# ------------------------------------------------------------- distribution
def test_skill_distribution_summary_and_small_groups(estimates):
    points, summary = skill_distribution(_cohort(estimates), competencies=["a", "b", "c"], names=NAMES)
    s = summary.set_index("competency")
    assert s["n"].to_dict() == {"a": 5, "b": 4, "c": 0}
    assert s.loc["a", ["mean", "median", "q1", "q3"]].tolist() == pytest.approx([0.0, 0.0, -0.5, 0.5])
    assert s.loc["a", "low"] == pytest.approx(-0.8) and s.loc["a", "high"] == pytest.approx(0.8)
    assert s["suppressed"].to_dict() == {"a": False, "b": True, "c": True}
    assert s.loc["b", ["mean", "median", "q1", "q3", "low", "high"]].isna().all()
    assert sorted(points.loc[points["competency"] == "a", "mean"]) == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert set(points["name"]) == {"Alpha", "Beta"}


# ----------------------------------------------------------------- heat map
def test_heatmap_probability_below_the_role_expectation(estimates, leaders):
    h = development_heatmap(_cohort(estimates), leaders, EXPECT, competencies=["a", "b"], names=NAMES)
    assert len(h) == 12  # every member x competency, assessed or not
    cell = h.set_index(["leader_id", "competency"])
    # L1 first-time, a: mean -1 vs expectation -0.5 -> P = Phi(1)
    assert cell.loc[("L1", "a"), "p_below"] == pytest.approx(norm.cdf(1.0))
    assert cell.loc[("L1", "a"), "expectation"] == -0.5 and cell.loc[("L1", "a"), "band"] == "in range"
    # L4 senior, b: mean 0.4 vs 0.5 -> Phi(0.2)
    assert cell.loc[("L4", "b"), "p_below"] == pytest.approx(norm.cdf(0.2))
    assert cell.loc[("L5", "a"), "p_below"] == pytest.approx(norm.cdf(-1.0))
    assert pd.isna(cell.loc[("L6", "a"), "p_below"]) and cell.loc[("L6", "a"), "band"] == ""
    assert pd.isna(cell.loc[("L5", "b"), "mean"])  # L5 has no estimate for b
    assert cell.loc[("L1", "a"), "leader_name"] == "Ada" and cell.loc[("L1", "a"), "name"] == "Alpha"


def test_heatmap_band_marks_a_clear_shortfall():
    est = pd.DataFrame({"leader_id": ["L1"], "competency": ["a"], "mean": [-1.5], "sd": [0.2]})
    lead = pd.DataFrame({"leader_id": ["L1"], "name": ["Ada"], "role_level": ["first-time"]})
    h = development_heatmap(est, lead, EXPECT)
    assert h.loc[0, "band"] == "development area" and h.loc[0, "p_below"] == pytest.approx(norm.cdf(5.0))


# --------------------------------------------------------------- engagement
def _engagement_events() -> pd.DataFrame:
    return events(
        ("2026-02-10 09:00", "completed", "module", "m1", "a", 600, None, "L1"),  # before the 3 weeks shown
        ("2026-02-17 09:00", "completed", "module", "m1", "a", 600, None, "L1"),
        ("2026-02-18 09:00", "launched", "module", "m2", "b", None, None, "L2"),
        ("2026-02-22 23:59", "completed", "scenario", "s1", "b", 120, 0.5, "L2"),  # Sunday: same week
        ("2026-02-24 09:00", "progressed", "module", "m2", "b", 300, None, "L1"),
        ("2026-03-05 09:00", "completed", "module", "m2", "b", 900, None, "L3"),  # after NOW
    )


def test_engagement_per_week():
    e = engagement_over_time(_engagement_events(), 6, NOW, weeks=3)
    assert e["week_start"].dt.strftime("%Y-%m-%d").tolist() == ["2026-02-16", "2026-02-23", "2026-03-02"]
    assert e["active_leaders"].tolist() == [2, 1, 0]
    assert e["active_share"].tolist() == pytest.approx([2 / 6, 1 / 6, 0])
    assert e["minutes"].tolist() == pytest.approx([12.0, 5.0, 0.0])
    assert e["completions"].tolist() == [1, 0, 0]  # scenario completions are not module completions
    assert not e["suppressed"].any() and (e["members"] == 6).all()


def test_engagement_of_a_small_group_is_withheld():
    e = engagement_over_time(_engagement_events(), MIN_GROUP - 1, NOW, weeks=3)
    assert e["suppressed"].all()
    assert e[["active_leaders", "active_share", "minutes", "completions"]].isna().all().all()


# ---------------------------------------------------------------- attention
@pytest.fixture
def activity() -> pd.DataFrame:
    return events(
        ("2026-02-05 09:00", "launched", "module", "m1", "a", None, None, "L1"),
        ("2026-02-24 09:00", "completed", "scenario", "s1", "a", 300, None, "L1"),
        ("2026-02-18 10:00", "progressed", "module", "m3", "a", 300, None, "L2"),
        ("2026-01-20 09:00", "launched", "module", "m3", "a", None, None, "L4"),  # before m3 was served to L4
        ("2026-02-02 09:00", "launched", "module", "m1", "a", None, None, "L4"),
        ("2026-02-03 09:00", "completed", "module", "m1", "a", 1800, None, "L4"),
        ("2026-03-01 09:00", "completed", "scenario", "s1", "a", 300, None, "L4"),
        ("2026-03-01 09:00", "completed", "scenario", "s1", "a", 300, None, "L5"),
        ("2026-03-01 09:00", "completed", "scenario", "s1", "a", 300, None, "L6"),
    )


@pytest.fixture
def recommendations() -> pd.DataFrame:
    rows = [
        ("r1", "L1", "m1", "started", "2026-02-01"),  # launched 5 Feb: started 27 days ago, not completed
        ("r2", "L1", "m2", "active", "2026-01-30"),  # 33 days, never opened
        ("r3", "L4", "m1", "active", "2026-02-01"),  # completed since: never flagged
        ("r4", "L5", "m2", "started", "2026-02-20"),  # only 12 days
        ("r5", "L5", "m3", "active", "2026-02-10"),  # 22 days without a start: under 28
        ("r6", "L6", "m2", "completed", "2026-01-01"),  # done: not the plan
        ("r7", "L4", "m4", "started", "2026-02-01"),  # marked started, no event: started when served, 31 days
        ("r8", "L4", "m3", "active", "2026-02-01"),  # opened only before it was served: not started, 31 days
        ("r9", "L2", "m2", "dismissed", "2026-01-01"),
    ]
    return pd.DataFrame([(i, lid, mid, st, pd.Timestamp(t, tz="UTC")) for i, lid, mid, st, t in rows],
                        columns=["id", "leader_id", "module_id", "status", "served_at"])


def test_attention_flags_with_reasons(leaders, activity, recommendations, estimates, catalog):
    flags = attention_flags(leaders, activity, recommendations, _cohort(estimates), NOW, modules=catalog)
    got = list(zip(flags["leader_id"], flags["flag"], strict=True))
    assert got == [
        ("L1", "stalled"), ("L1", "not-started"),
        ("L2", "inactive"),
        ("L3", "inactive"),
        ("L4", "stalled"), ("L4", "not-started"),
        ("L6", "no-assessment"),
    ]
    why = dict(zip(zip(flags["leader_id"], flags["flag"], strict=True), flags["reason"], strict=True))
    assert why[("L1", "stalled")] == "Started \u201cModule one\u201d 27 days ago and has not completed it."
    assert why[("L1", "not-started")] == "\u201cModule two\u201d has been in the plan for 33 days without being started."
    assert why[("L2", "inactive")] == "No learning activity for 14 days (last on 18 Feb 2026)."
    assert why[("L3", "inactive")] == "No learning activity recorded yet."
    assert why[("L4", "stalled")] == "Started \u201cModule four\u201d 31 days ago and has not completed it."
    assert why[("L6", "no-assessment")].startswith("No skill assessment yet")
    since = dict(zip(zip(flags["leader_id"], flags["flag"], strict=True), flags["since"], strict=True))
    assert since[("L1", "stalled")] == pd.Timestamp("2026-02-05 09:00", tz="UTC")
    assert pd.isna(since[("L3", "inactive")])
    assert flags["name"].tolist()[:3] == ["Ada", "Ada", "Ben"]


def test_attention_thresholds_are_parameters(leaders, activity, recommendations, estimates, catalog):
    loose = AttentionSettings(inactive_days=15, started_days=30, unstarted_days=40)
    flags = attention_flags(leaders, activity, recommendations, _cohort(estimates), NOW, modules=catalog, settings=loose)
    got = set(zip(flags["leader_id"], flags["flag"], strict=True))
    # L2's 14 days are now fine, L1's 27-day start too; L4's 31-day start is still stalled
    assert got == {("L3", "inactive"), ("L4", "stalled"), ("L6", "no-assessment")}
    tight = AttentionSettings(unstarted_days=20)
    flags = attention_flags(leaders, activity, recommendations, _cohort(estimates), NOW, settings=tight)
    assert ("L5", "not-started") in set(zip(flags["leader_id"], flags["flag"], strict=True))
    assert "\u201cm3\u201d" in flags.loc[flags["leader_id"] == "L5", "reason"].iloc[0]  # no catalog: the id
    with pytest.raises(ValueError, match="inactive_days"):
        AttentionSettings(inactive_days=0)


def test_no_flags_gives_an_empty_frame(leaders, estimates):
    one = leaders.iloc[:1]
    ev = events(("2026-03-03", "progressed", "module", "m1", "a", 60, None, "L1"))
    flags = attention_flags(one, ev, pd.DataFrame(columns=["id", "leader_id", "module_id", "status", "served_at"]),
                            _cohort(estimates), NOW)
    assert flags.empty and list(flags.columns) == ["leader_id", "name", "flag", "reason", "since"]


def test_roster_joins_activity_and_flags(leaders, activity, recommendations, estimates, catalog):
    heat = development_heatmap(_cohort(estimates), leaders, EXPECT, competencies=["a", "b"])
    flags = attention_flags(leaders, activity, recommendations, _cohort(estimates), NOW, modules=catalog)
    r = roster(leaders, activity, heat, flags, NOW, days=28).set_index("leader_id")
    assert r.loc["L1", "flags"] == "stalled, not-started"
    assert r.loc["L5", "flags"] == "" and r.loc["L5", "reasons"] == ""
    assert r.loc["L4", "minutes_recent"] == pytest.approx(5.0)  # 3 Feb is outside 28 days
    assert r.loc["L4", "modules_completed"] == 1
    assert r.loc["L2", "days_since_last_activity"] == 14
    assert math.isnan(r.loc["L3", "days_since_last_activity"]) and pd.isna(r.loc["L3", "last_activity"])
    assert math.isnan(r.loc["L6", "development_areas"]) and r.loc["L1", "development_areas"] == 0


# --------------------------------------------------------------- comparison
def test_organization_comparison_and_small_groups(estimates):
    cohort = ["L1", "L2", "L3", "L4", "L5", "L6"]
    c = organization_comparison(estimates, cohort, EXPECT, competencies=["a", "b", "c"], names=NAMES)
    c = c.set_index("competency")
    # the organization side is the rest of the organization: for a, the 4 leaders outside the cohort.
    # Counting the cohort in (9 leaders) would let its facilitator subtract the 5 members they see
    # and read the other 4's mean exactly, so it is withheld.
    assert (c.loc["a", "cohort_n"], c.loc["a", "org_n"]) == (5, 4)
    assert c.loc["a", "cohort_mean"] == pytest.approx(0.0) and c.loc["a", "org_suppressed"]
    assert math.isnan(c.loc["a", "org_mean"]) and math.isnan(c.loc["a", "difference"])
    # gaps: first-time L1-L3 expect -0.5 (+0.5 each on average 0.0), senior L4-L5 expect 0.5
    assert c.loc["a", "cohort_gap"] == pytest.approx(np.mean([-0.5, 0.0, 0.5, 0.0, 0.5]))
    # b: cohort of 4 -> withheld; c: 3 leaders, none in the cohort -> both withheld
    assert c.loc["b", "cohort_suppressed"] and math.isnan(c.loc["b", "cohort_mean"])
    assert math.isnan(c.loc["b", "cohort_gap"]) and math.isnan(c.loc["b", "difference"])
    assert c.loc["c", "cohort_suppressed"] and c.loc["c", "org_suppressed"] and math.isnan(c.loc["c", "org_mean"])
    # the withheld means (b's cohort 0.25, a's rest 2.0) appear nowhere
    values = c.drop(columns=["name"]).to_numpy().ravel().tolist()
    assert 0.25 not in values and 2.0 not in values
    # a fifth leader outside the cohort: the rest's mean is shown
    more = pd.concat([estimates, pd.DataFrame([("L11", "Y", "senior", "a", 1.0, 0.5)], columns=estimates.columns)])
    c = organization_comparison(more, cohort, EXPECT, competencies=["a"], names=NAMES).set_index("competency")
    assert c.loc["a", "org_n"] == 5 and c.loc["a", "org_mean"] == pytest.approx(9.0 / 5)
    assert c.loc["a", "difference"] == pytest.approx(-9.0 / 5)


def test_engagement_comparison():
    totals = pd.DataFrame({
        "leader_id": [f"L{i}" for i in range(1, 12)],
        "minutes": [10, 20, 30, 40, 50, 60, 0, 0, 0, 0, 50],
        "completions": [1, 1, 1, 1, 1, 1, 0, 0, 0, 2, 1],
        "last_activity": pd.to_datetime(["2026-03-01"] * 3 + ["2026-01-01"] * 3 + ["2026-03-03"] * 2 + [None] * 2
                                        + ["2026-03-02"], utc=True),
    })
    c = engagement_comparison(totals, [f"L{i}" for i in range(1, 7)], NOW).set_index("measure")
    # the organization side is the 5 leaders outside the cohort
    assert c.loc["minutes_per_leader", "cohort"] == 35.0 and c.loc["minutes_per_leader", "organization"] == 10.0
    assert c.loc["completions_per_leader", "organization"] == pytest.approx(0.6)
    assert c.loc["active_share", "cohort"] == 0.5 and c.loc["active_share", "organization"] == pytest.approx(0.6)
    assert (c["cohort_n"] == 6).all() and (c["org_n"] == 5).all()
    # with one leader fewer outside the cohort, the organization side is withheld
    c = engagement_comparison(totals.iloc[:10], [f"L{i}" for i in range(1, 7)], NOW)
    assert c["org_suppressed"].all() and c["organization"].isna().all()


def _library_frames(library, n_members: int):
    comps = list(library.competency_ids)
    ids = [f"L{i}" for i in range(1, 11)]
    leaders = pd.DataFrame({"leader_id": ids[:n_members], "name": [f"Leader {i}" for i in range(1, n_members + 1)],
                            "role_level": "experienced"})
    rng = np.random.default_rng(0)
    est = pd.DataFrame([(lid, "X" if lid in set(leaders.leader_id) else "Y", "experienced", c, rng.normal(), 0.3)
                        for lid in ids for c in comps],
                       columns=["leader_id", "cohort_id", "role_level", "competency", "mean", "sd"])
    ev = events(*[("2026-03-02 09:00", "progressed", "module", "m", comps[0], 600, None, lid) for lid in ids])
    totals = pd.DataFrame({"leader_id": ids, "minutes": 10.0, "completions": 0,
                           "last_activity": pd.Timestamp("2026-03-02 09:00", tz="UTC")})
    recs = pd.DataFrame(columns=["id", "leader_id", "module_id", "status", "served_at"])
    return leaders, est, ev[ev["leader_id"].isin(set(leaders.leader_id))], recs, totals


def test_analyze_cohort_with_the_library(library):
    leaders, est, ev, recs, totals = _library_frames(library, 6)
    o = analyze_cohort("X", leaders=leaders, events=ev, recommendations=recs, estimates=est, totals=totals,
                       library=library, now=NOW, organization_id="org", weeks=4)
    comps = list(library.competency_ids)
    assert (o.members, o.suppressed, o.organization_id) == (6, False, "org")
    assert len(o.heatmap) == 6 * len(comps) and len(o.roster) == 6 and len(o.engagement) == 4
    assert o.engagement["active_leaders"].tolist() == [0, 0, 0, 6]
    assert (o.comparison["cohort_n"] == 6).all() and (o.comparison["org_n"] == 4).all()  # the other 4 leaders
    assert o.comparison["org_suppressed"].all()  # 4 outside the cohort: withheld
    assert o.distribution_summary["name"].tolist() == [library.competencies[c].name for c in comps]
    assert o.attention.empty


def test_a_tiny_cohort_shows_individuals_to_its_facilitator_but_no_aggregates(library):
    leaders, est, ev, recs, totals = _library_frames(library, MIN_GROUP - 1)
    o = analyze_cohort("X", leaders=leaders, events=ev, recommendations=recs, estimates=est, totals=totals,
                       library=library, now=NOW)
    assert o.suppressed and o.members == 4
    assert o.distribution_summary["suppressed"].all() and o.distribution_summary["mean"].isna().all()
    assert o.engagement["suppressed"].all() and o.engagement["minutes"].isna().all()
    assert o.comparison["cohort_suppressed"].all() and o.comparison["cohort_mean"].isna().all()
    assert not o.comparison["org_suppressed"].any()  # the organization has 10 leaders
    assert o.engagement_comparison["cohort"].isna().all()
    assert o.heatmap["p_below"].notna().all() and len(o.roster) == 4  # each member's own row stays
