"""Multidimensional computerized adaptive testing (CAT) for the graded response model.

Design
------
A session is a loop of three swappable parts, in the spirit of catsim's split into
selector / estimator / stopper, all vectorized over respondents so that one simulation
runs every session in lock-step:

* **Posterior** (:class:`GaussianEPPosterior`): the belief about theta (a D-vector).
* **Item selection** (:class:`VarianceReduction`, :class:`MaxInfo`), followed by
  **content balancing** (:class:`ContentBalance`) and **exposure control**
  (:class:`Randomesque`).
* **Stopping** (:class:`PrecisionStop`).

:func:`run_cat` runs sessions for any combination of these; :func:`simulate_cat` draws
people and answers, runs the CAT, scores the full form for the same people and summarizes
(:class:`CATSimulation`, :func:`format_report`); :func:`compare_independent` runs the same
people through a correlated and an independent (R = I) posterior. :class:`AdaptiveSession`
is the same machinery for one live respondent.

Posterior: expectation propagation with exact per-dimension likelihoods
----------------------------------------------------------------------
The model is theta ~ N(0, R) and each item loads on one dimension, so the likelihood
factorizes over dimensions: p(theta | y) ∝ N(theta; 0, R) · prod_d L_d(theta_d), where
L_d is the product of the GRM category probabilities of the items answered on dimension d.
Each L_d is a function of one variable and is kept *exactly*, as a log-likelihood on a fixed
uniform grid (``n_grid`` points on [-6, 6]); an answer adds one row of a precomputed table.

The posterior is approximated by a Gaussian q(theta) = N(mu, Sigma) ∝ N(theta; 0, R) ·
prod_d t_d(theta_d), with one Gaussian "site" t_d per dimension (expectation propagation,
Minka 2001). Updating site d is exactly the "borrow strength" step:

1. *1-D grid update on the item's own dimension*: the cavity q_{\\d}(theta_d) (the marginal
   of q with site d divided out, i.e. the prior plus everything the *other* dimensions
   say about theta_d through R) times the exact L_d, normalized on the grid, gives the
   marginal mean m and variance v of the tilted distribution;
2. *propagation through the Gaussian conditional*: q keeps its conditional
   p(theta_{-d} | theta_d) and takes N(m, v) as its new marginal of theta_d, i.e.
   mu += Sigma[:, d] / Sigma_dd · (m - mu_d) and
   Sigma -= Sigma[:, d] Sigma[d, :] · (Sigma_dd - v) / Sigma_dd²;
   this is the moment-matching (KL) projection of cavity × L_d onto Gaussians.

After each answer the answered dimension's site is updated, followed by ``sweeps`` passes
over all sites (their cavities changed through R); final scores are refined to convergence.
GRM category probabilities are log-concave in theta, so every tilted distribution is
log-concave, site precisions stay non-negative and EP is stable here.

Properties: with R = I the cavity of dimension d is exactly N(0, 1), so the reported
marginal of theta_d *is* the exact 1-D grid posterior of :class:`~workbench.skills.score.
SkillPosterior` (up to quadrature error, ~1e-6). With correlated dimensions the marginals
are EP's Gaussian approximation of the exact D-dimensional posterior; against brute-force
2-D quadrature the means and SDs agree within ~1e-3 even at a correlation of 0.95 (the
posterior is log-concave and close to Gaussian). The cost per answer is
O((1 + sweeps) · D · (G + D²)); nothing is re-scored from scratch. Because the reported
marginals are this accurate, the final scores need no separate grid rescoring; the
simulation still reports the independent-prior grid EAP of :func:`~workbench.skills.score.eap`
for comparison.

Selection, content balancing, exposure, stopping
------------------------------------------------
* :class:`VarianceReduction` (default) scores item j on dimension d by the expected drop
  in the total *excess* posterior variance sum_e max(Sigma_ee - target², 0) when the
  item's Fisher information I_j(mu_d) is added to site d (the Gaussian update
  Sigma' = Sigma - Sigma[:, d] Sigma[d, :] I / (1 + I Sigma_dd)). It uses the correlations:
  an item also pays for the variance it removes on correlated dimensions, and items of
  dimensions already at target earn nothing from themselves.
* :class:`MaxInfo` is the classical rule: maximum Fisher information at the current
  estimate, restricted (weight 1 vs ``closed_weight``) to dimensions still above target.
* :class:`ContentBalance`: while any dimension has fewer than its minimum number of items,
  only those dimensions are eligible, and a session never stops before all minimums are met
  (unless ``max_items`` is reached; minimums that cannot fit are rejected up front).
* :class:`Randomesque`: choose uniformly among the k best eligible items (Kingsbury & Zara
  1989). Items with no positive gain are considered only when no item has one; then the
  most informative eligible item is taken.
* :class:`PrecisionStop`: stop when every dimension's posterior SD is at most the target
  (or its item pool is exhausted), or after ``max_items`` items.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd
from scipy.special import expit

from .grm import MISSING, ItemParams, simulate_responses
from .score import category_counts, eap, log_prob_table

GRID_POINTS = 121
GRID_HALF_WIDTH = 6.0
_TINY = 1e-12


# --------------------------------------------------------------------------- validation
def check_correlation(correlation: np.ndarray, n_dims: int) -> np.ndarray:
    """Validate a correlation matrix for ``n_dims`` dimensions and return it as float, symmetrized.

    Raises
    ------
    ValueError
        If it is not ``n_dims`` x ``n_dims``, has non-finite entries, is not symmetric, has a
        diagonal other than 1, or is not positive definite.
    """
    R = np.asarray(correlation, dtype=float)
    if R.shape != (n_dims, n_dims):
        raise ValueError(f"correlation must be a {n_dims} x {n_dims} matrix (one row per dimension), "
                         f"got shape {R.shape}")
    if not np.isfinite(R).all():
        raise ValueError("correlation has non-finite entries")
    if not np.allclose(R, R.T, atol=1e-6):
        raise ValueError("correlation must be symmetric")
    if not np.allclose(np.diag(R), 1.0, atol=1e-6):
        raise ValueError(f"correlation must have ones on the diagonal, got {np.round(np.diag(R), 4).tolist()}")
    R = (R + R.T) / 2
    np.fill_diagonal(R, 1.0)
    smallest = float(np.linalg.eigvalsh(R)[0])
    if smallest <= 1e-8:
        raise ValueError(f"correlation must be positive definite (smallest eigenvalue {smallest:.3g})")
    return R


def _check_target(target_sd: float) -> float:
    try:
        value = float(target_sd)
    except (TypeError, ValueError):
        raise ValueError(f"target_sd must be a positive number, got {target_sd!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"target_sd must be a positive number, got {target_sd!r}")
    return value


# --------------------------------------------------------------------------- GRM information
def fisher_information(params: ItemParams, theta: np.ndarray) -> np.ndarray:
    """Fisher information of every item at ``theta`` (N, D) on the item's own dimension, (N, J).

    I_j(theta) = a_j² sum_k (W_k - W_{k+1})² / P_k with W_k = P*_k (1 - P*_k) and
    P*_k = P(Y >= k | theta).
    """
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    b = np.where(np.isnan(params.b), np.inf, params.b)  # padded thresholds: P(Y >= k) = 0
    th = theta[:, params.dimension]  # (N, J)
    p_ge = expit(params.a[None, :, None] * (th[:, :, None] - b[None, :, :]))  # (N, J, K-1)
    ones = np.ones(p_ge.shape[:2] + (1,))
    cum = np.concatenate([ones, p_ge, np.zeros_like(ones)], axis=2)  # (N, J, K+1)
    prob = cum[..., :-1] - cum[..., 1:]
    w = cum * (1.0 - cum)
    num = (w[..., :-1] - w[..., 1:]) ** 2
    ratio = np.divide(num, prob, out=np.zeros_like(num), where=prob > 1e-300)
    return params.a[None, :] ** 2 * ratio.sum(axis=2)


# --------------------------------------------------------------------------- posterior
@dataclass
class PosteriorState:
    """Gaussian posteriors of N respondents plus the exact per-dimension grid log-likelihoods."""

    mean: np.ndarray  # (N, D)
    cov: np.ndarray  # (N, D, D)
    tau: np.ndarray  # (N, D) site precisions
    nu: np.ndarray  # (N, D) site precision-times-mean
    loglik: np.ndarray  # (N, D, G)

    @property
    def sd(self) -> np.ndarray:
        return np.sqrt(np.diagonal(self.cov, axis1=1, axis2=2))


class Posterior(Protocol):
    """What the CAT loop needs from a posterior model."""

    def init(self, n: int) -> PosteriorState: ...

    def observe(self, state: PosteriorState, rows: np.ndarray, items: np.ndarray, categories: np.ndarray) -> None: ...

    def finalize(self, state: PosteriorState) -> None: ...


class GaussianEPPosterior:
    """Gaussian posterior N(mu, Sigma) under the prior N(0, R), fitted by expectation propagation.

    See the module docstring for the update. ``correlation = I`` gives independent
    per-dimension posteriors equal to the exact 1-D grid posterior.

    Parameters
    ----------
    params
        Item parameters.
    correlation
        Prior correlation R between dimensions (D, D), positive definite.
    n_grid, half_width
        The grid for the per-dimension likelihoods: ``n_grid`` points on [-half_width, half_width].
    sweeps
        Passes over all sites after each answer (0: only the answered dimension's site).
    """

    def __init__(self, params: ItemParams, correlation: np.ndarray, n_grid: int = GRID_POINTS,
                 half_width: float = GRID_HALF_WIDTH, sweeps: int = 1):
        self.params = params
        self.n_dims = len(params.dimensions)
        self.correlation = check_correlation(correlation, self.n_dims)
        if n_grid < 21:
            raise ValueError(f"n_grid must be at least 21, got {n_grid}")
        if half_width <= 0:
            raise ValueError(f"half_width must be positive, got {half_width}")
        if sweeps < 0:
            raise ValueError(f"sweeps must be >= 0, got {sweeps}")
        self.grid = np.linspace(-half_width, half_width, n_grid)
        self.sweeps = int(sweeps)
        self.table = log_prob_table(params, self.grid)  # (J, Kmax, G)

    # -- state
    def init(self, n: int) -> PosteriorState:
        D, G = self.n_dims, self.grid.size
        return PosteriorState(np.zeros((n, D)), np.tile(self.correlation, (n, 1, 1)), np.zeros((n, D)),
                              np.zeros((n, D)), np.zeros((n, D, G)))

    def observe(self, state: PosteriorState, rows: np.ndarray, items: np.ndarray, categories: np.ndarray) -> None:
        """Add one answer per row (``rows`` unique): item indices and category indices."""
        rows, items, categories = (np.asarray(x, dtype=int) for x in (rows, items, categories))
        dims = self.params.dimension[items]
        bad = (categories < 0) | (categories >= self.params.n_categories[items])
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"item {self.params.item_ids[items[i]]}: category index {categories[i]} "
                             f"outside 0..{self.params.n_categories[items[i]] - 1}")
        state.loglik[rows, dims] += self.table[items, categories]
        self._update_sites(state, rows, dims)
        for _ in range(self.sweeps):
            self._sweep(state, rows)

    def finalize(self, state: PosteriorState, max_sweeps: int = 50, tol: float = 1e-7) -> None:
        """Run EP sweeps until the means and SDs move less than ``tol``."""
        rows = np.arange(state.mean.shape[0])
        for _ in range(max_sweeps):
            before = np.concatenate([state.mean, state.sd], axis=1)
            self._sweep(state, rows)
            if np.abs(np.concatenate([state.mean, state.sd], axis=1) - before).max(initial=0.0) < tol:
                break

    def score(self, y: np.ndarray) -> PosteriorState:
        """Posteriors for a response matrix ``y`` (N, J) of category indices (-1 missing)."""
        counts = category_counts(y, self.params)
        state = self.init(counts.shape[0])
        N, G = counts.shape[0], self.grid.size
        for d in range(self.n_dims):
            idx = np.flatnonzero(self.params.dimension == d)
            state.loglik[:, d] = counts[:, idx].reshape(N, -1) @ self.table[idx].reshape(-1, G)
        self.finalize(state)
        return state

    # -- EP mechanics
    def _sweep(self, state: PosteriorState, rows: np.ndarray) -> None:
        for d in range(self.n_dims):
            self._update_sites(state, rows, np.full(rows.size, d))

    def _update_sites(self, state: PosteriorState, rows: np.ndarray, dims: np.ndarray) -> None:
        """Refit site ``dims[i]`` of respondent ``rows[i]`` (rows unique) against its exact likelihood."""
        M = rows.size
        if M == 0:
            return
        ar = np.arange(M)
        cov = state.cov[rows]
        mean = state.mean[rows]
        s2 = cov[ar, dims, dims]
        m = mean[ar, dims]
        tau, nu = state.tau[rows, dims], state.nu[rows, dims]
        # cavity: q's marginal of theta_d with the site divided out
        pc = np.maximum(1.0 / s2 - tau, _TINY)
        mc = (m / s2 - nu) / pc
        # tilted distribution on the grid: cavity x exact likelihood of dimension d
        logp = -0.5 * pc[:, None] * (self.grid[None, :] - mc[:, None]) ** 2 + state.loglik[rows, dims]
        logp -= logp.max(axis=1, keepdims=True)
        p = np.exp(logp)
        p /= p.sum(axis=1, keepdims=True)
        mt = p @ self.grid
        vt = np.maximum(p @ self.grid**2 - mt**2, _TINY)
        vt = np.minimum(vt, 1.0 / pc)  # log-concave likelihood: tilted variance <= cavity variance
        # new marginal N(mt, vt) of theta_d, other dimensions follow through the Gaussian conditional
        g = cov[ar, :, dims] / s2[:, None]  # (M, D) regression of theta on theta_d
        state.mean[rows] = mean + g * (mt - m)[:, None]
        new_cov = cov - (s2 - vt)[:, None, None] * g[:, :, None] * g[:, None, :]
        state.cov[rows] = (new_cov + np.swapaxes(new_cov, 1, 2)) / 2
        state.tau[rows, dims] = 1.0 / vt - pc
        state.nu[rows, dims] = mt / vt - pc * mc


# --------------------------------------------------------------------------- selection
class Selector(Protocol):
    """Scores candidate items: (M, J), higher is better, <= 0 means no useful gain."""

    def __call__(self, mean: np.ndarray, cov: np.ndarray, info: np.ndarray, dimension: np.ndarray,
                 target_sd: float) -> np.ndarray: ...


@dataclass(frozen=True)
class VarianceReduction:
    """Expected reduction of the total posterior variance above target² (uses correlations)."""

    def __call__(self, mean: np.ndarray, cov: np.ndarray, info: np.ndarray, dimension: np.ndarray,
                 target_sd: float) -> np.ndarray:
        t2 = target_sd**2
        var = np.diagonal(cov, axis1=1, axis2=2)  # (M, D)
        excess = np.maximum(var - t2, 0.0)
        cross = cov[:, :, dimension]  # (M, D, J): Cov(theta_e, theta_{d_j})
        own = var[:, dimension]  # (M, J)
        shrink = info / (1.0 + info * own)  # (M, J)
        new_var = var[:, :, None] - cross**2 * shrink[:, None, :]
        return (excess[:, :, None] - np.maximum(new_var - t2, 0.0)).sum(axis=1)


@dataclass(frozen=True)
class MaxInfo:
    """Fisher information at the current estimate, weighted by whether the item's dimension is above target."""

    closed_weight: float = 0.0

    def __call__(self, mean: np.ndarray, cov: np.ndarray, info: np.ndarray, dimension: np.ndarray,
                 target_sd: float) -> np.ndarray:
        sd = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
        weight = np.where(sd > target_sd, 1.0, self.closed_weight)
        return info * weight[:, dimension]


SELECTORS: dict[str, Callable[[], Selector]] = {"variance": VarianceReduction, "maxinfo": MaxInfo}


@dataclass(frozen=True)
class Randomesque:
    """Exposure control: pick uniformly among the ``k`` best-scoring eligible items."""

    k: int = 1

    def __post_init__(self):
        if int(self.k) < 1:
            raise ValueError(f"randomesque k must be at least 1, got {self.k}")

    def choose(self, scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Item index per row of ``scores`` (M, J); ``-inf`` marks ineligible items."""
        order = np.argsort(-scores, axis=1, kind="stable")
        n_ok = np.isfinite(scores).sum(axis=1)
        if (n_ok == 0).any():
            raise RuntimeError("no eligible item left for a session that has not stopped")
        pool = np.minimum(self.k, n_ok)
        pick = np.minimum((rng.random(scores.shape[0]) * pool).astype(int), pool - 1)
        return order[np.arange(scores.shape[0]), pick]


@dataclass(frozen=True)
class ContentBalance:
    """Minimum number of items per dimension; dimensions below their minimum go first."""

    min_items: int | tuple[int, ...] = 1

    def minimums(self, n_dims: int) -> np.ndarray:
        mins = np.broadcast_to(np.asarray(self.min_items, dtype=int), (n_dims,)).copy()
        if (mins < 0).any():
            raise ValueError(f"min_items_per_dim must be >= 0, got {self.min_items}")
        return mins

    def due(self, counts: np.ndarray, left: np.ndarray) -> np.ndarray:
        """(M, D) dimensions still below their minimum that have items left."""
        return (counts < self.minimums(counts.shape[1])[None, :]) & (left > 0)


# --------------------------------------------------------------------------- stopping
class StoppingRule(Protocol):
    def __call__(self, sd: np.ndarray, n_items: np.ndarray, left: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class PrecisionStop:
    """Stop when every dimension's SD is <= target (or its pool is exhausted), or at ``max_items``."""

    target_sd: float
    max_items: int

    def __post_init__(self):
        _check_target(self.target_sd)
        if self.max_items < 1:
            raise ValueError(f"max_items must be at least 1, got {self.max_items}")

    def __call__(self, sd: np.ndarray, n_items: np.ndarray, left: np.ndarray) -> np.ndarray:
        settled = (sd <= self.target_sd) | (left == 0)
        return settled.all(axis=1) | (n_items >= self.max_items)


# --------------------------------------------------------------------------- the CAT loop
@dataclass(frozen=True)
class CATDesign:
    """One CAT variant: selection criterion, content balancing, exposure control, stopping."""

    target_sd: float
    max_items: int
    selector: Selector = field(default_factory=VarianceReduction)
    content: ContentBalance = field(default_factory=ContentBalance)
    exposure: Randomesque = field(default_factory=Randomesque)
    stop: StoppingRule | None = None  # default: PrecisionStop(target_sd, max_items)

    def __post_init__(self):
        object.__setattr__(self, "target_sd", _check_target(self.target_sd))
        if int(self.max_items) < 1:
            raise ValueError(f"max_items must be at least 1, got {self.max_items}")

    @classmethod
    def standard(cls, params: ItemParams, target_sd: float, max_items: int | None = None,
                 min_items_per_dim: int | Sequence[int] = 1, randomesque: int = 1,
                 selector: str | Selector = "variance") -> CATDesign:
        """Build and validate a design for ``params``."""
        target_sd = _check_target(target_sd)
        J, D = params.n_items, len(params.dimensions)
        max_items = J if max_items is None else int(max_items)
        if max_items < 1:
            raise ValueError(f"max_items must be at least 1, got {max_items}")
        max_items = min(max_items, J)
        mins_arg = tuple(int(m) for m in min_items_per_dim) if np.ndim(min_items_per_dim) else int(min_items_per_dim)
        if np.ndim(min_items_per_dim) and len(mins_arg) != D:
            raise ValueError(f"min_items_per_dim has {len(mins_arg)} entries for {D} dimensions")
        content = ContentBalance(mins_arg)
        mins = content.minimums(D)
        pool = np.bincount(params.dimension, minlength=D)
        short = np.flatnonzero(mins > pool)
        if short.size:
            d = int(short[0])
            raise ValueError(f"dimension {params.dimensions[d]} has {pool[d]} items, "
                             f"fewer than its minimum {mins[d]}")
        if mins.sum() > max_items:
            raise ValueError(f"the minimums per dimension add up to {mins.sum()} items, "
                             f"more than max_items={max_items}")
        if isinstance(selector, str):
            if selector not in SELECTORS:
                raise ValueError(f"unknown selector {selector!r}; choose from {sorted(SELECTORS)}")
            selector = SELECTORS[selector]()
        return cls(target_sd, max_items, selector, content, Randomesque(int(randomesque)),
                   PrecisionStop(target_sd, max_items))


@dataclass(frozen=True)
class CATSessions:
    """Outcome of :func:`run_cat` for N respondents."""

    order: np.ndarray  # (N, max_items) administered item indices in order, -1 padded
    responses: np.ndarray  # (N, J) category indices of administered items, MISSING elsewhere
    n_items: np.ndarray  # (N,)
    mean: np.ndarray  # (N, D) final posterior means
    sd: np.ndarray  # (N, D) final posterior SDs
    items_per_dim: np.ndarray  # (N, D)


def _finished(design: CATDesign, sd: np.ndarray, n_items: np.ndarray, counts: np.ndarray,
              pool: np.ndarray) -> np.ndarray:
    """Which sessions stop: the stopping rule once no dimension is below its minimum, or at the cap."""
    stop = design.stop or PrecisionStop(design.target_sd, design.max_items)
    left = pool[None, :] - counts
    due = design.content.due(counts, left).any(axis=1)
    return (stop(sd, n_items, left) & ~due) | (n_items >= design.max_items) | (left.sum(axis=1) == 0)


def _select(params: ItemParams, design: CATDesign, mean: np.ndarray, cov: np.ndarray, taken: np.ndarray,
            counts: np.ndarray, pool: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Next item per session: criterion, then content balancing, then exposure control."""
    info = fisher_information(params, mean)
    crit = np.asarray(design.selector(mean, cov, info, params.dimension, design.target_sd), dtype=float)
    due = design.content.due(counts, pool[None, :] - counts)
    allowed = np.where(due.any(axis=1)[:, None], due, True)[:, params.dimension] & ~taken
    has_gain = ((crit > 0) & allowed).any(axis=1)
    # items with a positive gain when there are any, else the most informative allowed item
    score = np.where(has_gain[:, None], np.where(crit > 0, crit, -np.inf), info)
    return design.exposure.choose(np.where(allowed, score, -np.inf), rng)


def run_cat(params: ItemParams, posterior: Posterior, design: CATDesign, n: int,
            answer: Callable[[np.ndarray, np.ndarray], np.ndarray], rng: np.random.Generator) -> CATSessions:
    """Run ``n`` adaptive sessions in lock-step.

    Parameters
    ----------
    params
        Item parameters (the pool).
    posterior
        The posterior model (e.g. :class:`GaussianEPPosterior`).
    design
        Selection, content balancing, exposure control and stopping.
    n
        Number of respondents.
    answer
        ``answer(rows, items) -> categories``: the category index respondent ``rows[i]`` gives
        to item ``items[i]``.
    rng
        Random generator for exposure control.
    """
    J, D = params.n_items, len(params.dimensions)
    state = posterior.init(n)
    taken = np.zeros((n, J), dtype=bool)
    counts = np.zeros((n, D), dtype=int)
    order = np.full((n, design.max_items), -1, dtype=int)
    responses = np.full((n, J), MISSING, dtype=int)
    n_items = np.zeros(n, dtype=int)
    pool = np.bincount(params.dimension, minlength=D)
    onehot = np.eye(D, dtype=int)[params.dimension]  # (J, D)

    active = ~_finished(design, state.sd, n_items, counts, pool)
    while active.any():
        rows = np.flatnonzero(active)
        items = _select(params, design, state.mean[rows], state.cov[rows], taken[rows], counts[rows], pool, rng)
        cats = np.asarray(answer(rows, items), dtype=int)
        posterior.observe(state, rows, items, cats)
        order[rows, n_items[rows]] = items
        responses[rows, items] = cats
        taken[rows, items] = True
        counts[rows] += onehot[items]
        n_items[rows] += 1
        active[rows] = ~_finished(design, state.sd[rows], n_items[rows], counts[rows], pool)
    posterior.finalize(state)
    return CATSessions(order, responses, n_items, state.mean.copy(), state.sd, counts)


# --------------------------------------------------------------------------- one live session
class AdaptiveSession:
    """One respondent's adaptive test: ``next_item()``, ``answer(item_id, category)``, until it returns None.

    Parameters are those of :meth:`CATDesign.standard`, plus the prior ``correlation`` and a
    ``seed`` for exposure control.
    """

    def __init__(self, params: ItemParams, correlation: np.ndarray, target_sd: float, max_items: int | None = None,
                 min_items_per_dim: int | Sequence[int] = 1, randomesque: int = 1,
                 selector: str | Selector = "variance", seed: int | None = None):
        self.params = params
        self.design = CATDesign.standard(params, target_sd, max_items, min_items_per_dim, randomesque, selector)
        self.posterior = GaussianEPPosterior(params, correlation)
        self._rng = np.random.default_rng(seed)
        self._state = self.posterior.init(1)
        self._taken = np.zeros((1, params.n_items), dtype=bool)
        self._pool = np.bincount(params.dimension, minlength=len(params.dimensions))
        self._pending: int | None = None

    @property
    def n_items(self) -> int:
        return int(self._taken.sum())

    @property
    def mean(self) -> np.ndarray:
        return self._state.mean[0].copy()

    @property
    def sd(self) -> np.ndarray:
        return self._state.sd[0].copy()

    def _counts(self) -> np.ndarray:
        return np.bincount(self.params.dimension[self._taken[0]], minlength=self._pool.size)[None, :]

    @property
    def done(self) -> bool:
        return bool(_finished(self.design, self._state.sd, np.array([self.n_items]), self._counts(), self._pool)[0])

    def next_item(self) -> str | None:
        """The item to present next (the same until it is answered), or None when the session is over."""
        if self._pending is None:
            if self.done:
                return None
            self._pending = int(_select(self.params, self.design, self._state.mean, self._state.cov, self._taken,
                                        self._counts(), self._pool, self._rng)[0])
        return self.params.item_ids[self._pending]

    def answer(self, item_id: str, category: int) -> None:
        """Record the category index (0..K-1) given to ``item_id``."""
        try:
            j = self.params.item_ids.index(item_id)
        except ValueError:
            raise ValueError(f"unknown item {item_id!r}") from None
        if self._taken[0, j]:
            raise ValueError(f"item {item_id} was already answered")
        self.posterior.observe(self._state, np.array([0]), np.array([j]), np.array([int(category)]))
        self._taken[0, j] = True
        self._pending = None

    def scores(self) -> tuple[np.ndarray, np.ndarray]:
        """Posterior means and SDs per dimension, EP refined to convergence."""
        self.posterior.finalize(self._state)
        return self.mean, self.sd


# --------------------------------------------------------------------------- simulation
@dataclass(frozen=True)
class CATSimulation:
    """Summary of a simulated adaptive test against the full form for the same people."""

    dimensions: tuple[str, ...]
    n_respondents: int
    target_sd: float
    max_items: int
    full_form_length: int
    posterior: str  # "correlated" or "independent"
    mean_items: float
    items_used: np.ndarray  # (N,)
    corr_full: np.ndarray  # (D,) correlation of adaptive with full-form scores
    mean_corr_full: float
    rmse_adaptive: float  # over all persons and dimensions
    rmse_full: float
    rmse_adaptive_grid: float  # answered items scored by score.eap (independent grid EAP)
    rmse_full_grid: float
    hit_target: float  # share of sessions with every SD <= target
    mean_sd: float
    exposure: np.ndarray  # (J,) share of respondents given each item
    per_dimension: pd.DataFrame
    theta: np.ndarray = field(repr=False)  # (N, D) true
    adaptive_mean: np.ndarray = field(repr=False)
    adaptive_sd: np.ndarray = field(repr=False)
    full_mean: np.ndarray = field(repr=False)

    @property
    def share_of_full_form(self) -> float:
        return self.mean_items / self.full_form_length


@dataclass(frozen=True)
class CATComparison:
    """The same simulated people through a correlated and an independent (R = I) posterior."""

    correlated: CATSimulation
    independent: CATSimulation

    @property
    def mean_items_independent(self) -> float:
        return self.independent.mean_items

    @property
    def items_saved(self) -> float:
        return self.independent.mean_items - self.correlated.mean_items


def _rmse(est: np.ndarray, truth: np.ndarray, axis: int | None = None) -> np.ndarray | float:
    return np.sqrt(np.mean((est - truth) ** 2, axis=axis))


def _col_corr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    xc, yc = x - x.mean(0), y - y.mean(0)
    den = np.sqrt((xc**2).sum(0) * (yc**2).sum(0))
    return np.divide((xc * yc).sum(0), den, out=np.full(x.shape[1], np.nan), where=den > 0)


def simulate_cat(params: ItemParams, correlation: np.ndarray, n_respondents: int, target_sd: float, seed: int,
                 max_items: int | None = None, *, min_items_per_dim: int | Sequence[int] = 1, randomesque: int = 1,
                 selector: str | Selector = "variance", posterior_correlation: np.ndarray | None = None,
                 n_grid: int = GRID_POINTS, sweeps: int = 1) -> CATSimulation:
    """Simulate adaptive sessions and compare them with the full form for the same people.

    True thetas are drawn from N(0, ``correlation``); every person answers every item (GRM
    draws, as :func:`~workbench.skills.grm.simulate_responses`); the adaptive session reads
    its answers from that matrix, so CAT and full form see identical answers.

    Parameters
    ----------
    params
        The item pool.
    correlation
        Correlation between dimensions used to draw the true thetas, and the posterior's prior
        unless ``posterior_correlation`` is given.
    n_respondents
        Number of simulated people.
    target_sd
        Target posterior SD per dimension.
    seed
        Seed; people, answers and exposure draws come from independent streams of it, so runs
        that differ only in the CAT design see the same people and answers.
    max_items
        Cap on items per session (default: the full form).
    min_items_per_dim, randomesque, selector
        See :meth:`CATDesign.standard`.
    posterior_correlation
        Prior correlation for scoring (``np.eye(D)`` gives independent per-dimension CATs).
    n_grid, sweeps
        See :class:`GaussianEPPosterior`.

    Returns
    -------
    CATSimulation
        Full-form scores use the same posterior model on all answers; ``*_grid`` fields
        score with :func:`~workbench.skills.score.eap` (independent N(0, 1) priors).
    """
    D, J = len(params.dimensions), params.n_items
    R = check_correlation(correlation, D)
    R_post = R if posterior_correlation is None else check_correlation(posterior_correlation, D)
    if int(n_respondents) < 1:
        raise ValueError(f"n_respondents must be at least 1, got {n_respondents}")
    design = CATDesign.standard(params, target_sd, max_items, min_items_per_dim, randomesque, selector)
    people_ss, answer_ss, select_ss = np.random.SeedSequence(seed).spawn(3)
    N = int(n_respondents)
    theta = np.random.default_rng(people_ss).standard_normal((N, D)) @ np.linalg.cholesky(R).T
    y_full = simulate_responses(theta, params, np.random.default_rng(answer_ss))

    posterior = GaussianEPPosterior(params, R_post, n_grid=n_grid, sweeps=sweeps)
    sessions = run_cat(params, posterior, design, N, lambda rows, items: y_full[rows, items],
                       np.random.default_rng(select_ss))
    full = posterior.score(y_full)
    grid_cat = eap(sessions.responses, params)
    grid_full = eap(y_full, params)

    hit = sessions.sd <= design.target_sd
    corr = _col_corr(sessions.mean, full.mean)
    table = pd.DataFrame({
        "dimension": list(params.dimensions),
        "pool": np.bincount(params.dimension, minlength=D),
        "items": sessions.items_per_dim.mean(0),
        "sd": sessions.sd.mean(0),
        "hit": hit.mean(0),
        "r_full": corr,
        "r_true": _col_corr(sessions.mean, theta),
        "rmse": _rmse(sessions.mean, theta, axis=0),
        "rmse_full": _rmse(full.mean, theta, axis=0),
        "rmse_grid": _rmse(grid_cat.mean, theta, axis=0),
        "rmse_full_grid": _rmse(grid_full.mean, theta, axis=0),
    })
    exposure = (sessions.responses != MISSING).mean(0)
    independent = np.allclose(R_post, np.eye(D))
    return CATSimulation(
        dimensions=params.dimensions, n_respondents=N, target_sd=design.target_sd, max_items=design.max_items,
        full_form_length=J, posterior="independent" if independent else "correlated",
        mean_items=float(sessions.n_items.mean()), items_used=sessions.n_items, corr_full=corr,
        mean_corr_full=float(np.nanmean(corr)), rmse_adaptive=float(_rmse(sessions.mean, theta)),
        rmse_full=float(_rmse(full.mean, theta)), rmse_adaptive_grid=float(_rmse(grid_cat.mean, theta)),
        rmse_full_grid=float(_rmse(grid_full.mean, theta)), hit_target=float(hit.all(axis=1).mean()),
        mean_sd=float(sessions.sd.mean()), exposure=exposure, per_dimension=table, theta=theta,
        adaptive_mean=sessions.mean, adaptive_sd=sessions.sd, full_mean=full.mean,
    )


def compare_independent(params: ItemParams, correlation: np.ndarray, n_respondents: int, target_sd: float,
                        seed: int, max_items: int | None = None, **kwargs) -> CATComparison:
    """Run :func:`simulate_cat` twice on the same people: prior R (multidimensional) and R = I."""
    if "posterior_correlation" in kwargs:
        raise ValueError("compare_independent sets posterior_correlation itself")
    D = len(params.dimensions)
    corr = simulate_cat(params, correlation, n_respondents, target_sd, seed, max_items, **kwargs)
    ind = simulate_cat(params, correlation, n_respondents, target_sd, seed, max_items,
                       posterior_correlation=np.eye(D), **kwargs)
    return CATComparison(corr, ind)


# --------------------------------------------------------------------------- reporting
def format_report(result: CATSimulation) -> str:
    """A readable summary: items used vs the full form, agreement with the full form, RMSE vs truth."""
    r = result
    used = r.items_used
    lines = [
        f"Adaptive test simulation: {r.n_respondents} respondents, {len(r.dimensions)} dimensions, "
        f"target SD {r.target_sd:.2f}, {r.posterior} posterior",
        f"  items used            mean {r.mean_items:.1f} of {r.full_form_length} "
        f"({100 * r.share_of_full_form:.0f}% of the full form), range {used.min()}-{used.max()}"
        + (f", cap {r.max_items}" if r.max_items < r.full_form_length else ""),
        f"  hit target SD         {100 * r.hit_target:.1f}% of sessions (mean posterior SD {r.mean_sd:.3f})",
        f"  r with full form      {r.mean_corr_full:.3f} (mean over dimensions; "
        f"min {np.nanmin(r.corr_full):.3f})",
        f"  RMSE vs true theta    adaptive {r.rmse_adaptive:.3f}   full form {r.rmse_full:.3f}",
        f"  RMSE, grid EAP        adaptive {r.rmse_adaptive_grid:.3f}   full form {r.rmse_full_grid:.3f}"
        "   (independent N(0,1) priors, score.eap)",
        f"  max item exposure     {100 * r.exposure.max():.0f}%",
        "",
    ]
    table = r.per_dimension.copy()
    table.columns = ["dimension", "pool", "items", "mean SD", "hit", "r full", "r true", "RMSE", "RMSE full",
                     "RMSE grid", "RMSE full grid"]
    lines.append(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    return "\n".join(lines)


def format_comparison(comparison: CATComparison) -> str:
    """Items needed with and without the correlation between dimensions, at the same target."""
    c, i = comparison.correlated, comparison.independent
    return "\n".join([
        f"Target SD {c.target_sd:.2f}, {c.n_respondents} respondents, full form {c.full_form_length} items",
        f"  multidimensional (prior R)   mean items {c.mean_items:5.1f}   hit {100 * c.hit_target:5.1f}%"
        f"   RMSE {c.rmse_adaptive:.3f}   r full {c.mean_corr_full:.3f}",
        f"  independent (R = I)          mean items {i.mean_items:5.1f}   hit {100 * i.hit_target:5.1f}%"
        f"   RMSE {i.rmse_adaptive:.3f}   r full {i.mean_corr_full:.3f}",
        f"  items saved by the correlation: {comparison.items_saved:.1f} "
        f"({100 * comparison.items_saved / i.mean_items:.0f}%)",
    ])
