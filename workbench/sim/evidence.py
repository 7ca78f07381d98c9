"""Evidence pooled over the seeds of an experiment: one decision, with its interval and error rate.

Every seed of an experiment is a replication in its own simulated world (population and true
module effectiveness differ), so the effect of an arm against the control varies between seeds.
The input here is, per seed ``s``, the vector ``d_s`` of contrasts "arm minus control" for the
``m`` arms after the control and its sampling covariance ``V_s`` (:func:`contrasts`: a difference
of means, or an ANCOVA-style baseline-adjusted difference for measured outcomes).

**Frequentist view** (:func:`pool_frequentist`). Per arm, a random-effects meta-analysis of the
seed contrasts (Paule-Mandel between-seed variance and the Hartung-Knapp-Sidik-Jonkman standard
error, statsmodels :func:`~statsmodels.stats.meta_analysis.combine_effects`; :func:`random_effects`),
a ``1 - alpha`` interval and a two-sided p-value on ``t(k - 1)``; the p-values of the ``m`` arms are adjusted with Holm's step-down method
(:func:`holm`, checked against :func:`statsmodels.stats.multitest.multipletests`). Rule: the arms significantly *better* than
the control after Holm are candidates and the one with the largest pooled effect is the winner;
when every arm is significantly *worse*, the control wins; otherwise no winner. Among identical
arms the chance of declaring any winner is at most ``alpha`` (Holm controls the familywise rate).

**Bayesian view** (:func:`pool_bayes`). A hierarchical model with partial pooling::

    d_s | theta, tau   ~ Normal(theta, V_s + tau^2 (I + J))   # arm-by-seed heterogeneity tau
    theta_j | sigma    ~ Normal(0, sigma^2)                    # arms pooled towards "no difference"
    tau   ~ HalfNormal(TAU_SCALE * sd),  sigma ~ HalfNormal(ARM_SCALE * sd)

(``sd``: the outcome's SD between leaders; ``J``: the all-ones matrix, since every contrast of a
seed shares that seed's control arm). Two backends target this same posterior: ``"grid"``
integrates ``tau`` and ``sigma`` numerically on an adaptive grid (``theta`` is Gaussian given
them, so the rest is exact); ``"pymc"`` samples it with NUTS and reports r-hat, ESS and
divergences. From the posterior of ``(0, theta_1..theta_m)``: each arm's effect with its credible
interval, P(better than control) and P(best). Rule: the arm (the control included) whose P(best)
exceeds ``threshold`` wins. The threshold comes from :func:`calibrated_threshold`, set by
simulating A/A experiments so that identical arms produce a false winner at the stated rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy import stats

#: Prior scale of the arm-by-seed heterogeneity, in units of the outcome's SD between leaders.
TAU_SCALE = 0.1
#: Prior scale of the spread of arm effects (partial pooling), in the same units.
ARM_SCALE = 1.0
BACKENDS = ("grid", "pymc")
#: Sampler checks: the decision carries a warning when any fails.
MAX_RHAT = 1.01
MIN_ESS = 400


# ---------------------------------------------------------------------------------------------
# Contrasts of one seed


@dataclass(frozen=True)
class Contrasts:
    """One seed's contrasts ``diff`` (arm minus control, arms after the control) and covariance ``cov``."""

    arms: tuple[str, ...]
    diff: tuple[float, ...]
    cov: tuple[tuple[float, ...], ...]
    adjusted: bool  # True: ANCOVA-style, adjusted for the baseline measurement

    def to_dict(self) -> dict:
        return {"arms": list(self.arms), "diff": list(self.diff), "cov": [list(r) for r in self.cov],
                "adjusted": self.adjusted}


def contrasts(values: dict[str, np.ndarray], baseline: dict[str, np.ndarray] | None = None) -> Contrasts:
    """Contrasts of every arm against the first (the control) in one seed.

    Without ``baseline``: differences of arm means with covariance ``diag(se_j^2) + se_0^2 J``.
    With ``baseline`` (per-leader pre-assessment score, aligned with ``values``): the arm
    coefficients of the least-squares fit ``y ~ arm + baseline`` (one common slope; ANCOVA) with
    their HC2 heteroskedasticity-robust covariance. Randomization makes both unbiased for the
    arm difference; the adjusted one removes the chance imbalance of the baseline between arms
    and with it the part of the measured gain that is regression to the mean of that baseline.
    """
    names = list(values)
    if len(names) < 2:
        raise ValueError(f"need at least 2 arms, got {len(names)}")
    ys = [np.asarray(values[k], float) for k in names]
    if any(y.size < 2 for y in ys):
        raise ValueError("every arm needs at least 2 leaders")
    m = len(names) - 1
    if baseline is None:
        means = np.array([y.mean() for y in ys])
        se2 = np.array([y.var(ddof=1) / y.size for y in ys])
        diff = means[1:] - means[0]
        cov = np.diag(se2[1:]) + se2[0] * np.ones((m, m))
        return _make(names, diff, cov, False)
    import statsmodels.api as sm

    xs = [np.asarray(baseline[k], float) for k in names]
    y = np.concatenate(ys)
    x = np.concatenate(xs)
    arm = np.concatenate([np.full(v.size, i) for i, v in enumerate(ys)])
    design = np.column_stack([np.ones_like(y)] + [(arm == j).astype(float) for j in range(1, m + 1)]
                             + [x - x.mean()])
    fit = sm.OLS(y, design).fit(cov_type="HC2")
    diff = np.asarray(fit.params)[1:m + 1]
    cov = np.asarray(fit.cov_params())[1:m + 1, 1:m + 1]
    return _make(names, diff, cov, True)


def _make(names: list[str], diff: np.ndarray, cov: np.ndarray, adjusted: bool) -> Contrasts:
    return Contrasts(tuple(names[1:]), tuple(float(v) for v in diff), tuple(tuple(float(v) for v in r) for r in cov),
                     adjusted)


def stack(seeds: Sequence[Contrasts]) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """``(arms, D (S, m), V (S, m, m))`` from per-seed contrasts (all with the same arms)."""
    if not seeds:
        raise ValueError("no seeds to pool")
    arms = seeds[0].arms
    if any(c.arms != arms for c in seeds):
        raise ValueError("every seed must compare the same arms")
    D = np.array([c.diff for c in seeds], float)
    V = np.array([c.cov for c in seeds], float)
    if not (np.all(np.isfinite(D)) and np.all(np.isfinite(V))):
        raise ValueError("non-finite contrasts")
    return arms, D, V


# ---------------------------------------------------------------------------------------------
# Frequentist: random effects per arm, Holm across arms


@dataclass(frozen=True)
class PooledEffect:
    """Random-effects pooled effect of one arm against the control."""

    arm: str
    estimate: float
    se: float
    low: float
    high: float
    p_value: float
    p_holm: float
    tau2: float  # between-seed variance of the contrast
    i2: float  # share of the variation between seeds not due to sampling error
    seeds: int


@dataclass(frozen=True)
class FrequentistDecision:
    """The frequentist view of an experiment: pooled effects, Holm-adjusted, and the winner."""

    control: str
    effects: tuple[PooledEffect, ...]
    alpha: float
    winner: str | None
    stated_false_winner_rate: float
    rule: str


def random_effects(diff: np.ndarray, var: np.ndarray, alpha: float = 0.05) -> tuple[float, float, float, float, float]:
    """``(estimate, se, df, tau2, i2)`` of a random-effects pooling.

    Paule-Mandel ``tau^2`` and the Hartung-Knapp-Sidik-Jonkman standard error, never smaller than
    the conventional one (statsmodels :func:`~statsmodels.stats.meta_analysis.combine_effects`),
    to be used with a t distribution on ``df = k - 1`` degrees of freedom: with the usual normal
    interval, a handful of seeds gives intervals that are too narrow (8% false winners at a stated
    5% with 8 seeds; ``tests/sim/test_evidence.py``). With one seed the estimate is that seed's
    (normal, ``df`` infinite: tau^2 cannot be estimated).
    """
    diff, var = np.asarray(diff, float), np.asarray(var, float)
    if diff.size == 1:
        return float(diff[0]), float(math.sqrt(var[0])), math.inf, 0.0, 0.0
    df = float(diff.size - 1)
    if np.any(var <= 0):
        return float(diff.mean()), float(diff.std(ddof=1) / math.sqrt(diff.size)), df, 0.0, 0.0
    from statsmodels.stats.meta_analysis import combine_effects

    with np.errstate(divide="ignore", invalid="ignore"):
        r = combine_effects(diff, var, method_re="iterated", use_t=True, alpha=alpha)
        i2 = float(r.i2) if np.isfinite(r.i2) else 0.0
    se = max(float(r.sd_eff_w_re), float(r.sd_eff_w_re_hksj))
    return float(r.mean_effect_re), se, df, float(max(r.tau2, 0.0)), max(i2, 0.0)


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (the same as statsmodels' ``multipletests(method="holm")``).

    Written out because statsmodels' Holm branch runs a full garbage collection on every call,
    which dominates the A/A grids of thousands of experiments; tests compare the two.
    """
    p = np.asarray(p_values, float)
    order = np.argsort(p, kind="stable")
    adj = np.minimum(np.maximum.accumulate(p[order] * np.arange(p.size, 0, -1)), 1.0)
    out = np.empty_like(adj)
    out[order] = adj
    return out


def pool_frequentist(seeds: Sequence[Contrasts], control: str, alpha: float = 0.05) -> FrequentistDecision:
    """Random-effects pooled effect of every arm against ``control`` with Holm's adjustment and the rule."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    arms, D, V = stack(seeds)
    raw = []
    for j in range(len(arms)):
        est, se, df, tau2, i2 = random_effects(D[:, j], V[:, j, j], alpha)
        dist = stats.norm if math.isinf(df) else stats.t(df)
        q = float(dist.ppf(1 - alpha / 2))
        p = float(2 * dist.sf(abs(est) / se)) if se > 0 else float(est == 0)
        raw.append((est, se, q, tau2, i2, p))
    p_holm = holm([r[5] for r in raw])
    effects = tuple(PooledEffect(a, est, se, est - q * se, est + q * se, p, float(ph), tau2, i2, D.shape[0])
                    for a, (est, se, q, tau2, i2, p), ph in zip(arms, raw, p_holm, strict=True))
    better = [e for e in effects if e.p_holm < alpha and e.estimate > 0]
    if better:
        winner: str | None = max(better, key=lambda e: e.estimate).arm
    elif all(e.p_holm < alpha and e.estimate < 0 for e in effects):
        winner = control
    else:
        winner = None
    rule = (f"random-effects pooling over seeds (Hartung-Knapp); two-sided tests of each arm against '{control}', "
            f"Holm-adjusted at alpha = {alpha:g}")
    return FrequentistDecision(control, effects, alpha, winner, alpha, rule)


# ---------------------------------------------------------------------------------------------
# Bayesian: hierarchical model with partial pooling


@dataclass(frozen=True)
class Diagnostics:
    """Sampler checks of the PyMC backend (None values for the grid backend, which has no sampler)."""

    max_rhat: float | None = None
    min_ess_bulk: float | None = None
    divergences: int | None = None
    draws: int | None = None
    chains: int | None = None

    def problems(self) -> list[str]:
        out = []
        if self.max_rhat is not None and not self.max_rhat <= MAX_RHAT:
            out.append(f"r-hat {self.max_rhat:.3f} > {MAX_RHAT}")
        if self.min_ess_bulk is not None and not self.min_ess_bulk >= MIN_ESS:
            out.append(f"bulk ESS {self.min_ess_bulk:.0f} < {MIN_ESS}")
        if self.divergences:
            out.append(f"{self.divergences} divergent transitions")
        return out


@dataclass(frozen=True)
class ArmEffect:
    """Posterior summaries of one arm; ``effect_*`` against the control (0 for the control)."""

    arm: str
    effect_mean: float
    effect_sd: float
    effect_low: float
    effect_high: float
    prob_better: float
    prob_best: float


@dataclass(frozen=True)
class BayesDecision:
    """The Bayesian view of an experiment: hierarchical posterior, P(best) and the winner."""

    control: str
    backend: str
    arms: tuple[ArmEffect, ...]  # the control first
    tau_mean: float
    sigma_mean: float
    threshold: float
    threshold_source: str  # "calibrated" or "config"
    stated_false_winner_rate: float
    winner: str | None
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    warnings: tuple[str, ...] = ()


def _grid_axis(lo: float, hi: float, n: int) -> np.ndarray:
    return np.exp(np.linspace(math.log(lo), math.log(hi), n))


def _tau_terms(D: np.ndarray, V: np.ndarray, taus: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per tau: the precision ``P``, ``b = sum W^-1 d`` and ``log K`` of the seed likelihood."""
    S, m = D.shape
    eye, ones = np.eye(m), np.ones((m, m))
    W = V[None] + (taus**2)[:, None, None, None] * (eye + ones)[None, None]  # (T, S, m, m)
    Winv = np.linalg.inv(W)
    _, logdet = np.linalg.slogdet(W)
    P = Winv.sum(axis=1)  # (T, m, m)
    b = np.einsum("tsij,sj->ti", Winv, D)
    q0 = np.einsum("si,tsij,sj->t", D, Winv, D)
    theta_hat = np.linalg.solve(P, b[..., None])[..., 0]
    _, logdet_p = np.linalg.slogdet(P)
    logk = (-0.5 * (q0 - np.einsum("ti,ti->t", b, theta_hat)) - 0.5 * logdet.sum(axis=1)
            - 0.5 * S * m * math.log(2 * math.pi) + 0.5 * m * math.log(2 * math.pi) - 0.5 * logdet_p)
    return P, b, logk


def _log_post(D: np.ndarray, V: np.ndarray, taus: np.ndarray, sigmas: np.ndarray, sd: float):
    """Log posterior of (tau, sigma) on a log-spaced grid (Jacobian included) and the Gaussian pieces."""
    m = D.shape[1]
    P, b, logk = _tau_terms(D, V, taus)
    theta_hat = np.linalg.solve(P, b[..., None])[..., 0]  # (T, m)
    Pinv = np.linalg.inv(P)
    eye = np.eye(m)
    C = Pinv[:, None] + (sigmas**2)[None, :, None, None] * eye  # (T, G, m, m)
    _, logdet_c = np.linalg.slogdet(C)
    quad = np.einsum("ti,tgij,tj->tg", theta_hat, np.linalg.inv(C), theta_hat)
    lml = logk[:, None] - 0.5 * (m * math.log(2 * math.pi) + logdet_c + quad)
    lp_tau = stats.halfnorm.logpdf(taus, scale=TAU_SCALE * sd) + np.log(taus)
    lp_sig = stats.halfnorm.logpdf(sigmas, scale=ARM_SCALE * sd) + np.log(sigmas)
    return lml + lp_tau[:, None] + lp_sig[None, :], P, b


def _grid_draws(D: np.ndarray, V: np.ndarray, sd: float, n_draws: int, seed: int, fixed_tau: bool):
    """(n_draws, m) posterior draws of theta and the posterior means of tau and sigma (grid backend)."""
    lo, hi, n = 1e-4, 4.0, 32
    taus = np.array([0.0]) if fixed_tau else _grid_axis(lo * TAU_SCALE * sd, hi * TAU_SCALE * sd, n)
    sigmas = _grid_axis(lo * ARM_SCALE * sd, hi * ARM_SCALE * sd, n)
    for _ in range(2):  # refine once around the posterior mass
        if fixed_tau:
            lp, P, b = _log_post_fixed(D, V, sigmas, sd)
        else:
            lp, P, b = _log_post(D, V, taus, sigmas, sd)
        w = np.exp(lp - lp.max())
        keep_t = np.flatnonzero(w.max(axis=1) > 1e-7)
        keep_s = np.flatnonzero(w.max(axis=0) > 1e-7)
        if not fixed_tau:
            taus = _grid_axis(taus[max(keep_t[0] - 1, 0)], taus[min(keep_t[-1] + 1, len(taus) - 1)], 40)
        sigmas = _grid_axis(sigmas[max(keep_s[0] - 1, 0)], sigmas[min(keep_s[-1] + 1, len(sigmas) - 1)], 40)
    if fixed_tau:
        lp, P, b = _log_post_fixed(D, V, sigmas, sd)
    else:
        lp, P, b = _log_post(D, V, taus, sigmas, sd)
    w = np.exp(lp - lp.max())
    w /= w.sum()
    m = D.shape[1]
    prec = P[:, None] + (1 / sigmas**2)[None, :, None, None] * np.eye(m)  # (T, G, m, m)
    cov = np.linalg.inv(prec)
    mean = np.einsum("tgij,tj->tgi", cov, b)
    rng = np.random.default_rng([int(seed), 606])
    cells = rng.choice(w.size, size=n_draws, p=w.ravel())
    ti, gi = np.unravel_index(cells, w.shape)
    L = np.linalg.cholesky(cov[ti, gi])
    z = rng.standard_normal((n_draws, m, 1))
    draws = mean[ti, gi] + (L @ z)[..., 0]
    return draws, float((w.sum(axis=1) * taus).sum()), float((w.sum(axis=0) * sigmas).sum())


def _log_post_fixed(D: np.ndarray, V: np.ndarray, sigmas: np.ndarray, sd: float):
    lp, P, b = _log_post(D, V, np.array([1e-12]), sigmas, sd)
    return lp - stats.halfnorm.logpdf(1e-12, scale=TAU_SCALE * sd) - math.log(1e-12), P, b


def _pymc_draws(D: np.ndarray, V: np.ndarray, sd: float, seed: int, draws: int, tune: int, chains: int,
                fixed_tau: bool):
    """(draws, m) posterior draws of theta from NUTS, posterior means of tau and sigma, diagnostics."""
    import arviz as az
    import pymc as pm
    import pytensor.tensor as pt

    S, m = D.shape
    with pm.Model():
        sigma = pm.HalfNormal("sigma", sigma=ARM_SCALE * sd)
        theta = pm.Normal("theta", mu=0.0, sigma=sigma, shape=m)
        if fixed_tau:
            tau = pt.as_tensor_variable(0.0)
        else:
            tau = pm.HalfNormal("tau", sigma=TAU_SCALE * sd)
        if m == 1:
            pm.Normal("d", mu=theta[0], sigma=pt.sqrt(V[:, 0, 0] + 2 * tau**2), observed=D[:, 0])
        else:
            cov = pt.as_tensor_variable(V) + tau**2 * (np.eye(m) + np.ones((m, m)))[None]
            pm.MvNormal("d", mu=theta, cov=cov, observed=D)
        idata = pm.sample(draws=draws, tune=tune, chains=chains, cores=1, random_seed=int(seed),
                          progressbar=False, target_accept=0.95)
    names = ["theta", "sigma"] + ([] if fixed_tau else ["tau"])
    summ = az.summary(idata, var_names=names, kind="diagnostics", round_to="none")
    diag = Diagnostics(float(summ["r_hat"].max()), float(summ["ess_bulk"].min()),
                       int(idata.sample_stats["diverging"].values.sum()), int(draws), int(chains))
    post = idata.posterior
    tau_mean = 0.0 if fixed_tau else float(post["tau"].values.mean())
    return post["theta"].values.reshape(-1, m), tau_mean, float(post["sigma"].values.mean()), diag


def _winner_probs(theta: np.ndarray) -> np.ndarray:
    """P(best) of (control, arms...) from (n, m) draws of theta (the control is 0)."""
    full = np.column_stack([np.zeros(theta.shape[0]), theta])
    return np.bincount(full.argmax(axis=1), minlength=full.shape[1]) / full.shape[0]


def posterior_prob_best(seeds: Sequence[Contrasts], sd: float, *, seed: int = 0, n_draws: int = 4000) -> np.ndarray:
    """P(best) of (control, arms...) under the hierarchical model (grid backend): for calibration."""
    _, D, V = stack(seeds)
    theta, _, _ = _grid_draws(D, V, sd, n_draws, seed, fixed_tau=D.shape[0] == 1)
    return _winner_probs(theta)


def pool_bayes(seeds: Sequence[Contrasts], control: str, sd: float, *, alpha: float = 0.05,
               threshold: float | None = None, backend: str = "grid", interval: float = 0.95, seed: int = 0,
               n_draws: int = 8000, draws: int = 1000, tune: int = 1000, chains: int = 2) -> BayesDecision:
    """Hierarchical posterior of the arms' effects against ``control`` and the P(best) rule.

    Parameters
    ----------
    seeds
        Per-seed contrasts (:func:`contrasts`).
    control
        Name of the control arm.
    sd
        The outcome's SD between leaders (sets the prior scales; see the module docstring).
    alpha
        Stated false-winner rate; the threshold is :func:`calibrated_threshold` for it.
    threshold
        A P(best) threshold to use instead (its A/A rate is then simulated and stated).
    backend
        ``"grid"`` (exact integration over tau and sigma) or ``"pymc"`` (NUTS, with diagnostics).
    interval
        Probability of the central credible intervals.
    seed, n_draws
        Seed of both backends; draws of the grid backend.
    draws, tune, chains
        NUTS settings (``pymc``).

    With one seed the between-seed heterogeneity cannot be learned and ``tau`` is fixed at 0.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    if not sd > 0:
        raise ValueError(f"sd must be > 0, got {sd!r}")
    arms, D, V = stack(seeds)
    m = len(arms)
    fixed_tau = D.shape[0] == 1
    diag = Diagnostics()
    if backend == "pymc":
        theta, tau_mean, sigma_mean, diag = _pymc_draws(D, V, sd, seed, draws, tune, chains, fixed_tau)
    else:
        theta, tau_mean, sigma_mean = _grid_draws(D, V, sd, n_draws, seed, fixed_tau)
    p_best = _winner_probs(theta)
    lo, hi = (1 - interval) / 2, 1 - (1 - interval) / 2
    out = [ArmEffect(control, 0.0, 0.0, 0.0, 0.0, 0.5, float(p_best[0]))]
    for j, a in enumerate(arms):
        t = theta[:, j]
        out.append(ArmEffect(a, float(t.mean()), float(t.std(ddof=1)), float(np.quantile(t, lo)),
                             float(np.quantile(t, hi)), float((t > 0).mean()), float(p_best[j + 1])))
    if threshold is None:
        thr, source, rate = calibrated_threshold(m + 1, alpha), "calibrated", alpha
    else:
        thr, source, rate = float(threshold), "config", aa_false_winner_rate(m + 1, float(threshold))
    top = int(np.argmax(p_best))
    winner = ([control, *arms][top]) if p_best[top] > thr else None
    warnings = tuple(f"sampler check failed: {p}" for p in diag.problems())
    return BayesDecision(control, backend, tuple(out), tau_mean, sigma_mean, thr, source, rate, winner, diag,
                         warnings)


# ---------------------------------------------------------------------------------------------
# Calibration of the P(best) threshold by simulated A/A experiments

#: Reference design of the calibration: seeds per experiment, leaders per arm, between-seed SD.
CALIBRATION_SEEDS = 8
CALIBRATION_LEADERS = 400
CALIBRATION_TAU = 0.05  # in units of the outcome's SD
CALIBRATION_EXPERIMENTS = 2000


def simulate_aa(n_arms: int, n_experiments: int, *, n_seeds: int = CALIBRATION_SEEDS,
                leaders: int = CALIBRATION_LEADERS, tau: float = CALIBRATION_TAU, effects: Sequence[float] | None = None,
                seed: int = 0) -> list[list[Contrasts]]:
    """Synthetic experiments of per-seed contrasts (outcome SD 1): A/A, or with planted ``effects``.

    Each seed draws every arm's true mean as ``effect + tau * z`` (seed-to-seed variation) and
    an observed mean with standard error ``1 / sqrt(leaders)``; the contrasts and their exact
    covariance follow. This is the sampling model of per-seed summaries that the pooled
    analyses assume, at a fraction of the cost of simulating leaders.
    """
    if n_arms < 2:
        raise ValueError(f"need at least 2 arms, got {n_arms}")
    eff = np.zeros(n_arms) if effects is None else np.concatenate([[0.0], np.asarray(effects, float)])
    if eff.size != n_arms:
        raise ValueError(f"effects needs {n_arms - 1} values (arms after the control)")
    rng = np.random.default_rng([int(seed), 707])
    names = [f"arm{i}" for i in range(n_arms)]
    se2 = 1.0 / leaders
    m = n_arms - 1
    cov = np.diag(np.full(m, se2)) + se2 * np.ones((m, m))
    out = []
    for _ in range(n_experiments):
        mu = eff[None, :] + tau * rng.standard_normal((n_seeds, n_arms))
        obs = mu + math.sqrt(se2) * rng.standard_normal((n_seeds, n_arms))
        d = obs[:, 1:] - obs[:, :1]
        out.append([_make(names, row, cov, False) for row in d])
    return out


def aa_max_prob_best(n_arms: int, n_experiments: int = CALIBRATION_EXPERIMENTS, seed: int = 0) -> np.ndarray:
    """The largest P(best) of every simulated A/A experiment at the reference design."""
    exps = simulate_aa(n_arms, n_experiments, seed=seed)
    return np.array([posterior_prob_best(e, 1.0, seed=i, n_draws=2000).max() for i, e in enumerate(exps)])


@lru_cache(maxsize=32)
def _aa_sample(n_arms: int) -> np.ndarray:
    if n_arms in _AA_QUANTILES:
        return np.asarray(_AA_QUANTILES[n_arms])
    return np.quantile(aa_max_prob_best(n_arms), _Q_LEVELS)


def calibrated_threshold(n_arms: int, alpha: float = 0.05) -> float:
    """P(best) threshold whose A/A false-winner rate is ``alpha`` for ``n_arms`` arms.

    The ``1 - alpha`` quantile of the largest P(best) over simulated A/A experiments (stored
    for 2 to 5 arms in ``_AA_QUANTILES``; other counts are simulated on first use).
    """
    if not 0.005 <= alpha < 0.5:
        raise ValueError(f"alpha must be from 0.005 to 0.5 (the calibration's range), got {alpha!r}")
    return float(np.interp(1 - alpha, _Q_LEVELS, _aa_sample(int(n_arms))))


def aa_false_winner_rate(n_arms: int, threshold: float) -> float:
    """Share of simulated A/A experiments in which some arm's P(best) exceeds ``threshold``."""
    q = _aa_sample(int(n_arms))
    return float(1 - np.interp(threshold, q, _Q_LEVELS, left=0.0, right=1.0))


_Q_LEVELS = np.linspace(0.5, 0.995, 100)
#: Quantiles (at ``_Q_LEVELS``) of the largest P(best) in A/A experiments, from
#: :func:`aa_max_prob_best` (seed 0; 6,000 experiments for 2 and 3 arms, 2,000 for 4 and 5;
#: tests/sim/test_evidence.py re-simulates them on fresh seeds).
_AA_QUANTILES: dict[int, tuple[float, ...]] = {
    2: (
        0.71375, 0.71575, 0.71825, 0.72050, 0.72350, 0.72600, 0.72750, 0.73000, 0.73200, 0.73400,
        0.73600, 0.73800, 0.74000, 0.74250, 0.74500, 0.74700, 0.74900, 0.75150, 0.75400, 0.75650,
        0.75900, 0.76150, 0.76350, 0.76619, 0.76800, 0.77100, 0.77350, 0.77600, 0.77818, 0.78050,
        0.78200, 0.78450, 0.78700, 0.79017, 0.79250, 0.79450, 0.79666, 0.79900, 0.80100, 0.80450,
        0.80700, 0.80950, 0.81200, 0.81400, 0.81650, 0.81850, 0.82113, 0.82413, 0.82650, 0.83063,
        0.83350, 0.83700, 0.83912, 0.84250, 0.84500, 0.84800, 0.85011, 0.85200, 0.85550, 0.85850,
        0.86160, 0.86500, 0.86850, 0.87100, 0.87309, 0.87600, 0.87900, 0.88200, 0.88400, 0.88700,
        0.88950, 0.89350, 0.89600, 0.89850, 0.90100, 0.90400, 0.90750, 0.91050, 0.91400, 0.91650,
        0.91955, 0.92300, 0.92650, 0.93054, 0.93404, 0.93800, 0.94100, 0.94400, 0.94600, 0.95000,
        0.95350, 0.95700, 0.96152, 0.96550, 0.96900, 0.97400, 0.97850, 0.98150, 0.98650, 0.99250,
    ),
    3: (
        0.55500, 0.55700, 0.55850, 0.56050, 0.56174, 0.56400, 0.56550, 0.56773, 0.56973, 0.57173,
        0.57450, 0.57700, 0.57850, 0.58072, 0.58250, 0.58450, 0.58750, 0.58971, 0.59150, 0.59400,
        0.59670, 0.60050, 0.60250, 0.60500, 0.60719, 0.60950, 0.61250, 0.61550, 0.61750, 0.62000,
        0.62250, 0.62550, 0.62750, 0.63000, 0.63250, 0.63450, 0.63700, 0.64000, 0.64250, 0.64550,
        0.64800, 0.65000, 0.65300, 0.65550, 0.66000, 0.66264, 0.66450, 0.66750, 0.67050, 0.67350,
        0.67800, 0.68112, 0.68450, 0.68700, 0.69000, 0.69361, 0.69700, 0.70050, 0.70300, 0.70710,
        0.71050, 0.71510, 0.71850, 0.72350, 0.72650, 0.73050, 0.73500, 0.73900, 0.74300, 0.74600,
        0.75000, 0.75500, 0.75850, 0.76307, 0.76657, 0.77050, 0.77600, 0.78100, 0.78650, 0.79200,
        0.79600, 0.80055, 0.80750, 0.81304, 0.81904, 0.82750, 0.83350, 0.84050, 0.84853, 0.85603,
        0.86405, 0.87250, 0.88600, 0.89402, 0.90651, 0.91501, 0.92301, 0.93701, 0.95451, 0.97200,
    ),
    4: (
        0.47600, 0.47725, 0.47900, 0.48000, 0.48224, 0.48474, 0.48700, 0.48800, 0.48996, 0.49246,
        0.49450, 0.49600, 0.49772, 0.50000, 0.50221, 0.50471, 0.50600, 0.50771, 0.50991, 0.51150,
        0.51350, 0.51550, 0.51700, 0.51900, 0.52300, 0.52419, 0.52619, 0.52818, 0.53168, 0.53436,
        0.53700, 0.53900, 0.54150, 0.54384, 0.54650, 0.54900, 0.55000, 0.55366, 0.55615, 0.55865,
        0.56165, 0.56415, 0.56664, 0.56800, 0.57150, 0.57364, 0.57700, 0.57913, 0.58150, 0.58550,
        0.58813, 0.59100, 0.59300, 0.59562, 0.59711, 0.60150, 0.60500, 0.60711, 0.60900, 0.61250,
        0.61580, 0.61800, 0.62250, 0.62559, 0.63009, 0.63300, 0.63809, 0.64350, 0.65000, 0.65400,
        0.65865, 0.66250, 0.66664, 0.67057, 0.67456, 0.67800, 0.68556, 0.69300, 0.69705, 0.70110,
        0.70760, 0.71460, 0.71955, 0.72600, 0.73154, 0.73700, 0.74357, 0.75707, 0.76900, 0.77408,
        0.77907, 0.79450, 0.80450, 0.81509, 0.84112, 0.85701, 0.87157, 0.89302, 0.91751, 0.93702,
    ),
    5: (
        0.41750, 0.41900, 0.42000, 0.42150, 0.42350, 0.42524, 0.42650, 0.42823, 0.42950, 0.43073,
        0.43223, 0.43500, 0.43700, 0.43872, 0.44022, 0.44171, 0.44300, 0.44500, 0.44620, 0.44770,
        0.45000, 0.45320, 0.45450, 0.45600, 0.45700, 0.45969, 0.46200, 0.46400, 0.46550, 0.46950,
        0.47068, 0.47367, 0.47550, 0.47717, 0.47950, 0.48150, 0.48366, 0.48600, 0.48850, 0.49050,
        0.49350, 0.49550, 0.49865, 0.50200, 0.50400, 0.50550, 0.50814, 0.51050, 0.51163, 0.51500,
        0.51663, 0.52150, 0.52400, 0.52850, 0.53200, 0.53550, 0.54000, 0.54450, 0.54850, 0.55060,
        0.55250, 0.55510, 0.55750, 0.56159, 0.56527, 0.57159, 0.57559, 0.57950, 0.58308, 0.58766,
        0.59358, 0.59750, 0.60157, 0.60770, 0.61206, 0.61556, 0.62168, 0.62800, 0.63261, 0.63900,
        0.64320, 0.65705, 0.66318, 0.67463, 0.68412, 0.69058, 0.69560, 0.70303, 0.71006, 0.72208,
        0.73450, 0.74552, 0.75800, 0.77104, 0.78902, 0.81455, 0.83505, 0.86252, 0.89050, 0.91901,
    ),
}


# ---------------------------------------------------------------------------------------------
# Plain-language statements


def _num(x: float) -> str:
    return f"{x:+.3g}"


def frequentist_statement(d: FrequentistDecision, label: str) -> str:
    """One paragraph: what the frequentist view decided, the effect with its interval, the error rate."""
    rate = (f"Rule: {d.rule}; with identical arms a winner is declared in at most {d.stated_false_winner_rate:.0%} "
            "of experiments.")
    ci = f"{1 - d.alpha:.0%} CI"
    if d.winner is not None and d.winner != d.control:
        e = next(x for x in d.effects if x.arm == d.winner)
        head = (f"Adopt '{e.arm}': pooled over {e.seeds} seed(s) it beats the control '{d.control}' by "
                f"{_num(e.estimate)} in {label} ({ci} {_num(e.low)} to {_num(e.high)}; Holm-adjusted p = "
                f"{e.p_holm:.2g}).")
        also = [x for x in d.effects if x.arm != e.arm and x.p_holm < d.alpha and x.estimate > 0]
        if also:
            head += (" " + "; ".join(f"'{x.arm}' also beats the control ({_num(x.estimate)}, {ci} {_num(x.low)} to "
                                     f"{_num(x.high)})" for x in also)
                     + f": '{e.arm}' has the largest estimate, but the arms are not tested against each other.")
    elif d.winner == d.control:
        worst = max(d.effects, key=lambda x: x.estimate)
        head = (f"Keep the control '{d.control}': every other arm is worse in {label} (the closest, '{worst.arm}', by "
                f"{_num(worst.estimate)}, {ci} {_num(worst.low)} to {_num(worst.high)}).")
    else:
        e = max(d.effects, key=lambda x: abs(x.estimate) / x.se if x.se > 0 else 0.0)
        head = (f"No winner: no arm separates from the control '{d.control}' at the stated error rate "
                f"(the clearest, '{e.arm}': {_num(e.estimate)} in {label}, {ci} {_num(e.low)} to {_num(e.high)}; "
                f"Holm-adjusted p = {e.p_holm:.2g}).")
    return f"{head} {rate}"


def bayes_statement(d: BayesDecision, label: str) -> str:
    """One paragraph: the Bayesian view's decision, the effect with its credible interval, the error rate."""
    how = "calibrated by simulated A/A experiments" if d.threshold_source == "calibrated" else "set in the config"
    rate = (f"Rule: the arm with P(best) > {d.threshold:.3f} wins (threshold {how}; with identical arms a false "
            f"winner is declared in {_rate(d.stated_false_winner_rate)} of simulated experiments).")
    by_name = {a.arm: a for a in d.arms}
    if d.winner is not None and d.winner != d.control:
        a = by_name[d.winner]
        head = (f"'{a.arm}' is the best arm with posterior probability {a.prob_best:.3f}; its effect against "
                f"'{d.control}' is {_num(a.effect_mean)} in {label} (95% credible interval {_num(a.effect_low)} to "
                f"{_num(a.effect_high)}; hierarchical model, {d.backend}).")
    elif d.winner == d.control:
        head = f"The control '{d.control}' is the best arm with posterior probability {by_name[d.control].prob_best:.3f}."
    else:
        top = max(d.arms, key=lambda a: a.prob_best)
        head = (f"No arm is best with enough probability: the highest P(best) is {top.prob_best:.3f} ('{top.arm}').")
    out = f"{head} {rate}"
    if d.warnings:
        out += " WARNING: " + "; ".join(d.warnings) + ": do not rely on this posterior until the sampler checks pass."
    return out


def _rate(r: float) -> str:
    return "under 0.5%" if r < 0.005 else f"{r:.1%}"


def headline(freq: FrequentistDecision, bayes: BayesDecision) -> str:
    """The one-sentence decision of the experiment from both views."""
    def what(w: str | None, control: str) -> str:
        return "no winner" if w is None else ("keep the control" if w == control else f"adopt '{w}'")

    f, b = what(freq.winner, freq.control), what(bayes.winner, bayes.control)
    if f == b:
        return f"Decision: {f} (the frequentist and the Bayesian views agree)."
    return f"Decision: the views differ: frequentist: {f}; Bayesian: {b}."


def contrasts_from(welch_by_arm: dict, names: Sequence[str]) -> Contrasts:
    """Unadjusted contrasts of one seed from its per-arm Welch results (``diff``, ``se``) vs the control.

    The covariance between arms' contrasts (their shared control) is not kept in Welch results,
    so only the per-arm variances are right: enough for per-arm pooling, not for the joint model.
    """
    arms = list(names[1:])
    diff = np.array([welch_by_arm[a]["diff"] for a in arms])
    return _make(list(names), diff, np.diag([welch_by_arm[a]["se"] ** 2 for a in arms]), False)
