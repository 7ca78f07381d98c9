"""Self vs others: the gap arithmetic, the labels, and a simulated check that planted gaps are found."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from workbench.skills import perception as pc
from workbench.skills.perception import ALIGNED, BLIND_SPOT, HIDDEN_STRENGTH, biggest_gaps, compare


def est(rows: dict[str, tuple[float, float]]) -> pd.DataFrame:
    return pd.DataFrame([(c, m, s) for c, (m, s) in rows.items()], columns=["competency", "mean", "sd"])


def test_hand_made_gaps():
    self_est = est({"delegation": (1.0, 0.3), "feedback": (-0.4, 0.4), "coaching": (0.25, 0.05),
                    "vision": (0.6, 0.6), "trust": (0.0, 0.2)})
    others = est({"trust": (0.1, 0.2), "vision": (0.0, 0.0001), "coaching": (0.0, 0.05),
                  "feedback": (0.4, 0.3), "delegation": (0.2, 0.4)})
    g = compare(self_est, others, z=2.0, clear=0.9)  # the mechanism, at a looser threshold than the default
    t = g.table.set_index("competency")
    assert list(g.table.competency) == ["delegation", "feedback", "coaching", "vision", "trust"]  # self's order
    d = t.loc["delegation"]
    assert d.difference == pytest.approx(0.8) and d.difference_sd == pytest.approx(0.5)
    assert d.p_self_higher == pytest.approx(norm.cdf(1.6)) == pytest.approx(0.94520, abs=1e-5)
    assert (d.self_low, d.self_high, d.others_low, d.others_high) == pytest.approx((0.4, 1.6, -0.6, 1.0))
    assert (d.difference_low, d.difference_high) == pytest.approx((-0.2, 1.8))
    assert d.label == BLIND_SPOT
    f = t.loc["feedback"]  # mirror image: others see more
    assert f.difference == pytest.approx(-0.8) and f.p_self_higher == pytest.approx(1 - norm.cdf(1.6))
    assert f.label == HIDDEN_STRENGTH
    assert t.loc["coaching"].p_self_higher > 0.99 and t.loc["coaching"].label == ALIGNED  # sure, but small
    assert t.loc["vision"].p_self_higher == pytest.approx(norm.cdf(1.0), abs=1e-4)
    assert t.loc["vision"].label == ALIGNED  # large, but too uncertain
    assert t.loc["trust"].label == ALIGNED
    assert g.blind_spots == ("delegation",) and g.hidden_strengths == ("feedback",) and not g.empty
    assert list(g.table.columns) == pc.COLUMNS


def test_thresholds_are_inclusive_and_adjustable():
    assert pc.label_gap(pc.MIN_GAP, pc.CLEAR_PROBABILITY) == BLIND_SPOT
    assert pc.label_gap(pc.MIN_GAP - 1e-9, 0.999) == ALIGNED
    assert pc.label_gap(0.5, pc.CLEAR_PROBABILITY - 1e-9) == ALIGNED
    assert pc.label_gap(-pc.MIN_GAP, 1 - pc.CLEAR_PROBABILITY) == HIDDEN_STRENGTH
    assert pc.label_gap(-0.2, 0.0) == ALIGNED
    assert pc.label_gap(0.2, 0.95, min_gap=0.1) == ALIGNED  # P = 0.95 is below the default 0.975
    assert pc.label_gap(0.2, 0.95, min_gap=0.1, clear=0.9) == BLIND_SPOT
    g = compare(est({"a": (0.8, 0.3)}), est({"a": (0.2, 0.4)}))  # P = Phi(1.2) = 0.885
    assert g.table.label[0] == ALIGNED
    assert compare(est({"a": (0.8, 0.3)}), est({"a": (0.2, 0.4)}), clear=0.85).table.label[0] == BLIND_SPOT


def test_only_shared_competencies_and_an_empty_others_view():
    g = compare(est({"a": (0.0, 0.3), "b": (0.1, 0.3)}), est({"b": (0.0, 0.3), "c": (1.0, 0.3)}))
    assert list(g.table.competency) == ["b"]
    empty = compare(est({"a": (0.0, 0.3)}), pd.DataFrame(columns=["competency", "mean", "sd"]))
    assert empty.empty and list(empty.table.columns) == pc.COLUMNS
    assert biggest_gaps(empty).empty and empty.blind_spots == ()


@pytest.mark.parametrize("self_est, others, kwargs, match", [
    (pd.DataFrame({"competency": ["a"], "mean": [0.0]}), est({"a": (0, 1)}), {}, "missing"),
    (est({"a": (0.0, 0.0)}), est({"a": (0, 1)}), {}, "positive SD"),
    (est({"a": (np.nan, 0.3)}), est({"a": (0, 1)}), {}, "finite mean"),
    (pd.concat([est({"a": (0, 1)})] * 2), est({"a": (0, 1)}), {}, "twice"),
    (est({"a": (0, 1)}), est({"a": (0, 1)}), {"z": 0}, "z must be positive"),
    (est({"a": (0, 1)}), est({"a": (0, 1)}), {"clear": 0.4}, "between 0.5 and 1"),
    (est({"a": (0, 1)}), est({"a": (0, 1)}), {"min_gap": -0.1}, "must not be negative"),
])
def test_bad_input_is_refused(self_est, others, kwargs, match):
    with pytest.raises(ValueError, match=match):
        compare(self_est, others, **kwargs)


def test_biggest_gaps():
    self_est = est({"a": (1.5, 0.2), "b": (-1.0, 0.2), "c": (0.9, 0.2), "d": (0.1, 0.2), "e": (2.0, 0.2)})
    others = est({"a": (0.0, 0.2), "b": (0.0, 0.2), "c": (0.0, 0.2), "d": (0.0, 0.2), "e": (0.0, 0.2)})
    g = compare(self_est, others)
    assert list(biggest_gaps(g, k=3).competency) == ["e", "a", "b"]  # by size, either direction
    assert list(biggest_gaps(g, k=10).competency) == ["e", "a", "b", "c"]  # "d" is aligned
    assert list(biggest_gaps(g, k=10, labelled_only=False).competency) == ["e", "a", "b", "c", "d"]
    assert biggest_gaps(g, k=0).empty
    with pytest.raises(ValueError):
        biggest_gaps(g, k=-1)


def test_planted_gaps_are_found_in_simulated_leaders():
    """Each leader's self-view is off by PLANT on one competency (up for half, down for the rest),
    on top of the usual self-inflation; self and others are scored as the demo scores them."""
    from workbench.skills.grm import simulate_responses
    from workbench.skills.score import score_sheets
    from workbench.skills.simulate import make_test

    PLANT, INFLATION, N, OTHERS = 1.5, 0.35, 240, 5
    rng = np.random.default_rng(20261129)
    params = make_test(56, 8, rng)  # 7 five-point items per competency, like the shipped bank
    D = len(params.dimensions)
    theta = rng.normal(0.0, 0.9, size=(N, D))
    planted = np.arange(N) % D
    sign = np.where(np.arange(N) % 2 == 0, 1.0, -1.0)
    gap = np.zeros((N, D))
    gap[np.arange(N), planted] = sign * PLANT
    y_self = simulate_responses(theta + INFLATION + gap, params, rng)
    y_others = np.concatenate([simulate_responses(theta + rng.normal(0.0, 0.3, size=(N, D)), params, rng)
                               for _ in range(OTHERS)])
    owner = np.tile(np.arange(N), OTHERS)
    s = score_sheets(y_self, np.arange(N), N, params, np.full(N, "self"), {"self": INFLATION})
    o = score_sheets(y_others, owner, N, params, np.full(owner.size, "peer"), {"peer": 0.0})

    found, top, spurious = 0, 0, 0
    for i in range(N):
        g = compare(pd.DataFrame({"competency": params.dimensions, "mean": s.mean[i], "sd": s.sd[i]}),
                    pd.DataFrame({"competency": params.dimensions, "mean": o.mean[i], "sd": o.sd[i]}))
        want = BLIND_SPOT if sign[i] > 0 else HIDDEN_STRENGTH
        labels = g.table.label.to_numpy()
        found += labels[planted[i]] == want
        spurious += int((np.delete(labels, planted[i]) != ALIGNED).sum())
        best = biggest_gaps(g, k=1)
        top += len(best) == 1 and best.competency[0] == params.dimensions[planted[i]]
    print(f"found {found / N:.3f}, top {top / N:.3f}, spurious {spurious / (N * (D - 1)):.3f}")
    # at the default P >= 0.975 (seen: found 0.67, see the print): a 1.5 SD gap is found about two
    # times in three (the self-view rests on 7 items: SD about 0.4), and is usually the biggest listed
    assert found / N >= 0.58
    assert top / N >= 0.55
    # competencies without a gap: about 2.5% are labelled each way (see docs/multi-rater.md)
    assert spurious / (N * (D - 1)) <= 0.09
    assert found / N >= 8 * spurious / (N * (D - 1))
