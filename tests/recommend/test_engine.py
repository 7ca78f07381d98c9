"""The engine: every constraint, propensities that are real probabilities, batch = one by one."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from workbench.recommend import (
    EngineOptions,
    LeaderContext,
    choice_probabilities,
    get_strategy,
    recommend,
    recommend_batch,
    select_batch,
)

STRATEGY_NAMES = ("gap", "priority", "thompson", "moment", "popular", "random")


def popularity(library):
    return {m: (i * 7) % 23 for i, m in enumerate(library.modules)}


def random_contexts(library, n: int, seed: int) -> list[LeaderContext]:
    rng = np.random.default_rng(seed)
    comps, mods, moments = list(library.competencies), list(library.modules), list(library.moments)
    out = []
    for i in range(n):
        level = ("first-time", "experienced", "senior")[i % 3]
        done = [mods[j] for j in rng.choice(len(mods), rng.integers(0, 12), replace=False)]
        active = [mods[j] for j in rng.choice(len(mods), rng.integers(0, 4), replace=False)]
        out.append(LeaderContext(
            f"R{i}", level, dict(zip(comps, rng.normal(0, 0.8, len(comps)), strict=True)),
            dict(zip(comps, rng.uniform(0.15, 0.9, len(comps)), strict=True)),
            completed=done, active=active,
            weekly_minutes=float(rng.choice([0, 20, 30, 45, 60, 90, 200])),
            minutes_used_this_week=float(rng.integers(0, 40)),
            format_preference=rng.choice([None, "article", "tool", "practice"]),
            moment=moments[i % len(moments)],
        ))
    return out


# ------------------------------------------------------------- a reference check
def feasible(ctx: LeaderContext, library, chosen: list[str], max_minutes: float = 30) -> list[str]:
    """Feasible modules at the next slot, written independently of the engine."""
    used = {library.modules[m].primary_competency for m in list(ctx.active) + chosen if m in library.modules}
    left = ctx.remaining_minutes - sum(library.modules[m].minutes for m in chosen)
    fits = [m.id for m in library.modules.values()
            if m.id not in ctx.completed and m.id not in ctx.active and m.id not in chosen
            and set(m.prerequisites) <= ctx.completed and m.minutes <= max_minutes and m.minutes <= left]
    spread = [m for m in fits if library.modules[m].primary_competency not in used]
    return spread or fits


@pytest.mark.parametrize("strategy", STRATEGY_NAMES)
def test_every_constraint_holds_on_random_leaders(library, strategy):
    contexts = random_contexts(library, 150, seed=4)
    batches = recommend_batch(contexts, library, strategy, rng=8, popularity=popularity(library), n_draws=200)
    greedy = get_strategy(strategy, popularity=popularity(library)).policy == "greedy"
    filled = 0
    for ctx, recs in zip(contexts, batches, strict=True):
        assert len(recs) <= max(0, min(3, 3 - len(ctx.active)))
        chosen: list[str] = []
        scores = ({c.module_id: c.score for c in get_strategy(strategy, popularity=popularity(library)).rank(ctx, library)}
                  if greedy else None)
        for slot, r in enumerate(recs):
            options = feasible(ctx, library, chosen)
            assert r.module_id in options, (ctx.leader_id, slot, r.module_id)
            assert r.rank == slot + 1 and r.candidates == len(options)
            assert 0 < r.propensity <= 1
            if greedy:
                assert r.propensity == 1.0
                assert r.score == pytest.approx(max(scores[m] for m in options), abs=1e-9)
            chosen.append(r.module_id)
        if len(recs) < min(3, 3 - len(ctx.active)):
            assert not feasible(ctx, library, chosen)  # stopped only because nothing fits
        filled += len(recs)
    assert filled > 100  # the constraints leave room for real recommendations


def test_weekly_time_budget(library, make_context):
    gaps = {"feedback": 1.0, "conflict": 0.9, "change": 0.8}
    roomy = recommend(make_context(gaps=gaps, weekly_minutes=200), library, "priority")
    assert sum(r.minutes for r in roomy) > 30  # the budget below binds
    tight = recommend(make_context(gaps=gaps, weekly_minutes=60, minutes_used_this_week=30), library, "priority")
    assert tight and sum(r.minutes for r in tight) <= 30
    assert recommend(make_context(gaps=gaps, weekly_minutes=60, minutes_used_this_week=60), library) == []
    assert recommend(make_context(gaps=gaps, weekly_minutes=5), library) == []  # shortest module is 10 minutes


def test_prerequisites_are_respected(library, make_context):
    ctx = make_context(gaps={"conflict": 1.2})
    recs = recommend(ctx, library, "priority")
    assert "mediating-team-conflict" not in [r.module_id for r in recs]  # needs conflict-styles first
    assert recs[0].competency == "conflict"
    after = recommend(make_context(gaps={"conflict": 1.2}, completed={"conflict-styles"}), library, "priority")
    assert after[0].module_id == "mediating-team-conflict"


def test_completed_and_active_modules_are_not_recommended(library, make_context):
    first = recommend(make_context(gaps={"delegating": 1.0}), library, "gap")[0].module_id
    for field in ("completed", "active"):
        recs = recommend(make_context(gaps={"delegating": 1.0}, **{field: {first}}), library, "gap")
        assert first not in [r.module_id for r in recs]


def test_declined_modules_are_skipped_without_taking_a_place(library, make_context):
    base = recommend(make_context(gaps={"delegating": 1.0}), library, "gap")
    first = base[0].module_id
    recs = recommend(make_context(gaps={"delegating": 1.0}, declined={first}), library, "gap")
    assert first not in [r.module_id for r in recs] and len(recs) == len(base) == 3
    # in a batch with other leaders, the declined set stays with its own leader
    batch = recommend_batch([make_context(gaps={"delegating": 1.0}, declined={first}),
                             make_context(gaps={"delegating": 1.0})], library, "gap")
    assert batch[0] == recs and batch[1] == base


def test_at_most_three_active(library, make_context):
    assert len(recommend(make_context(), library, k=10)) == 3
    assert len(recommend(make_context(active={"feedback-sbi", "clear-messages"}), library)) == 1
    assert recommend(make_context(active={"feedback-sbi", "clear-messages", "gone-module"}), library) == []
    assert len(recommend(make_context(), library, k=2)) == 2
    assert recommend(make_context(), library, k=0) == []


def test_thirty_minute_cap(library, make_context):
    ctx = make_context(gaps={"delegating": 1.0})
    top = recommend(ctx, library, "priority")[0].module_id
    long = library.modules[top].model_copy(update={"minutes": 45})
    longer = dataclasses.replace(library, modules={**library.modules, top: long})
    assert top not in [r.module_id for r in recommend(ctx, longer, "priority")]
    assert recommend(ctx, longer, "priority", max_minutes=60)[0].module_id == top


def test_spread_across_competencies(library, make_context):
    recs = recommend(make_context(gaps={"delegating": 2.0}), library, "gap")
    assert recs[0].competency == "delegating"
    assert len({r.competency for r in recs}) == 3
    # an active recommendation's competency counts too
    recs = recommend(make_context(gaps={"delegating": 2.0}, active={"delegation-basics"}), library, "gap")
    assert "delegating" not in [r.competency for r in recs]
    # unless nothing else fits
    others = {m.id for m in library.modules.values() if m.primary_competency != "delegating"}
    recs = recommend(make_context(gaps={"delegating": 2.0}, completed=others), library, "gap")
    assert len(recs) == 3 and {r.competency for r in recs} == {"delegating"}


def test_format_preference_only_breaks_ties(library, make_context):
    # the two decisions-only experienced modules always tie under gap
    base = recommend(make_context(gaps={"decisions": 1.0}), library, "gap")[0]
    assert base.module_id == "avoiding-decision-traps"  # library order
    article = recommend(make_context(gaps={"decisions": 1.0}, format_preference="article"), library, "gap")[0]
    assert article.module_id == "deciding-under-uncertainty" and article.score == base.score
    # a preferred format never beats a higher score
    ctx = make_context(gaps={"decisions": 1.0, "delegating": 0.5}, format_preference="podcast-script")
    assert recommend(ctx, library, "gap")[0].competency == "decisions"
    for ctx in random_contexts(library, 60, seed=9):
        plain = dataclasses.replace(ctx, format_preference=None)
        for strategy in ("gap", "priority", "popular"):
            a = recommend(ctx, library, strategy, popularity=popularity(library))
            b = recommend(plain, library, strategy, popularity=popularity(library))
            if a:
                assert a[0].score == pytest.approx(b[0].score, abs=1e-12)


def test_reasons_name_the_competency(library, make_context):
    for comp, item in library.competencies.items():
        ctx = make_context(gaps={comp: 1.0})
        for strategy in ("gap", "priority", "thompson"):
            rec = recommend(ctx, library, strategy, rng=0)[0]
            assert rec.focus == comp, (strategy, comp)
            assert rec.reason.startswith(f"{item.name} is your largest development area")
    ctx = make_context(margin=0.5)
    for r in recommend(ctx, library, "priority") + recommend(ctx, library, "random", rng=1):
        assert library.competencies[r.focus].name.lower() in r.reason.lower()
        assert "development area" not in r.reason  # nothing is below expectation


def test_choice_distributions_sum_to_one(library):
    contexts = random_contexts(library, 40, seed=2)
    recs = recommend_batch(contexts, library, "priority")
    chosen = [[r.module_id for r in rs[:1]] for rs in recs]
    for strategy, kw in [("priority", {}), ("gap", {"epsilon": 0.3}), ("popular", {"temperature": 2.0}),
                         ("random", {}), ("thompson", {"n_draws": 300}), ("moment", {"temperature": 0.1})]:
        for earlier in (None, chosen):
            p = choice_probabilities(contexts, library, strategy, chosen=earlier, rng=0,
                                     popularity=popularity(library), **kw)
            sums = p.sum(axis=1)
            assert np.all((np.abs(sums - 1) < 1e-9) | (sums == 0)), strategy
            assert (sums > 0).sum() >= 10
            assert np.all(p >= 0)


def test_logged_propensity_is_the_probability_of_the_choice(library, make_context):
    ctx = make_context(gaps={"delegating": 0.8, "feedback": 0.6})
    ids = list(library.modules)
    # epsilon-greedy and softmax: the logged propensity is the slot's probability
    for kw in ({"epsilon": 0.25}, {"temperature": 0.3}):
        for seed in range(5):
            recs = recommend(ctx, library, "priority", rng=seed, **kw)
            for j, r in enumerate(recs):
                p = choice_probabilities([ctx], library, "priority", chosen=[[x.module_id for x in recs[:j]]], **kw)
                assert r.propensity == pytest.approx(p[0, ids.index(r.module_id)], rel=1e-12)
    # Thompson: over many independent runs, first-slot choices come out at the estimated rates
    runs = recommend_batch([ctx] * 3000, library, "thompson", k=1, rng=12, n_draws=200)
    freq = np.bincount([ids.index(rs[0].module_id) for rs in runs], minlength=len(ids)) / len(runs)
    truth = choice_probabilities([ctx], library, "thompson", rng=13, n_draws=40_000)[0]
    assert np.abs(freq - truth).max() < 0.04
    assert truth.max() < 0.9  # a genuinely spread distribution
    props = np.array([rs[0].propensity for rs in runs])
    picked = np.array([ids.index(rs[0].module_id) for rs in runs])
    # importance weights of the logged choices average to 1 for any target that covers them
    assert np.mean(truth[picked] / props) == pytest.approx(1.0, abs=0.08)


def test_deterministic_strategies_have_propensity_one(library, make_context):
    for strategy in ("gap", "priority", "popular"):
        for r in recommend(make_context(gaps={"trust": 1}), library, strategy, popularity=popularity(library)):
            assert r.propensity == 1.0


def test_batch_equals_one_by_one(library):
    contexts = random_contexts(library, 80, seed=6)
    for strategy in ("gap", "priority", "moment", "popular"):
        batch = recommend_batch(contexts, library, strategy, popularity=popularity(library))
        assert batch == [recommend(c, library, strategy, popularity=popularity(library)) for c in contexts]
    sel = select_batch(contexts, library, "priority")
    assert sel.modules.shape == (80, 3) and sel.leader_ids[0] == "R0"
    assert np.all((sel.propensities == 1) == (sel.modules >= 0))


def test_bad_input_is_named(library, make_context):
    ctx = make_context()
    with pytest.raises(ValueError, match="k must be an integer >= 0"):
        recommend(ctx, library, k=-1)
    with pytest.raises(ValueError, match="not both"):
        recommend(ctx, library, epsilon=0.1, temperature=1.0)
    with pytest.raises(ValueError, match="already stochastic"):
        recommend(ctx, library, "thompson", epsilon=0.1)
    with pytest.raises(ValueError, match=r"epsilon must be in \[0, 1\]"):
        recommend(ctx, library, epsilon=1.5)
    with pytest.raises(ValueError, match="n_draws"):
        recommend(ctx, library, "thompson", n_draws=0)
    with pytest.raises(ValueError, match="leader L7: unknown competency 'delegation'"):
        recommend(LeaderContext("L7", "senior", {"delegation": 0.1}, {"delegation": 0.3}), library)
    with pytest.raises(ValueError, match="leader L8: unknown moment 'promotion'"):
        recommend(LeaderContext("L8", "senior", moment="promotion"), library)
    with pytest.raises(ValueError, match="must be a LeaderContext"):
        recommend({"leader_id": "L1"}, library)
    with pytest.raises(ValueError, match="chosen has 2 entries for 1 contexts"):
        choice_probabilities([ctx], library, chosen=[[], []])
    with pytest.raises(ValueError, match="unknown module 'nope'"):
        choice_probabilities([ctx], library, chosen=[["nope"]])


def test_engine_options_are_one_checked_value(library):
    opts = EngineOptions(k=2, epsilon=0.2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.k = 3  # type: ignore[misc]
    with pytest.raises(ValueError, match="max_minutes must be > 0"):
        EngineOptions(max_minutes=0)
    with pytest.raises(TypeError, match="options must be an EngineOptions"):
        EngineOptions.of(2)  # a positional k where the options go
    assert EngineOptions.of(opts, k=1) == EngineOptions(k=1, epsilon=0.2)
    contexts = random_contexts(library, 40, 3)
    by_value = select_batch(contexts, library, "priority", opts, rng=5)
    by_name = select_batch(contexts, library, "priority", k=2, epsilon=0.2, rng=5)
    np.testing.assert_array_equal(by_value.modules, by_name.modules)
    np.testing.assert_array_equal(by_value.propensities, by_name.propensities)
    assert by_value.modules.shape == (40, 2) and (by_value.propensities < 1).any()


def test_an_unassessed_leader_gets_recommendations(library):
    recs = recommend(LeaderContext("L0", "first-time"), library, "priority")
    assert len(recs) == 3 and all(library.modules[r.module_id].level == "first-time" for r in recs)


def test_to_dict_is_plain(library, make_context):
    rec = recommend(make_context(gaps={"trust": 1}), library)[0]
    d = rec.to_dict()
    assert d["module_id"] == rec.module_id and d["strategy"] == "priority" and d["rank"] == 1
