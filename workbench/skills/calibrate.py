"""Calibrating the graded response model in PyMC.

Route (and why it is valid)
---------------------------
* **Persons are integrated out.** Each item loads on one dimension, so the responses to a
  dimension's items depend on the person only through theta_d, and theta_d ~ N(0, 1)
  marginally whatever the correlation between dimensions. The exact marginal likelihood of
  each dimension's block is therefore a 1-D integral, computed by Gauss-Hermite quadrature
  (41 points by default) as one dense product ``counts @ log_prob_table`` per dimension and
  a log-sum-exp over nodes. Item parameters of different dimensions are disjoint, so the
  posterior of a dimension's items is the exact posterior given that dimension's data; the
  model has about (K) parameters per item instead of one per person and dimension.
* **Rater effects.** A rater type shifts the whole scale: P(Y >= k | theta, r) =
  logistic(a (theta + delta_r - b_k)). The non-self rater types sum to zero (the theta scale is
  the others' average view) and ``delta_self`` is free, so self-inflation is estimated,
  not ignored. All sheets about one respondent share their theta.
* **Correlation between dimensions** is estimated afterwards in a small PyMC model with an
  LKJ prior, from each person's EAP scores at the posterior-mean item parameters: under a
  normal approximation, EAP means have covariance Lambda R Lambda with Lambda the marginal
  reliabilities, so the scaled scores' covariance is the data for R.
* **Methods.** ``nuts``: PyMC's NUTS on the marginal model, r-hat, bulk ESS and
  divergences checked and written to the output. ``map`` (the default of :class:`~workbench.skills.model.GradedResponseModel` and the CLI): the
  posterior mode with a Laplace (Gaussian) approximation there, computed by
  :mod:`workbench.skills.posterior` in numpy without PyMC, seconds instead of minutes; labelled
  ``"method": "map"`` in the output. ``advi``: mean-field ADVI.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .data import ItemSpec, ResponseData
from .grm import ItemParams
from .params import params_to_json
from .score import category_counts

DEFAULT_POINTS = 41
# PyTensor warns when it cannot link its own BLAS; the heavy products here run through
# numpy's BLAS in marginal.py, so the warning says nothing about this model's speed.
warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS", category=UserWarning)
RHAT_MAX = 1.01  # r-hat at most 1.01
NUTS_DRAWS = 1800  # draws per chain: two chains give a tail ESS of 1,500 or more on 10,000 x 60, and the
# largest r-hat of its 300 parameters 1.005-1.008 (benchmarks/README.md); 500 draws left it at 1.02-1.03
TUNE_PRECONDITIONED, TUNE_ADAPTIVE = 200, 1000  # tuning steps (see _nuts)
# acceptance target of the step-size adaptation when the Laplace covariance is the mass matrix: the
# posterior is then close to a standard normal, for which 0.65 is the optimum of leapfrog HMC
# (Beskos et al. 2013); PyMC's 0.8 buys stability on rough posteriors and costs twice the steps here
TARGET_ACCEPT_PRECONDITIONED = 0.65
ESS_PER_CHAIN = 100  # bulk ESS above 100 per chain (Vehtari et al. 2021)
log = logging.getLogger(__name__)


class ConvergenceWarning(UserWarning):
    """The sampler's diagnostics failed their thresholds."""


@dataclass(frozen=True)
class Fit:
    """What a fitting route returns (frozen), kept privately by
    :class:`~workbench.skills.model.GradedResponseModel`, whose learned attributes are read from it
    through the parameters JSON's writer and reader; users work with the estimator.

    :meth:`inference_data` is ArviZ InferenceData for every method: NUTS and ADVI draws, or for
    ``map`` the draws of the Laplace (Gaussian) approximation mapped back to ``a`` and ``b`` (built
    on first use, so the quick route does not import ArviZ unless asked).
    ``rater_effects`` has the contract's shape ``{type: {"mean", "sd"}}``.
    """

    items: ItemSpec
    method: str
    a_mean: np.ndarray
    a_sd: np.ndarray
    b_mean: np.ndarray  # (J, Kmax-1) NaN-padded
    b_sd: np.ndarray
    rater_effects: dict[str, dict[str, float]] = field(default_factory=dict)
    correlation: np.ndarray | None = None
    diagnostics: dict[str, Any] = field(default_factory=dict)
    reliability: dict[str, float] = field(default_factory=dict)
    idata: Any = None  # arviz InferenceData (NUTS, ADVI); see inference_data()
    a_draws: np.ndarray | None = None  # (S, J)
    b_draws: np.ndarray | None = None  # (S, J, Kmax-1)
    delta_draws: np.ndarray | None = None  # (S, rater types), in the order of rater_effects
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def inference_data(self):
        """ArviZ InferenceData of the fit (the Laplace draws' is built once, on first use)."""
        if self.idata is not None:
            return self.idata
        if "idata" not in self._cache and self.a_draws is not None:
            self._cache["idata"] = _idata(self.a_draws, self.b_draws, self.delta_draws, self.items,
                                          list(self.rater_effects))
        return self._cache.get("idata")

    def params(self) -> ItemParams:
        it = self.items
        return ItemParams(it.item_ids, it.dimension, it.dimensions, self.a_mean, self.b_mean, it.n_categories,
                          first_category=it.first_category, reverse=it.reverse)

    def to_json(self) -> dict[str, Any]:
        """The parameters JSON document (written by :func:`workbench.skills.params.params_to_json`)."""
        def r(x):
            return None if x is None else np.round(np.asarray(x, float), 5)

        p = self.params()
        p = ItemParams(p.item_ids, p.dimension, p.dimensions, r(p.a), r(p.b), p.n_categories,
                       first_category=p.first_category, reverse=p.reverse)
        return params_to_json(p, r(self.correlation), self.rater_effects, self.diagnostics,
                              {k: round(v, 5) for k, v in self.reliability.items()}, a_sd=r(self.a_sd),
                              b_sd=r(self.b_sd))


def _idata(a: np.ndarray, b: np.ndarray, delta: np.ndarray | None, items: ItemSpec, types: list[str],
           chains: int = 1, sample_stats=None):
    """InferenceData of draws of a (S, J), b (S, J, Kmax-1) and the rater shifts, S = chains x draws in
    chain order (the Laplace approximation's draws are one chain)."""
    import arviz as az

    def by_chain(x):
        return x.reshape((chains, -1) + x.shape[1:])

    posterior = {"a": by_chain(a), "b": by_chain(b)}
    coords = {"item": list(items.item_ids), "threshold": list(range(1, b.shape[2] + 1))}
    dims = {"a": ["item"], "b": ["item", "threshold"]}
    if delta is not None:
        posterior["delta"] = by_chain(delta)
        coords["rater"] = list(types)
        dims["delta"] = ["rater"]
    idata = az.from_dict(posterior=posterior, coords=coords, dims=dims)
    if sample_stats is not None:
        idata.add_groups(sample_stats=sample_stats)
    return idata


# ----------------------------------------------------------------------------- model
def _counts_by_rater(data: ResponseData) -> dict[str, np.ndarray]:
    """Per rater type, counts (persons, J, Kmax) summed over that type's sheets per person."""
    spec = data.items
    params_like = ItemParams(spec.item_ids, spec.dimension, spec.dimensions, np.ones(len(spec.item_ids)),
                             np.zeros((len(spec.item_ids), int(spec.n_categories.max()) - 1)), spec.n_categories)
    per_row = category_counts(data.y, params_like)
    types = data.rater_types or ("all",)
    out = {}
    for r in types:
        mask = np.ones(len(data.person), bool) if r == "all" else data.rater == r
        c = np.zeros((data.n_persons,) + per_row.shape[1:], dtype=np.float64)
        who, rows = data.person[mask], per_row[mask]
        order = np.argsort(who, kind="stable")
        who, rows = who[order], rows[order]
        starts = np.flatnonzero(np.r_[True, who[1:] != who[:-1]]) if who.size else np.zeros(0, int)
        if starts.size == who.size:  # one sheet per person: nothing to add up
            c[who] = rows
        elif who.size:
            c[who[starts]] = np.add.reduceat(rows, starts, axis=0)
        out[r] = c
    return out


def build_model(data: ResponseData, n_points: int = DEFAULT_POINTS, a_prior_sd: float = 0.5, b_prior_sd: float = 2.0):
    """The PyMC model: item parameters, rater shifts, and the quadrature marginal likelihood."""
    import pymc as pm
    import pytensor.tensor as pt

    spec = data.items
    J = len(spec.item_ids)
    Kmax = int(spec.n_categories.max())
    nodes, w = np.polynomial.hermite_e.hermegauss(n_points)
    logw = np.log(w / w.sum())
    counts = _counts_by_rater(data)
    types = list(counts)
    by_k = {int(k): np.flatnonzero(spec.n_categories == k) for k in np.unique(spec.n_categories)}

    coords = {"item": list(spec.item_ids)}
    with pm.Model(coords=coords) as model:
        a = pm.LogNormal("a", mu=0.2, sigma=a_prior_sd, dims="item")
        # intercepts c_k = a * b_k, one ordered vector per item, grouped by number of categories.
        # Sampling (a, c) rather than (a, b) removes most of the posterior correlation between
        # a slope and its thresholds, so NUTS needs far fewer leapfrog steps per draw.
        c_full = pt.zeros((J, Kmax - 1))
        for k, idx in by_k.items():
            if k == 2:
                ck = pm.Normal(f"c_K{k}", mu=0.0, sigma=b_prior_sd * 1.5, shape=(len(idx), 1))
            else:
                mu = np.tile(np.linspace(-2.0, 2.0, k - 1), (len(idx), 1))
                ck = pm.Normal(f"c_K{k}", mu=mu, sigma=b_prior_sd * 1.5, shape=(len(idx), k - 1),
                               transform=pm.distributions.transforms.ordered)
            c_full = pt.set_subtensor(c_full[idx, : k - 1], ck)
        b_full = c_full / a[:, None]
        pm.Deterministic("b", b_full)

        # rater shifts: others sum to zero, self free
        delta: dict[str, Any] = {t: pt.as_tensor_variable(0.0) for t in types}
        others = [t for t in types if t not in ("self", "all")]
        if len(others) >= 2:
            d_o = pm.ZeroSumNormal("delta_others", sigma=0.5, shape=len(others))
            for i, t in enumerate(others):
                delta[t] = d_o[i]
        if "self" in types and others:
            delta["self"] = pm.Normal("delta_self", 0.0, 1.0)
        if len(types) > 1:
            pm.Deterministic("delta", pt.stack([delta[t] for t in types]))

        tables = []
        for t in types:
            z = a[:, None, None] * (nodes[None, None, :] + delta[t]) - c_full[:, :, None]  # (J, Kmax-1, Q)
            lsig = pt.log(pt.sigmoid(z))  # log P(Y >= k), k = 1..K-1
            upper = pt.concatenate([pt.zeros((J, 1, n_points)), lsig], axis=1)  # log P(Y >= k), k = 0..Kmax-1
            lower = pt.concatenate([lsig, pt.full((J, 1, n_points), -np.inf)], axis=1)
            # items with fewer categories: P(Y >= K) = 0 for their last real category
            for k, idx in by_k.items():
                if k < Kmax:
                    lower = pt.set_subtensor(lower[idx, k - 1, :], -np.inf)
            table = upper + pt.log1mexp(pt.minimum(lower - upper, -1e-12))
            # categories that cannot occur carry count 0; keep their entries finite
            valid = np.arange(Kmax)[None, :] < spec.n_categories[:, None]
            tables.append(pt.switch(valid[:, :, None], table, 0.0))
        from .marginal import MarginalLoglik

        op = MarginalLoglik([counts[t] for t in types], spec.dimension, len(spec.dimensions), logw)
        loglik, _ = op(pt.stack(tables))
        pm.Potential("marginal_loglik", loglik)
    model._wb_types = types  # rater types in the order of "delta"
    return model


# ------------------------------------------------------------------------- fitting
def calibrate(
    data: ResponseData,
    method: str = "nuts",
    draws: int = NUTS_DRAWS,
    tune: int | None = None,
    chains: int = 2,
    seed: int = 0,
    n_points: int = DEFAULT_POINTS,
    progressbar: bool = True,
    cores: int | None = None,
):
    """``GradedResponseModel(method, ...).fit(data)``: the fitted estimator, by ``nuts`` (default here),
    ``map`` (Laplace at the mode) or ``advi``."""
    from .model import GradedResponseModel

    return GradedResponseModel(method, draws=draws, tune=tune, chains=chains, seed=seed, n_points=n_points,
                               progressbar=progressbar, cores=cores).fit(data)


def fit(data: ResponseData, method: str, draws: int, tune: int | None, chains: int, seed: int, n_points: int,
        progressbar: bool, cores: int | None) -> Fit:
    """Run one fitting route (what :meth:`GradedResponseModel.fit` calls)."""
    if method not in ("nuts", "map", "advi"):
        raise ValueError(f"unknown method {method!r}; expected nuts, map or advi")
    if n_points < 41:
        warnings.warn(f"{n_points} quadrature points can bias discriminations on long tests; 41 or more is safer",
                      stacklevel=3)
    rng = np.random.default_rng(seed)
    if method == "map":  # numpy and scipy only: no PyMC import, nothing to compile
        cal = _laplace(data, n_points, rng, progressbar)
        correlation, reliability = _correlation_and_reliability(cal, data, seed, mode=True)
        return replace(cal, correlation=correlation, reliability=reliability)
    import pymc as pm

    if method == "nuts":
        cal = _nuts(data, n_points, draws, tune, chains, seed, rng, progressbar, cores)
        if not cal.diagnostics["converged"]:
            warnings.warn(
                f"calibration did not converge: max r-hat {cal.diagnostics['max_rhat']:.3f} (want < {RHAT_MAX}), "
                f"min bulk ESS {cal.diagnostics['min_ess_bulk']:.0f} (want > {ESS_PER_CHAIN * chains}), "
                f"{cal.diagnostics['divergences']} divergences; run more --tune/--draws",
                ConvergenceWarning, stacklevel=3)
    else:
        model = build_model(data, n_points=n_points)
        with model:
            approx = pm.fit(n=20_000, method="advi", random_seed=seed, progressbar=progressbar)
            idata = approx.sample(1000, random_seed=seed)
        cal = replace(_from_draws(idata, data, "advi", model),
                      diagnostics={"method": "advi", "iterations": 20_000, "final_elbo": float(-approx.hist[-1]),
                                   "note": "approximate: mean-field variational posterior"})
    correlation, reliability = _correlation_and_reliability(cal, data, seed)
    return replace(cal, correlation=correlation, reliability=reliability)


def _from_draws(idata, data: ResponseData, method: str, model) -> Fit:
    post = idata.posterior
    a = post["a"].values.reshape(-1, len(data.items.item_ids))
    b = post["b"].values.reshape((a.shape[0],) + post["b"].shape[2:])
    real = np.arange(b.shape[2])[None, :] < (data.items.n_categories - 1)[:, None]
    b = np.where(real[None], b, np.nan)
    d = post["delta"].values.reshape(a.shape[0], -1) if "delta" in post else None
    return _record(data.items, method, a, b, d, model._wb_types, idata=idata)


def _diagnostics(idata, draws: int, tune: int, chains: int) -> dict[str, Any]:
    """r-hat, bulk ESS and divergences over the reported parameters (a, the real thresholds, rater shifts)."""
    import arviz as az

    names = [v for v in ("a", "b", "delta") if v in idata.posterior]
    with warnings.catch_warnings():  # padded thresholds of items with fewer categories are all NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        summ = az.summary(idata, var_names=names, kind="diagnostics", round_to="none")
    div = int(idata.sample_stats["diverging"].values.sum())
    rhat, ess = float(summ["r_hat"].max()), float(summ["ess_bulk"].min())
    return {"max_rhat": round(rhat, 4), "min_ess_bulk": round(ess, 1), "divergences": div, "method": "nuts",
            "draws": draws, "tune": tune, "chains": chains,
            "converged": bool(rhat <= RHAT_MAX and ess > ESS_PER_CHAIN * chains and div == 0)}


def _laplace(data: ResponseData, n_points: int, rng, progressbar: bool = False) -> Fit:
    """Posterior mode by whitened L-BFGS on the numpy posterior (:mod:`workbench.skills.posterior`, the same
    density as :func:`build_model`), covariance from the inverse of the information there (observed,
    or the cross-product one on long unidimensional tests; :meth:`Posterior.information`), mapped to a and b by drawing from that Gaussian and transforming back."""
    spec = data.items
    post = _posterior(data, n_points)
    mode, cov, ok = _mode(post, progressbar)
    a, b, d = _parameters(post, rng.multivariate_normal(mode.x, cov, size=1000), spec)
    diagnostics = {"method": "map", "optimizer": "L-BFGS, whitened by the information",
                   "converged": mode.converged, "iterations": mode.iterations, "hessian_positive_definite": ok,
                   "information": mode.information,
                   "note": "approximate: Laplace approximation at the posterior mode"}
    return _record(spec, "map", a, b, d, post.types, diagnostics=diagnostics)


def _nuts(data: ResponseData, n_points: int, draws: int, tune: int | None, chains: int, seed: int, rng,
          progressbar: bool, cores: int | None) -> Fit:
    """PyMC's NUTS on the numpy posterior, preconditioned by the Laplace approximation.

    The density is :class:`~workbench.skills.posterior.Posterior` (the same as :func:`build_model`'s,
    with its analytic gradient) wrapped as a PyTensor Op, with the products in float32 as in
    :mod:`workbench.skills.marginal`. Each chain starts from a draw of the Gaussian at the mode, and the
    inverse of the information there is NUTS's dense mass matrix, so the sampler moves in
    decorrelated coordinates from its first step and tuning only has the step size to find: 200 steps
    (``tune=None``), towards an acceptance of 0.65. Where the information is not positive definite,
    PyMC's own NUTS adapts a diagonal mass matrix as usual (1,000 tuning steps, acceptance 0.8).
    BLAS runs on one thread per chain (:class:`~workbench.skills.marginal.LogPosterior`).
    """
    import pymc as pm
    from threadpoolctl import threadpool_limits

    from .marginal import LogPosterior

    spec = data.items
    post = _posterior(data, n_points)
    mode, cov, ok = _mode(post, progressbar)
    starts = rng.multivariate_normal(mode.x, cov, size=chains)
    with pm.Model():
        x = pm.Flat("x", shape=post.size)
        pm.Potential("log_posterior", LogPosterior(_posterior(data, n_points, np.float32))(x)[0])
        if ok:
            step = pm.NUTS(scaling=cov, is_cov=True, target_accept=TARGET_ACCEPT_PRECONDITIONED)
        else:
            step = pm.NUTS()
        if tune is None:
            tune = TUNE_PRECONDITIONED if ok else TUNE_ADAPTIVE
        with threadpool_limits(1, user_api="blas"):
            trace = pm.sample(draws=draws, tune=tune, chains=chains, cores=cores or min(chains, 2), step=step,
                              initvals=[{"x": x0} for x0 in starts], random_seed=seed, progressbar=progressbar,
                              compute_convergence_checks=False)
    xs = trace.posterior["x"].values  # (chains, draws, size)
    a, b, d = _parameters(post, xs.reshape(-1, post.size), spec)
    idata = _idata(a, b, d, spec, post.types, chains, trace.sample_stats)
    return _record(spec, "nuts", a, b, d, post.types, idata=idata, diagnostics=_diagnostics(idata, draws, tune, chains))


def _posterior(data: ResponseData, n_points: int, dtype=np.float64):
    from .posterior import Posterior

    spec = data.items
    return Posterior(_counts_by_rater(data), spec.dimension, len(spec.dimensions), spec.n_categories, n_points,
                     dtype=dtype)


def _mode(post, progressbar: bool):
    """The posterior mode, the Laplace covariance there, and whether the information was positive definite
    (if not, the covariance is the inverse of its diagonal)."""
    from tqdm.auto import tqdm

    with tqdm(desc="posterior mode (L-BFGS iterations)", disable=not progressbar, leave=False) as bar:
        mode = post.find_mode(step=bar.update)
    try:
        cov = np.linalg.inv(mode.precision)
        cov = (cov + cov.T) / 2
        ok = bool(np.all(np.linalg.eigvalsh(cov) > 0))
    except np.linalg.LinAlgError:
        ok = False
    if not ok:
        cov = np.diag(1.0 / np.maximum(np.diag(mode.precision), 1e-6))
    return mode, cov, ok


def _parameters(post, xs: np.ndarray, spec: ItemSpec):
    """a (S, J), b (S, J, Kmax-1) NaN-padded, and rater shifts (S, types) or None, at unconstrained points."""
    units = [post.unpack(x) for x in xs]
    a = np.array([u.a for u in units])
    b = np.array([u.c / u.a[:, None] for u in units])
    real = np.arange(b.shape[2])[None, :] < (spec.n_categories - 1)[:, None]
    b = np.where(real[None], b, np.nan)
    d = np.array([u.delta for u in units]) if len(post.types) > 1 else None
    return a, b, d


def _record(spec: ItemSpec, method: str, a: np.ndarray, b: np.ndarray, d: np.ndarray | None, types: list[str],
            **fields: Any) -> Fit:
    """The :class:`Fit` of draws of a (S, J), b (S, J, Kmax-1) NaN-padded and the rater shifts (S, types)
    or None: their means and SDs, and the draws themselves."""
    with warnings.catch_warnings():  # padded thresholds of items with fewer categories are all NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        b_mean, b_sd = np.nanmean(b, 0), np.nanstd(b, 0)
    effects = {} if d is None else {t: {"mean": round(float(d[:, i].mean()), 5), "sd": round(float(d[:, i].std()), 5)}
                                    for i, t in enumerate(types)}
    return Fit(spec, method, a.mean(0), a.std(0), b_mean, b_sd, rater_effects=effects, a_draws=a, b_draws=b,
               delta_draws=d, **fields)


def _correlation_and_reliability(cal: Fit, data: ResponseData, seed: int, mode: bool = False):
    """LKJ-prior correlation of dimensions (posterior mean, or with ``mode`` the posterior mode
    without PyMC), and marginal reliability per dimension."""
    from .score import eap_counts

    params = cal.params()
    counts = _counts_by_rater(data)
    # pool sheets at the estimated rater shifts: shift the grid per rater type
    pooled = sum(counts.values())
    scores = eap_counts(pooled.astype(np.float32), params)
    D = len(params.dimensions)
    mean, sd = scores.mean, scores.sd
    reliability = {}
    lam = np.empty(D)
    for d, name in enumerate(params.dimensions):
        v_mean, v_err = mean[:, d].var(), (sd[:, d] ** 2).mean()
        lam[d] = v_mean / (v_mean + v_err)
        reliability[name] = float(lam[d])
    if D == 1:
        return np.ones((1, 1)), reliability
    scaled = mean / lam[None, :]
    S = np.cov(scaled, rowvar=False)
    err = np.diag((1 - lam) / lam)
    if mode:
        return _lkj_mode(S, err, scaled.shape[0]), reliability
    return _lkj_correlation(S, err, scaled.shape[0], seed), reliability


def _lkj_mode(S: np.ndarray, err: np.ndarray, n: int, eta: float = 2.0) -> np.ndarray:
    """Posterior mode of R with an LKJ(eta) prior, where scaled scores ~ N(0, R + err) (the map route).

    R is built from canonical partial correlations (tanh of free values) through its Cholesky factor,
    so every candidate is a valid correlation matrix.
    """
    from scipy.optimize import minimize

    D = S.shape[0]
    il = np.tril_indices(D, -1)

    def corr(x):
        cpc = np.zeros((D, D))
        cpc[il] = np.tanh(x)
        L = np.zeros((D, D))
        L[0, 0] = 1.0
        for i in range(1, D):
            rest = 1.0
            for j in range(i):
                L[i, j] = cpc[i, j] * np.sqrt(rest)
                rest -= L[i, j] ** 2
            L[i, i] = np.sqrt(max(rest, 1e-12))
        return L @ L.T

    def f(x):
        R = corr(x)
        sign, logdet = np.linalg.slogdet(R + err)
        _, logdet_r = np.linalg.slogdet(R)
        return 0.5 * n * (logdet + np.trace(np.linalg.solve(R + err, S))) - (eta - 1) * logdet_r

    res = minimize(f, np.zeros(len(il[0])), method="BFGS")
    return corr(res.x)


def _lkj_correlation(S: np.ndarray, err: np.ndarray, n: int, seed: int, eta: float = 2.0) -> np.ndarray:
    """Posterior mean of R with an LKJ(eta) prior, where scaled scores ~ N(0, R + err).

    The chain starts at the posterior mode (:func:`_lkj_mode`), without PyMC's random jitter: each
    packed correlation has its own interval transform, and a jittered start of eight dimensions
    was often no correlation matrix at all (a log density of -inf, and ``SamplingError``).
    """
    import pymc as pm
    import pytensor.tensor as pt

    D = S.shape[0]
    start = _lkj_mode(S, err, n, eta)[np.triu_indices(D, 1)]
    with pm.Model():
        corr_packed = pm.LKJCorr("r", n=D, eta=eta, return_matrix=False)
        R = pt.zeros((D, D))
        iu = np.triu_indices(D, 1)
        R = pt.set_subtensor(R[iu], corr_packed)
        R = R + R.T + pt.eye(D)
        sigma = R + err
        sign, logdet = pt.nlinalg.slogdet(sigma)
        pm.Potential("wishart", -0.5 * n * (logdet + pt.trace(pt.nlinalg.matrix_inverse(sigma) @ S)))
        pm.Deterministic("R", R)
        pm_log = logging.getLogger("pymc")
        level = pm_log.level
        pm_log.setLevel(logging.WARNING)
        try:
            idata = pm.sample(draws=300, tune=300, chains=1, random_seed=seed, progressbar=False,
                              init="adapt_diag", initvals={"r": start}, compute_convergence_checks=False)
        finally:
            pm_log.setLevel(level)
    return idata.posterior["R"].values.reshape(-1, D, D).mean(0)
