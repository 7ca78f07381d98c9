"""The numpy calibration posterior: its gradient, per-person scores, information and mode."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.skills.calibrate import _counts_by_rater
from workbench.skills.posterior import Patterns, Posterior, loglik_kernel
from workbench.skills.simulate import correlated_thetas, make_test, simulate_data


def _numeric_hessian(grad, x: np.ndarray, eps: float = 1e-4) -> np.ndarray:
    """Hessian by central differences of an analytic gradient (2n gradient calls): the reference."""
    H = np.empty((x.size, x.size))
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = eps
        H[i] = (grad(x + e) - grad(x - e)) / (2 * eps)
    return (H + H.T) / 2


@pytest.fixture(scope="module")
def rated():
    """Mixed 2- to 5-category items on two dimensions, four rater types, missing answers."""
    rng = np.random.default_rng(11)
    p = make_test(8, 2, rng, n_categories=[2, 3, 5, 5, 3, 5, 4, 5])
    data = simulate_data(p, correlated_thetas(400, 2, 0.5, rng), rng,
                         raters={"self": 1, "manager": 1, "peer": 2, "direct": 1},
                         rater_effects={"self": 0.5, "manager": -0.1, "peer": 0.05}, missing=0.1)
    spec = data.items
    post = Posterior(_counts_by_rater(data), spec.dimension, len(spec.dimensions), spec.n_categories, 41)
    return data, post


def test_gradient_matches_finite_differences(rated):
    _, post = rated
    x = post.start() + np.random.default_rng(0).normal(0, 0.2, post.size)
    _, g = post.logp(x)
    eps = 1e-5
    num = np.array([(post.logp(x + eps * e, False) - post.logp(x - eps * e, False)) / (2 * eps)
                    for e in np.eye(post.size)])
    assert np.abs(num - g).max() < 1e-5 * max(1.0, np.abs(g).max())


def test_fused_pattern_kernel_equals_the_dense_products(rated):
    """The sampler's kernel (distinct patterns, float32, polynomial exp) gives the dense float64
    kernel's log-likelihood and gradient, with four rater types, missing answers and 2-5 categories."""
    _, post = rated
    rng = np.random.default_rng(3)
    for _ in range(3):
        x = post.start() + rng.normal(0, 0.3, post.size)
        z, T = post._tables(post.unpack(x))
        R, _, K, Q = T.shape
        for d, idx in enumerate(post.blocks):
            tabs = [T[r, idx].reshape(-1, Q) for r in range(R)]
            ll64, P = loglik_kernel(post.C[d], tabs, post.logw)
            G64 = np.stack([post.C[d][r].T @ P for r in range(R)])
            patterns = Patterns.of(post.C[d])
            assert patterns.weights.sum() == post.N
            ll32, G32 = patterns.loglik(tabs, post.logw)
            assert abs(ll32 - ll64) < 1e-6 * abs(ll64)
            assert np.abs(G32 - G64).max() < 1e-4 * np.abs(G64).max()
            # every person twice: the same patterns, counted twice
            twice = Patterns.of([np.vstack([c, c]) for c in post.C[d]])
            assert len(twice.weights) == len(patterns.weights) and twice.weights.sum() == 2 * post.N
            ll2, G2 = twice.loglik(tabs, post.logw)
            assert abs(ll2 - 2 * ll32) < 1e-6 * abs(ll2) and np.allclose(G2, 2 * G32, rtol=1e-5, atol=1e-3)
            # a person with no answers in this competency adds nothing (log of the weights' sum, 1)
            none = Patterns.of([np.vstack([np.zeros((1, c.shape[1])), c]) for c in post.C[d]])
            ll0, G0 = none.loglik(tabs, post.logw)
            assert abs(ll0 - ll32) < 1e-6 * abs(ll32) and np.allclose(G0, G32, rtol=1e-5, atol=1e-3)
    with pytest.raises(ValueError, match="rows"):
        patterns.loglik(tabs[:1], post.logw)


def test_float32_posterior_has_the_float64_density_and_gradient(rated):
    data, post = rated
    spec = data.items
    post32 = Posterior(_counts_by_rater(data), spec.dimension, len(spec.dimensions), spec.n_categories, 41,
                       dtype=np.float32)
    x = post.start() + np.random.default_rng(4).normal(0, 0.2, post.size)
    (lp, g), (lp32, g32) = post.logp(x), post32.logp(x)
    assert abs(lp32 - lp) < 1e-6 * abs(lp)
    assert np.abs(g32 - g).max() < 1e-4 * np.abs(g).max()
    assert post32.logp(x, grad=False) == lp32


def test_person_scores_add_up_to_the_likelihood_gradient(rated):
    _, post = rated
    x = post.start() + np.random.default_rng(1).normal(0, 0.2, post.size)
    lp, g, S = post.person_scores(x)
    lp64, g64 = post.logp(x)
    prior = post._log_prior(x, post.unpack(x))[1]
    assert S.shape == (post.N, post.size)
    assert np.allclose(S.sum(0), g64 - prior, rtol=1e-4, atol=1e-3)
    assert abs(lp - lp64) < 1e-3 * abs(lp64)


def test_prior_hessian_by_colours_equals_the_full_one(rated):
    _, post = rated
    x = post.start() + np.random.default_rng(2).normal(0, 0.3, post.size)
    full = _numeric_hessian(lambda z: post._log_prior(z, post.unpack(z))[1], x, eps=1e-5)
    assert np.abs(post.prior_hessian(x) - full).max() < 1e-6


def test_mode_and_cross_product_information(rated):
    _, post = rated
    mode = post.find_mode()
    assert mode.converged
    _, g = post.logp(mode.x)
    assert np.abs(g).max() < 0.05
    # the precision here is the observed information (few colours), equal to the full Hessian's
    observed = -_numeric_hessian(lambda z: post.logp(z)[1], mode.x)
    assert "observed" in mode.information
    assert np.abs(mode.precision - observed).max() < 1e-3 * np.abs(observed).max()
    # the cross-product information agrees with the observed one within sampling error
    _, _, S = post.person_scores(mode.x)
    cross = S.T @ S.astype(float) - post.prior_hessian(mode.x)
    ratio = np.sqrt(np.diag(np.linalg.inv(cross)) / np.diag(np.linalg.inv(observed)))
    assert 0.9 < np.median(ratio) < 1.15 and ratio.min() > 0.85 and ratio.max() < 1.25, ratio


@pytest.mark.slow
def test_same_density_as_the_pymc_model(rated):
    """The numpy log posterior (which NUTS and the quick calibration use) differs from the declarative
    PyMC model's by one constant everywhere: same priors, transforms and Jacobians."""
    import pytensor.tensor as pt

    from workbench.skills.calibrate import build_model

    data, post = rated
    model = build_model(data)
    assert post.types == list(model._wb_types)
    logp = model.compile_logp(jacobian=True)
    n_cat = data.items.n_categories
    others = [t for t in post.types if t not in ("self", "all")]
    rng = np.random.default_rng(5)
    x0, diffs = post.start(), []
    for _ in range(5):
        x = x0 + rng.normal(0.0, 0.3, post.size)
        u = post.unpack(x)
        constrained = {"a": u.a, "delta_self": u.delta[post.types.index("self")],
                       "delta_others": u.delta[[post.types.index(t) for t in others]]}
        for k in np.unique(n_cat):
            constrained[f"c_K{k}"] = u.c[n_cat == k, : k - 1]
        point = {}
        for rv in model.free_RVs:
            value, tr = constrained[rv.name], model.rvs_to_transforms[rv]
            point[model.rvs_to_values[rv].name] = value if tr is None else tr.forward(pt.as_tensor_variable(np.asarray(value, float)), *rv.owner.inputs).eval()
        diffs.append(float(logp(point)) - post.logp(x, grad=False))
    # float32 products in the PyMC model: about 1e-4 apart; without the ordered Jacobian, 2.7
    assert np.ptp(diffs) < 0.005, diffs


@pytest.mark.parametrize("shift", [0.0, 0.3])
def test_analytic_hessian_matches_differences_of_the_gradient(rated, shift):
    _, post = rated
    x = post.start() + np.random.default_rng(3).normal(0, shift, post.size)
    analytic = post.hessian(x)
    full = _numeric_hessian(lambda z: post.logp(z)[1], x)  # every coordinate, not coloured
    scale = np.abs(full).max()
    assert np.abs(analytic - full).max() < 1e-6 * scale
    assert np.abs(analytic - post.hessian_by_differences(x)).max() < 1e-6 * scale
    assert np.allclose(analytic, analytic.T)


def test_analytic_hessian_without_raters_and_with_binary_items():
    """One rater type ("all"), one dimension, items of 2 to 6 categories, few persons per block."""
    rng = np.random.default_rng(12)
    p = make_test(6, 1, rng, n_categories=[2, 6, 3, 2, 4, 5])
    data = simulate_data(p, correlated_thetas(150, 1, 0.0, rng), rng, missing=0.2)
    spec = data.items
    post = Posterior(_counts_by_rater(data), spec.dimension, len(spec.dimensions), spec.n_categories, 41)
    assert post.types == ["all"]
    x = post.start() + rng.normal(0, 0.2, post.size)
    full = _numeric_hessian(lambda z: post.logp(z)[1], x)
    assert np.abs(post.hessian(x) - full).max() < 1e-6 * np.abs(full).max()
