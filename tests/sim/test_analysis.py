import numpy as np
import pytest
from scipy import stats

from workbench.sim.analysis import bayes_arms, decide, power, welch


def test_welch_matches_scipy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 80), rng.normal(0.3, 2, 50)
    w = welch(a, b)
    ref = stats.ttest_ind(b, a, equal_var=False)
    assert w.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert w.ci_low < w.diff < w.ci_high


def test_power_formula():
    assert power(0.0, 1, 1, 50, 50) == pytest.approx(0.05, abs=1e-9)
    assert power(0.5, 1, 1, 64, 64) == pytest.approx(0.807, abs=0.01)


def test_conjugate_posterior_and_decision():
    rng = np.random.default_rng(1)
    data = {"a": rng.normal(0, 1, 400), "b": rng.normal(0.4, 1, 400)}
    r = bayes_arms(data, "conjugate", seed=3)
    assert r.arms[1].prob_best > 0.99 and r.arms[0].expected_loss > 0.3
    assert r.arms[1].effect_low < data["b"].mean() - data["a"].mean() < r.arms[1].effect_high
    assert decide(data, r).bayes_winner == "b" and decide(data, r).frequentist_winner == "b"
    with pytest.raises(ValueError, match="unknown method"):
        bayes_arms(data, "mcmc")


@pytest.mark.slow
def test_pymc_and_conjugate_agree():
    rng = np.random.default_rng(2)
    data = {"a": rng.normal(0.5, 0.35, 300), "b": rng.normal(0.58, 0.35, 300)}
    c = bayes_arms(data, "conjugate", seed=0)
    p = bayes_arms(data, "pymc", seed=0, draws=1000, tune=700, chains=2)
    for x, y in zip(c.arms, p.arms, strict=True):
        assert abs(x.mean - y.mean) < 0.005
        assert y.sd == pytest.approx(x.sd, rel=0.15)
        assert abs(x.prob_best - y.prob_best) < 0.03
    assert abs(c.arms[1].effect_mean - p.arms[1].effect_mean) < 0.005


def test_conjugate_is_the_normal_inverse_gamma_posterior():
    """The Student-t marginal of the mean equals the prior x likelihood integrated over sigma^2 numerically."""
    from scipy import integrate

    from workbench.sim.analysis import nig_posterior

    rng = np.random.default_rng(4)
    x = rng.normal(0.3, 0.5, 12)
    m0, s, scale = 0.1, 0.6, 2.0
    df, loc, sc = nig_posterior(x, m0, s, scale)

    def joint(mu, var):  # InvGamma(1, s^2) x Normal(m0, var * scale^2) x likelihood
        prior = stats.invgamma.pdf(var, 1.0, scale=s**2) * stats.norm.pdf(mu, m0, np.sqrt(var) * scale)
        return prior * np.prod(stats.norm.pdf(x, mu, np.sqrt(var)))

    grid = np.linspace(loc - 4 * sc, loc + 4 * sc, 9)
    dens = np.array([integrate.quad(lambda v, m=m: joint(m, v), 0, np.inf)[0] for m in grid])
    t = stats.t.pdf(grid, df, loc, sc)
    assert dens / dens[4] == pytest.approx(t / t[4], rel=1e-5)  # same shape (densities up to a constant)
    # and the sampled summaries follow that t
    r = bayes_arms({"a": x, "b": x + 0.1}, "conjugate", seed=1, n_samples=200_000)
    assert r.method == "conjugate" and r.diagnostics is None
