"""Calibration recovers known parameters, handles the data's quirks, and reports honestly."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from workbench.skills.calibrate import calibrate
from workbench.skills.grm import ItemParams
from workbench.skills.simulate import correlated_thetas, make_test, simulate_data

from .conftest import recovery


def test_laplace_recovers_parameters(sim_2000x25, map_2000x25):
    r = recovery(map_2000x25, sim_2000x25[0])
    assert r["rmse_a"] < 0.15 and r["rmse_b"] < 0.2, r
    assert 0.8 <= r["cover_a"] <= 0.98 or 0.8 <= r["cover_b"] <= 0.98, r
    assert 0.8 <= (r["cover_a"] * 25 + r["cover_b"] * 100) / 125 <= 0.98, r
    assert map_2000x25.diagnostics_["method"] == "map" and "approximate" in map_2000x25.diagnostics_["note"]


@pytest.mark.slow
def test_nuts_recovers_parameters_with_honest_intervals(sim_2000x25, nuts_2000x25):
    r = recovery(nuts_2000x25, sim_2000x25[0])
    assert r["rmse_a"] < 0.15 and r["rmse_b"] < 0.2, r
    assert 0.8 <= (r["cover_a"] * 25 + r["cover_b"] * 100) / 125 <= 0.98, r
    d = nuts_2000x25.diagnostics_
    assert d["method"] == "nuts" and d["divergences"] == 0 and d["max_rhat"] <= 1.01 and d["min_ess_bulk"] > 200
    assert d["converged"] is True


def test_nuts_diagnostics_are_not_rounded_before_the_rule():
    """ArviZ's summary rounds r-hat to two decimals, which let 1.0149 pass for 1.01: the rule
    reads the unrounded value."""
    import arviz as az

    from workbench.skills.calibrate import _diagnostics

    rng = np.random.default_rng(0)
    a = rng.normal(size=(2, 400, 3))
    a[1] += 0.17  # the chains disagree a little: r-hat 1.0114
    idata = az.from_dict(posterior={"a": a}, sample_stats={"diverging": np.zeros((2, 400), bool)})
    exact = float(az.rhat(idata)["a"].values.max())
    assert 1.01 < exact < 1.015  # reads 1.01 once rounded to two decimals
    d = _diagnostics(idata, 400, 200, 2)
    assert d["max_rhat"] == round(exact, 4) and d["converged"] is False


@pytest.mark.slow
def test_nuts_and_laplace_agree(map_2000x25, nuts_2000x25):
    assert np.max(np.abs(map_2000x25.items_.a - nuts_2000x25.items_.a)) < 0.05
    assert np.nanmax(np.abs(map_2000x25.items_.b - nuts_2000x25.items_.b)) < 0.08
    ratio = map_2000x25.a_sd_ / nuts_2000x25.a_sd_
    assert 0.75 < np.median(ratio) < 1.3


def test_parameters_json_contract(map_2000x25):
    doc = map_2000x25.to_json()
    assert doc["model"] == "grm" and doc["dimensions"] == ["d1"]
    item = doc["items"][0]
    assert set(item) == {"item_id", "dimension", "categories", "reverse", "a", "b"}
    assert item["categories"] == [1, 2, 3, 4, 5] and len(item["b"]["mean"]) == len(item["b"]["sd"]) == 4
    assert item["a"]["mean"] > 0 and item["a"]["sd"] > 0
    assert doc["correlation"] == [[1.0]] and 0.8 < doc["reliability"]["d1"] < 1


def _mixed_test(rng) -> ItemParams:
    """Binary, 3- and 5-category items on two dimensions, some reverse-keyed."""
    K = np.array([2, 2, 2, 2, 3, 3, 3, 3, 5, 5, 5, 5])
    dims = np.arange(12) % 2
    a = rng.uniform(1.0, 2.0, 12)
    b = np.full((12, 4), np.nan)
    for j, k in enumerate(K):
        b[j, : k - 1] = np.sort(rng.normal(0, 0.4, k - 1)) + np.linspace(-1.2, 1.2, k - 1) * (k > 2)
    reverse = np.isin(np.arange(12), [5, 9, 10])
    return ItemParams(tuple(f"m{j:02d}" for j in range(12)), dims, ("x", "y"), a, b, K,
                      first_category=np.where(K == 2, 0, 1), reverse=reverse)


def test_binary_items_reverse_keying_and_missing_data():
    rng = np.random.default_rng(5)
    p = _mixed_test(rng)
    data = simulate_data(p, correlated_thetas(3000, 2, 0.4, rng), rng, missing=0.2)
    assert (data.y == -1).mean() > 0.15
    cal = calibrate(data, method="map", seed=0, progressbar=False)
    assert list(cal.items_.n_categories) == list(p.n_categories)
    assert cal.to_json()["items"][0]["categories"] == [0, 1]
    assert (cal.items_.a > 0).all()  # reversed items are reported as scored
    r = recovery(cal, p)
    assert r["rmse_a"] < 0.25 and r["rmse_b"] < 0.25, r
    assert abs(cal.correlation_[0, 1] - 0.4) < 0.12


def test_rater_effect_is_estimated_and_removes_bias():
    from workbench.skills.score import score_sheets

    rng = np.random.default_rng(11)
    p = make_test(16, 2, rng)
    theta = correlated_thetas(1500, 2, 0.5, rng)
    data = simulate_data(p, theta, rng, raters={"self": 1, "manager": 1, "peer": 2},
                         rater_effects={"self": 0.5, "manager": -0.1, "peer": 0.05})
    cal = calibrate(data, method="map", seed=0, progressbar=False)
    fx = cal.shifts_
    # identified relative to the others' average view: the self shift is 0.5 - (-0.1 + 0.05)/2
    assert abs(fx["self"] - 0.525) < 0.1, fx
    assert abs((fx["manager"] - fx["peer"]) - (-0.15)) < 0.1, fx
    self_only = data.rater == "self"
    args = (data.y[self_only], data.person[self_only], data.n_persons, cal.items_, data.rater[self_only])
    corrected = score_sheets(*args, rater_effects=fx).mean
    naive = score_sheets(*args).mean
    truth = theta - (-0.1 + 0.05) / 2  # the scale the model is identified on
    assert abs((naive - truth).mean()) > 0.3
    assert abs((corrected - truth).mean()) < 0.1


def test_unknown_method():
    with pytest.raises(ValueError, match="unknown method"):
        calibrate(None, method="em")


@pytest.mark.slow
def test_same_seed_same_result():
    rng = np.random.default_rng(2)
    p = make_test(6, 1, rng)
    data = simulate_data(p, correlated_thetas(400, 1, 0.0, rng), rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runs = [calibrate(data, method="nuts", draws=100, tune=100, chains=1, seed=9, progressbar=False)
                for _ in range(2)]
    np.testing.assert_array_equal(runs[0].draws_["a"], runs[1].draws_["a"])


@pytest.mark.slow
def test_failed_diagnostics_warn():
    from workbench.skills.calibrate import ConvergenceWarning

    rng = np.random.default_rng(3)
    p = make_test(6, 1, rng)
    data = simulate_data(p, correlated_thetas(300, 1, 0.0, rng), rng)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        cal = calibrate(data, method="nuts", draws=50, tune=50, chains=2, seed=1, progressbar=False)
    assert cal.diagnostics_["converged"] is False


def test_correlation_of_eight_dimensions_samples_from_any_seed():
    """With PyMC's jittered start, seed 3 began this LKJ model outside the correlation matrices and
    raised ``SamplingError`` (as calibrate(method="nuts", seed=3) did on 10,000 x 60); it now starts
    at the mode and recovers the correlations."""
    from workbench.skills.calibrate import _lkj_correlation

    D, n = 8, 10_000
    truth = 0.3 * np.ones((D, D)) + 0.7 * np.eye(D)
    err = np.diag(np.full(D, 0.25))
    scores = np.random.default_rng(0).multivariate_normal(np.zeros(D), truth + err, size=n)
    R = _lkj_correlation(np.cov(scores, rowvar=False), err, n, seed=3)
    assert np.allclose(np.diag(R), 1.0) and np.all(np.linalg.eigvalsh(R) > 0)
    assert np.abs(R - truth).max() < 0.06
