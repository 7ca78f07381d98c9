"""Analysis of an A/B(/n) test: Welch's t-test and a Bayesian model of the arm means.

**Frequentist.** :func:`welch` estimates ``mean(b) - mean(a)`` with Welch's standard error
and Welch-Satterthwaite degrees of freedom, a ``1 - alpha`` confidence interval and a
two-sided p-value. :func:`power` is the matching design calculation (normal approximation).

**Bayesian.** :func:`bayes_arms` models each arm's outcomes as normal with an unknown mean
``mu_a`` and an unknown variance ``sigma_a^2``, arms independent, with priors centred on the
pooled mean ``m0`` and scaled by the pooled SD ``s`` of all observations (the same prior for
every arm, so it favours none). Two implementations sit behind ``method``:

* ``"conjugate"``: the Normal-Inverse-Gamma model ``sigma_a^2 ~ InvGamma(1, s^2)``,
  ``mu_a | sigma_a^2 ~ Normal(m0, sigma_a^2 prior_scale^2)``; the posterior of ``mu_a`` is
  exactly a Student-t (``2 a_n`` degrees of freedom), from which ``n_samples`` seeded draws
  are taken. Fast; used for the many-seed checks;
* ``"pymc"``: ``mu_a ~ Normal(m0, (prior_scale s)^2)``, ``sigma_a ~ HalfNormal(2 s)``, normal or
  Student-t likelihood, sampled with NUTS; r-hat, bulk ESS and divergences are returned in
  :attr:`BayesResult.diagnostics` (convergence checks are not switched off). PyMC is imported
  only when this method is used.

From posterior draws of the means: the effect of each arm against the first (control) arm,
the probability each arm is best and its expected loss ``E[max_j mu_j - mu_a]``.

**Per-run decision rules** (:func:`decide`), for one seed only: the Bayesian rule declares the
arm with ``P(best) > threshold`` the winner; the frequentist rule compares the arm with the
highest mean to the runner-up and declares it the winner when Welch's ``p < alpha``. With two
identical arms the frequentist rule errs at rate ``alpha`` and the Bayesian one at about
``2 * (1 - threshold)``. These per-run winners only feed the secondary table of win shares;
the decision of an experiment comes from the evidence pooled over its seeds
(:mod:`workbench.sim.evidence`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

METHODS = ("conjugate", "pymc")


@dataclass(frozen=True)
class WelchResult:
    """``diff = mean(b) - mean(a)`` with its standard error, CI and two-sided p-value."""

    diff: float
    se: float
    df: float
    ci_low: float
    ci_high: float
    p_value: float


@dataclass(frozen=True)
class ArmPosterior:
    """One arm's posterior summaries; ``effect_*`` are against the first arm (0 for it)."""

    arm: str
    n: int
    sample_mean: float
    mean: float
    sd: float
    effect_mean: float
    effect_low: float
    effect_high: float
    prob_better: float  # P(mu_arm > mu_control)
    prob_best: float
    expected_loss: float


@dataclass(frozen=True)
class BayesResult:
    """Posterior summaries for every arm (``arms[0]`` is the control)."""

    method: str
    arms: tuple[ArmPosterior, ...]
    diagnostics: dict[str, float] | None = None  # pymc: max_rhat, min_ess_bulk, divergences

    def best(self) -> ArmPosterior:
        return max(self.arms, key=lambda a: a.prob_best)


def _sample(x: np.ndarray | Sequence[float], name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=float).ravel()
    if arr.size < 2:
        raise ValueError(f"{name} needs at least 2 observations, got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} has non-finite values")
    return arr


def welch(a: np.ndarray | Sequence[float], b: np.ndarray | Sequence[float], alpha: float = 0.05) -> WelchResult:
    """Welch's unequal-variance comparison of the means of ``b`` and ``a``
    (:func:`scipy.stats.ttest_ind` with ``equal_var=False`` and its confidence interval)."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    a, b = _sample(a, "a"), _sample(b, "b")
    se = float(np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size))
    diff = float(b.mean() - a.mean())
    if se == 0:  # both samples constant: scipy's statistic is undefined
        return WelchResult(diff, 0.0, float(a.size + b.size - 2), diff, diff, 1.0 if diff == 0 else 0.0)
    res = stats.ttest_ind(b, a, equal_var=False)
    ci = res.confidence_interval(1 - alpha)
    return WelchResult(diff, se, float(res.df), float(ci.low), float(ci.high), float(res.pvalue))


def power(effect: float, sd_a: float, sd_b: float, n_a: int, n_b: int, alpha: float = 0.05) -> float:
    """Predicted power of the two-sided Welch test (normal approximation) for a true ``effect``
    (:func:`statsmodels.stats.power.normal_power_het` with the standard error of the difference)."""
    from statsmodels.stats.power import normal_power_het

    if n_a < 2 or n_b < 2 or sd_a < 0 or sd_b < 0:
        raise ValueError("power needs n >= 2 per arm and SDs >= 0")
    se = float(np.sqrt(sd_a**2 / n_a + sd_b**2 / n_b))
    return float(normal_power_het(effect, 1, alpha, std_null=se, std_alternative=se, alternative="two-sided"))


def _summaries(names: Sequence[str], data: Sequence[np.ndarray], draws: np.ndarray, method: str,
               interval: float) -> BayesResult:
    """Summaries from (S, A) posterior draws of the arm means."""
    best = draws.argmax(axis=1)
    p_best = np.bincount(best, minlength=draws.shape[1]) / draws.shape[0]
    loss = (draws.max(axis=1, keepdims=True) - draws).mean(axis=0)
    lo, hi = (1 - interval) / 2, 1 - (1 - interval) / 2
    out = []
    for i, (name, x) in enumerate(zip(names, data, strict=True)):
        eff = draws[:, i] - draws[:, 0]
        out.append(ArmPosterior(name, int(x.size), float(x.mean()), float(draws[:, i].mean()),
                                float(draws[:, i].std(ddof=1)), float(eff.mean()), float(np.quantile(eff, lo)),
                                float(np.quantile(eff, hi)), float((eff > 0).mean()) if i else 0.5,
                                float(p_best[i]), float(loss[i])))
    return BayesResult(method, tuple(out))


def bayes_arms(
    samples: Mapping[str, np.ndarray | Sequence[float]],
    method: str = "conjugate",
    *,
    prior_scale: float = 10.0,
    likelihood: str = "normal",
    n_samples: int = 20_000,
    interval: float = 0.95,
    seed: int = 0,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 2,
) -> BayesResult:
    """Posterior of each arm's mean outcome, P(best), expected loss and effect vs the first arm.

    Parameters
    ----------
    samples
        Outcome values per arm, in order (the first arm is the control).
    method
        ``"conjugate"`` (Normal-Inverse-Gamma, exact) or ``"pymc"`` (NUTS); module docstring.
    prior_scale
        Prior SD of an arm mean in units of the pooled SD.
    likelihood
        ``"normal"`` or ``"studentt"`` (pymc only; the conjugate method is normal).
    n_samples, seed
        Draws and seed for the conjugate summaries (and the seed of PyMC's sampler).
    interval
        Probability of the effect's central credible interval.
    draws, tune, chains
        PyMC sampler settings.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    if likelihood not in ("normal", "studentt"):
        raise ValueError(f"likelihood must be 'normal' or 'studentt', got {likelihood!r}")
    if method == "conjugate" and likelihood != "normal":
        raise ValueError("the conjugate method has a normal likelihood; use method='pymc' for 'studentt'")
    if len(samples) < 2:
        raise ValueError(f"need at least 2 arms, got {len(samples)}")
    if not prior_scale > 0:
        raise ValueError(f"prior_scale must be > 0, got {prior_scale!r}")
    names = list(samples)
    data = [_sample(samples[k], f"arm {k!r}") for k in names]
    pooled = np.concatenate(data)
    m0 = float(pooled.mean())
    s = float(pooled.std(ddof=1)) or 1.0
    s0 = prior_scale * s
    if method == "conjugate":
        rng = np.random.default_rng([seed, 404])
        post = np.column_stack([_nig_draws(x, m0, s, prior_scale, n_samples, rng) for x in data])
        return _summaries(names, data, post, method, interval)
    post, diag = _pymc_draws(data, m0, s0, s, likelihood, seed, draws, tune, chains)
    res = _summaries(names, data, post, method, interval)
    return BayesResult(res.method, res.arms, diag)


def nig_posterior(x: np.ndarray, m0: float, s: float, prior_scale: float) -> tuple[float, float, float]:
    """Student-t posterior ``(df, location, scale)`` of the mean under the Normal-Inverse-Gamma prior.

    Prior: ``sigma^2 ~ InvGamma(a0 = 1, b0 = s^2)``, ``mu | sigma^2 ~ Normal(m0, sigma^2 / k0)``
    with ``k0 = 1 / prior_scale^2``. Posterior: ``k_n = k0 + n``, ``m_n = (k0 m0 + n xbar) / k_n``,
    ``a_n = a0 + n / 2``, ``b_n = b0 + SS / 2 + k0 n (xbar - m0)^2 / (2 k_n)``; marginally
    ``mu ~ t_{2 a_n}(m_n, sqrt(b_n / (a_n k_n)))``.
    """
    n, xbar = x.size, float(x.mean())
    k0, a0, b0 = 1.0 / prior_scale**2, 1.0, s**2
    kn = k0 + n
    mn = (k0 * m0 + n * xbar) / kn
    an = a0 + n / 2
    bn = b0 + 0.5 * float(((x - xbar) ** 2).sum()) + k0 * n * (xbar - m0) ** 2 / (2 * kn)
    return 2 * an, mn, float(np.sqrt(bn / (an * kn)))


def _nig_draws(x: np.ndarray, m0: float, s: float, prior_scale: float, n: int, rng: np.random.Generator) -> np.ndarray:
    df, loc, scale = nig_posterior(x, m0, s, prior_scale)
    return loc + scale * rng.standard_t(df, size=n)


def _pymc_draws(data: list[np.ndarray], m0: float, s0: float, s: float, likelihood: str, seed: int,
                draws: int, tune: int, chains: int) -> tuple[np.ndarray, dict[str, float]]:
    """(S, A) posterior draws of the arm means from the PyMC model and its sampler diagnostics."""
    import arviz as az
    import pymc as pm

    y = np.concatenate(data)
    arm = np.concatenate([np.full(x.size, i) for i, x in enumerate(data)])
    with pm.Model():
        mu = pm.Normal("mu", mu=m0, sigma=s0, shape=len(data))
        sigma = pm.HalfNormal("sigma", sigma=2 * s, shape=len(data))
        if likelihood == "studentt":
            nu = pm.Gamma("nu", alpha=2.0, beta=0.1)
            pm.StudentT("y", nu=nu, mu=mu[arm], sigma=sigma[arm], observed=y)
        else:
            pm.Normal("y", mu=mu[arm], sigma=sigma[arm], observed=y)
        idata = pm.sample(draws=draws, tune=tune, chains=chains, cores=1, random_seed=seed, progressbar=False)
    summ = az.summary(idata, var_names=["mu", "sigma"], kind="diagnostics", round_to="none")
    diag = {"max_rhat": float(summ["r_hat"].max()), "min_ess_bulk": float(summ["ess_bulk"].min()),
            "divergences": int(idata.sample_stats["diverging"].values.sum())}
    return idata.posterior["mu"].values.reshape(-1, len(data)), diag


@dataclass(frozen=True)
class Decision:
    """Winners under both rules (None when no winner is declared)."""

    bayes_winner: str | None
    frequentist_winner: str | None
    p_value: float
    prob_best: float


def decide(samples: Mapping[str, np.ndarray], bayes: BayesResult, threshold: float = 0.95,
           alpha: float = 0.05) -> Decision:
    """Apply the decision rules of the module docstring."""
    if not 0.5 <= threshold < 1:
        raise ValueError(f"threshold must be in [0.5, 1), got {threshold!r}")
    top = bayes.best()
    order = sorted(samples, key=lambda k: float(np.mean(samples[k])), reverse=True)
    w = welch(samples[order[1]], samples[order[0]], alpha)
    return Decision(top.arm if top.prob_best > threshold else None,
                    order[0] if w.p_value < alpha else None, w.p_value, top.prob_best)
