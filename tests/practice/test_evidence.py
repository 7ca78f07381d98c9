"""Scenario choices as GRM evidence: right direction, shrinking uncertainty, same as batch updates."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from workbench.practice.evidence import (
    DEFAULT_CHOICE_ITEM,
    ChoiceItem,
    apply_run,
    grid_points_for,
    posterior_from_estimates,
    run_evidence,
)
from workbench.practice.scenario import ScenarioRun, enumerate_paths
from workbench.skills.score import SkillPosterior

STARTS = [None, (0.0, 0.45), (1.2, 0.35), (-1.5, 0.5), (2.0, 0.25), (-0.5, 0.2), (0.3, 0.8)]


def _mean_quality(c):
    return sum(c.quality.values()) / len(c.quality)


def _posterior(library, start):
    dims = library.competency_ids
    if start is None:
        return SkillPosterior(dims)
    return posterior_from_estimates(dims, {c: start for c in dims})


def test_typical_leader_most_often_picks_quality_two():
    p = DEFAULT_CHOICE_ITEM.probabilities(0.0)[0]
    assert p.argmax() == 2 and abs(p.sum() - 1) < 1e-12
    assert DEFAULT_CHOICE_ITEM.probabilities(-3.0)[0].argmax() == 0
    assert DEFAULT_CHOICE_ITEM.probabilities(2.0)[0].argmax() == 3


def test_every_choice_on_every_path_shrinks_the_sd(library):
    """Each observation, one at a time, from several starting estimates, on all shipped paths."""
    dims = library.competency_ids
    a, b = DEFAULT_CHOICE_ITEM.a, np.asarray(DEFAULT_CHOICE_ITEM.b)
    checked, worst = 0, -np.inf
    starts = [_posterior(library, s) for s in STARTS]
    for sc in library.scenarios.values():
        for path in enumerate_paths(sc):
            choices = [next(c for c in sc.nodes[n].choices if c.id == cid) for n, cid in path]
            for start in starts:
                post = copy.deepcopy(start)
                for ch in choices:
                    for comp, level in ch.quality.items():
                        d = dims.index(comp)
                        m0, s0 = post.mean[d], post.sd[d]
                        post.add(comp, a, b, level)
                        worst = max(worst, post.sd[d] - s0)
                        if level == 3:
                            assert post.mean[d] > m0
                        if level == 0:
                            assert post.mean[d] < m0
                        checked += 1
    print(f"\n{checked} single-choice updates; largest SD change {worst:+.5f} (must be < 0)")
    assert worst < 0


@pytest.mark.parametrize("start", STARTS)
def test_a_defensible_choice_moves_the_estimate_between_a_strong_and_a_poor_one(library, start):
    """Quality 2 (a good option with a real cost) shifts the mean less than quality 3 and more than
    quality 1 or 0, from every starting estimate: the evidence orders the levels as the content does."""
    comp = library.competency_ids[0]
    a, b = DEFAULT_CHOICE_ITEM.a, np.asarray(DEFAULT_CHOICE_ITEM.b)
    shifts = []
    for level in range(4):
        post = _posterior(library, start)
        d = library.competency_ids.index(comp)
        m0 = post.mean[d]
        post.add(comp, a, b, level)
        shifts.append(post.mean[d] - m0)
    assert shifts[0] < shifts[1] < shifts[2] < shifts[3], shifts
    assert shifts[3] > 0 > shifts[0]
    # a defensible choice is closer to the strong one than to a poor one where the leader is typical
    if start in (None, (0.0, 0.45)):
        assert shifts[3] - shifts[2] < shifts[2] - shifts[0]


def test_good_run_moves_touched_estimates_up_and_poor_run_down(library):
    sc = library.scenarios["team-clash"]
    good, poor = ScenarioRun(sc), ScenarioRun(sc)
    while not good.done:
        good.choose(max(good.choices, key=_mean_quality).id)
    while not poor.done:
        poor.choose(min(poor.choices, key=_mean_quality).id)
    dims = library.competency_ids
    start = {c: (0.0, 0.45) for c in dims}
    up = apply_run(posterior_from_estimates(dims, start), good)
    down = apply_run(posterior_from_estimates(dims, start), poor)
    assert set(up) == set(down) == {"conflict", "communicating"}
    for comp in up:
        u, d = up[comp], down[comp]
        assert abs(u.before_mean) < 1e-3 and abs(u.before_sd - 0.45) < 1e-3
        assert u.after_mean > u.before_mean + 0.2, u
        assert d.after_mean < d.before_mean - 0.2, d
        assert u.after_sd < u.before_sd and d.after_sd < d.before_sd
        assert u.n_observations == good.steps_taken
    print("\nteam-clash, start N(0, 0.45²): " + "; ".join(
        f"{c}: good {u.before_mean:+.2f}±{u.before_sd:.2f} -> {u.after_mean:+.2f}±{u.after_sd:.2f}, "
        f"poor -> {down[c].after_mean:+.2f}±{down[c].after_sd:.2f}" for c, u in up.items()))


def test_apply_run_is_the_incremental_evidence_path(library):
    """apply_run equals adding each choice through SkillPosterior.add by hand."""
    sc = library.scenarios["the-broken-promise"]
    run = ScenarioRun(sc)
    rng = np.random.default_rng(3)
    while not run.done:
        run.choose(int(rng.integers(1, len(run.choices) + 1)))
    dims = library.competency_ids
    auto, manual = SkillPosterior(dims), SkillPosterior(dims)
    out = apply_run(auto, run)
    for e in run_evidence(run):
        manual.add(e.competency, DEFAULT_CHOICE_ITEM.a, np.asarray(DEFAULT_CHOICE_ITEM.b), e.level)
    np.testing.assert_allclose(auto.log_post, manual.log_post)
    untouched = [d for d, c in enumerate(dims) if c not in out]
    np.testing.assert_allclose(auto.sd[untouched], 1.0, atol=1e-6)
    assert sum(ch.n_observations for ch in out.values()) == len(run_evidence(run))
    assert out[next(iter(out))].as_dict()["competency"] == next(iter(out))


def test_apply_run_refuses_unfinished_runs_and_unknown_competencies(library):
    sc = library.scenarios["missed-deadline"]
    run = ScenarioRun(sc)
    run.choose(1)
    with pytest.raises(ValueError, match="has not reached an ending"):
        apply_run(SkillPosterior(library.competency_ids), run)
    partial = apply_run(SkillPosterior(library.competency_ids), run, allow_partial=True)
    assert all(c.n_observations == 1 for c in partial.values())
    with pytest.raises(ValueError, match="no dimension for"):
        apply_run(SkillPosterior(("trust",)), run, allow_partial=True)


@pytest.mark.parametrize("mean,sd", [(0.0, 1.0), (0.8, 0.4), (-1.7, 0.3), (2.2, 0.18), (0.0, 0.6)])
def test_posterior_from_estimates_reproduces_mean_and_sd(library, mean, sd):
    post = posterior_from_estimates(library.competency_ids, {"trust": (mean, sd)})
    d = library.competency_ids.index("trust")
    assert abs(post.mean[d] - mean) < 2e-3 and abs(post.sd[d] - sd) < 2e-3
    other = library.competency_ids.index("change")
    assert abs(post.mean[other]) < 1e-6 and abs(post.sd[other] - 1) < 1e-6
    assert grid_points_for({"trust": (mean, sd)}) == post.nodes.size


@pytest.mark.parametrize("estimates,match", [({"nope": (0.0, 1.0)}, "unknown competencies"),
                                             ({"trust": (0.0, 0.0)}, "positive SD"),
                                             ({"trust": (float("nan"), 0.5)}, "finite mean")])
def test_posterior_from_estimates_rejects_bad_input(library, estimates, match):
    with pytest.raises(ValueError, match=match):
        posterior_from_estimates(library.competency_ids, estimates)


@pytest.mark.parametrize("kwargs,match", [(dict(a=0.0), "positive"), (dict(b=(0.0, 1.0)), "3 thresholds"),
                                          (dict(b=(1.0, 0.0, 2.0)), "increasing")])
def test_choice_item_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ChoiceItem(**kwargs)


def test_only_the_first_run_of_each_scenario_counts():
    from workbench.practice.evidence import REPLAY_WEIGHT, evidence_weight, evidence_weights

    assert evidence_weight(0) == 1.0 and evidence_weight(1) == evidence_weight(9) == REPLAY_WEIGHT == 0.0
    assert evidence_weights(["a", "b", "a", "a", "b", "c"]) == [1.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    for bad in (-1, 1.5, True, "1"):
        with pytest.raises(ValueError, match="earlier_runs"):
            evidence_weight(bad)


def test_a_run_weighted_zero_leaves_the_posterior_exactly_and_a_fraction_moves_it_part_way(library):
    sc = next(iter(library.scenarios.values()))
    best = max(enumerate_paths(sc), key=lambda p: sum(
        _mean_quality(next(c for c in sc.nodes[n].choices if c.id == cid)) for n, cid in p))
    run = ScenarioRun(sc)
    for _, cid in best:
        run.choose(cid)
    dims = library.competency_ids
    start = {c: (0.0, 0.45) for c in dims}
    full, half, none = (posterior_from_estimates(dims, start) for _ in range(3))
    untouched = posterior_from_estimates(dims, start)
    f = apply_run(full, run)
    h = apply_run(half, run, weight=0.5)
    z = apply_run(none, run, weight=0.0)
    assert np.array_equal(none.log_post, untouched.log_post)
    for comp in f:
        assert z[comp].delta_mean == 0.0 and z[comp].weight == 0.0 and z[comp].n_observations == f[comp].n_observations
        if abs(f[comp].delta_mean) > 1e-3:
            assert 0 < h[comp].delta_mean / f[comp].delta_mean < 1
            assert f[comp].after_sd < h[comp].after_sd < h[comp].before_sd
    for bad in (-0.1, 1.5, float("nan"), True):
        with pytest.raises(ValueError, match="weight"):
            apply_run(posterior_from_estimates(dims, start), run, weight=bad)
