"""One meaning of "development area": every screen and text agrees with workbench.skills.need on the demo.

For the demo's leaders, the leader profile's card, the plan's reasons (every need-based strategy),
the coach's context, the peer grouping, the personal analytics and the cohort heatmap are built
from the store exactly as the apps build them, and each one's development areas are compared with
the skill model's :func:`workbench.skills.need.development_areas`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tests.conftest import AS_OF
from workbench.apps.leader import profile_summary, profile_table
from workbench.cohorts import development_areas as grouping_areas
from workbench.recommend import recommend
from workbench.services import practice as practice_service
from workbench.services.cohorts import cohort_members
from workbench.services.plans import leader_context
from workbench.services.progress import cohort_overview, personal_progress
from workbench.skills.need import DEVELOPMENT_AREA, development_areas
from workbench.store import repo

NOW = datetime.combine(AS_OF, datetime.min.time(), tzinfo=UTC)


@pytest.fixture(scope="module")
def truth(demo_engine, library):
    """``{leader_id: development areas}`` by the skill model, for the leaders of the first two cohorts."""
    leaders = repo.leaders_frame(demo_engine)
    cohorts = sorted(set(leaders.cohort_id.dropna()))[:2]
    out = {}
    for r in leaders[leaders.cohort_id.isin(cohorts)].itertuples():
        est = repo.latest_estimates(demo_engine, r.leader_id)
        exp = library.organization.expectations.get(r.role_level, {})
        out[r.leader_id] = development_areas({e.competency: (e.mean, e.sd) for e in est.itertuples()}, exp)
    return out


def test_the_demo_has_leaders_with_and_without_development_areas(truth):
    # otherwise the comparisons below would prove nothing
    assert sum(bool(v) for v in truth.values()) >= 5
    assert sum(not v for v in truth.values()) >= 1


def test_profile_card_lists_exactly_the_development_areas(demo_engine, library, truth):
    names = {c: comp.name for c, comp in library.competencies.items()}
    for lid, areas in truth.items():
        leader = repo.get_leader(demo_engine, lid)
        table = profile_table(repo.latest_estimates(demo_engine, lid), library, leader.role_level)
        dev, strong, card = profile_summary(table, leader.role_level)
        assert dev == [names[c] for c in areas], lid
        assert not set(dev) & set(strong)
        line = re.search(r"<b>Development areas:</b> (.*?)<div", card).group(1)
        if areas:
            assert line == ", ".join(names[c] for c in areas)
        else:
            assert line.startswith("none clearly below")


def test_plan_reasons_call_development_areas_what_the_model_does(demo_engine, library, truth):
    names = {comp.name: c for c, comp in library.competencies.items()}
    pattern = re.compile(r"^(?:For your moment .*?: it works on )?(.+?),? is (your (?:\w+-)?\w+ development area|one of "
                         r"your development areas)")
    checked = said_dev = 0
    for lid, areas in truth.items():
        ctx = leader_context(demo_engine, library, lid, now=NOW)
        for strategy in ("gap", "priority", "thompson"):
            for rec in recommend(ctx, library, strategy=strategy, rng=0):
                m = pattern.match(rec.reason)
                if m:
                    said_dev += 1
                    assert names[m.group(1)] in areas, (lid, rec.reason)
                    if "largest development area" in m.group(2) and not m.group(2).endswith("-largest development area"):
                        assert names[m.group(1)] == areas[0], (lid, rec.reason)
                for c in areas:  # never "you meet what is expected" of a development area
                    low = library.competencies[c].name
                    assert f"meet what is expected in {low[:1].lower() + low[1:]}" not in rec.reason
                    assert f"in {low[:1].lower() + low[1:]};" not in rec.reason
                checked += 1
    assert checked > 50 and said_dev > 5


def test_coach_context_gets_the_development_areas(demo_engine, library, truth):
    for lid, areas in truth.items():
        assert practice_service.development_areas(demo_engine, library, lid) == areas
    lid = next(lid for lid, areas in truth.items() if len(areas) >= 2)
    assert practice_service.coach_session(demo_engine, library, lid).state.context.development_areas == truth[lid]


def test_peer_grouping_uses_the_development_areas(demo_engine, library, truth):
    leaders = repo.leaders_frame(demo_engine)
    for cohort in sorted(set(leaders[leaders.leader_id.isin(truth)].cohort_id)):
        areas = grouping_areas(cohort_members(demo_engine, cohort, library))
        for lid, got in areas.items():
            if lid in truth:
                assert got == truth[lid], lid


def test_analytics_bands_agree(demo_engine, library, truth):
    for lid, areas in list(truth.items())[:12]:
        p = personal_progress(demo_engine, library, lid, now=NOW)
        got = set(p.under_invested.loc[p.under_invested.band == DEVELOPMENT_AREA, "competency"])
        assert got == set(areas), lid
    leaders = repo.leaders_frame(demo_engine)
    for cohort in sorted(set(leaders[leaders.leader_id.isin(truth)].cohort_id)):
        heat = cohort_overview(demo_engine, library, cohort, now=NOW).heatmap
        for lid, rows in heat.groupby("leader_id"):
            if lid in truth:
                assert set(rows.loc[rows.band == DEVELOPMENT_AREA, "competency"]) == set(truth[lid]), lid
