"""Each strategy on hand-made profiles, through the one interface (Strategy.rank) and recommend()."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.recommend import (
    STRATEGIES,
    EffectivenessModel,
    choice_probabilities,
    get_strategy,
    recommend,
)


def primary(library, module_id: str) -> str:
    return library.modules[module_id].primary_competency


def test_every_strategy_speaks_the_same_interface(library, make_context):
    ctx = make_context(gaps={"delegating": 1.0}, moment="new-role")
    for name in STRATEGIES:
        strat = get_strategy(name, popularity={"feedback-sbi": 3})
        ranked = strat.rank(ctx, library, rng=0)
        assert sorted(c.module_id for c in ranked) == sorted(library.modules)
        scores = [c.score for c in ranked]
        assert scores == sorted(scores, reverse=True)
        assert all(isinstance(c.reason, str) and c.reason.endswith(".") for c in ranked)


def test_gap_puts_the_weakest_competency_first(library, make_context):
    ctx = make_context(gaps={"delegating": 1.0, "feedback": 0.7})
    top = get_strategy("gap").rank(ctx, library)[0]
    assert primary(library, top.module_id) == "delegating" and top.competency == "delegating"
    recs = recommend(ctx, library, "gap")
    assert recs[0].competency == "delegating"
    assert recs[0].reason.startswith("Delegating is your largest development area")
    assert recs[1].focus == "feedback" and "Giving feedback is your second-largest" in recs[1].reason


def test_gap_uses_certainty(library, make_context):
    # same mean gap; the sure one outranks the vague one
    ctx = make_context(gaps={"delegating": 0.6, "conflict": 0.6})
    sd = dict(ctx.skill_sd, conflict=0.05, delegating=1.5)
    sure = type(ctx)(**{**ctx.__dict__, "skill_sd": sd})
    assert recommend(sure, library, "gap")[0].competency == "conflict"


def test_priority_follows_the_organization(library, make_context, with_priorities):
    ctx = make_context(gaps={"conflict": 0.8, "change": 0.8})
    first = recommend(ctx, library, "priority")[0]
    assert first.competency == "change"  # change 1.0 beats conflict 0.4 in Northwind's priorities
    assert "a top priority for your organization" in first.reason
    swapped = with_priorities({"change": 0.1, "conflict": 1.0})
    assert recommend(ctx, swapped, "priority")[0].competency == "conflict"
    # gap ignores priorities: the two needs tie and library order decides either way
    assert recommend(ctx, library, "gap")[0].module_id == recommend(ctx, swapped, "gap")[0].module_id


def test_first_time_leaders_get_foundations(library, make_context):
    gaps = {"change": 0.9, "decisions": 0.8, "conflict": 0.7, "feedback": 0.6}
    new = recommend(make_context("first-time", gaps=gaps), library, "priority")
    assert len(new) == 3
    assert all(library.modules[r.module_id].level == "first-time" for r in new)
    assert "first leadership role" in new[0].reason
    seasoned = recommend(make_context("experienced", gaps=gaps), library, "priority")
    assert any(library.modules[r.module_id].level != "first-time" for r in seasoned)


def test_moment_puts_the_moments_modules_first(library, make_context):
    moment = library.moments["leading-transformation"]
    ctx = make_context(gaps={"delegating": 1.5}, moment=moment.id)
    recs = recommend(ctx, library, "moment")
    assert len(recs) == 3 and all(r.module_id in moment.modules for r in recs)
    assert all(moment.name in r.reason for r in recs)
    ranked = get_strategy("moment").rank(ctx, library)
    inside = [c.module_id in moment.modules for c in ranked]
    assert inside == sorted(inside, reverse=True)
    with pytest.raises(ValueError, match="needs a moment"):
        recommend(make_context(), library, "moment")


def test_popular_follows_completions(library, make_context):
    counts = {"feedback-sbi": 50, "trust-foundations": 40, "clear-messages": 30, "conflict-styles": 20}
    recs = recommend(make_context(), library, "popular", popularity=counts)
    assert [r.module_id for r in recs] == ["feedback-sbi", "trust-foundations", "clear-messages"]
    assert "completed 50 times" in recs[0].reason
    with pytest.raises(ValueError, match="needs popularity"):
        recommend(make_context(), library, "popular")
    with pytest.raises(ValueError, match="must be a count"):
        recommend(make_context(), library, "popular", popularity={"feedback-sbi": -1})


def test_random_is_uniform_and_seeded(library, make_context):
    ctx = make_context()
    a, b = recommend(ctx, library, "random", rng=11), recommend(ctx, library, "random", rng=11)
    assert a == b
    assert any(recommend(ctx, library, "random", rng=s) != a for s in range(5))
    for r in a:
        assert r.propensity == pytest.approx(1 / r.candidates)


def test_thompson_is_reproducible_with_a_seed(library, make_context):
    ctx = make_context(gaps={"delegating": 1.0})
    assert recommend(ctx, library, "thompson", rng=5) == recommend(ctx, library, "thompson", rng=5)
    strat = get_strategy("thompson")
    assert strat.rank(ctx, library, rng=9) == strat.rank(ctx, library, rng=9)
    assert strat.rank(ctx, library, rng=9) != strat.rank(ctx, library, rng=10)


def test_thompson_learns_from_completions_and_gains(library, make_context):
    ctx = make_context(gaps={"delegating": 1.0})
    prior = EffectivenessModel.prior(library.modules)
    before = choice_probabilities([ctx], library, "thompson", rng=1, effectiveness=prior)[0]
    ids = list(library.modules)
    assert ids[int(before.argmax())] == "delegating-for-growth"  # the experienced-level module fits best a priori
    basics = ids.index("delegation-basics")
    learned = prior.update(["delegation-basics"] * 40 + ["delegating-for-growth"] * 20,
                           completed=[True] * 40 + [False] * 20, gains=[0.6] * 40 + [None] * 20)
    after = choice_probabilities([ctx], library, "thompson", rng=1, effectiveness=learned)[0]
    assert before[basics] < 0.3 < 0.7 < after[basics]
    rank_before = [c.module_id for c in get_strategy("thompson", effectiveness=prior).rank(ctx, library, rng=2)]
    rank_after = [c.module_id for c in get_strategy("thompson", effectiveness=learned).rank(ctx, library, rng=2)]
    assert rank_after.index("delegation-basics") < rank_before.index("delegation-basics")
    assert rank_after[0] == "delegation-basics"
    rec = recommend(ctx, library, "thompson", rng=3, effectiveness=learned)[0]
    assert rec.module_id == "delegation-basics" and rec.reason.startswith("Delegating is your largest")


def test_unknown_strategy_is_named(library, make_context):
    with pytest.raises(ValueError, match="unknown strategy 'best'"):
        recommend(make_context(), library, "best")
    with pytest.raises(ValueError, match="must be an EffectivenessModel"):
        get_strategy("thompson", effectiveness={"a": 1})


def test_scores_are_numpy_over_all_leaders(library, make_context):
    from workbench.recommend import ContextBatch

    ctxs = [make_context(gaps={c: 1.0}, leader_id=f"L{i}") for i, c in enumerate(library.competencies)]
    batch = ContextBatch.from_contexts(ctxs, library)
    s = get_strategy("gap").scores(batch, np.random.default_rng(0))
    assert s.shape == (len(ctxs), len(library.modules))
    best = [library.modules[list(library.modules)[j]].primary_competency for j in s.argmax(axis=1)]
    assert best == list(library.competencies)


def test_priority_reasons_quote_the_organizations_rationale(library, make_context, with_priorities):
    ctx = make_context(gaps={"conflict": 0.8, "change": 0.8})
    first = recommend(ctx, library, "priority")[0]
    why = library.organization.priority_rationale("change")
    assert why.startswith("We are moving from regional depots")
    assert first.reason.endswith(f": \u201c{why.rstrip('.')}\u201d.")
    # conflict (weight 0.4) is not a stated priority, so its rationale is not quoted...
    low = recommend(make_context(gaps={"conflict": 0.8}), library, "priority")[0]
    assert low.competency == "conflict" and "\u201c" not in low.reason
    # ...until the organization makes it one: the reason follows organization.yaml
    swapped = with_priorities({"change": 0.1, "conflict": 1.0})
    top = recommend(ctx, swapped, "priority")[0]
    assert top.competency == "conflict" and "Merging depot teams will create some friction" in top.reason


def test_priority_reason_text():
    from workbench.recommend.reasons import priority_reason

    plain = priority_reason("Leading change", "development area", 0, "experienced", 1.0, False)
    quoted = priority_reason("Leading change", "development area", 0, "experienced", 1.0, False,
                             "  We move   depots. ")
    assert plain == "Leading change is your largest development area and a top priority for your organization."
    assert quoted == ("Leading change is your largest development area and a top priority for your "
                      "organization: \u201cWe move depots\u201d.")
    strength = priority_reason("Leading change", "strength", 0, "senior", 0.9, True, "We move depots.")
    assert strength.startswith("Leading change is a top priority for your organization: \u201cWe move depots\u201d. ")
    assert strength.endswith("first leadership role.")
    assert "We move" not in priority_reason("Leading change", "strength", 0, "senior", 0.2, False, "We move depots.")
