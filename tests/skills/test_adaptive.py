"""Multidimensional adaptive testing: posterior update, selection, stopping, simulation."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.skills.adaptive import (
    AdaptiveSession,
    CATDesign,
    GaussianEPPosterior,
    MaxInfo,
    check_correlation,
    compare_independent,
    fisher_information,
    format_comparison,
    format_report,
    run_cat,
    simulate_cat,
)
from workbench.skills.grm import (
    ItemParams,
    category_probs,
    log_category_probs,
    random_item_params,
    simulate_responses,
)
from workbench.skills.score import SkillPosterior
from workbench.skills.simulate import make_test

D, J = 8, 56


def equicorrelation(rho: float, n: int = D) -> np.ndarray:
    return np.full((n, n), rho) + (1 - rho) * np.eye(n)


@pytest.fixture(scope="module")
def pool() -> ItemParams:
    """8 dimensions x 7 five-category items; slopes typical of calibrated Likert scales."""
    return random_item_params([f"i{j + 1:02d}" for j in range(J)], np.arange(J) % D,
                              tuple(f"d{d + 1}" for d in range(D)), np.random.default_rng(1), 5, (1.2, 2.8))


@pytest.fixture(scope="module")
def sim(pool):
    return simulate_cat(pool, equicorrelation(0.6), 500, target_sd=0.4, seed=11)


def _answers(pool: ItemParams, n: int, rho: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    theta = rng.multivariate_normal(np.zeros(D), equicorrelation(rho), size=n)
    return simulate_responses(theta, pool, rng)


# ------------------------------------------------------------------ GRM information
def test_fisher_information_matches_numerical_derivative():
    p = make_test(6, 2, np.random.default_rng(0), n_categories=[2, 3, 4, 5, 5, 7])
    theta = np.array([[-2.0, 0.3], [0.0, 0.0], [1.7, -1.1]])
    info = fisher_information(p, theta)
    h = 1e-5
    for n in range(theta.shape[0]):
        for j in range(p.n_items):
            t = theta[n, p.dimension[j]]
            prob = category_probs(np.array([t]), p.a[j], p.thresholds(j))[0]
            dprob = (category_probs(np.array([t + h]), p.a[j], p.thresholds(j))[0]
                     - category_probs(np.array([t - h]), p.a[j], p.thresholds(j))[0]) / (2 * h)
            assert info[n, j] == pytest.approx((dprob**2 / prob).sum(), rel=1e-5)


# ------------------------------------------------------------------ posterior
def test_identity_prior_matches_exact_grid_posterior():
    p = make_test(12, 3, np.random.default_rng(4))
    post = GaussianEPPosterior(p, np.eye(3))
    rng = np.random.default_rng(5)
    for _ in range(5):
        y = simulate_responses(rng.normal(0, 1.5, size=(1, 3)), p, rng)[0]
        state, exact = post.init(1), SkillPosterior(p.dimensions)
        for j in rng.permutation(12):
            post.observe(state, np.array([0]), np.array([j]), np.array([y[j]]))
            exact.add_item(p, p.item_ids[j], int(y[j]))
            np.testing.assert_allclose(state.mean[0], exact.mean, atol=1e-4)
            np.testing.assert_allclose(state.sd[0], exact.sd, atol=1e-4)
        np.testing.assert_allclose(state.cov[0] - np.diag(np.diag(state.cov[0])), 0.0, atol=1e-12)


def test_identity_prior_leaves_unanswered_dimensions_at_the_prior():
    p = make_test(12, 3, np.random.default_rng(4))
    post = GaussianEPPosterior(p, np.eye(3))
    state = post.init(1)
    post.observe(state, np.array([0]), np.array([0]), np.array([4]))  # item i01 loads on d1
    assert state.mean[0, 0] > 0.5
    np.testing.assert_allclose(state.mean[0, 1:], 0.0, atol=1e-12)
    np.testing.assert_allclose(state.sd[0, 1:], 1.0, atol=1e-12)


@pytest.mark.parametrize("rho", [0.5, 0.9])
def test_correlated_update_matches_brute_force_two_dimensional_posterior(rho):
    p = make_test(10, 2, np.random.default_rng(7))
    R = equicorrelation(rho, 2)
    post = GaussianEPPosterior(p, R)
    grid = np.linspace(-6, 6, 241)
    X, Y = np.meshgrid(grid, grid, indexing="ij")
    Ri = np.linalg.inv(R)
    rng = np.random.default_rng(8)
    for _ in range(4):
        y = simulate_responses(rng.multivariate_normal([0, 0], R, size=1) * 1.3, p, rng)[0]
        items = rng.permutation(10)[: rng.integers(2, 8)]
        state = post.init(1)
        logp = -0.5 * (Ri[0, 0] * X**2 + 2 * Ri[0, 1] * X * Y + Ri[1, 1] * Y**2)
        for j in items:
            post.observe(state, np.array([0]), np.array([j]), np.array([y[j]]))
            ll = log_category_probs(grid, p.a[j], p.thresholds(j))[:, y[j]]
            logp = logp + (ll[:, None] if p.dimension[j] == 0 else ll[None, :])
        post.finalize(state)
        w = np.exp(logp - logp.max())
        w /= w.sum()
        mean = np.array([(w * X).sum(), (w * Y).sum()])
        sd = np.sqrt(np.array([(w * X**2).sum(), (w * Y**2).sum()]) - mean**2)
        np.testing.assert_allclose(state.mean[0], mean, atol=3e-3)
        np.testing.assert_allclose(state.sd[0], sd, atol=3e-3)


def test_correlation_borrows_strength_across_dimensions():
    p = make_test(8, 2, np.random.default_rng(2))
    high = [j for j in range(8) if p.dimension[j] == 0]
    states = {}
    for rho in (0.0, 0.7):
        post = GaussianEPPosterior(p, equicorrelation(rho, 2))
        state = post.init(1)
        for j in high:
            post.observe(state, np.array([0]), np.array([j]), np.array([p.n_categories[j] - 1]))
        states[rho] = state
    assert states[0.0].mean[0, 1] == pytest.approx(0.0, abs=1e-12)
    assert states[0.7].mean[0, 1] > 0.5  # high answers on d1 raise the estimate of d2
    assert states[0.7].sd[0, 1] < 0.95  # and make it more precise


# ------------------------------------------------------------------ simulation vs full form
def test_cat_uses_far_fewer_items_than_the_full_form(sim):
    assert sim.full_form_length == J
    assert sim.mean_items <= 0.7 * J
    assert sim.hit_target >= 0.9
    assert sim.mean_corr_full > 0.9
    assert np.min(sim.corr_full) > 0.85
    assert sim.rmse_adaptive <= sim.target_sd + 0.05  # the posterior SDs are honest
    assert sim.rmse_adaptive <= sim.rmse_full + 0.1
    assert sim.rmse_full < sim.rmse_adaptive  # all answers are still better than some
    table = sim.per_dimension
    assert list(table["dimension"]) == list(sim.dimensions)
    assert table["items"].sum() == pytest.approx(sim.mean_items)
    assert (table["sd"] <= sim.target_sd + 0.01).all()


def test_report_prints_the_headline_numbers(sim):
    text = format_report(sim)
    assert f"mean {sim.mean_items:.1f} of 56" in text
    assert f"adaptive {sim.rmse_adaptive:.3f}" in text and f"full form {sim.rmse_full:.3f}" in text
    assert f"{sim.mean_corr_full:.3f}" in text
    assert all(d in text for d in sim.dimensions)


def test_correlated_cat_needs_fewer_items_than_independent_cats(pool):
    comparison = compare_independent(pool, equicorrelation(0.6), 300, target_sd=0.4, seed=5)
    corr, ind = comparison.correlated, comparison.independent
    assert corr.posterior == "correlated" and ind.posterior == "independent"
    np.testing.assert_array_equal(corr.theta, ind.theta)  # the same people
    assert comparison.items_saved >= 3
    assert corr.hit_target >= ind.hit_target - 0.02  # not bought by missing the target
    assert corr.rmse_adaptive <= ind.rmse_adaptive + 0.02
    assert "items saved by the correlation" in format_comparison(comparison)


def test_max_info_selector_is_a_working_variant(pool, sim):
    variant = simulate_cat(pool, equicorrelation(0.6), 500, target_sd=0.4, seed=11, selector=MaxInfo())
    assert variant.mean_items <= 0.7 * J
    assert variant.hit_target >= 0.9
    assert variant.mean_corr_full > 0.9


def test_a_random_selector_plugged_in_needs_more_items(pool):
    R = equicorrelation(0.6)
    y = _answers(pool, 200, 0.6, seed=3)
    rng_scores = np.random.default_rng(0)

    def random_selector(mean, cov, info, dimension, target_sd):
        return rng_scores.random(info.shape)

    def items_used(selector) -> float:
        design = CATDesign.standard(pool, 0.4, selector=selector)
        out = run_cat(pool, GaussianEPPosterior(pool, R), design, 200, lambda r, i: y[r, i], np.random.default_rng(1))
        return out.n_items.mean()

    assert items_used(random_selector) > items_used("variance") + 5


# ------------------------------------------------------------------ exposure, content, stopping
def test_randomesque_spreads_item_use(pool):
    R, n = equicorrelation(0.6), 500
    y = _answers(pool, n, 0.6, seed=21)
    out = {}
    for k in (1, 5):
        design = CATDesign.standard(pool, 0.4, randomesque=k)
        out[k] = run_cat(pool, GaussianEPPosterior(pool, R), design, n, lambda r, i: y[r, i],
                         np.random.default_rng(2))
    first = {k: np.bincount(o.order[:, 0], minlength=J).max() / n for k, o in out.items()}
    exposure = {k: (o.responses >= 0).mean(axis=0) for k, o in out.items()}
    assert first[1] == 1.0  # without exposure control everyone starts with the same item
    assert first[5] <= 0.35
    assert exposure[5].max() < 1.0
    assert (exposure[5] >= 0.95).sum() < (exposure[1] >= 0.95).sum()
    assert out[5].n_items.mean() <= out[1].n_items.mean() + 3  # at a small price in test length


def test_stopping_respects_max_items(pool):
    capped = simulate_cat(pool, equicorrelation(0.6), 100, target_sd=0.1, seed=1, max_items=12)
    assert capped.max_items == 12
    assert (capped.items_used == 12).all()  # 0.1 is out of reach, so every session runs to the cap
    assert capped.hit_target == 0.0
    assert "cap 12" in format_report(capped)


def test_sessions_stop_once_every_dimension_reaches_the_target(pool):
    R = equicorrelation(0.6)
    y = _answers(pool, 200, 0.6, seed=4)
    design = CATDesign.standard(pool, 0.45, max_items=30)
    out = run_cat(pool, GaussianEPPosterior(pool, R), design, 200, lambda r, i: y[r, i], np.random.default_rng(0))
    assert out.n_items.max() <= 30
    early = out.n_items < 30
    assert early.any()
    exhausted = out.items_per_dim == 7
    assert ((out.sd[early] <= 0.45) | exhausted[early]).all()
    assert (out.sd[early] <= 0.45).all(axis=1).mean() > 0.95
    # and not later than needed: one item fewer would have left some dimension above target
    post = GaussianEPPosterior(pool, R)
    for n in np.flatnonzero(early)[:20]:
        state = post.init(1)
        for j in out.order[n, : out.n_items[n] - 1]:
            post.observe(state, np.array([0]), np.array([j]), np.array([y[n, j]]))
        assert state.sd.max() > 0.45


def test_content_balancing_gives_every_dimension_its_minimum(pool):
    R = equicorrelation(0.6)
    y = _answers(pool, 150, 0.6, seed=6)

    def per_dim(**kwargs) -> np.ndarray:
        design = CATDesign.standard(pool, **kwargs)
        out = run_cat(pool, GaussianEPPosterior(pool, R), design, 150, lambda r, i: y[r, i], np.random.default_rng(0))
        return out.items_per_dim

    loose = per_dim(target_sd=0.8, min_items_per_dim=0)  # precise after few items: some dimensions get none
    assert (loose == 0).any()
    assert (per_dim(target_sd=0.8) >= 1).all()  # the default minimum is one item per dimension
    assert (per_dim(target_sd=0.8, min_items_per_dim=3) >= 3).all()
    mins = (1, 2, 3, 1, 2, 3, 1, 2)
    assert (per_dim(target_sd=0.8, min_items_per_dim=mins) >= np.array(mins)).all()
    np.testing.assert_array_equal(per_dim(target_sd=0.1, max_items=16, min_items_per_dim=2), 2)


# ------------------------------------------------------------------ live session
def test_adaptive_session_replays_the_batch_engine(pool):
    R = equicorrelation(0.6)
    y = _answers(pool, 3, 0.6, seed=9)
    design = CATDesign.standard(pool, 0.4)
    batch = run_cat(pool, GaussianEPPosterior(pool, R), design, 3, lambda r, i: y[r, i], np.random.default_rng(0))
    for n in range(3):
        session = AdaptiveSession(pool, R, target_sd=0.4)
        given = []
        while (item := session.next_item()) is not None:
            assert session.next_item() == item  # stable until answered
            j = pool.item_ids.index(item)
            session.answer(item, int(y[n, j]))
            given.append(j)
        assert session.done
        assert given == batch.order[n, : batch.n_items[n]].tolist()
        mean, sd = session.scores()
        np.testing.assert_allclose(mean, batch.mean[n], atol=1e-9)
        np.testing.assert_allclose(sd, batch.sd[n], atol=1e-9)
        with pytest.raises(ValueError, match="already answered"):
            session.answer(pool.item_ids[given[0]], 0)
    with pytest.raises(ValueError, match="unknown item"):
        session.answer("nope", 0)
    with pytest.raises(ValueError, match="category index 9"):
        AdaptiveSession(pool, R, 0.4).answer(pool.item_ids[0], 9)


# ------------------------------------------------------------------ bad inputs
@pytest.mark.parametrize("target", [0, -0.3, float("nan"), None])
def test_target_sd_must_be_positive(pool, target):
    with pytest.raises(ValueError, match="target_sd must be a positive number"):
        simulate_cat(pool, np.eye(D), 10, target_sd=target, seed=0)


@pytest.mark.parametrize("matrix, message", [
    (np.eye(3), r"must be a 8 x 8 matrix"),
    (np.ones(8), r"must be a 8 x 8 matrix"),
    (equicorrelation(-0.5), r"positive definite \(smallest eigenvalue -2.5\)"),
    (np.ones((8, 8)), r"positive definite"),
    (np.triu(equicorrelation(0.3)), "symmetric"),
    (2 * np.eye(8), "ones on the diagonal"),
    (np.full((8, 8), np.nan), "non-finite"),
])
def test_correlation_must_be_a_valid_correlation_matrix(pool, matrix, message):
    with pytest.raises(ValueError, match=message):
        simulate_cat(pool, matrix, 10, target_sd=0.4, seed=0)
    with pytest.raises(ValueError, match=message):
        AdaptiveSession(pool, matrix, target_sd=0.4)
    with pytest.raises(ValueError, match=message):
        simulate_cat(pool, np.eye(D), 10, target_sd=0.4, seed=0, posterior_correlation=matrix)


def test_other_bad_designs_are_rejected(pool):
    R = np.eye(D)
    with pytest.raises(ValueError, match="n_respondents must be at least 1"):
        simulate_cat(pool, R, 0, 0.4, seed=0)
    with pytest.raises(ValueError, match="max_items must be at least 1"):
        simulate_cat(pool, R, 10, 0.4, seed=0, max_items=0)
    with pytest.raises(ValueError, match="d1 has 7 items, fewer than its minimum 8"):
        simulate_cat(pool, R, 10, 0.4, seed=0, min_items_per_dim=8)
    with pytest.raises(ValueError, match="add up to 16 items, more than max_items=10"):
        simulate_cat(pool, R, 10, 0.4, seed=0, max_items=10, min_items_per_dim=2)
    with pytest.raises(ValueError, match="3 entries for 8 dimensions"):
        simulate_cat(pool, R, 10, 0.4, seed=0, min_items_per_dim=(1, 2, 3))
    with pytest.raises(ValueError, match="randomesque k must be at least 1"):
        simulate_cat(pool, R, 10, 0.4, seed=0, randomesque=0)
    with pytest.raises(ValueError, match="unknown selector 'best'"):
        simulate_cat(pool, R, 10, 0.4, seed=0, selector="best")
    assert check_correlation(equicorrelation(0.3), D).shape == (D, D)
