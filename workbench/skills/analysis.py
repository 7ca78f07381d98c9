"""Item analysis for the graded response model: information, reliability, fit, global fit and DIF.

Every analysis is a pure function returning a pandas DataFrame; the figures are drawn from those
tables by :mod:`workbench.skills.figures` (the ArviZ split between computing a summary and
drawing it). Only numpy, scipy and pandas are used. The fitted model is a
:class:`~workbench.skills.model.GradedResponseModel` (its posterior draws carry the parameter
uncertainty where the analysis uses it) or plain :class:`ItemParams`.

Parameterization as in :mod:`workbench.skills.grm`: ``P(Y >= k | theta) = logistic(a (theta - b_k))``.

Information
    With cumulative curves ``C_k``, ``C_0 = 1``, ``C_K = 0``, category curves ``P_k = C_k - C_{k+1}``
    and ``C_k' = a C_k (1 - C_k)``, the Fisher information of an item is
    ``I(theta) = sum_k (P_k')^2 / P_k`` with ``P_k' = C_k' - C_{k+1}'``; for two categories it is
    ``a^2 P (1 - P)``. A dimension's test information is the sum over its items, and with the
    N(0, 1) prior the posterior standard error is about ``1 / sqrt(I + 1)``.
Marginal reliability
    ``1 - E[posterior variance]`` over the N(0, 1) population. Model-based: Gauss-Hermite
    quadrature of ``1 / (I(theta) + 1)``. Empirical, from responses: ``var(EAP) / (var(EAP) +
    mean(SD^2))``.
Item fit
    Posterior predictive checks with realized discrepancies (Gelman, Meng & Stern 1996): each
    replication draws item parameters (a posterior draw, or the point values), each person's
    theta from their grid posterior under those parameters, and a replicated data set with the
    observed missingness; discrepancies are computed for the observed and the replicated data
    with the same draws. p-values are ``P(T_rep >= T_obs)``.
Global fit
    Limited-information M2 for ordinal items with RMSEA, CFI and TLI (Maydeu-Olivares & Joe
    2006, 2014), per dimension: :func:`limited_information_fit`.
DIF
    Likelihood-ratio tests with anchor items (Thissen, Steinberg & Wainer 1993): per studied item
    and group, ``theta ~ N(mu_g, sigma_g)`` is estimated from the anchor items at their given
    parameters, then the studied item's slope and thresholds are estimated by marginal maximum
    likelihood once for both groups together and once per group; ``2 (ll_separate - ll_common)``
    is chi-square with ``K`` degrees of freedom. p-values are Benjamini-Hochberg adjusted.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats
from scipy.special import expit, log_expit, logsumexp

from .data import ResponseData
from .grm import MISSING, ItemParams
from .score import eap, quadrature, score_sheets

DEFAULT_THETA = np.linspace(-4.0, 4.0, 81)
GRID_HALF_WIDTH = 6.0  # the uniform theta grid of item fit and DIF spans [-6, 6]
FIT_STATISTICS = ("score_groups", "item_rest", "categories")

__all__ = [
    "dif",
    "dif_curves",
    "item_fit",
    "item_information",
    "item_table",
    "limited_information_fit",
    "marginal_reliability",
    "test_information",
]


# ------------------------------------------------------------------------ GRM, vectorized
def _finite_b(b: np.ndarray) -> np.ndarray:
    """Thresholds with the NaN padding replaced by +inf, so that P(Y >= k) = 0 there."""
    return np.where(np.isnan(b), np.inf, b)


def _cumulative(theta: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """P(Y >= k), k = 1..Kmax-1, for ``theta`` of shape (..., J): returns (..., J, Kmax-1)."""
    return expit(a[:, None] * (theta[..., None] - _finite_b(b)))


def _probs_and_slopes(theta: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Category probabilities and their theta-derivatives, both (..., J, Kmax)."""
    cum = _cumulative(theta, a, b)
    edge = cum.shape[:-1] + (1,)
    full = np.concatenate([np.ones(edge), cum, np.zeros(edge)], axis=-1)
    w = full * (1.0 - full)  # dC_k / dtheta = a C_k (1 - C_k)
    return full[..., :-1] - full[..., 1:], a[:, None] * (w[..., :-1] - w[..., 1:])


def _log_table(a: np.ndarray, b: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """log P(Y_j = k | theta = node) as (J, Kmax, Q), floored at -700; padded categories hold 0."""
    theta = np.broadcast_to(nodes[:, None], (nodes.size, a.size))
    z = a[:, None] * (theta[..., None] - _finite_b(b))  # (Q, J, Kmax-1)
    lcum = log_expit(z)
    edge = z.shape[:-1] + (1,)
    upper = np.concatenate([np.zeros(edge), lcum], axis=-1)  # log P(Y >= k)
    lower = np.concatenate([lcum, np.full(edge, -np.inf)], axis=-1)  # log P(Y >= k + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        lp = upper + np.log(-np.expm1(np.minimum(lower - upper, -1e-300)))
    lp = np.where(np.isneginf(upper), 0.0, np.maximum(lp, -700.0))
    return np.moveaxis(lp, 0, -1)


def _information(params: ItemParams, theta: np.ndarray) -> np.ndarray:
    """Fisher information of every item at every theta, (T, J)."""
    grid = np.broadcast_to(theta[:, None], (theta.size, params.n_items))
    p, dp = _probs_and_slopes(grid, params.a, params.b)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 1e-300, dp**2 / p, 0.0)
    return terms.sum(axis=-1)


def _theta_grid(theta_grid: Sequence[float] | np.ndarray | None) -> np.ndarray:
    theta = DEFAULT_THETA if theta_grid is None else np.asarray(theta_grid, dtype=float).ravel()
    if theta.size == 0 or not np.all(np.isfinite(theta)):
        raise ValueError("theta_grid must be a non-empty sequence of finite numbers")
    return theta


def _expected_score(a: float, b: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """E[Y | theta] (category indices) for one item."""
    return expit(a * (theta[:, None] - np.asarray(b, float)[None, :])).sum(axis=1)


# --------------------------------------------------------------------- inputs and outputs
def _resolve(source: Any) -> tuple[ItemParams, np.ndarray | None, np.ndarray | None, dict[str, float]]:
    """Point parameters, optional posterior draws (a (S, J), b (S, J, Kmax-1)) and rater shifts.

    Accepts :class:`ItemParams` or a fitted ``GradedResponseModel`` (``items_``, ``shifts_`` and
    ``draws_``, None for a loaded model), by duck typing.
    """
    if isinstance(source, ItemParams):
        return source, None, None, {}
    if isinstance(getattr(source, "items_", None), ItemParams):
        draws = getattr(source, "draws_", None)
        shifts = dict(getattr(source, "shifts_", None) or {})
        if draws is None:
            return source.items_, None, None, shifts
        return source.items_, np.asarray(draws["a"], float), np.asarray(draws["b"], float), shifts
    raise TypeError(f"expected ItemParams or a fitted GradedResponseModel, got {type(source).__name__}")


def _align(params: ItemParams, item_ids: Sequence[str]) -> np.ndarray:
    """Indices into ``params`` of ``item_ids``, in that order."""
    where = {iid: j for j, iid in enumerate(params.item_ids)}
    missing = [iid for iid in item_ids if iid not in where]
    if missing:
        raise ValueError(f"no parameters for item(s) {', '.join(missing[:5])}")
    return np.array([where[iid] for iid in item_ids], dtype=int)


def _sheets(data: ResponseData | np.ndarray, params: ItemParams) -> tuple[ItemParams, np.ndarray, np.ndarray, int, np.ndarray | None, np.ndarray]:
    """(aligned params, y, person, n_persons, rater, index of data columns into params)."""
    if isinstance(data, ResponseData):
        idx = _align(params, data.items.item_ids)
        y = np.asarray(data.y)
        bad = (y != MISSING) & (y >= params.n_categories[idx][None, :])
        if bad.any():
            n, j = np.argwhere(bad)[0]
            raise ValueError(f"row {n}, item {data.items.item_ids[j]}: category {y[n, j]} has no parameters")
        return params.subset(idx), y, np.asarray(data.person), data.n_persons, data.rater, idx
    y = np.atleast_2d(np.asarray(data))
    if y.shape[1] != params.n_items:
        raise ValueError(f"responses have {y.shape[1]} columns for {params.n_items} items")
    idx = np.arange(params.n_items)
    return params, y, np.arange(y.shape[0]), y.shape[0], None, idx


def _dim_onehot(params: ItemParams) -> np.ndarray:
    """(J, D) indicator of each item's dimension."""
    return (params.dimension[:, None] == np.arange(len(params.dimensions))[None, :]).astype(float)


def _uniform_grid(n_grid: int) -> tuple[np.ndarray, float]:
    nodes = np.linspace(-GRID_HALF_WIDTH, GRID_HALF_WIDTH, n_grid)
    return nodes, float(nodes[1] - nodes[0])


# ------------------------------------------------------------------------- information
def item_information(params: Any, theta_grid: Sequence[float] | np.ndarray | None = None) -> pd.DataFrame:
    """Fisher information of each item along a theta grid.

    Parameters
    ----------
    params : ItemParams or GradedResponseModel
        Item parameters (point values).
    theta_grid : array-like, optional
        Theta values; default 81 points from -4 to 4.

    Returns
    -------
    pandas.DataFrame
        Long table with columns ``item_id``, ``dimension``, ``theta``, ``information``, one row
        per item and theta (items in order, theta ascending within an item).
    """
    params = _resolve(params)[0]
    theta = _theta_grid(theta_grid)
    info = _information(params, theta)  # (T, J)
    J, T = params.n_items, theta.size
    return pd.DataFrame({
        "item_id": np.repeat(np.asarray(params.item_ids, dtype=object), T),
        "dimension": np.repeat(np.asarray(params.dimensions, dtype=object)[params.dimension], T),
        "theta": np.tile(theta, J),
        "information": info.T.ravel(),
    })


def test_information(params: Any, theta_grid: Sequence[float] | np.ndarray | None = None) -> pd.DataFrame:
    """Test information per dimension and the posterior standard error under the N(0, 1) prior.

    ``params`` is ItemParams or a GradedResponseModel (point values).

    Returns
    -------
    pandas.DataFrame
        Columns ``dimension``, ``theta``, ``information`` (sum over the dimension's items),
        ``se`` = ``1 / sqrt(information + 1)`` (the prior adds precision 1).
    """
    params = _resolve(params)[0]
    theta = _theta_grid(theta_grid)
    total = _information(params, theta) @ _dim_onehot(params)  # (T, D)
    D, T = len(params.dimensions), theta.size
    return pd.DataFrame({
        "dimension": np.repeat(np.asarray(params.dimensions, dtype=object), T),
        "theta": np.tile(theta, D),
        "information": total.T.ravel(),
        "se": 1.0 / np.sqrt(total.T.ravel() + 1.0),
    })


test_information.__test__ = False  # not a pytest test, despite the name


# ------------------------------------------------------------------------- reliability
def marginal_reliability(
    params: Any, y: ResponseData | np.ndarray | None = None, n_points: int = 61
) -> pd.DataFrame:
    """Marginal reliability per dimension, model-based and (given responses) empirical.

    Parameters
    ----------
    params : ItemParams or GradedResponseModel
        Item parameters (point values).
    y : ResponseData or ndarray, optional
        Responses (category indices, -1 missing). Several sheets about one respondent are
        pooled on the respondent's theta.
    n_points : int
        Gauss-Hermite points for the population integral and for EAP scoring.

    Returns
    -------
    pandas.DataFrame
        Columns ``dimension``, ``n_items``, ``model`` (``1 - E[1 / (I(theta) + 1)]`` over
        theta ~ N(0, 1), the expected posterior variance from the test information, for
        respondents who answer every item),
        ``empirical`` (``var(EAP) / (var(EAP) + mean(SD^2))``, NaN without ``y``) and
        ``n_persons``.
    """
    params = _resolve(params)[0]
    nodes, logw = quadrature(n_points)
    total = _information(params, nodes) @ _dim_onehot(params)  # (Q, D)
    model = 1.0 - np.exp(logw) @ (1.0 / (total + 1.0))
    D = len(params.dimensions)
    empirical, n_persons = np.full(D, np.nan), 0
    if y is not None:
        if isinstance(y, ResponseData):
            aligned, yy, person, n, _, _ = _sheets(y, params)
            scores = score_sheets(yy, person, n, aligned, n_points=n_points)
        else:
            aligned, yy = params, np.atleast_2d(np.asarray(y))
            scores = eap(yy, aligned, n_points=n_points)
        answered = scores.n_answered > 0
        for d in range(D):
            m, s = scores.mean[answered[:, d], d], scores.sd[answered[:, d], d]
            if m.size > 1:
                v = m.var()
                empirical[d] = v / (v + np.mean(s**2))
        n_persons = scores.mean.shape[0]
    return pd.DataFrame({
        "dimension": list(params.dimensions),
        "n_items": np.bincount(params.dimension, minlength=D),
        "model": model,
        "empirical": empirical,
        "n_persons": n_persons,
    })


# ------------------------------------------------------------------------------ item fit
def _answer_index(y: np.ndarray, n_max: int) -> np.ndarray:
    """Category indices with missing answers mapped to ``n_max`` (a zero row of the gather tables)."""
    return np.where(y == MISSING, n_max, y)


def _gather_table(a: np.ndarray, b: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """:func:`_log_table` with one extra all-zero category for missing answers, (J, Kmax+1, Q)."""
    table = _log_table(a, b, nodes)
    return np.concatenate([table, np.zeros((table.shape[0], 1, table.shape[2]))], axis=1)


def _sheet_loglik(y_idx: np.ndarray, row_type: np.ndarray, tables: list[np.ndarray], dimension: np.ndarray,
                  n_dims: int) -> np.ndarray:
    """Grid log-likelihood of each answer sheet, (rows, D, Q), summing gathered table rows.

    ``tables[t]`` is the gather table of rater type ``t`` (its theta shift applied). Gathering
    instead of a counts-by-table product keeps BLAS (and its thread pool) out of the loop.
    """
    rows, Q = y_idx.shape[0], tables[0].shape[2]
    out = np.zeros((n_dims, rows, Q))
    for t, table in enumerate(tables):
        sel = None if len(tables) == 1 else np.flatnonzero(row_type == t)
        idx = y_idx if sel is None else y_idx[sel]
        for d in range(n_dims):
            acc = out[d] if sel is None else np.zeros((sel.size, Q))
            for j in np.flatnonzero(dimension == d):
                acc += table[j].take(idx[:, j], axis=0)
            if sel is not None:
                out[d, sel] += acc
    return np.moveaxis(out, 0, 1)


def _sample_grid(logpost: np.ndarray, nodes: np.ndarray, step: float, rng: np.random.Generator) -> np.ndarray:
    """One theta per (person, dimension) from an unnormalized grid log-posterior (N, D, Q),
    jittered uniformly within the grid cell."""
    p = np.exp(logpost - logpost.max(axis=-1, keepdims=True))
    cdf = np.cumsum(p, axis=-1)
    u = rng.random(cdf.shape[:-1]) * cdf[..., -1]
    idx = np.minimum((cdf < u[..., None]).sum(axis=-1), nodes.size - 1)
    return nodes[idx] + (rng.random(idx.shape) - 0.5) * step


def _rest_scores(y: np.ndarray, mask: np.ndarray, n_categories: np.ndarray, onehot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean scaled score (0..1) on the other answered items of each item's dimension, and whether
    it is defined; both (rows, J)."""
    s = np.where(mask, y / (n_categories - 1.0)[None, :], 0.0)
    m = mask.astype(float)
    dim = onehot.argmax(axis=1)
    rest_sum = np.einsum("nj,jd->nd", s, onehot)[:, dim] - s  # einsum: no BLAS threads on small products
    rest_n = np.einsum("nj,jd->nd", m, onehot)[:, dim] - m
    return rest_sum / np.maximum(rest_n, 1.0), rest_n > 0


def _masked_corr(x: np.ndarray, z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Pearson correlation per column over the rows where ``w``; NaN when undefined."""
    w = w.astype(float)
    n = w.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx, mz = (x * w).sum(axis=0) / n, (z * w).sum(axis=0) / n
        dx, dz = (x - mx) * w, (z - mz) * w
        return (dx * dz).sum(axis=0) / np.sqrt((dx**2).sum(axis=0) * (dz**2).sum(axis=0))


def _score_group_edges(rest: np.ndarray, valid: np.ndarray, single: np.ndarray, n_groups: int) -> np.ndarray:
    """Inner cut points (J, n_groups-1): observed rest-score quantiles, or N(0, 1) quantiles of
    theta for items alone on their dimension."""
    q = np.arange(1, n_groups) / n_groups
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # columns without any rest score
        edges = np.nanquantile(np.where(valid, rest, np.nan), q, axis=0).T
    return np.where(single[:, None], stats.norm.ppf(q)[None, :], edges)


def _score_groups(key: np.ndarray, valid: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Group index 0..n_groups-1 of each (row, item) by the item's cut points; -1 where invalid.
    Ties with a cut point go to the lower group, so groups of a discrete rest score may be uneven."""
    return np.where(valid, (key[..., None] > edges[None, :, :]).sum(axis=-1), -1)


def _group_discrepancy(groups: np.ndarray, y: np.ndarray, expected: np.ndarray, variance: np.ndarray,
                       n_groups: int) -> np.ndarray:
    """Sum over score groups of (observed - expected item score)^2 / variance, per item."""
    J = y.shape[1]
    ok = groups >= 0
    flat = (np.arange(J)[None, :] * n_groups + groups)[ok]
    size = J * n_groups
    obs = np.bincount(flat, weights=y[ok], minlength=size).reshape(J, n_groups)
    exp_ = np.bincount(flat, weights=expected[ok], minlength=size).reshape(J, n_groups)
    var = np.bincount(flat, weights=variance[ok], minlength=size).reshape(J, n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(var > 1e-12, (obs - exp_) ** 2 / var, 0.0).sum(axis=1)


def _category_counts_by_item(y: np.ndarray, mask: np.ndarray, K: int) -> np.ndarray:
    J = y.shape[1]
    flat = (np.arange(J)[None, :] * K + np.where(mask, y, 0))[mask]
    return np.bincount(flat, minlength=J * K).reshape(J, K).astype(float)


def _category_discrepancy(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Pearson chi-square of category counts against their expectations, per item."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(expected > 1e-12, (observed - expected) ** 2 / expected, 0.0).sum(axis=1)


def _ppp(t_rep: np.ndarray, t_obs: np.ndarray) -> np.ndarray:
    """P(T_rep >= T_obs) over replications (ties count half), per column; NaN where undefined."""
    ok = np.isfinite(t_rep) & np.isfinite(t_obs)
    n = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = ((t_rep > t_obs) & ok).sum(axis=0) + 0.5 * ((t_rep == t_obs) & ok).sum(axis=0)
        return np.where(n > 0, p / np.maximum(n, 1), np.nan)


def item_fit(
    cal_or_params: Any,
    data: ResponseData | np.ndarray,
    n_rep: int = 200,
    seed: int = 0,
    *,
    n_groups: int = 10,
    statistic: str = "score_groups",
    alpha: float = 0.05,
    n_grid: int = 121,
) -> pd.DataFrame:
    """Item fit by posterior predictive checks.

    Each replication takes one posterior draw of the item parameters (``draws_`` of a fitted
    model, else the point parameters), draws every respondent's theta from their grid
    posterior under those parameters (sheets pooled per respondent, rater shifts applied), and
    simulates a replicated data set with the observed pattern of missing answers. Three
    discrepancies are compared between observed and replicated data, each p-value being
    ``P(T_rep >= T_obs)``:

    * ``categories``: Pearson chi-square of the item's category counts against their expectation
      given the drawn thetas and parameters;
    * ``item_rest``: the correlation of the item with the mean of the other items of its dimension
      (p near 1: the item discriminates less than the model says; near 0: more, as with local
      dependence);
    * ``score_groups``: an S-X2-like statistic: answers are cut into up to ``n_groups`` groups at
      the observed rest-score quantiles (the mean of the other items of the dimension; the theta
      draw when the dimension has one item), and the item's summed score per group is compared
      with its expectation given the drawn thetas, ``sum_g (O_g - E_g)^2 / V_g``; replicated
      data are grouped by their own rest scores at the same cut points.

    Parameters
    ----------
    cal_or_params : GradedResponseModel or ItemParams
        The fitted model; its posterior draws carry the parameter uncertainty.
    data : ResponseData or ndarray
        Responses, category indices as scored, -1 missing.
    n_rep : int
        Replications.
    seed : int
        Seed of the random generator.
    n_groups : int
        Rest-score groups of the ``score_groups`` statistic.
    statistic : {"score_groups", "item_rest", "categories"}
        Which p-value is reported as ``p_value`` and decides ``misfit``.
    alpha : float
        An item misfits when ``p_value < alpha`` or ``p_value > 1 - alpha``.
    n_grid : int
        Points of the uniform theta grid on [-6, 6] for the persons' posteriors.

    Returns
    -------
    pandas.DataFrame
        One row per item: ``item_id``, ``dimension``, ``n`` (answers), ``p_categories``, ``r_obs``,
        ``r_rep`` (mean replicated item-rest correlation), ``p_item_rest``, ``x2_obs`` and
        ``x2_rep`` (mean realized score-group discrepancies), ``p_score_groups``, ``p_value``,
        ``misfit``. ``attrs["categories"]`` holds observed and replicated category proportions
        (long table) and ``attrs["statistic"]`` the statistic behind ``p_value``.
    """
    if statistic not in FIT_STATISTICS:
        raise ValueError(f"statistic must be one of {', '.join(FIT_STATISTICS)}")
    if n_rep < 1:
        raise ValueError("n_rep must be at least 1")
    params, a_draws, b_draws, effects = _resolve(cal_or_params)
    params, y, person, n_persons, rater, idx = _sheets(data, params)
    if a_draws is not None:
        a_draws, b_draws = a_draws[:, idx], b_draws[:, idx, :]
    rng = np.random.default_rng(seed)
    J, D = params.n_items, len(params.dimensions)
    K = int(params.n_categories.max())
    nodes, step = _uniform_grid(n_grid)
    logprior = -0.5 * nodes**2
    onehot = _dim_onehot(params)
    single = onehot.sum(axis=0)[params.dimension] == 1  # items alone on their dimension

    mask = y != MISSING
    y_idx = _answer_index(y, K)
    types = [None] if rater is None else list(dict.fromkeys(rater.tolist()))
    row_type = np.zeros(len(person), int) if rater is None else np.array([types.index(t) for t in rater.tolist()])
    shifts = [0.0 if t is None else effects.get(str(t), 0.0) for t in types]
    row_shift = np.asarray(shifts)[row_type]
    one_sheet_each = len(person) == n_persons and np.array_equal(person, np.arange(n_persons))

    obs_counts = _category_counts_by_item(y, mask, K)
    rest_obs, rest_ok_obs = _rest_scores(y, mask, params.n_categories, onehot)
    r_obs = np.where(single, np.nan, _masked_corr(y.astype(float), rest_obs, mask & rest_ok_obs))
    edges = _score_group_edges(rest_obs, mask & rest_ok_obs, single, n_groups)
    groups_obs = _score_groups(rest_obs, mask & rest_ok_obs, edges)
    y_obs0 = np.where(mask, y, 0).astype(float)
    ymask = mask.astype(float)
    draw_idx = None if a_draws is None else rng.choice(a_draws.shape[0], n_rep, replace=n_rep > a_draws.shape[0])

    t = {name: np.empty((n_rep, J)) for name in ("cat_obs", "cat_rep", "sg_obs", "sg_rep", "r_rep")}
    prop_rep = np.empty((n_rep, J, K))
    for r in range(n_rep):
        if draw_idx is None:
            a, b = params.a, params.b
        else:
            a, b = a_draws[draw_idx[r]], b_draws[draw_idx[r]]
        tables = [_gather_table(a, b, nodes + shift) for shift in shifts]
        loglik = _sheet_loglik(y_idx, row_type, tables, params.dimension, D)
        if not one_sheet_each:  # pool each respondent's sheets
            pooled = np.zeros((n_persons, D, nodes.size))
            np.add.at(pooled, person, loglik)
            loglik = pooled
        logpost = loglik + logprior
        theta = _sample_grid(logpost, nodes, step, rng)[person] + row_shift[:, None]
        th = theta[:, params.dimension]  # (rows, J)
        cum = _cumulative(th, a, b)
        y_rep = (rng.random(th.shape)[..., None] < cum).sum(axis=-1)
        y_rep = np.where(mask, y_rep, MISSING)
        edge = cum.shape[:-1] + (1,)
        full = np.concatenate([np.ones(edge), cum, np.zeros(edge)], axis=-1)
        prob = full[..., :-1] - full[..., 1:]  # (rows, J, K)
        expected = cum.sum(axis=-1)
        variance = (prob * np.arange(K) ** 2).sum(axis=-1) - expected**2
        expected_counts = (prob * mask[..., None]).sum(axis=0)
        rep_counts = _category_counts_by_item(y_rep, mask, K)
        t["cat_obs"][r] = _category_discrepancy(obs_counts, expected_counts)
        t["cat_rep"][r] = _category_discrepancy(rep_counts, expected_counts)
        prop_rep[r] = rep_counts / np.maximum(rep_counts.sum(axis=1, keepdims=True), 1.0)

        rest_rep, rest_ok_rep = _rest_scores(y_rep, mask, params.n_categories, onehot)
        t["r_rep"][r] = np.where(single, np.nan, _masked_corr(y_rep.astype(float), rest_rep, mask & rest_ok_rep))
        groups_rep = _score_groups(rest_rep, mask & rest_ok_rep, edges)
        if single.any():  # group by the theta draw, the same for observed and replicated data
            by_theta = _score_groups(th, mask, edges)
            groups_obs = np.where(single[None, :], by_theta, groups_obs)
            groups_rep = np.where(single[None, :], by_theta, groups_rep)
        e_m, v_m = expected * ymask, variance * ymask
        t["sg_obs"][r] = _group_discrepancy(groups_obs, y_obs0, e_m, v_m, n_groups)
        t["sg_rep"][r] = _group_discrepancy(groups_rep, np.where(mask, y_rep, 0) * ymask, e_m, v_m, n_groups)

    p = {
        "categories": _ppp(t["cat_rep"], t["cat_obs"]),
        "item_rest": _ppp(t["r_rep"], np.broadcast_to(r_obs, (n_rep, J))),
        "score_groups": _ppp(t["sg_rep"], t["sg_obs"]),
    }
    p_value = p[statistic]
    out = pd.DataFrame({
        "item_id": list(params.item_ids),
        "dimension": [params.dimensions[d] for d in params.dimension],
        "n": mask.sum(axis=0),
        "p_categories": p["categories"],
        "r_obs": r_obs,
        "r_rep": np.where(single, np.nan, np.nanmean(np.where(single, 0.0, t["r_rep"]), axis=0)),
        "p_item_rest": p["item_rest"],
        "x2_obs": t["sg_obs"].mean(axis=0),
        "x2_rep": t["sg_rep"].mean(axis=0),
        "p_score_groups": p["score_groups"],
        "p_value": p_value,
        "misfit": (p_value < alpha) | (p_value > 1 - alpha),
    })
    obs_prop = obs_counts / np.maximum(obs_counts.sum(axis=1, keepdims=True), 1.0)
    cats = [(j, k) for j in range(J) for k in range(int(params.n_categories[j]))]
    jj, kk = np.array([c[0] for c in cats]), np.array([c[1] for c in cats])
    out.attrs["categories"] = pd.DataFrame({
        "item_id": [params.item_ids[j] for j in jj], "category": kk,
        "observed": obs_prop[jj, kk], "replicated": prop_rep.mean(axis=0)[jj, kk],
        "replicated_lo": np.quantile(prop_rep, 0.05, axis=0)[jj, kk],
        "replicated_hi": np.quantile(prop_rep, 0.95, axis=0)[jj, kk],
    })
    out.attrs["statistic"] = statistic
    out.attrs["n_rep"] = n_rep
    return out


# ----------------------------------------------------------------------------------- DIF
def _unpack(par: np.ndarray) -> tuple[float, np.ndarray]:
    """(log a, b_1, log(b_2 - b_1), ...) -> (a, ordered thresholds)."""
    return float(np.exp(par[0])), np.cumsum(np.concatenate([par[1:2], np.exp(par[2:])]))


def _pack(a: float, b: np.ndarray) -> np.ndarray:
    gaps = np.maximum(np.diff(b), 1e-3)
    return np.concatenate([[np.log(a)], b[:1], np.log(gaps)])


MAX_PURIFY = 5  # rounds of anchor purification in DIF
RIDGE = 1.0 / 30.0**2  # precision of a very weak normal penalty on the packed item parameters


def _item_negloglik(par: np.ndarray, nodes: np.ndarray, groups: list[list[np.ndarray]]) -> tuple[float, np.ndarray]:
    """Negative marginal log-likelihood of one item, and its gradient in the packed parameters.

    ``groups`` holds, per group, one array per category k: the weights over ``nodes`` (rows sum
    to 1) of the respondents who answered k, given the anchor items and their group's theta
    distribution. The log-likelihood is ``sum_k sum_n log(h_n . P_k)``.
    """
    a, b = _unpack(par)
    K = b.size + 1
    c = np.ones((K + 1, nodes.size))
    c[1:K] = expit(a * (nodes[None, :] - b[:, None]))
    c[K] = 0.0
    prob = np.maximum(c[:-1] - c[1:], 1e-300)  # (K, Q)
    w = c * (1.0 - c)
    x_minus_b = np.zeros_like(c)
    x_minus_b[1:K] = nodes[None, :] - b[:, None]
    dc_da = w * x_minus_b
    dp_da = dc_da[:-1] - dc_da[1:]  # (K, Q)
    value = 0.0
    A = np.zeros((K, nodes.size))  # sum over respondents answering k of h / (h . P_k)
    for by_category in groups:
        for k, h in enumerate(by_category):
            if h.shape[0]:
                m = np.maximum(np.einsum("nq,q->n", h, prob[k]), 1e-300)
                value += np.log(m).sum()
                A[k] += np.einsum("nq,n->q", h, 1.0 / m)
    grad_a = float((A * dp_da).sum())
    # threshold m moves C_{m+1}: dP_m / db_m = +a W_{m+1}, dP_{m+1} / db_m = -a W_{m+1}
    grad_b = a * ((A[:-1] - A[1:]) * w[1:K]).sum(axis=1)
    tail = np.cumsum(grad_b[::-1])[::-1]  # b_1 shifts every threshold, gap i shifts b_i, b_i+1, ...
    grad = np.concatenate([[a * grad_a], tail[:1], np.exp(par[2:]) * tail[1:]])
    return -value, -grad


def _fit_item(start: np.ndarray, nodes: np.ndarray, groups: list[list[np.ndarray]]) -> tuple[np.ndarray, float]:
    """Marginal maximum likelihood of one item's packed parameters; returns (par, loglik).

    BFGS on the unconstrained packing (log a, b_1, log gaps). A very weak ridge (sd 30 on that
    scale) keeps a threshold finite when a group never uses a category; it moves the optimum
    by a negligible amount otherwise, and the reported value is the plain log-likelihood.
    """

    def objective(par):
        value, grad = _item_negloglik(par, nodes, groups)
        return value + 0.5 * RIDGE * par @ par, grad + RIDGE * par

    res = optimize.minimize(objective, start, jac=True, method="BFGS", options={"gtol": 1e-6, "maxiter": 500})
    return res.x, -_item_negloglik(res.x, nodes, groups)[0]


def _log_normal_weights(nodes: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    lw = -0.5 * ((nodes - mu) / sigma) ** 2
    return lw - logsumexp(lw)


def _fit_group_theta(loglik: np.ndarray, nodes: np.ndarray) -> tuple[float, float]:
    """Maximum likelihood N(mu, sigma) of theta on the grid from anchor log-likelihoods (n, Q)."""
    scaled = np.exp(loglik - loglik.max(axis=1, keepdims=True))  # per-person likelihood, peak 1

    def negll(x):
        mu, sigma = x[0], np.exp(x[1])
        z = (nodes - mu) / sigma
        pi = np.exp(_log_normal_weights(nodes, mu, sigma))
        marginal = np.maximum(np.einsum("nq,q->n", scaled, pi), 1e-300)
        weight = pi * np.einsum("nq,n->q", scaled, 1.0 / marginal)  # posterior mass per node
        d_mu = (z - pi @ z) / sigma
        d_ls = z**2 - pi @ z**2
        return -float(np.log(marginal).sum()), -np.array([weight @ d_mu, weight @ d_ls])

    res = optimize.minimize(negll, np.zeros(2), jac=True, method="BFGS", options={"gtol": 1e-6})
    return float(res.x[0]), float(np.exp(res.x[1]))


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values; NaN stays NaN."""
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = stats.false_discovery_control(p[ok], method="bh")
    return out


def dif(
    data_or_y: ResponseData | np.ndarray,
    params: Any,
    group: np.ndarray | Sequence[Any],
    *,
    reference: Any = None,
    anchors: Sequence[str] | None = None,
    items: Sequence[str] | None = None,
    alpha: float = 0.05,
    purify: bool = True,
    n_grid: int = 121,
) -> pd.DataFrame:
    """Differential item functioning between two groups by anchored likelihood-ratio tests.

    For each studied item, theta is matched through the anchor items of its dimension (all
    other items of the dimension by default, the studied item never anchors itself): each
    group's N(mu_g, sigma_g) is estimated by marginal maximum likelihood from the anchors at
    their given parameters, so a difference in the groups' theta distributions (impact) is not
    read as DIF. The studied item's slope and thresholds are then estimated by marginal maximum
    likelihood (scipy L-BFGS-B, analytic gradient) once for both groups and once per group; the
    likelihood ratio is chi-square with K degrees of freedom (slope and K-1 thresholds).

    Parameters
    ----------
    data_or_y : ResponseData or ndarray
        Responses (category indices, -1 missing), one row per answer sheet.
    params : ItemParams or GradedResponseModel
        Item parameters (point values) of the anchors; they also start the searches.
    group : array-like
        Group label per row of the responses (or per respondent of a ResponseData); two labels.
    reference : optional
        The reference group's label; default the first label in sorted order.
    anchors : sequence of str, optional
        Item ids allowed as anchors; default all items.
    items : sequence of str, optional
        Items to test; default all items.
    alpha : float
        Items with Benjamini-Hochberg adjusted p below ``alpha`` are flagged.
    purify : bool
        Iterative purification: re-run with the flagged items removed from the anchors until the
        flagged set is stable (at most five rounds; results for unchanged anchor sets are reused).
    n_grid : int
        Points of the uniform theta grid on [-6, 6].

    Returns
    -------
    pandas.DataFrame
        One row per tested item: ``item_id``, ``dimension``, ``n_ref``, ``n_focal``,
        ``n_anchors``, ``mu_ref``, ``sigma_ref``, ``mu_focal``, ``sigma_focal``, ``a_ref``,
        ``a_focal``, ``b_ref``, ``b_focal`` (tuples), ``a_diff`` and ``b_shift`` (focal minus
        reference; mean threshold difference, unstable when a slope is near zero), ``esd`` and
        ``esd_unsigned`` (signed and unsigned
        expected item score difference, focal minus reference, averaged over the focal group's
        theta distribution, in score points), ``lr``, ``df``, ``p_value``, ``p_adj``, ``dif``,
        ``anchor`` (allowed as an anchor in the final pass). ``attrs["groups"]`` is
        ``(reference, focal)``.
    """
    base, _, _, _ = _resolve(params)
    params_, y, person, n_persons, _, _ = _sheets(data_or_y, base)
    group = np.asarray(group)
    if isinstance(data_or_y, ResponseData) and group.shape[0] == n_persons and n_persons != y.shape[0]:
        group = group[person]
    if group.shape[0] != y.shape[0]:
        raise ValueError(f"group has {group.shape[0]} entries for {y.shape[0]} response rows")
    labels = sorted(set(group.tolist()), key=str)
    if len(labels) != 2:
        raise ValueError(f"DIF needs exactly two groups, found {len(labels)}")
    if reference is None:
        reference = labels[0]
    if reference not in labels:
        raise ValueError(f"reference group {reference!r} not among {labels}")
    focal = labels[1] if labels[0] == reference else labels[0]
    in_group = [group == reference, group == focal]

    J = params_.n_items
    ids = list(params_.item_ids)
    tested = np.arange(J) if items is None else _align(params_, items)
    anchor_ok = np.ones(J, bool) if anchors is None else np.isin(np.arange(J), _align(params_, anchors))
    nodes, _ = _uniform_grid(n_grid)
    table = _gather_table(params_.a, params_.b, nodes)
    y_idx = _answer_index(y, table.shape[1] - 1)

    memo: dict[tuple[int, bytes], dict[str, Any]] = {}

    def run(anchor_mask: np.ndarray) -> list[dict[str, Any]]:
        rows = []
        for j in tested:
            d = params_.dimension[j]
            use = anchor_mask & (params_.dimension == d)
            use[j] = False
            if (j, use.tobytes()) not in memo:
                memo[j, use.tobytes()] = test_item(j, use)
            rows.append(memo[j, use.tobytes()])
        return rows

    def test_item(j: int, use: np.ndarray) -> dict[str, Any]:
        d = params_.dimension[j]
        K = int(params_.n_categories[j])
        answered = y[:, j] != MISSING
        row: dict[str, Any] = {"item_id": ids[j], "dimension": params_.dimensions[d], "n_anchors": int(use.sum()),
                               "n_ref": int((answered & in_group[0]).sum()),
                               "n_focal": int((answered & in_group[1]).sum()), "df": K}
        if not use.any() or min(row["n_ref"], row["n_focal"]) == 0:
            return row | {"lr": np.nan, "p_value": np.nan}
        loglik = _sheet_loglik(y_idx[:, use], np.zeros(y.shape[0], int), [table[use]],
                               np.zeros(int(use.sum()), int), 1)[:, 0]  # anchors only, (rows, Q)
        fits, theta_dist = [], []
        for g in in_group:
            mu, sigma = _fit_group_theta(loglik[g], nodes)
            theta_dist.append((mu, sigma))
            sel = g & answered
            joint = loglik[sel] + _log_normal_weights(nodes, mu, sigma)
            h = np.exp(joint - logsumexp(joint, axis=1, keepdims=True))
            fits.append([h[y[sel, j] == k] for k in range(K)])
        par0, ll0 = _fit_item(_pack(float(params_.a[j]), params_.thresholds(j)), nodes, fits)
        par_r, ll_r = _fit_item(par0, nodes, fits[:1])
        par_f, ll_f = _fit_item(par0, nodes, fits[1:])
        lr = max(0.0, 2.0 * (ll_r + ll_f - ll0))
        (a_r, b_r), (a_f, b_f) = _unpack(par_r), _unpack(par_f)
        pi_f = np.exp(_log_normal_weights(nodes, *theta_dist[1]))
        diff = _expected_score(a_f, b_f, nodes) - _expected_score(a_r, b_r, nodes)
        return row | {
            "mu_ref": theta_dist[0][0], "sigma_ref": theta_dist[0][1],
            "mu_focal": theta_dist[1][0], "sigma_focal": theta_dist[1][1],
            "a_ref": a_r, "a_focal": a_f, "b_ref": tuple(b_r.tolist()), "b_focal": tuple(b_f.tolist()),
            "a_diff": a_f - a_r, "b_shift": float(np.mean(b_f - b_r)),
            "esd": float(pi_f @ diff), "esd_unsigned": float(pi_f @ np.abs(diff)),
            "lr": lr, "p_value": float(stats.chi2.sf(lr, K)),
        }

    final_anchors, seen = anchor_ok.copy(), set()
    for round_ in range(MAX_PURIFY + 1):
        rows = run(final_anchors)
        p_adj = _bh(np.array([r["p_value"] for r in rows], dtype=float))
        if not purify or round_ == MAX_PURIFY:
            break
        seen.add(final_anchors.tobytes())
        flagged = [ids.index(r["item_id"]) for r, p in zip(rows, p_adj, strict=True) if p < alpha]
        purified = anchor_ok.copy()
        purified[flagged] = False
        if purified.tobytes() in seen:  # the flagged set is stable (or cycles)
            break
        final_anchors = purified
    columns = ["item_id", "dimension", "n_ref", "n_focal", "n_anchors", "mu_ref", "sigma_ref", "mu_focal",
               "sigma_focal", "a_ref", "a_focal", "b_ref", "b_focal", "a_diff", "b_shift", "esd", "esd_unsigned",
               "lr", "df", "p_value"]
    out = pd.DataFrame(rows).reindex(columns=columns)
    out["p_adj"] = p_adj
    out["dif"] = p_adj < alpha
    out["anchor"] = final_anchors[tested]
    out.attrs["groups"] = (reference, focal)
    out.attrs["alpha"] = alpha
    return out



def dif_curves(table: pd.DataFrame, items: Sequence[str] | None = None,
               theta_grid: Sequence[float] | np.ndarray | None = None) -> pd.DataFrame:
    """Expected item score by group on a theta grid for items of a :func:`dif` result (default the
    flagged ones, or the three largest likelihood ratios if none is): item_id, group, theta,
    expected_score."""
    theta = _theta_grid(theta_grid)
    done = table.dropna(subset=["a_ref", "a_focal"])
    if items is None:
        flagged = done[done["dif"]]
        items = list((flagged if len(flagged) else done.nlargest(3, "lr"))["item_id"])
    ref, focal = table.attrs.get("groups", ("reference", "focal"))
    out = []
    for iid, r in done.set_index("item_id").loc[list(items)].iterrows():
        for label, a, b in ((ref, r.a_ref, r.b_ref), (focal, r.a_focal, r.b_focal)):
            out.append(pd.DataFrame({"item_id": iid, "group": label, "theta": theta,
                                     "expected_score": _expected_score(a, np.asarray(b), theta)}))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(
        columns=["item_id", "group", "theta", "expected_score"])

# ----------------------------------------------------------------------------- global fit (M2)
def _moment_pairs(J: int) -> tuple[np.ndarray, np.ndarray]:
    """The moments of M2 for ordinal items (Maydeu-Olivares & Joe 2014, "Mord"): E[Y_i] for every
    item, then E[Y_i Y_j] for i < j. Each is a pair of item indices, J standing for "no item"."""
    iu, ju = np.triu_indices(J, 1)
    return np.r_[np.arange(J), iu], np.r_[np.full(J, J), ju]


def _conditional_moments(probs: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """E[Y | theta] and E[Y^2 | theta] per item and node from category probabilities (J, K, Q);
    a last row of ones stands for "no item"."""
    mu = np.einsum("jkq,jk->jq", probs, scores)
    s = np.einsum("jkq,jk->jq", probs, scores**2)
    ones = np.ones((1, probs.shape[2]))
    return np.r_[mu, ones], np.r_[s, ones]


def _model_moments(probs: np.ndarray, scores: np.ndarray, w: np.ndarray, pairs) -> np.ndarray:
    mu, _ = _conditional_moments(probs, scores)
    i, j = pairs
    return (mu[i] * mu[j]) @ w


def _moment_covariance(probs: np.ndarray, scores: np.ndarray, w: np.ndarray, pairs) -> np.ndarray:
    """Xi: the covariance of one person's moment vector under the model, by quadrature.

    Items are independent given theta, so E[m_a m_b | theta] is the product of the four items'
    conditional means, with E[Y_x^2 | theta] = mu_x r_x (r_x = s_x / mu_x, scores are >= 1) for an
    item x in both moments."""
    mu, s = _conditional_moments(probs, scores)
    i, j = pairs
    J = probs.shape[0]
    v = mu[i] * mu[j]  # (M, Q) conditional mean of each moment
    xi = (v * w) @ v.T
    r = s / mu**2 - 1.0  # the factor an item shared by two moments adds, minus one
    for x in range(J):
        both = np.flatnonzero((i == x) | (j == x))
        vx = v[both] * (w * r[x])
        xi[np.ix_(both, both)] += vx @ v[both].T
    second = np.flatnonzero(j < J)  # a second-order moment with itself shares both of its items
    xi[second, second] += (v[second] ** 2 * r[i[second]] * r[j[second]]) @ w
    pi = v @ w
    return xi - np.outer(pi, pi)


def _m2(p: np.ndarray, pi: np.ndarray, xi: np.ndarray, delta: np.ndarray, n: int) -> float:
    """M2 = n (p - pi)' C (p - pi), C = Xi^-1 - Xi^-1 D (D' Xi^-1 D)^-1 D' Xi^-1."""
    from scipy.linalg import cho_factor, cho_solve

    f = cho_factor(xi)
    e = p - pi
    xe, xd = cho_solve(f, e), cho_solve(f, delta)
    inner = np.linalg.solve(delta.T @ xd, xd.T @ e)
    return float(n * (e @ xe - (e @ xd) @ inner))


def _grm_probs(theta: np.ndarray, a: np.ndarray, b: np.ndarray, K: np.ndarray) -> np.ndarray:
    Kmax = int(K.max())
    out = np.zeros((len(a), Kmax, theta.size))
    for j in range(len(a)):
        C = np.ones((K[j] + 1, theta.size))
        C[1:K[j]] = expit(a[j] * (theta[None, :] - b[j, : K[j] - 1, None]))
        C[K[j]] = 0.0
        out[j, : K[j]] = C[:-1] - C[1:]
    return out


def _numeric_jacobian(fun, x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    cols = []
    for k in range(x.size):
        e = np.zeros_like(x)
        e[k] = eps
        cols.append((fun(x + e) - fun(x - e)) / (2 * eps))
    return np.stack(cols, axis=1)


def limited_information_fit(
    data: ResponseData | np.ndarray,
    source: Any,
    n_points: int = 61,
    rater: str | None = None,
) -> pd.DataFrame:
    """Limited-information global fit per dimension: M2 for ordinal items with RMSEA, CFI and TLI.

    M2 (Maydeu-Olivares & Joe 2006, 2014; the ordinal "Mord" form mirt calls M2*) compares the
    observed item means and cross-products with the model's, weighted by the inverse of their
    asymptotic covariance Xi under the model and with the estimated parameters' influence
    removed through the Jacobian D of the moments:
    ``M2 = N (p - pi)' [Xi^-1 - Xi^-1 D (D' Xi^-1 D)^-1 D' Xi^-1] (p - pi)``, chi-square with
    (moments - parameters) degrees of freedom. RMSEA = sqrt(max(M2 - df, 0) / (N df)); CFI and TLI
    compare with the same statistic of the independence model (items independent, each with its
    own category proportions; the moments see it through the J item means). Each dimension is tested on its own: the calibration fits each
    competency's items from their own block's marginal likelihood.

    The moments need one sheet per person, fully answered: with several rater types, the sheets of
    ``rater`` (default: the most common type) are used, each read at its rater shift, and rows with
    a missing answer in the dimension are left out (``n`` says how many were used).
    """
    from scipy.stats import chi2

    params, _, _, effects = _resolve(source)
    params, y, person, _, row_rater, _ = _sheets(data, params)
    shift = 0.0
    if row_rater is not None:
        types, counts = np.unique(row_rater, return_counts=True)
        rater = rater or str(types[np.argmax(counts)])
        keep = row_rater == rater
        y, person = y[keep], person[keep]
        _, first = np.unique(person, return_index=True)
        y = y[np.sort(first)]
        shift = effects.get(rater, 0.0)
    nodes, w = np.polynomial.hermite_e.hermegauss(n_points)
    w = w / w.sum()
    theta = nodes + shift
    rows = []
    for d, name in enumerate(params.dimensions):
        idx = np.flatnonzero(params.dimension == d)
        block = y[:, idx]
        block = block[(block != MISSING).all(axis=1)]
        n, J = block.shape[0], idx.size
        K = params.n_categories[idx]
        a, b = params.a[idx], params.b[idx]
        scores = np.where(np.arange(int(K.max()))[None, :] < K[:, None], np.arange(1, int(K.max()) + 1), 0.0)
        pairs = _moment_pairs(J)
        n_par = int(K.sum())
        n_mom = pairs[0].size
        row = {"dimension": name, "n": n, "items": J, "moments": n_mom, "parameters": n_par}
        if J < 3 or n_mom <= n_par or n < 2 * n_mom:  # no statistic: say why
            row["note"] = ("fewer item means and cross-products than parameters" if J < 3 or n_mom <= n_par
                           else "too few fully answered sheets")
            rows.append(row)
            continue
        obs = np.c_[block + 1.0, np.ones((n, 1))]
        p = (obs[:, pairs[0]] * obs[:, pairs[1]]).mean(axis=0)

        def grm(x, K=K, J=J):  # noqa: B023 (called only within this iteration)
            bb = np.full((J, int(K.max()) - 1), np.nan)
            bb[np.arange(int(K.max()) - 1)[None, :] < (K - 1)[:, None]] = x[J:]
            return _grm_probs(theta, x[:J], bb, K)

        x = np.r_[a, b[~np.isnan(b)]]
        probs = grm(x)
        m2 = _m2(p, _model_moments(probs, scores, w, pairs), _moment_covariance(probs, scores, w, pairs),
                 _numeric_jacobian(lambda z, s=scores, pr=pairs: _model_moments(grm(z), s, w, pr), x), n)
        df = n_mom - n_par
        # independence model: items independent, each with its observed category proportions; the
        # moments see it only through the item means, its J parameters here
        counts = np.stack([np.bincount(block[:, k], minlength=int(K.max())) for k in range(J)]).astype(float)
        prop = counts / counts.sum(1, keepdims=True)
        p0 = np.repeat(prop[:, :, None], theta.size, axis=2)
        m0 = (prop * scores).sum(1)

        def null_moments(m, pairs=pairs):
            mm = np.r_[m, 1.0]
            return mm[pairs[0]] * mm[pairs[1]]

        df0 = n_mom - J
        m2_0 = _m2(p, null_moments(m0), _moment_covariance(p0, scores, w, pairs),
                   _numeric_jacobian(null_moments, m0), n)
        rmsea = float(np.sqrt(max(m2 - df, 0.0) / (n * df)))
        cfi = 1.0 - max(m2 - df, 0.0) / max(m2_0 - df0, m2 - df, 1e-12)
        tli = (m2_0 / df0 - m2 / df) / (m2_0 / df0 - 1.0)
        row.update({"M2": m2, "df": df, "p": float(chi2.sf(m2, df)), "RMSEA": rmsea, "CFI": cfi, "TLI": tli,
                    "M2_null": m2_0, "df_null": df0})
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- item table
def item_table(cal: Any, fit: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per item summarizing a calibration (or bare ItemParams).

    Parameters
    ----------
    cal : GradedResponseModel or ItemParams
        Posterior SDs are read from ``a_sd_``/``b_sd_`` when present, else NaN.
    fit : pandas.DataFrame, optional
        An :func:`item_fit` result whose ``p_value`` and ``misfit`` are joined on ``item_id``.

    Returns
    -------
    pandas.DataFrame
        ``item_id``, ``dimension``, ``n_categories``, ``a``, ``a_sd``, ``b1..b{K-1}`` and
        ``b1_sd..``, ``location`` (mean threshold), ``info_0`` (information at theta = 0),
        ``info_max`` and ``theta_max`` (peak of the information curve on [-4, 4]), and
        ``fit_p``/``misfit`` when ``fit`` is given.
    """
    params, _, _, _ = _resolve(cal)
    J, n_b = params.n_items, params.b.shape[1]
    a_sd, b_sd = getattr(cal, "a_sd_", None), getattr(cal, "b_sd_", None)
    a_sd = np.full(J, np.nan) if a_sd is None else np.asarray(a_sd, float)
    b_sd = np.full((J, n_b), np.nan) if b_sd is None else np.asarray(b_sd, float)
    theta = np.linspace(-4.0, 4.0, 161)
    info = _information(params, theta)
    out = pd.DataFrame({
        "item_id": list(params.item_ids),
        "dimension": [params.dimensions[d] for d in params.dimension],
        "n_categories": params.n_categories.astype(int),
        "a": params.a,
        "a_sd": a_sd,
    })
    for k in range(n_b):
        out[f"b{k + 1}"] = params.b[:, k]
    for k in range(n_b):
        out[f"b{k + 1}_sd"] = np.where(np.isnan(params.b[:, k]), np.nan, b_sd[:, k])
    out["location"] = np.nanmean(params.b, axis=1)
    out["info_0"] = _information(params, np.zeros(1))[0]
    out["info_max"] = info.max(axis=0)
    out["theta_max"] = theta[info.argmax(axis=0)]
    if fit is not None:
        joined = fit.set_index("item_id").reindex(out["item_id"])
        out["fit_p"] = joined["p_value"].to_numpy()
        out["misfit"] = joined["misfit"].to_numpy()
    return out
