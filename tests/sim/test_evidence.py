"""Pooled evidence: contrasts, random effects with Holm, the hierarchical model, calibrated error rates.

The A/A grids use cheap synthetic per-seed outcomes (:func:`simulate_aa`) on seeds other than
the calibration's (seed 0): 1,000 experiments tell a 5% rate from 10% by about 7 standard errors.
"""

import numpy as np
import pytest
from scipy import stats

from workbench.sim import evidence as ev

ALPHA = 0.05


def _upper(p: float, n: int) -> float:
    """Largest observed rate still consistent with a true rate ``p`` (3 binomial SE)."""
    return p + 3 * np.sqrt(p * (1 - p) / n)


def test_unadjusted_contrasts_are_differences_of_means():
    rng = np.random.default_rng(0)
    v = {"c": rng.normal(0, 1, 50), "a": rng.normal(0.2, 1, 60), "b": rng.normal(0, 2, 40)}
    c = ev.contrasts(v)
    assert c.arms == ("a", "b") and not c.adjusted
    assert c.diff[0] == pytest.approx(v["a"].mean() - v["c"].mean())
    se0 = v["c"].var(ddof=1) / 50
    assert np.array(c.cov) == pytest.approx(np.diag([v["a"].var(ddof=1) / 60, v["b"].var(ddof=1) / 40]) + se0)


def test_ancova_removes_the_baseline_imbalance():
    """A gain measured with noise regresses to the mean; adjusting for the baseline tightens the estimate."""
    rng = np.random.default_rng(1)
    effect, rows = 0.1, []
    for _ in range(300):
        out, base = {}, {}
        for i, arm in enumerate(("c", "t")):
            true = rng.normal(0, 0.4, 80)
            pre = true + rng.normal(0, 0.6, 80)
            post = true + effect * i + rng.normal(0, 0.6, 80)
            out[arm], base[arm] = post - pre, pre
        rows.append((ev.contrasts(out).diff[0], ev.contrasts(out, base).diff[0], ev.contrasts(out, base).cov[0][0]))
    raw, adj, var = np.array(rows).T
    assert abs(adj.mean() - effect) < 3 * adj.std() / np.sqrt(len(adj))
    # the chance imbalance of the noisy baseline is gone: SD ratio sqrt(1 - R^2) = 0.81 in this design
    assert adj.std() < 0.9 * raw.std()
    assert np.sqrt(var.mean()) == pytest.approx(adj.std(), rel=0.15)  # HC2 SE matches the spread


def test_random_effects_widen_with_heterogeneity_and_match_statsmodels():
    from statsmodels.stats.meta_analysis import combine_effects

    rng = np.random.default_rng(2)
    d = 0.1 + rng.normal(0, 0.05, 30) + rng.normal(0, 0.02, 30)
    var = np.full(30, 0.02**2)
    est, se, df, tau2, _ = ev.random_effects(d, var)
    ref = combine_effects(d, var, method_re="iterated")
    assert est == pytest.approx(ref.mean_effect_re) and tau2 > 0 and df == 29
    assert se >= ref.sd_eff_w_re > np.sqrt(1 / (1 / var).sum())  # wider than fixed effect
    assert ev.random_effects(d[:1], var[:1]) == (d[0], 0.02, np.inf, 0.0, 0.0)


def test_holm_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(5)
    for m in (1, 2, 3, 6):  # few calls: statsmodels' Holm collects garbage on each
        p = rng.uniform(0, 0.2, m) ** 2
        assert ev.holm(p) == pytest.approx(multipletests(p, method="holm")[1], abs=1e-15)
    assert list(ev.holm([0.04, 0.01, 0.03])) == pytest.approx([0.06, 0.03, 0.06])


def test_holm_and_the_frequentist_rule():
    c = [ev.Contrasts(("a", "b"), (0.2, -0.01), ((0.0025, 0.001), (0.001, 0.0025)), False) for _ in range(4)]
    f = ev.pool_frequentist(c, "ctl")
    a, b = f.effects
    assert f.winner == "a" and a.p_holm == pytest.approx(min(1, 2 * a.p_value)) and b.p_holm >= b.p_value
    worse = [ev.Contrasts(("a",), (-0.3,), ((0.0025,),), False)] * 3
    assert ev.pool_frequentist(worse, "ctl").winner == "ctl"
    assert "Keep the control 'ctl'" in ev.frequentist_statement(ev.pool_frequentist(worse, "ctl"), "gain")
    text = ev.frequentist_statement(f, "gain")
    assert text.startswith("Adopt 'a': pooled over 4 seed(s)") and "at most 5%" in text
    with pytest.raises(ValueError, match="same arms"):
        ev.pool_frequentist([c[0], worse[0]], "ctl")


@pytest.mark.parametrize("n_arms", [2, 3])
def test_frequentist_aa_false_winner_rate_stays_at_alpha(n_arms):
    n = 1000
    exps = ev.simulate_aa(n_arms, n, seed=11)
    rate = np.mean([ev.pool_frequentist(e, "arm0", ALPHA).winner is not None for e in exps])
    assert rate <= _upper(ALPHA, n), rate  # Holm: at most alpha familywise
    assert rate >= (0.6 if n_arms == 2 else 0.3) * ALPHA, rate  # and not a rule that never decides


@pytest.mark.parametrize("n_arms", [2, pytest.param(3, marks=pytest.mark.slow)])
def test_bayes_aa_false_winner_rate_matches_the_calibration(n_arms):
    n = 1000
    exps = ev.simulate_aa(n_arms, n, seed=12)
    thr = ev.calibrated_threshold(n_arms, ALPHA)
    top = np.array([ev.posterior_prob_best(e, 1.0, seed=i, n_draws=2000).max() for i, e in enumerate(exps)])
    rate = float(np.mean(top > thr))
    half = 3 * np.sqrt(ALPHA * (1 - ALPHA) / n)
    assert abs(rate - ALPHA) <= half, (rate, thr)


def test_thresholds_are_stored_and_monotone():
    t = [ev.calibrated_threshold(a, ALPHA) for a in (2, 3, 4, 5)]
    assert all(0.5 < x < 1 for x in t) and t == sorted(t, reverse=True)  # more arms share P(best)
    assert ev.calibrated_threshold(2, 0.01) > ev.calibrated_threshold(2, 0.05) > ev.calibrated_threshold(2, 0.10)
    assert ev.aa_false_winner_rate(2, ev.calibrated_threshold(2, 0.10)) == pytest.approx(0.10, abs=0.002)
    with pytest.raises(ValueError, match="alpha must be from 0.005"):
        ev.calibrated_threshold(2, 0.001)


def test_planted_effect_power_and_coverage():
    """Pooled over 8 seeds of 400 leaders per arm, a 0.06 SD effect: power as designed, 95% coverage."""
    n, effect, S, leaders, tau = 400, 0.06, 8, 400, 0.05
    exps = ev.simulate_aa(2, n, n_seeds=S, leaders=leaders, tau=tau, effects=[effect], seed=13)
    freq = [ev.pool_frequentist(e, "arm0", ALPHA) for e in exps]
    bayes = [ev.pool_bayes(e, "arm0", 1.0, n_draws=2000, seed=i) for i, e in enumerate(exps)]
    se = np.sqrt((2 / leaders + 2 * tau**2) / S)
    predicted = stats.nct.sf(stats.t.ppf(1 - ALPHA / 2, S - 1), S - 1, effect / se)  # t test on S - 1 df
    power_f = np.mean([f.winner == "arm1" for f in freq])
    power_b = np.mean([b.winner == "arm1" for b in bayes])
    tol = 3 * np.sqrt(predicted * (1 - predicted) / n) + 0.05  # plus the tau^2 estimate's own noise
    assert abs(power_f - predicted) <= tol, (power_f, predicted)
    assert abs(power_b - predicted) <= tol + 0.05, (power_b, predicted)
    cover_f = np.mean([f.effects[0].low <= effect <= f.effects[0].high for f in freq])
    cover_b = np.mean([b.arms[1].effect_low <= effect <= b.arms[1].effect_high for b in bayes])
    assert cover_f >= 0.95 - 3 * np.sqrt(0.95 * 0.05 / n), cover_f
    assert abs(cover_b - 0.95) <= 3 * np.sqrt(0.95 * 0.05 / n) + 0.02, cover_b


def test_bayes_statement_and_warnings():
    c = ev.simulate_aa(3, 1, effects=[0.3, 0.0], seed=3)[0]
    d = ev.pool_bayes(c, "arm0", 1.0)
    assert d.winner == "arm1" and d.threshold_source == "calibrated" and d.stated_false_winner_rate == ALPHA
    text = ev.bayes_statement(d, "gain")
    assert text.startswith("'arm1' is the best arm with posterior probability") and "WARNING" not in text
    bad = ev.BayesDecision(**{**d.__dict__, "warnings": ("sampler check failed: r-hat 1.050 > 1.01",)})
    assert "WARNING: sampler check failed: r-hat 1.050 > 1.01" in ev.bayes_statement(bad, "gain")
    assert ev.Diagnostics(1.05, 100.0, 3).problems() == ["r-hat 1.050 > 1.01", "bulk ESS 100 < 400",
                                                         "3 divergent transitions"]
    fixed = ev.pool_bayes(c, "arm0", 1.0, threshold=0.95)
    assert fixed.threshold_source == "config" and fixed.stated_false_winner_rate < ALPHA


def test_one_seed_fixes_the_heterogeneity():
    c = ev.simulate_aa(2, 1, n_seeds=1, seed=4)[0]
    d = ev.pool_bayes(c, "arm0", 1.0)
    assert d.tau_mean == 0.0 and d.arms[1].effect_low < d.arms[1].effect_mean < d.arms[1].effect_high


@pytest.mark.slow
def test_bayes_aa_rate_is_not_above_alpha_at_another_design():
    """Calibrated at 8 seeds x 400 leaders; at 20 seeds x 100 leaders the rule may only be more cautious."""
    n = 1000
    for n_arms in (2, 3):
        exps = ev.simulate_aa(n_arms, n, n_seeds=20, leaders=100, tau=0.02, seed=21)
        thr = ev.calibrated_threshold(n_arms, ALPHA)
        rate = np.mean([ev.posterior_prob_best(e, 1.0, seed=i, n_draws=2000).max() > thr
                        for i, e in enumerate(exps)])
        assert rate <= _upper(ALPHA, n), (n_arms, rate)


@pytest.mark.slow
def test_stored_calibration_reproduces_on_fresh_seeds():
    for n_arms in (2, 3):
        fresh = np.quantile(ev.aa_max_prob_best(n_arms, 2000, seed=99), 0.95)
        assert fresh == pytest.approx(ev.calibrated_threshold(n_arms, ALPHA), abs=0.02)


@pytest.mark.slow
def test_pymc_backend_agrees_with_the_grid_and_reports_diagnostics():
    c = ev.simulate_aa(3, 1, n_seeds=10, effects=[0.08, 0.02], seed=5)[0]
    g = ev.pool_bayes(c, "arm0", 1.0, backend="grid", n_draws=20000)
    p = ev.pool_bayes(c, "arm0", 1.0, backend="pymc", draws=1000, tune=1000, chains=2)
    assert p.diagnostics.max_rhat is not None and p.diagnostics.divergences is not None
    for a, b in zip(g.arms[1:], p.arms[1:], strict=True):
        assert a.effect_mean == pytest.approx(b.effect_mean, abs=0.01)
        assert a.effect_sd == pytest.approx(b.effect_sd, rel=0.15)
        assert a.prob_best == pytest.approx(b.prob_best, abs=0.05)
    short = ev.pool_bayes(c, "arm0", 1.0, backend="pymc", draws=30, tune=30, chains=2)
    assert any("bulk ESS" in w for w in short.warnings)
    assert "WARNING" in ev.bayes_statement(short, "gain")
