import numpy as np
import pytest

from workbench.sim.dynamics import (
    Dynamics,
    completion_gain,
    completion_probability,
    decay,
    draw_effectiveness,
    update_engagement,
)

DYN = Dynamics()


def test_gains_positive_and_diminishing():
    skill = np.linspace(-1.5, 1.5, 13)[:, None]
    exp = np.zeros_like(skill)
    rel = np.ones_like(skill)
    g = completion_gain(skill, exp, rel, np.ones(13), DYN)[:, 0]
    assert np.all(g > 0)
    assert np.all(np.diff(g) < 0)  # less gain the closer to (or above) the expectation
    assert g[0] > 0.9 * DYN.completion_gain and g[-1] < 0.01 * DYN.completion_gain
    # repeated completions of the same module: each gain smaller than the last
    s, gains = np.array([[-1.0]]), []
    for _ in range(6):
        d = completion_gain(s, np.zeros((1, 1)), np.ones((1, 1)), np.ones(1), DYN)
        gains.append(float(d[0, 0]))
        s = s + d
    assert all(b < a for a, b in zip(gains, gains[1:], strict=False))


def test_gain_scales_with_effectiveness():
    g = completion_gain(np.zeros((2, 1)), np.zeros((2, 1)), np.ones((2, 1)), np.array([0.5, 1.5]), DYN)
    assert g[1, 0] == pytest.approx(3 * g[0, 0])


def test_decay_towards_floor_only_when_untrained():
    skill = np.array([[1.0, 1.0, 0.0]])
    floor = np.array([[0.0, 0.0, 0.2]])
    out = decay(skill, floor, np.array([[False, True, False]]), DYN)
    assert out[0, 0] == pytest.approx(1.0 - DYN.decay)
    assert out[0, 1] == 1.0 and out[0, 2] == 0.0  # trained, or already below the floor
    s = skill.copy()
    for _ in range(500):
        s = decay(s, floor, np.zeros_like(s, bool), DYN)
    assert s[0, 0] == pytest.approx(0.0, abs=1e-3) and s[0, 0] >= 0.0


def test_engagement_drops_when_too_long_or_irrelevant_and_rises_otherwise():
    e = np.full(4, 0.6)
    shown = np.array([True, True, True, False])
    new = update_engagement(e, np.array([0, 0, 1.0, 0]), np.array([0, 1.0, 0, 1.0]), shown, DYN)
    assert new[0] > 0.6 and new[0] - 0.6 < 0.05  # rises slowly
    assert new[1] < 0.6 - 0.05 and new[2] < 0.6  # too long, irrelevant
    assert new[1] < new[2]  # too long hurts more than irrelevant by default
    assert new[3] == 0.6  # nothing shown: unchanged


def test_completion_probability():
    p = completion_probability(np.array([0.8, 0.8, 0.8]), np.array([10, 20, 20]), np.array([30, 10, 0]))
    np.testing.assert_allclose(p, [0.8, 0.2, 0.0])


def test_effectiveness_draw_seeded():
    a, b = draw_effectiveness(2000, 1), draw_effectiveness(2000, 1)
    np.testing.assert_array_equal(a, b)
    assert abs(a.mean() - 1) < 0.03 and abs(a.std() - DYN.effectiveness_cv) < 0.03 and a.min() > 0


def test_dynamics_validation():
    with pytest.raises(ValueError, match="decay"):
        Dynamics(decay=1.5)
    with pytest.raises(ValueError, match="completion_gain"):
        Dynamics(completion_gain=-1)
