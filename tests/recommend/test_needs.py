"""Development need: gap to expectation scaled by the certainty of its sign."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from workbench.recommend.needs import development_need, probability_below, urgency


def test_need_is_gap_times_probability_below_for_a_shortfall():
    need = development_need(np.array([-0.5]), np.array([0.4]), np.array([0.3]))
    assert need[0] == pytest.approx(0.8 * norm.cdf(0.8 / 0.4), rel=1e-12)
    assert probability_below(-0.5, 0.4, 0.3) == pytest.approx(norm.cdf(2.0), rel=1e-12)


def test_need_increases_with_the_gap_and_shrinks_with_uncertainty():
    gaps = np.linspace(-3, 3, 601)
    need = development_need(-gaps, 0.5, 0.0)
    assert np.all(np.diff(need) > 0)  # monotone, also for surpluses
    assert development_need(-0.6, 0.1, 0.0) > development_need(-0.6, 1.0, 0.0) > 0.3  # certainty keeps the gap
    assert development_need(0.6, 0.1, 0.0) < development_need(0.6, 1.0, 0.0) < 0  # surer surplus, lower need


def test_urgency_is_positive_and_close_to_large_needs():
    u = urgency(np.array([-2.0, 0.0, 1.5]))
    assert np.all(u > 0)
    assert u[0] < 0.001 and abs(u[2] - 1.5) < 0.001
