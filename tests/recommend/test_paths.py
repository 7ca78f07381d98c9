"""Learning paths: validation and pacing by hand, the preview against recommend(), content gaps."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from workbench.content.schema import Scenario
from workbench.recommend import ContextBatch, catalog_for, recommend
from workbench.recommend.figures import content_gap_figure, pacing_figure
from workbench.recommend.paths import (
    SCENARIO_BASE_MINUTES,
    SCENARIO_MINUTES_PER_DECISION,
    Persona,
    content_gaps,
    example_leaders,
    preview_recommendations,
    scenario_minutes,
    side_by_side,
    validate_path,
)
from workbench.sim.population import simulate_comparison

GOOD = ["delegation-basics", "levels-of-delegation", "feedback-sbi", "missed-deadline"]


@pytest.fixture(scope="module")
def persona():
    return Persona("first-time", ("delegating", "feedback"), weekly_minutes=30)


def codes(report):
    return [(i.severity, i.code, i.position, i.id) for i in report.issues]


def choice(cid, nxt):
    return {"id": cid, "text": "t", "next": nxt, "feedback": "f", "behavior": "b", "quality": {"trust": 2}}


# ------------------------------------------------------------------------------ scenarios
def test_scenario_minutes_follow_the_longest_path():
    sc = Scenario(id="tiny", title="T", summary="S", competencies=("trust",), start="a", nodes={
        "a": {"text": "a", "choices": [choice("x", "b"), choice("y", "end")]},
        "b": {"text": "b", "choices": [choice("x", "c"), choice("y", "end")]},
        "c": {"text": "c", "choices": [choice("x", "end"), choice("y", "end")]},
        "end": {"text": "done", "ending": True},
    })
    assert scenario_minutes(sc) == SCENARIO_BASE_MINUTES + 3 * SCENARIO_MINUTES_PER_DECISION


def test_every_shipped_scenario_gets_a_plausible_estimate(library):
    for sc in library.scenarios.values():
        decisions = sum(not n.ending for n in sc.nodes.values())
        assert SCENARIO_BASE_MINUTES + 3 * SCENARIO_MINUTES_PER_DECISION <= scenario_minutes(sc) \
            <= SCENARIO_BASE_MINUTES + decisions * SCENARIO_MINUTES_PER_DECISION


# ----------------------------------------------------------------------------- validation
def test_a_good_path_is_valid_and_paced_by_hand(library, persona):
    report = validate_path(library, persona, GOOD)
    assert report.ok and report.issues == ()
    sc = scenario_minutes(library.scenarios["missed-deadline"])
    assert [s.minutes for s in report.steps] == [15, 15, 15, sc]
    assert report.total_minutes == 45 + sc
    # 30 min a week: the two delegation modules fill week 1; SBI and the scenario share week 2
    assert [s.week for s in report.steps] == [1, 1, 2, 2]
    assert report.week_minutes().tolist() == [30.0, 15.0 + sc]
    assert [s.kind for s in report.steps] == ["module"] * 3 + ["scenario"]
    assert report.module_ids == tuple(GOOD[:3])
    table = report.table()
    assert table.id.tolist() == GOOD and table.focus.all()
    assert report.summary()["weeks"] == 2


def test_pacing_with_a_larger_budget_and_a_step_longer_than_the_week(library, persona):
    assert {s.week for s in validate_path(library, persona, GOOD, weekly_minutes=120).steps} == {1}
    report = validate_path(library, persona, ["feedback-sbi", "performance-conversations", "receiving-feedback-well"],
                           weekly_minutes=20)
    assert [s.week for s in report.steps] == [1, 2, 3]
    assert ("warning", "over-budget-step", 2, "performance-conversations") in codes(report)
    assert ("warning", "level-mismatch", 2, "performance-conversations") in codes(report)
    assert report.ok  # warnings only


def test_prerequisites_must_come_first(library, persona):
    report = validate_path(library, persona, ["levels-of-delegation", "feedback-sbi", "delegation-basics"])
    assert not report.ok
    [err] = report.errors
    assert err.code == "prerequisite-order" and err.position == 1
    assert "'delegation-basics', which comes later (step 3)" in err.message
    missing = validate_path(library, persona, ["levels-of-delegation", "difficult-feedback-conversations"])
    assert [(e.code, e.position) for e in missing.errors] == [("prerequisite-missing", 1), ("prerequisite-missing", 2)]
    assert "needs 'feedback-sbi', which is not in the path" in missing.errors[1].message
    assumed = validate_path(library, persona, ["levels-of-delegation"], assumed_completed={"delegation-basics"})
    assert assumed.ok


def test_unknown_ids_are_named_with_suggestions(library, persona):
    report = validate_path(library, persona, ["delegaton-basics", "feedback-sbi", "no-such-thing", "scenario:feedback-sbi"])
    assert report.unknown_ids == ("delegaton-basics", "no-such-thing", "feedback-sbi")
    first = report.errors[0]
    assert first.position == 1 and "did you mean 'delegation-basics'" in first.message
    assert "is not a scenario in the library" in report.errors[2].message
    assert [s.id for s in report.steps] == ["feedback-sbi"]


def test_duplicates_prefixes_and_ambiguous_ids(library, persona):
    dup = validate_path(library, persona, ["feedback-sbi", "module:feedback-sbi"])
    assert [c for c in codes(dup) if c[0] == "error"] == [("error", "duplicate", 2, "feedback-sbi")]
    both = dataclasses.replace(library, scenarios={**library.scenarios,
                                                   "feedback-sbi": library.scenarios["missed-deadline"]})
    amb = validate_path(both, persona, ["feedback-sbi"])
    assert [c for c in codes(amb) if c[0] == "error"] == [("error", "ambiguous-id", 1, "feedback-sbi")]
    settled = validate_path(both, persona, ["module:feedback-sbi", "scenario:feedback-sbi"])
    assert settled.ok and [s.kind for s in settled.steps] == ["module", "scenario"]
    bad = validate_path(library, persona, ["course:feedback-sbi", "", 7])
    assert [e.code for e in bad.errors] == ["bad-step"] * 3


def test_focus_and_level_warnings(library, persona):
    report = validate_path(library, persona, ["feedback-sbi", "leading-a-transformation", "why-change-stalls"])
    got = codes(report)
    assert ("warning", "off-focus", 2, "leading-a-transformation") in got
    assert ("warning", "level-mismatch", 2, "leading-a-transformation") in got
    assert ("warning", "focus-uncovered", None, "delegating") in got
    assert ("error", "prerequisite-order", 2, "leading-a-transformation") in got
    assert report.issues_table().severity.tolist()[0] == "error"


@pytest.mark.parametrize(("make", "message"), [
    (lambda: Persona("manager", ("trust",)), "role_level"),
    (lambda: Persona("senior", ()), "at least one competency"),
    (lambda: Persona("senior", ("trust",), weekly_minutes=0), "weekly_minutes"),
])
def test_bad_personas_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_paths_are_named(library, persona):
    with pytest.raises(ValueError, match="unknown competencies \\['listening'\\]"):
        validate_path(library, Persona("senior", ("trust", "listening")), GOOD)
    with pytest.raises(ValueError, match="not one string"):
        validate_path(library, persona, "feedback-sbi")
    with pytest.raises(ValueError, match="weekly_minutes"):
        validate_path(library, persona, GOOD, weekly_minutes=-5)
    assert [e.code for e in validate_path(library, persona, []).errors] == ["empty-path"]


def test_assumed_completed_unknown_ids_are_errors(library, persona):
    report = validate_path(library, persona, ["feedback-sbi"], assumed_completed={"nope"})
    assert not report.ok and "unknown modules ['nope']" in report.errors[0].message


# -------------------------------------------------------------------------------- preview
@pytest.fixture(scope="module")
def people(library):
    return simulate_comparison(library, 120, seed=8).contexts()


def test_example_leaders_span_the_focus_need(library, persona, people):
    picks = example_leaders(people, library, persona, n=3)
    assert len(picks) == 3 and all(p.role_level == "first-time" for p in picks)
    pool = [c for c in people if c.role_level == "first-time"]
    batch = ContextBatch.from_contexts(pool, catalog_for(library))
    cat = batch.catalog
    need = batch.need[:, [cat.competency_index["delegating"], cat.competency_index["feedback"]]].mean(axis=1)
    by_id = dict(zip([c.leader_id for c in pool], need, strict=True))
    got = [by_id[p.leader_id] for p in picks]
    assert got[0] == need.max() and got[-1] == need.min() and got[0] > got[1] > got[2]
    with pytest.raises(ValueError, match="only 0 of the contexts"):
        example_leaders(people[:0], library, persona)


def test_preview_is_what_recommend_gives(library, persona, people):
    report = validate_path(library, persona, GOOD)
    leaders = example_leaders(people, library, persona)
    preview = preview_recommendations(library, report, leaders, "priority", seed=4)
    for i, ctx in enumerate(leaders):
        mine = preview[preview.leader_id == ctx.leader_id]
        recs = recommend(ctx, library, "priority", k=3, rng=np.random.default_rng([4, i]))
        assert mine.module_id.tolist() == [r.module_id for r in recs]
        assert mine["rank"].tolist() == [r.rank for r in recs]
    where = {"delegation-basics": 1, "levels-of-delegation": 2, "feedback-sbi": 3}
    for r in preview.itertuples():
        assert r.in_path == (r.module_id in where)
        assert (r.path_position if r.in_path else None) == where.get(r.module_id)
    wide = side_by_side(report, preview)
    assert wide.id.tolist()[:4] == GOOD
    outside = set(preview.module_id) - set(GOOD)
    assert set(wide.id[4:]) == outside and len(wide) == 4 + len(outside)
    for r in preview.itertuples():
        assert wide.set_index("id").loc[r.module_id, r.leader_id] == f"#{r.rank}"


def test_preview_of_a_leader_with_no_room(library, persona, make_context):
    full = make_context("first-time", leader_id="busy", weekly_minutes=5)
    preview = preview_recommendations(library, validate_path(library, persona, GOOD), [full])
    assert preview["rank"].tolist() == [0] and preview.module_id.isna().all()
    with pytest.raises(ValueError, match="no example leaders"):
        preview_recommendations(library, validate_path(library, persona, GOOD), [])


# ---------------------------------------------------------------------------- content gaps
def test_content_gaps_by_level_count_every_module_once(library):
    gaps = content_gaps(library, threshold=2)
    assert len(gaps) == 8 * 3 and gaps.n_modules.sum() == len(library.modules)
    for r in gaps.itertuples():
        expected = [m.id for m in library.find_modules(competency=r.competency, level=r.level)
                    if m.primary_competency == r.competency]
        assert r.n_modules == len(expected) and r.modules == ", ".join(expected)
        assert r.gap == (r.n_modules < 2) and r.missing == max(2 - r.n_modules, 0)
    row = gaps[(gaps.competency == "communicating") & (gaps.level == "experienced")].iloc[0]
    assert row.n_modules == 0 and row.gap and row.missing == 2


def test_content_gaps_by_level_and_format_and_any_competency(library):
    both = content_gaps(library, threshold=1, by=("level", "format"))
    assert len(both) == 8 * 3 * 5 and both.n_modules.sum() == len(library.modules)
    assert both.gap.sum() == (both.n_modules == 0).sum()
    anyc = content_gaps(library, threshold=1, by="format", count="any")
    assert anyc.n_modules.sum() == sum(len(m.competencies) for m in library.modules.values())
    for bad, message in (({"threshold": 0}, "threshold"), ({"by": ("topic",)}, "by must"),
                         ({"by": ("level", "level")}, "by must"), ({"count": "all"}, "count")):
        with pytest.raises(ValueError, match=message):
            content_gaps(library, **bad)


def test_figures(library, persona):
    gaps = content_gaps(library, threshold=2)
    fig = content_gap_figure(gaps)
    z = np.asarray(fig.data[0].z)
    assert z.shape == (8, 3) and z.sum() == len(library.modules)
    text = np.asarray(fig.data[0].text)
    assert ((np.char.endswith(text.astype(str), "!")) == (z < 2)).all()
    assert f"({int((z < 2).sum())} cells below 2, marked !)" in fig.layout.title.text
    assert np.asarray(content_gap_figure(content_gaps(library, by=("level", "format"))).data[0].z).shape == (8, 15)
    report = validate_path(library, persona, GOOD)
    pacing = pacing_figure(report)
    assert len(pacing.data) == 4 and [t.x[0] for t in pacing.data] == [1, 1, 2, 2]
