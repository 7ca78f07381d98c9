from __future__ import annotations

import pytest

from workbench.cohorts.groups import Member
from workbench.cohorts.peer import (
    PeerFeedback,
    PeerRatingItem,
    apply_peer_feedback,
    feedback_form,
    pair_for_practice,
)
from workbench.practice import posterior_from_estimates


@pytest.fixture(scope="module")
def scenario(library):
    return next(iter(library.scenarios.values()))


def _post(dims, mean=0.0, sd=0.5):
    return posterior_from_estimates(dims, {d: (mean, sd) for d in dims})


def test_feedback_form_lists_key_behaviors(library, scenario):
    form = feedback_form(library, scenario)
    assert tuple(form) == tuple(scenario.competencies)
    assert all(form[c] == tuple(library.competencies[c].key_behaviors) for c in form)


@pytest.mark.parametrize("start", [-1.0, 0.0, 1.0])
def test_peer_rating_moves_mean_and_shrinks_sd(library, scenario, start):
    dims = tuple(library.competency_ids)
    form = feedback_form(library, scenario)
    for level, sign in ((3, +1), (0, -1)):
        p = _post(dims, start, 0.5)
        fb = PeerFeedback("g", "r", scenario.id, {c: {b: level for b in bs} for c, bs in form.items()})
        out = apply_peer_feedback(p, fb)
        assert set(out) == set(form)
        for u in out.values():
            assert sign * (u.after_mean - u.before_mean) > 0.02
            assert u.after_sd < u.before_sd - 1e-3
            assert u.level == level


def test_repeated_ratings_keep_shrinking_sd(library, scenario):
    c = scenario.competencies[0]
    p = _post(tuple(library.competency_ids), 0.0, 0.6)
    sds = []
    for lvl in (2, 3, 1, 2, 3):
        sds.append(apply_peer_feedback(p, PeerFeedback("g", "r", scenario.id, {c: {"x": lvl}}))[c].after_sd)
    assert all(b < a for a, b in zip(sds, sds[1:], strict=False))


def test_levels_average_and_validation(scenario):
    fb = PeerFeedback("g", "r", scenario.id, {"a": {"x": 1, "y": 2}, "b": {"x": 0, "y": 0, "z": 1}})
    assert fb.levels() == {"a": 2, "b": 0}
    with pytest.raises(ValueError, match="0..3"):
        PeerFeedback("g", "r", "s", {"a": {"x": 4}})
    with pytest.raises(ValueError, match="themselves"):
        PeerFeedback("g", "g", "s", {"a": {"x": 1}})
    with pytest.raises(ValueError, match="increasing"):
        PeerRatingItem(b=(0.0, -1.0, 1.0))
    with pytest.raises(ValueError, match="no dimension"):
        apply_peer_feedback(_post(("q",)), PeerFeedback("g", "r", "s", {"a": {"x": 1}}))


def test_pairing_is_complementary(scenario):
    c = scenario.competencies[0]
    others = {x: (0.0, 0.4) for x in scenario.competencies[1:]}
    ms = [Member(f"m{i}", {c: (v, 0.4), **others}) for i, v in enumerate([-1.5, -1.0, 1.0, 1.6, 0.0])]
    out = pair_for_practice(ms, scenario)
    got = {frozenset((p.first, p.second)) for p in out.pairs}
    assert got == {frozenset(("m0", "m3")), frozenset(("m1", "m2"))}
    assert out.unpaired == ("m4",)
    out2 = pair_for_practice(ms, scenario, forbidden=[("m0", "m3")])
    assert frozenset(("m0", "m3")) not in {frozenset((p.first, p.second)) for p in out2.pairs}
