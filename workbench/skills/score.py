"""Scoring without MCMC: each person's posterior over theta by Gauss-Hermite quadrature.

Each item loads on one dimension, so with an independent N(0, 1) prior per dimension the
posterior factorizes and every dimension is integrated on its own 1-D grid. The likelihood
on the grid is one dense product per dimension, ``counts @ log_prob_table``, where
``counts[n, j, k]`` is how often person ``n`` answered category ``k`` of item ``j``; that
form also pools several raters' answers about one leader (their counts add up). This
module imports only numpy and scipy.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .grm import MISSING, ItemParams, log_category_probs

DEFAULT_POINTS = 61
CHUNK = 4_096  # persons per block: its temporaries stay a few MB


def quadrature(n_points: int = DEFAULT_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and log-weights for integrating against N(0, 1) (fresh arrays: callers may change them)."""
    x, logw = _quadrature(int(n_points))
    return x.copy(), logw.copy()


@lru_cache(maxsize=8)
def _quadrature(n_points: int) -> tuple[np.ndarray, np.ndarray]:
    # computed once per size: ``hermegauss`` costs about 3 ms, and rescoring every leader asks for
    # the same 61-point rule over a thousand times
    x, w = np.polynomial.hermite_e.hermegauss(n_points)
    return x, np.log(w / w.sum())


@dataclass(frozen=True)
class Scores:
    """Posterior summaries per person (rows) and dimension (columns)."""

    dimensions: tuple[str, ...]
    mean: np.ndarray  # (N, D)
    sd: np.ndarray  # (N, D)
    n_answered: np.ndarray  # (N, D) responses seen per dimension
    nodes: np.ndarray  # (Q,)
    log_posterior: np.ndarray | None = None  # (N, D, Q) normalized, when asked for


def log_prob_table(params: ItemParams, nodes: np.ndarray) -> np.ndarray:
    """log P(Y_j = k | theta = node) as (J, Kmax, Q); impossible categories hold 0.

    Cached on the (immutable) parameters per grid, so scoring one leader after another
    does not rebuild it.
    """
    key = ("log_prob_table", nodes.tobytes())
    cached = params._cache.get(key)
    if cached is not None:
        return cached
    J, Kmax = params.n_items, int(params.n_categories.max())
    table = np.zeros((J, Kmax, nodes.size))
    for j in range(J):
        K = params.n_categories[j]
        table[j, :K, :] = log_category_probs(nodes, params.a[j], params.thresholds(j)).T
    table.setflags(write=False)
    params._cache[key] = table
    return table


def category_counts(y: np.ndarray, params: ItemParams) -> np.ndarray:
    """One-hot counts (N, J, Kmax) from a response matrix of category indices (-1 missing)."""
    y = np.atleast_2d(np.asarray(y))
    N, J = y.shape
    if J != params.n_items:
        raise ValueError(f"responses have {J} columns for {params.n_items} items")
    seen = y != MISSING
    bad = seen & ((y < 0) | (y >= params.n_categories[None, :]))
    if bad.any():
        n, j = np.argwhere(bad)[0]
        raise ValueError(
            f"row {n}, item {params.item_ids[j]}: category index {y[n, j]} outside 0..{params.n_categories[j] - 1}"
        )
    # one comparison per category (missing, -1, matches none): vectorized, no scatter
    return (y[:, :, None] == np.arange(int(params.n_categories.max()))[None, None, :]).astype(np.float32)


def _loglik(counts: np.ndarray, params: ItemParams, table: np.ndarray) -> np.ndarray:
    """Log-likelihood on the grid, (N, D, Q), as one dense product per dimension."""
    N = counts.shape[0]
    D, Q = len(params.dimensions), table.shape[2]
    ll = np.empty((N, D, Q))
    for d in range(D):
        idx = np.flatnonzero(params.dimension == d)
        ll[:, d, :] = counts[:, idx, :].reshape(N, -1) @ table[idx].reshape(-1, Q)
    return ll


def eap_counts(
    counts: np.ndarray | dict[str, np.ndarray],
    params: ItemParams,
    n_points: int = DEFAULT_POINTS,
    keep_posterior: bool = False,
    rater_effects: dict[str, float] | None = None,
) -> Scores:
    """EAP scores from category counts (N, J, Kmax), in chunks to bound memory.

    ``counts`` may be a dict of counts per rater type; a type's answers are then evaluated at
    theta + rater_effects[type] (self-ratings that run high are read as such).
    """
    nodes, logw = quadrature(n_points)
    by_rater = counts if isinstance(counts, dict) else {"": counts}
    # the contract's {type: {"mean", "sd"}} or plain shifts
    effects = {k: float(v["mean"] if isinstance(v, dict) else v) for k, v in (rater_effects or {}).items()}
    first = next(iter(by_rater.values()))
    tables = {r: log_prob_table(params, nodes + effects.get(r, 0.0)).astype(first.dtype) for r in by_rater}
    N, D = first.shape[0], len(params.dimensions)
    mean, sd = np.empty((N, D)), np.empty((N, D))
    post = np.empty((N, D, nodes.size)) if keep_posterior else None
    for start in range(0, N, CHUNK):
        sl = slice(start, min(N, start + CHUNK))
        lp = np.zeros((sl.stop - sl.start, D, nodes.size))
        for r, c in by_rater.items():
            lp += _loglik(c[sl], params, tables[r])
        lp += logw
        lp -= lp.max(axis=2, keepdims=True)  # normalized by hand: scipy's logsumexp checks and copies
        p = np.exp(lp)
        total = p.sum(axis=2, keepdims=True)
        p /= total
        if post is not None:
            lp -= np.log(total)
        m = p @ nodes
        mean[sl] = m
        sd[sl] = np.sqrt(np.maximum(p @ nodes**2 - m**2, 0.0))
        if post is not None:
            post[sl] = lp
    answered = sum(c.sum(axis=2) for c in by_rater.values())
    n_answered = np.stack([answered[:, params.dimension == d].sum(axis=1) for d in range(D)], axis=1)
    return Scores(params.dimensions, mean, sd, n_answered.astype(int), nodes, post)


def eap(y: np.ndarray, params: ItemParams, n_points: int = DEFAULT_POINTS, keep_posterior: bool = False) -> Scores:
    """Expected a posteriori scores for response matrix ``y`` (category indices, -1 missing)."""
    y = np.atleast_2d(np.asarray(y))
    return score_sheets(y, np.arange(y.shape[0]), y.shape[0], params, n_points=n_points, keep_posterior=keep_posterior)


def _check_categories(y: np.ndarray, params: ItemParams) -> None:
    N, J = y.shape
    if J != params.n_items:
        raise ValueError(f"responses have {J} columns for {params.n_items} items")
    bad = (y != MISSING) & ((y < 0) | (y >= params.n_categories[None, :]))
    if bad.any():
        n, j = np.argwhere(bad)[0]
        raise ValueError(
            f"row {n}, item {params.item_ids[j]}: category index {y[n, j]} outside 0..{params.n_categories[j] - 1}"
        )


def _flat_tables(params: ItemParams, nodes: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per dimension: its items' indices and their log-probability table flattened to
    (J_d * Kmax + 1, Q) float32, the last row zero (where missing answers point)."""
    table = log_prob_table(params, nodes)
    Kmax, Q = table.shape[1], table.shape[2]
    out = []
    for d in range(len(params.dimensions)):
        idx = np.flatnonzero(params.dimension == d)
        flat = np.zeros((idx.size * Kmax + 1, Q), dtype=np.float32)
        flat[:-1] = table[idx].reshape(-1, Q)
        out.append((idx, flat))
    return out


def _sheet_loglik(y: np.ndarray, tables: list[tuple[np.ndarray, np.ndarray]], Kmax: int) -> np.ndarray:
    """Log-likelihood of each sheet (row of ``y``) on the grid, (S, D, Q), as one product per
    dimension of a one-hot matrix (S, J_d * Kmax + 1), built by one scatter, with the flat table."""
    S = y.shape[0]
    Q = tables[0][1].shape[1] if tables else 0
    ll = np.empty((S, len(tables), Q))
    for d, (idx, flat) in enumerate(tables):
        width = flat.shape[0]
        yd = y[:, idx]
        # position of each answer in the flattened one-hot matrix; a missing answer points at the zero row
        at = np.where(yd == MISSING, width - 1, np.arange(idx.size)[None, :] * Kmax + yd)
        at += (np.arange(S) * width)[:, None]
        onehot = np.zeros(S * width, dtype=np.float32)
        onehot[at.ravel()] = 1.0
        ll[:, d, :] = onehot.reshape(S, width) @ flat
    return ll


def _summaries(ll: np.ndarray, nodes: np.ndarray, logw: np.ndarray, keep_posterior: bool):
    """Posterior mean and SD (and the normalized log posterior) from log-likelihoods (N, D, Q).

    Works in place on ``ll``; the normalizing constant, the first and the second moment come from
    one product with the (Q, 3) matrix of 1, x and x² at the nodes.
    """
    ll += logw
    ll -= ll.max(axis=2, keepdims=True)  # normalized by hand: scipy's logsumexp checks and copies
    lp = ll.copy() if keep_posterior else None
    p = np.exp(ll, out=ll)
    moments = p @ np.stack([np.ones_like(nodes), nodes, nodes**2], axis=1)  # (N, D, 3)
    total = moments[..., 0]
    m = moments[..., 1] / total
    sd = np.sqrt(np.maximum(moments[..., 2] / total - m**2, 0.0))
    if keep_posterior:
        lp -= np.log(total)[..., None]
    return m, sd, lp


def score_sheets(
    y: np.ndarray,
    person: np.ndarray,
    n_persons: int,
    params: ItemParams,
    rater: np.ndarray | None = None,
    rater_effects: dict[str, float] | None = None,
    n_points: int = DEFAULT_POINTS,
    keep_posterior: bool = False,
) -> Scores:
    """Score persons from answer sheets (rows of ``y``), pooling each person's sheets.

    With ``rater`` (one type per sheet) each sheet is read through its rater type's shift
    (``rater_effects``: the contract's ``{type: {"mean", "sd"}}`` or plain shifts).

    Persons are scored in chunks of :data:`CHUNK`: each chunk's sheets become log-likelihoods on
    the shared quadrature grid (one BLAS product per dimension and rater type), which add up
    over a person's sheets, so memory stays bounded and nothing is built per person in Python.
    """
    y = np.atleast_2d(np.asarray(y))
    _check_categories(y, params)
    person = np.asarray(person, dtype=int)
    nodes, logw = quadrature(n_points)
    effects = {k: float(v["mean"] if isinstance(v, dict) else v) for k, v in (rater_effects or {}).items()}
    rater = None if rater is None else np.asarray(rater)
    types = ("",) if rater is None else tuple(dict.fromkeys(rater.tolist()))
    tables = {r: _flat_tables(params, nodes + effects.get(r, 0.0)) for r in types}
    Kmax, D, Q = int(params.n_categories.max()), len(params.dimensions), nodes.size
    answered_item = y != MISSING
    n_answered = np.zeros((n_persons, D), dtype=int)
    for d in range(D):
        np.add.at(n_answered[:, d], person, answered_item[:, params.dimension == d].sum(axis=1))
    mean, sd = np.zeros((n_persons, D)), np.ones((n_persons, D))
    post = np.empty((n_persons, D, Q)) if keep_posterior else None
    in_order = len(types) == 1 and len(person) == n_persons and np.array_equal(person, np.arange(n_persons))
    if in_order:  # one sheet per person, in order: nothing to pool
        for start in range(0, n_persons, CHUNK):
            sl = slice(start, min(n_persons, start + CHUNK))
            ll = _sheet_loglik(y[sl], tables[types[0]], Kmax)
            mean[sl], sd[sl], lp = _summaries(ll, nodes, logw, keep_posterior)
            if post is not None:
                post[sl] = lp
    else:
        order = np.argsort(person, kind="stable")
        bounds = np.searchsorted(person[order], np.arange(0, n_persons + CHUNK, CHUNK))
        for c, start in enumerate(range(0, n_persons, CHUNK)):
            stop = min(n_persons, start + CHUNK)
            rows = order[bounds[c]: bounds[c + 1]]
            ll = np.zeros((stop - start, D, Q))
            for r in types:
                mine = rows if rater is None else rows[rater[rows] == r]
                if mine.size:
                    np.add.at(ll, person[mine] - start, _sheet_loglik(y[mine], tables[r], Kmax))
            mean[start:stop], sd[start:stop], lp = _summaries(ll, nodes, logw, keep_posterior)
            if post is not None:
                post[start:stop] = lp
    return Scores(params.dimensions, mean, sd, n_answered, nodes, post)


class SkillPosterior:
    """One person's grid posterior over theta per dimension, updated one answer at a time.

    Adding evidence (an item response, or a scenario choice modelled as an item with its own
    parameters) multiplies in one likelihood row and renormalizes: O(Q), no rescoring.
    """

    def __init__(self, dimensions: tuple[str, ...], n_points: int = DEFAULT_POINTS, log_posterior: np.ndarray | None = None):
        self.dimensions = tuple(dimensions)
        self.nodes, logw = quadrature(n_points)
        self.log_post = (np.tile(logw, (len(self.dimensions), 1)) if log_posterior is None
                         else np.array(log_posterior, dtype=float))
        if self.log_post.shape != (len(self.dimensions), self.nodes.size):
            raise ValueError("log_posterior must have shape (dimensions, nodes)")

    def add(self, dimension: str | int, a: float, b: np.ndarray, category: int, shift: float = 0.0) -> SkillPosterior:
        """Multiply in P(category | theta + shift) for an item with slope ``a``, thresholds ``b``."""
        d = self.dimensions.index(dimension) if isinstance(dimension, str) else int(dimension)
        b = np.asarray(b, dtype=float)
        if not 0 <= category <= b.size:
            raise ValueError(f"category index {category} outside 0..{b.size}")
        row = self.log_post[d]
        row += log_category_probs(self.nodes + shift, a, b)[:, category]
        top = row.max()
        row -= top + np.log(np.exp(row - top).sum())
        return self

    def add_item(self, params: ItemParams, item_id: str, category: int, shift: float = 0.0) -> SkillPosterior:
        j = params.item_ids.index(item_id)
        return self.add(int(params.dimension[j]), float(params.a[j]), params.thresholds(j), category, shift)

    @property
    def mean(self) -> np.ndarray:
        return np.exp(self.log_post) @ self.nodes

    @property
    def sd(self) -> np.ndarray:
        p = np.exp(self.log_post)
        m = p @ self.nodes
        return np.sqrt(np.maximum(p @ self.nodes**2 - m**2, 0.0))
