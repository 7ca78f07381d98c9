"""90% intervals, bands and the probability below a reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from workbench.analytics import Z90, band, interval90, probability_below


def test_interval_is_mean_plus_minus_1645_sd():
    low, high = interval90([0.0, -1.0], [1.0, 0.5])
    assert low == pytest.approx([-1.645, -1.8225], abs=2e-4)
    assert high == pytest.approx([1.645, -0.1775], abs=2e-4)


def test_band_edges_against_zero_and_against_an_expectation():
    mean = np.array([-1.0, -0.8, 0.9, 0.8, np.nan])
    sd = np.array([0.5, 0.5, 0.5, 0.5, 0.5])
    # -1 + 0.8225 < 0; -0.8 + 0.8225 > 0; 0.9 - 0.8225 > 0; 0.8 - 0.8225 < 0
    assert list(band(mean, sd)) == ["development area", "in range", "strength", "in range", ""]
    # the same estimates read against a higher expectation: the first two fall short of 0.5
    assert list(band(mean, sd, 0.5)) == ["development area", "development area", "in range", "in range", ""]


def test_probability_below_is_the_normal_cdf():
    mean, sd, ref = np.array([-1.0, 0.3, 2.0]), np.array([0.5, 0.2, 1.0]), np.array([-0.5, 0.3, 0.0])
    assert probability_below(mean, sd, ref) == pytest.approx(norm.cdf(ref, loc=mean, scale=sd), abs=1e-12)
    assert probability_below(0.3, 0.2, 0.3) == pytest.approx(0.5)


def test_development_area_means_more_than_95_percent_below():
    mean, sd = np.linspace(-2, 0, 41), np.full(41, 0.4)
    dev = band(mean, sd, 0.0) == "development area"
    assert np.array_equal(dev, probability_below(mean, sd, 0.0) > norm.cdf(Z90))


def test_bands_agree_with_the_leader_profile():
    from workbench.apps.leader import profile_table

    rng = np.random.default_rng(3)
    est = pd.DataFrame({"competency": [f"c{i}" for i in range(60)], "mean": rng.normal(0, 1, 60),
                        "sd": rng.uniform(0.1, 0.6, 60), "estimated_at": pd.Timestamp("2026-01-01", tz="UTC")})
    table = profile_table(est, _NoNames())
    ours = dict(zip(est["competency"], band(est["mean"], est["sd"]), strict=True))
    assert {r.competency: r.band for r in table.itertuples()} == ours
    assert {"development area", "strength", "in range"} <= set(ours.values())


class _NoNames:
    """Stands in for the library: the profile only looks up names."""

    competencies: dict = {}
