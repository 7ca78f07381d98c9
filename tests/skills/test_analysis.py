"""Item analysis: information against its definition, reliability, PPC item fit, anchored DIF."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from workbench.skills import analysis as an
from workbench.skills import figures
from workbench.skills.data import ResponseData
from workbench.skills.grm import (
    MISSING,
    ItemParams,
    category_probs,
    log_category_probs,
    simulate_responses,
)
from workbench.skills.score import eap
from workbench.skills.simulate import correlated_thetas, item_spec, make_test, simulate_data


# ----------------------------------------------------------------------------- helpers
def with_item(params: ItemParams, j: int, a: float, b: np.ndarray) -> ItemParams:
    A, B = params.a.copy(), params.b.copy()
    A[j], B[j, : b.size] = a, b
    return ItemParams(params.item_ids, params.dimension, params.dimensions, A, B, params.n_categories,
                      params.first_category, params.reverse)


def refit_item(y: np.ndarray, params: ItemParams, j: int) -> ItemParams:
    """The best GRM for item ``j`` given the other items (marginal ML, Nelder-Mead), written
    independently of the module under test."""
    others = [i for i in range(params.n_items) if i != j]
    scores = eap(y[:, others], params.subset(others), keep_posterior=True)
    post = np.exp(scores.log_posterior[:, params.dimension[j], :])
    yj = y[:, j]
    ok = yj != MISSING
    K = int(params.n_categories[j])

    def unpack(x):
        return np.exp(x[0]), np.cumsum(np.r_[x[1], np.exp(x[2:])])

    def nll(x):
        a, b = unpack(x)
        P = category_probs(scores.nodes, a, b)  # (Q, K)
        return -np.log(np.maximum(np.einsum("nq,qn->n", post[ok], P[:, yj[ok]]), 1e-300)).sum()

    res = optimize.minimize(nll, np.r_[0.0, -1.0, np.zeros(K - 2)], method="Nelder-Mead",
                            options={"maxiter": 4000, "xatol": 1e-5, "fatol": 1e-6})
    return with_item(params, j, *unpack(res.x))


def flagged(p: pd.Series, alpha: float = 0.05) -> np.ndarray:
    return ((p < alpha) | (p > 1 - alpha)).to_numpy()


@pytest.fixture(scope="module")
def clean_data():
    """1,500 respondents, 20 five-point items on two correlated dimensions, 5% missing."""
    rng = np.random.default_rng(11)
    params = make_test(20, 2, rng)
    theta = correlated_thetas(1500, 2, 0.5, rng)
    return params, simulate_data(params, theta, rng, missing=0.05)


# --------------------------------------------------------------------------- information
def test_item_information_is_the_expected_negative_curvature():
    rng = np.random.default_rng(3)
    params = make_test(6, 2, rng, n_categories=[2, 3, 5, 5, 4, 2])
    theta = np.linspace(-3, 3, 13)
    table = an.item_information(params, theta)
    assert list(table.columns) == ["item_id", "dimension", "theta", "information"]
    assert len(table) == 6 * theta.size
    h = 1e-4
    for j, iid in enumerate(params.item_ids):
        lp = lambda t, j=j: log_category_probs(t, params.a[j], params.thresholds(j))  # noqa: E731
        curvature = (lp(theta + h) - 2 * lp(theta) + lp(theta - h)) / h**2
        expected = -(category_probs(theta, params.a[j], params.thresholds(j)) * curvature).sum(axis=1)
        got = table.loc[table.item_id == iid, "information"].to_numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
        if params.n_categories[j] == 2:  # a^2 P (1 - P)
            P = category_probs(theta, params.a[j], params.thresholds(j))[:, 1]
            np.testing.assert_allclose(got, params.a[j] ** 2 * P * (1 - P), rtol=1e-10)


def test_test_information_sums_items_and_gives_prior_se():
    rng = np.random.default_rng(4)
    params = make_test(9, 3, rng)
    items = an.item_information(params)
    test = an.test_information(params)
    summed = items.groupby(["dimension", "theta"], as_index=False)["information"].sum()
    merged = test.merge(summed, on=["dimension", "theta"], suffixes=("", "_sum"))
    assert len(merged) == len(test) == 3 * 81
    np.testing.assert_allclose(merged.information, merged.information_sum, rtol=1e-12)
    np.testing.assert_allclose(test.se, 1 / np.sqrt(test.information + 1))
    assert (test.se < 1).all()
    # information is highest inside the thresholds and vanishes far outside them
    d1 = test[test.dimension == "d1"].set_index("theta").information
    assert d1.loc[0.0] > 5 * d1.loc[-4.0]


def test_information_figure_has_a_subplot_per_dimension():
    params = make_test(6, 2, np.random.default_rng(5))
    fig = figures.information_figure(params)
    assert len(fig.data) == 6 + 2  # item curves and a test curve per dimension
    assert {t.yaxis for t in fig.data} == {"y", "y2"}
    test_curves = [t for t in fig.data if t.name.endswith(": test")]
    expected = an.test_information(params)
    np.testing.assert_allclose(test_curves[0].y, expected[expected.dimension == "d1"].information)
    slim = figures.information_figure(an.item_information(params), show_items=False)
    assert len(slim.data) == 2


# --------------------------------------------------------------------------- reliability
def test_marginal_reliability_model_matches_empirical():
    rng = np.random.default_rng(6)
    params = make_test(12, 2, rng, n_categories=[5, 5, 5, 5, 5, 5, 5, 5, 3, 5, 2, 5])
    theta = correlated_thetas(12_000, 2, 0.3, rng)
    data = simulate_data(params, theta, rng)
    rel = an.marginal_reliability(params, data)
    assert list(rel.dimension) == ["d1", "d2"]
    assert list(rel.n_items) == [6, 6]
    np.testing.assert_allclose(rel.model, rel.empirical, atol=0.015)
    assert (rel.n_persons == 12_000).all()
    # a longer test is more reliable; without responses only the model value
    longer = an.marginal_reliability(make_test(30, 2, np.random.default_rng(6)))
    assert (longer.model.to_numpy() > rel.model.to_numpy()).all()
    assert longer.empirical.isna().all()
    # a plain response matrix gives the same as ResponseData with one sheet each
    again = an.marginal_reliability(params, data.y)
    np.testing.assert_allclose(again.empirical, rel.empirical, rtol=1e-10)


# ------------------------------------------------------------------------------ item fit
def test_item_fit_false_flags_near_nominal_under_the_true_model(clean_data):
    params, data = clean_data
    fit = an.item_fit(params, data, n_rep=100, seed=1)
    assert list(fit.item_id) == list(params.item_ids)
    assert fit.n.between(1300, 1500).all()
    for col in ("p_categories", "p_item_rest", "p_score_groups", "p_value"):
        assert fit[col].between(0, 1).all()
    np.testing.assert_array_equal(fit.p_value, fit.p_score_groups)
    np.testing.assert_array_equal(fit.misfit, flagged(fit.p_value))
    # the nominal two-sided rate is 10%: 7 or more flags of 20 has probability 0.2% at that rate
    # (over ten such data sets the rates were 8% item-rest, 11% categories, 7.5% score groups)
    assert fit.misfit.sum() <= 6
    assert flagged(fit.p_item_rest).sum() <= 6
    assert flagged(fit.p_categories).sum() <= 6
    np.testing.assert_allclose(fit.r_obs, fit.r_rep, atol=0.06)
    cats = fit.attrs["categories"]
    assert len(cats) == 20 * 5
    np.testing.assert_allclose(cats.observed, cats.replicated, atol=0.04)
    assert (cats.replicated_lo <= cats.replicated_hi).all()


def test_item_fit_flags_planted_misfitting_items():
    rng = np.random.default_rng(21)
    params = make_test(24, 2, rng)
    theta = correlated_thetas(1500, 2, 0.5, rng)
    data = simulate_data(params, theta, rng)
    y = data.y.copy()
    # i01: non-monotone (peaks in the middle of its dimension); refit as the best GRM can
    bent = np.repeat(1.0 - 1.3 * np.abs(theta[:, [params.dimension[0]]]), 2, axis=1)
    y[:, 0] = simulate_responses(bent, params, rng)[:, 0]
    # i02: random answers, scored with its (now stale) parameters
    y[:, 1] = rng.integers(0, 5, y.shape[0])
    fitted = refit_item(y, params, 0)
    assert fitted.a[0] < 0.3  # no monotone trend left to find
    planted = ResponseData(data.respondent_ids, data.person, None, y, data.items)

    fit = an.item_fit(fitted, planted, n_rep=100, seed=2)
    assert fit.misfit[0] and fit.misfit[1]
    assert fit.p_score_groups[0] < 0.01 and fit.p_score_groups[1] < 0.01
    assert fit.p_item_rest[1] > 0.99  # observed item-rest correlation far below the replicated
    assert fit.r_obs[1] < 0.1 < 0.4 < fit.r_rep[1]
    assert fit.misfit[2:].sum() <= 3  # 22 clean items
    table = an.item_table(fitted, fit)
    assert table.misfit[:2].all() and table.fit_p.to_numpy()[0] == fit.p_value[0]
    fig = figures.item_fit_figure(fit)
    assert list(fig.data[0].x) == list(fit.item_id)


def test_item_fit_reads_posterior_draws_and_rater_shifts():
    rng = np.random.default_rng(31)
    params = make_test(12, 1, rng)
    theta = correlated_thetas(700, 1, 0.0, rng)
    data = simulate_data(params, theta, rng, raters={"self": 1, "peer": 2},
                         rater_effects={"self": 0.5, "peer": 0.0})
    S = 200
    noise = np.random.default_rng(1)
    # a fitted model's surface: point parameters, draws, rater shifts
    cal = SimpleNamespace(
        items_=params,
        draws_={"a": params.a[None, :] * np.exp(noise.normal(0, 0.03, (S, 12))),
                "b": params.b[None] + noise.normal(0, 0.04, (S, 1, 1))},
        shifts_={"self": 0.5, "peer": 0.0},
    )
    fit = an.item_fit(cal, data, n_rep=100, seed=3)
    assert fit.n.eq(2100).all()
    assert fit.misfit.sum() <= 2
    # draws far from the truth (slopes a third of the true values) are found out
    wrong = SimpleNamespace(items_=params, draws_={"a": cal.draws_["a"] / 3, "b": cal.draws_["b"]},
                            shifts_=cal.shifts_)
    bad = an.item_fit(wrong, data, n_rep=100, seed=3, statistic="item_rest")
    assert bad.misfit.mean() >= 0.9
    assert (bad.r_obs > bad.r_rep).all()


def test_item_fit_rejects_bad_arguments(clean_data):
    params, data = clean_data
    with pytest.raises(ValueError, match="statistic"):
        an.item_fit(params, data, statistic="infit")
    with pytest.raises(ValueError, match="no parameters"):
        an.item_fit(params.subset(range(19)), data)
    with pytest.raises(TypeError):
        an.item_fit("params", data)


# ----------------------------------------------------------------------------------- DIF
def test_item_likelihood_gradient_is_exact():
    rng = np.random.default_rng(8)
    nodes = np.linspace(-6, 6, 121)
    h = rng.dirichlet(np.ones(121), size=60)
    y = rng.integers(0, 4, 60)
    groups = [[h[y == k] for k in range(4)]]
    par = np.array([0.3, -1.0, -0.2, 0.4])
    err = optimize.check_grad(lambda x: an._item_negloglik(x, nodes, groups)[0],
                              lambda x: an._item_negloglik(x, nodes, groups)[1], par)
    assert err < 1e-4


@pytest.fixture(scope="module")
def dif_data():
    """2,000 respondents in two groups with impact (focal mean -0.5, SD 1.1) on 20 items in two
    dimensions; item i04 has focal thresholds shifted by +0.6."""
    rng = np.random.default_rng(41)
    params = make_test(20, 2, rng)
    group = np.repeat(np.array(["ref", "focal"]), 1000)
    theta = correlated_thetas(2000, 2, 0.4, rng)
    theta[group == "focal"] = 1.1 * theta[group == "focal"] - 0.5
    y_impact = simulate_responses(theta, params, rng)
    y_dif = y_impact.copy()
    shifted = with_item(params, 3, params.a[3], params.thresholds(3) + 0.6)
    y_dif[group == "focal", 3] = simulate_responses(theta[group == "focal"], shifted, rng)[:, 3]
    return params, group, y_impact, y_dif


def test_dif_finds_a_planted_threshold_shift(dif_data):
    params, group, _, y = dif_data
    table = an.dif(y, params, group, reference="ref")
    assert table.attrs["groups"] == ("ref", "focal")
    assert list(table.item_id) == list(params.item_ids)
    planted = table.iloc[3]
    assert planted.dif and planted.p_adj < 1e-6
    assert planted.b_shift == pytest.approx(0.6, abs=0.25)
    assert planted.esd < -0.2 and planted.esd_unsigned >= abs(planted.esd) - 1e-12
    assert table.dif.sum() == 1
    assert not planted.anchor and table.anchor.sum() == 19  # purified until the flagged set is stable
    # theta matched through anchors: impact recovered, not read as DIF
    np.testing.assert_allclose(table.mu_focal - table.mu_ref, -0.5, atol=0.15)
    np.testing.assert_allclose(table.sigma_focal / table.sigma_ref, 1.1, atol=0.12)
    assert (table.p_adj >= table.p_value - 1e-15).all()
    assert (table.df == 5).all()
    same_dim = table.dimension == planted.dimension
    assert (table.n_anchors[same_dim & ~table.dif] == 8).all() and (table.n_anchors[~same_dim] == 9).all()
    fig = figures.dif_figure(table)
    assert len(fig.data) == 2 and {t.name for t in fig.data} == {"ref", "focal"}


def test_dif_ignores_impact_alone(dif_data):
    params, group, y, _ = dif_data
    table = an.dif(y, params, group, reference="ref")
    assert not table.dif.any()
    assert (table.p_value < 0.05).mean() <= 0.2
    assert table.b_shift.abs().max() < 0.3
    np.testing.assert_allclose(table.mu_focal - table.mu_ref, -0.5, atol=0.15)
    fig = figures.dif_figure(table)  # nothing flagged: the three largest likelihood ratios
    assert len(fig.data) == 6


def test_dif_options_and_errors(dif_data):
    params, group, _, y = dif_data
    ids = list(params.item_ids)
    some = an.dif(y, params, group, reference="ref", items=["i04", "i05"],
                  anchors=[i for i in ids if i != "i04"], purify=False)
    assert list(some.item_id) == ["i04", "i05"]
    assert some.dif.iloc[0] and list(some.anchor) == [False, True]
    assert list(some.n_anchors) == [9, 9]  # d2 without i04; d1 without i05 itself
    # data as ResponseData with the group given per respondent; missing answers are skipped
    y_miss = y.copy()
    y_miss[::7, 3] = MISSING
    rd = ResponseData(tuple(f"p{i}" for i in range(y.shape[0])), np.arange(y.shape[0]), None, y_miss,
                      item_spec(params))
    one = an.dif(rd, params, group, reference="ref", items=["i04"])
    assert one.n_ref.iloc[0] + one.n_focal.iloc[0] == (y_miss[:, 3] != MISSING).sum()
    assert one.dif.iloc[0]
    with pytest.raises(ValueError, match="two groups"):
        an.dif(y, params, np.arange(y.shape[0]) % 3)
    with pytest.raises(ValueError, match="entries"):
        an.dif(y, params, group[:-1])


# ---------------------------------------------------------------------------- item table
def test_item_table_summarizes_a_calibration():
    rng = np.random.default_rng(9)
    params = make_test(5, 1, rng, n_categories=[5, 3, 5, 2, 4])
    b_sd = np.where(np.isnan(params.b), np.nan, 0.1)
    cal = SimpleNamespace(items_=params, a_sd_=np.full(5, 0.05), b_sd_=b_sd, draws_=None, shifts_={})
    table = an.item_table(cal)
    assert list(table.columns[:5]) == ["item_id", "dimension", "n_categories", "a", "a_sd"]
    np.testing.assert_allclose(table.a, params.a)
    np.testing.assert_allclose(table[["b1", "b2", "b3", "b4"]].to_numpy(), params.b)
    assert table.loc[1, ["b3", "b3_sd", "b4", "b4_sd"]].isna().all()
    assert table.b1_sd.eq(0.1).all()
    info0 = an.item_information(params, [0.0]).information.to_numpy()
    np.testing.assert_allclose(table.info_0, info0)
    assert (table.info_max >= table.info_0).all()
    bare = an.item_table(params)
    assert bare.a_sd.isna().all() and "fit_p" not in bare.columns


# ------------------------------------------------------------------------------- slow
@pytest.mark.slow
def test_fit_and_dif_on_a_map_calibration():
    """End to end: calibrate (Laplace) data with a planted non-monotone item and a DIF item."""
    from workbench.skills.calibrate import calibrate

    rng = np.random.default_rng(51)
    params = make_test(16, 1, rng)
    group = np.repeat(np.array(["a", "b"]), 1000)
    theta = correlated_thetas(2000, 1, 0.0, rng)
    theta[group == "b"] -= 0.4
    y = simulate_responses(theta, params, rng)
    y[:, 0] = simulate_responses(np.repeat(1.0 - 1.3 * np.abs(theta), 16, axis=1), params, rng)[:, 0]
    shifted = with_item(params, 5, params.a[5], params.thresholds(5) + 0.6)
    y[group == "b", 5] = simulate_responses(theta[group == "b"], shifted, rng)[:, 5]
    data = ResponseData(tuple(f"p{i}" for i in range(2000)), np.arange(2000), None, y, item_spec(params))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cal = calibrate(data, method="map", seed=1, progressbar=False)
    fit = an.item_fit(cal, data, n_rep=200, seed=0)
    assert fit.misfit[0] and fit.p_score_groups[0] < 0.01
    assert fit.misfit[1:].sum() <= 2
    table = an.item_table(cal, fit)
    assert table.a_sd.gt(0).all() and table.fit_p.notna().all()
    dif = an.dif(data, cal, group)
    assert dif.dif[5] and dif.b_shift[5] == pytest.approx(0.6, abs=0.3) and dif.esd[5] < -0.15
    assert dif.dif.drop(index=[0, 5]).sum() <= 1  # (i16 here, p = 0.005, also at the true parameters)


@pytest.mark.slow
def test_item_fit_false_flag_rate_over_several_data_sets():
    """Under the true model the two-sided 10% flag rate holds up across data sets."""
    rates = {"p_score_groups": [], "p_item_rest": [], "p_categories": []}
    for seed in range(5):
        rng = np.random.default_rng(500 + seed)
        params = make_test(20, 2, rng, n_categories=[5, 5, 4, 5, 2] * 4)
        data = simulate_data(params, correlated_thetas(1200, 2, 0.5, rng), rng, missing=0.05)
        fit = an.item_fit(params, data, n_rep=100, seed=seed)
        for col in rates:
            rates[col].append(flagged(fit[col]).mean())
    for col, r in rates.items():
        assert 0.02 <= np.mean(r) <= 0.17, (col, r)


# ----------------------------------------------------------------------------- global fit (M2)
def test_m2_moments_and_their_covariance_equal_the_full_multinomial():
    """Cross-check against brute force: on 4 items (3 x 3 x 2 x 4 = 72 patterns) the pattern
    probabilities are enumerable, and the moments' mean and covariance follow from them directly."""
    import itertools

    p = make_test(4, 1, np.random.default_rng(0), n_categories=[3, 3, 2, 4])
    nodes, w = np.polynomial.hermite_e.hermegauss(41)
    w = w / w.sum()
    K = p.n_categories
    probs = an._grm_probs(nodes, p.a, p.b, K)
    scores = np.where(np.arange(K.max())[None, :] < K[:, None], np.arange(1, K.max() + 1), 0.0)
    pairs = an._moment_pairs(4)
    patterns = np.array(list(itertools.product(*[range(k) for k in K])))
    prob = np.array([(np.prod([probs[j, c] for j, c in enumerate(pat)], axis=0) * w).sum() for pat in patterns])
    obs = np.c_[patterns + 1.0, np.ones(len(patterns))]
    m = obs[:, pairs[0]] * obs[:, pairs[1]]
    pi = prob @ m
    xi = (m * prob[:, None]).T @ m - np.outer(pi, pi)
    assert prob.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.allclose(an._model_moments(probs, scores, w, pairs), pi, atol=1e-12)
    assert np.allclose(an._moment_covariance(probs, scores, w, pairs), xi, atol=1e-11)


def test_m2_is_chi_square_under_the_model_and_large_under_misfit():
    rng = np.random.default_rng(7)
    p = make_test(10, 1, rng)
    stats = []
    for _ in range(12):
        data = simulate_data(p, correlated_thetas(1500, 1, 0.0, rng), rng)
        stats.append(an.limited_information_fit(data, p).iloc[0])
    m2 = np.array([s["M2"] for s in stats])
    df = stats[0]["df"]
    assert df == 55 - 50 and stats[0]["n"] == 1500
    # chi-square(5): mean 5, SD 3.2; the mean of 12 has SE 0.9
    assert 2.5 < m2.mean() < 8.5, m2
    assert np.mean([s["RMSEA"] for s in stats]) < 0.03 and min(s["CFI"] for s in stats) > 0.99
    # two uncorrelated dimensions read as one: the items of the second carry no information on the first
    two = make_test(10, 2, rng)
    data = simulate_data(two, correlated_thetas(1500, 2, 0.0, rng), rng)
    one = ItemParams(two.item_ids, np.zeros(10, int), ("d1",), two.a, two.b, two.n_categories)
    bad = an.limited_information_fit(np.asarray(data.y), one).iloc[0]
    assert bad["p"] < 1e-6 and bad["RMSEA"] > 0.1 and bad["CFI"] < 0.9
