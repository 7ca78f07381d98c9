"""Progress analytics read from the store: the analytics reads in ``repo`` (SQLite and PostgreSQL),
and ``personal_progress`` / ``cohort_overview`` on the demo organization (read-only) and on a copy."""

from __future__ import annotations

import math
from datetime import UTC, datetime, time, timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from tests.conftest import AS_OF
from workbench.analytics import MIN_GROUP
from workbench.services.plans import current_plan
from workbench.services.progress import cohort_overview, personal_progress
from workbench.store import make_engine, repo, transaction
from workbench.store import models as m
from workbench.store.xapi import make_statement, record

NOW = datetime.combine(AS_OF, time(17, 0), tzinfo=UTC)  # the demo's last moment


# ------------------------------------------------------------ analytics reads
T1, T2, T3 = (datetime(2026, 3, d, 9, tzinfo=UTC) for d in (2, 9, 16))


@pytest.fixture
def small_store(engine):
    """Two organizations: o1 with cohorts c1 (A, B) and c2 (C) and E without a cohort; o2 with D."""
    with transaction(engine) as s:
        s.add_all([m.Organization(id="o1", name="One"), m.Organization(id="o2", name="Two")])
        s.flush()
        s.add_all([m.Cohort(id="c1", organization_id="o1", name="C1"), m.Cohort(id="c2", organization_id="o1", name="C2"),
                   m.Cohort(id="c3", organization_id="o2", name="C3")])
        s.flush()
        for lid, org, coh, level in (("A", "o1", "c1", "first-time"), ("B", "o1", "c1", "senior"),
                                     ("C", "o1", "c2", "experienced"), ("D", "o2", "c3", "senior"),
                                     ("E", "o1", None, "experienced")):
            s.add(m.Leader(id=lid, organization_id=org, cohort_id=coh, name=lid, role_level=level))
        s.flush()
        for lid, comp, mean, source, at in (("A", "x", 0.0, "all", T1), ("A", "x", 1.0, "all", T2),
                                            ("A", "y", -1.0, "all", T1), ("A", "x", 5.0, "self", T3),
                                            ("B", "x", 0.5, "all", T1), ("D", "x", 2.0, "all", T1)):
            s.add(m.SkillEstimate(leader_id=lid, competency=comp, mean=mean, sd=0.3, source=source, estimated_at=at))
        for lid, verb, oid, secs, at in (("A", "launched", "m1", None, T1), ("A", "completed", "m1", 600, T2),
                                         ("B", "completed", "m2", 1200, T2), ("B", "progressed", "m3", 300, T1),
                                         ("C", "progressed", "m1", 60, T3), ("D", "completed", "m1", 900, T2)):
            record(s, make_statement(lid, verb, "module", oid, at, duration=secs, competency="x"))
        for rid, lid, status, at in (("r1", "A", "active", T2), ("r2", "A", "completed", T1),
                                     ("r3", "C", "dismissed", T1), ("r4", "D", "active", T1)):
            s.add(m.Recommendation(id=rid, leader_id=lid, module_id="m1", strategy="gap", score=1.0, reason="why",
                                   propensity=0.5, status=status, served_at=at))
    return engine


def test_estimate_history_is_one_leader_and_source_oldest_first(small_store):
    h = repo.estimate_history(small_store, "A")
    assert h[["competency", "mean"]].values.tolist() == [["x", 0.0], ["y", -1.0], ["x", 1.0]]
    assert list(h["estimated_at"]) == [T1, T1, T2]
    assert repo.estimate_history(small_store, "A", source="self")["mean"].tolist() == [5.0]
    assert repo.estimate_history(small_store, "Z").empty


def test_activity_events_of_a_cohort_or_an_organization(small_store):
    c1 = repo.activity_events(small_store, cohort_id="c1")
    assert sorted(set(c1["leader_id"])) == ["A", "B"] and len(c1) == 4
    assert list(c1.columns) == ["leader_id", "timestamp", "verb", "object_type", "object_id", "competency",
                                "duration_seconds", "score_scaled"]
    assert c1["timestamp"].is_monotonic_increasing and c1["timestamp"].iloc[0] == T1
    assert sorted(set(repo.activity_events(small_store, organization_id="o1")["leader_id"])) == ["A", "B", "C"]
    assert len(repo.activity_events(small_store, cohort_id="c1", since=T2)) == 2
    assert len(repo.activity_events(small_store)) == 6


def test_latest_estimates_of_a_group(small_store):
    org = repo.latest_estimates_of_group(small_store, organization_id="o1")
    got = {(r.leader_id, r.competency): (r.mean, r.cohort_id, r.role_level) for r in org.itertuples()}
    assert got == {("A", "x"): (1.0, "c1", "first-time"), ("A", "y"): (-1.0, "c1", "first-time"),
                   ("B", "x"): (0.5, "c1", "senior")}
    assert set(repo.latest_estimates_of_group(small_store, cohort_id="c2")["leader_id"]) == set()
    assert repo.latest_estimates_of_group(small_store, cohort_id="c1", source="self")["mean"].tolist() == [5.0]


def test_recommendation_history_keeps_every_status(small_store):
    a = repo.recommendation_history(small_store, leader_id="A")
    assert a["id"].tolist() == ["r2", "r1"] and a["status"].tolist() == ["completed", "active"]
    assert list(a["served_at"]) == [T1, T2]
    assert repo.recommendation_history(small_store, cohort_id="c2")["status"].tolist() == ["dismissed"]
    with pytest.raises(ValueError, match="exactly one"):
        repo.recommendation_history(small_store)


def test_activity_totals_list_every_leader_of_the_organization(small_store):
    t = repo.activity_totals(small_store, "o1", since=T2).set_index("leader_id")
    assert sorted(t.index) == ["A", "B", "C", "E"]
    assert t["minutes"].to_dict() == pytest.approx({"A": 10.0, "B": 20.0, "C": 1.0, "E": 0.0})
    assert t["completions"].to_dict() == {"A": 1, "B": 1, "C": 0, "E": 0}
    assert t.loc["B", "last_activity"] == T2 and pd.isna(t.loc["E", "last_activity"])
    assert t.loc["E", "cohort_id"] is None or pd.isna(t.loc["E", "cohort_id"])
    before = repo.activity_totals(small_store, "o1", since=T1, until=T2).set_index("leader_id")
    assert before["minutes"].to_dict() == pytest.approx({"A": 10.0, "B": 25.0, "C": 0.0, "E": 0.0})
    assert pd.isna(before.loc["C", "last_activity"]) and before.loc["A", "last_activity"] == T2


def test_a_new_leader_and_tiny_or_empty_cohorts(small_store, library):
    """Frames straight from the store, with nothing in them: no errors, nothing invented."""
    with transaction(small_store) as s:
        s.add(m.Cohort(id="c0", organization_id="o1", name="Empty"))
    now = T3 + timedelta(days=1)
    p = personal_progress(small_store, library, "E", now=now)
    assert p.time.minutes_total == 0 and p.modules.started == 0 and math.isnan(p.modules.completion_rate)
    assert p.trajectory.empty and p.under_invested.empty and p.checks.empty
    assert p.streak.last_activity is None
    tiny = cohort_overview(small_store, library, "c2", now=now)  # C alone, not assessed
    assert tiny.suppressed and tiny.members == 1
    assert set(tiny.attention["flag"]) == {"no-assessment"}  # C was active the day before
    assert tiny.engagement["minutes"].isna().all() and tiny.comparison["cohort_mean"].isna().all()
    empty = cohort_overview(small_store, library, "c0", now=now)
    assert empty.members == 0 and empty.roster.empty and empty.attention.empty and empty.heatmap.empty


# ------------------------------------------------------------- demo: personal
@pytest.fixture(scope="module")
def demo_leader(demo_engine) -> str:
    """A demo leader with an assessment, completed modules and knowledge checks."""
    est = repo.latest_estimates_of_group(demo_engine, organization_id="northwind")
    ev = repo.activity_events(demo_engine, organization_id="northwind")
    checked = set(ev.loc[ev.object_type == "knowledge-check", "leader_id"])
    return sorted(set(est["leader_id"]) & checked)[0]


def test_personal_progress_agrees_with_the_store(demo_engine, library, demo_leader):
    lid = demo_leader
    p = personal_progress(demo_engine, library, lid, now=NOW)
    ev = repo.activity_frame(demo_engine, lid)
    leader = repo.get_leader(demo_engine, lid)
    assert p.leader_id == lid and p.as_of == pd.Timestamp(NOW)
    assert p.time.minutes_total == pytest.approx(ev["duration_seconds"].fillna(0).sum() / 60)
    assert p.time.weekly_budget == leader.weekly_minutes and p.time.planned_minutes == 0  # the demo serves no plans
    assert p.modules.completed == len(repo.completed_modules(demo_engine, lid))
    assert p.modules.started == ev.loc[ev.object_type == "module", "object_id"].nunique()
    assert p.streak.last_activity == ev["timestamp"].max()
    assert p.checks["attempts"].sum() == (ev.object_type == "knowledge-check").sum()
    latest = repo.latest_estimates(demo_engine, lid).set_index("competency")
    assert len(p.trajectory) == len(repo.estimate_history(demo_engine, lid)) >= len(latest) > 0
    last = p.trajectory.drop_duplicates("competency", keep="last").set_index("competency")
    assert last["mean"].to_dict() == pytest.approx(latest["mean"].to_dict())
    inv = p.under_invested.set_index("competency")
    assert inv["mean"].to_dict() == pytest.approx(latest["mean"].to_dict())
    assert (inv["band"] == last.loc[inv.index, "band"]).all()


def test_naive_now_is_read_as_utc(demo_engine, library, demo_leader):
    a = personal_progress(demo_engine, library, demo_leader, now=NOW)
    b = personal_progress(demo_engine, library, demo_leader, now=NOW.replace(tzinfo=None))
    assert a.as_of == b.as_of and a.time.minutes_recent == b.time.minutes_recent


def test_unknown_leader_or_cohort(demo_engine, library):
    with pytest.raises(repo.NotFound):
        personal_progress(demo_engine, library, "L9999", now=NOW)
    with pytest.raises(repo.NotFound):
        cohort_overview(demo_engine, library, "C99", now=NOW)


def _untouched_modules(eng, library, lid: str, k: int) -> list[str]:
    seen = set(repo.activity_frame(eng, lid)["object_id"])
    return [mid for mid in library.modules if mid not in seen][:k]


def test_plans_events_and_new_estimates_show_up(demo_copy, library):
    eng = make_engine(demo_copy)
    lid = "L0020"
    stalled, waiting, fresh = _untouched_modules(eng, library, lid, 3)
    with transaction(eng) as s:
        for rid, mid, status, days in (("p1", stalled, "active", 30), ("p2", waiting, "active", 30),
                                       ("p3", fresh, "started", 3)):
            s.add(m.Recommendation(id=rid, leader_id=lid, module_id=mid, strategy="gap", score=1.0, reason="gap",
                                   propensity=0.5, status=status, served_at=NOW - timedelta(days=days)))
        record(s, make_statement(lid, "launched", "module", stalled, NOW - timedelta(days=25),
                                 competency=library.modules[stalled].primary_competency))
        comp = library.competency_ids[0]
        s.add(m.SkillEstimate(leader_id=lid, competency=comp, mean=0.9, sd=0.15, source="all",
                              estimated_at=NOW - timedelta(days=1)))
    p = personal_progress(eng, library, lid, now=NOW)
    assert p.time.planned_minutes == sum(item.minutes for item in current_plan(eng, library, lid))
    assert p.time.table["planned_modules"].sum() == 3
    row = p.modules.table.set_index("module_id").loc[stalled]
    assert row["status"] == "started" and row["title"] == library.modules[stalled].title
    traj = p.trajectory[p.trajectory.competency == comp]
    assert len(traj) == 2 and traj["mean"].iloc[-1] == 0.9
    assert p.under_invested.set_index("competency").loc[comp, "mean"] == 0.9

    cohort = repo.get_leader(eng, lid).cohort_id
    o = cohort_overview(eng, library, cohort, now=NOW)
    mine = o.attention[o.attention.leader_id == lid].set_index("flag")
    assert mine.loc["stalled", "reason"] == (f"Started \u201c{library.modules[stalled].title}\u201d 25 days ago "
                                             "and has not completed it.")
    assert mine.loc["not-started", "reason"] == (f"\u201c{library.modules[waiting].title}\u201d has been in the plan "
                                                 "for 30 days without being started.")
    assert "stalled" in o.roster.set_index("leader_id").loc[lid, "flags"]
    # a week later the freshly started module has not stalled yet; stricter settings catch it
    later = cohort_overview(eng, library, cohort, now=NOW, started_days=2)
    assert (later.attention.leader_id == lid).sum() == len(mine) + 1


# --------------------------------------------------------------- demo: cohort
def test_cohort_overview_agrees_with_the_store(demo_engine, library):
    o = cohort_overview(demo_engine, library, "C03", now=NOW)
    members = repo.leaders_frame(demo_engine, "C03")
    comps = list(library.competency_ids)
    org_est = repo.latest_estimates_of_group(demo_engine, organization_id="northwind")
    assessed = set(org_est.loc[org_est.cohort_id == "C03", "leader_id"])
    assert (o.members, o.suppressed, o.organization_id) == (len(members), False, "northwind")
    assert sorted(o.roster["leader_id"]) == sorted(members["leader_id"])
    assert len(o.heatmap) == len(members) * len(comps)
    assert set(o.heatmap.dropna(subset=["p_below"])["leader_id"]) == assessed
    by_comp = o.comparison.set_index("competency")
    rest = org_est[org_est.cohort_id != "C03"]  # the comparison is with the rest of the organization
    assert by_comp["org_n"].to_dict() == rest.groupby("competency").size().to_dict()
    assert (by_comp["cohort_n"] == len(assessed)).all()
    # the cohort mean is the mean of each member's latest estimate
    first = comps[0]
    means = [repo.latest_estimates(demo_engine, lid).set_index("competency").loc[first, "mean"] for lid in assessed]
    assert by_comp.loc[first, "cohort_mean"] == pytest.approx(np.mean(means))
    # two queries, one answer: the roster's recent minutes are the activity totals'
    totals = repo.activity_totals(demo_engine, "northwind", NOW - timedelta(days=28)).set_index("leader_id")
    roster = o.roster.set_index("leader_id")
    assert roster["minutes_recent"].to_dict() == pytest.approx(totals.loc[roster.index, "minutes"].to_dict())
    # inactive flags are exactly the members quiet for more than 14 days; no-assessment the unassessed
    quiet = set(roster.index[(pd.Timestamp(NOW) - roster["last_activity"] > pd.Timedelta(days=14))
                             | roster["last_activity"].isna()])
    assert set(o.attention.loc[o.attention.flag == "inactive", "leader_id"]) == quiet
    assert set(o.attention.loc[o.attention.flag == "no-assessment", "leader_id"]) == set(members.leader_id) - assessed
    weeks = o.engagement
    assert len(weeks) == 8 and not weeks["suppressed"].any()
    assert weeks["active_leaders"].max() <= len(members) and weeks["minutes"].sum() > 0
    ec = o.engagement_comparison.set_index("measure")
    assert ec.loc["minutes_per_leader", "org_n"] == len(totals) - len(members)
    assert ec.loc["minutes_per_leader", "cohort"] == pytest.approx(totals.loc[roster.index, "minutes"].mean())


def test_a_cohort_below_the_minimum_shows_no_aggregates(demo_copy, library):
    eng = make_engine(demo_copy)
    keep = repo.leaders_frame(eng, "C05")["leader_id"].tolist()[: MIN_GROUP - 1]
    with transaction(eng) as s:
        s.execute(sa.update(m.Leader).where(m.Leader.cohort_id == "C05", m.Leader.id.not_in(keep)).values(cohort_id="C06"))
    o = cohort_overview(eng, library, "C05", now=NOW)
    assert o.suppressed and o.members == MIN_GROUP - 1
    assert o.comparison["cohort_mean"].isna().all() and o.comparison["cohort_suppressed"].all()
    assert o.comparison["difference"].isna().all() and not o.comparison["org_mean"].isna().any()
    assert o.engagement[["active_leaders", "minutes", "completions"]].isna().all().all()
    assert o.distribution_summary["mean"].isna().all()
    assert o.engagement_comparison["cohort"].isna().all()
    assert math.isclose(len(o.heatmap), (MIN_GROUP - 1) * len(library.competency_ids))
    bigger = cohort_overview(eng, library, "C06", now=NOW)
    assert bigger.members == len(repo.leaders_frame(eng, "C06")) and not bigger.suppressed
