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

import numpy as np
from scipy.special import logsumexp

from .grm import MISSING, ItemParams, log_category_probs

DEFAULT_POINTS = 61
CHUNK = 20_000


def quadrature(n_points: int = DEFAULT_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and log-weights for integrating against N(0, 1)."""
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
    """log P(Y_j = k | theta = node) as (J, Kmax, Q); impossible categories hold 0."""
    J, Kmax = params.n_items, int(params.n_categories.max())
    table = np.zeros((J, Kmax, nodes.size))
    for j in range(J):
        K = params.n_categories[j]
        table[j, :K, :] = log_category_probs(nodes, params.a[j], params.thresholds(j)).T
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
    counts = np.zeros((N, J, int(params.n_categories.max())), dtype=np.float32)
    n_idx, j_idx = np.nonzero(seen)
    counts[n_idx, j_idx, y[n_idx, j_idx]] = 1.0
    return counts


def _posterior(counts: np.ndarray, params: ItemParams, table: np.ndarray, logw: np.ndarray) -> np.ndarray:
    N = counts.shape[0]
    D, Q = len(params.dimensions), table.shape[2]
    lp = np.empty((N, D, Q))
    for d in range(D):
        idx = np.flatnonzero(params.dimension == d)
        lp[:, d, :] = counts[:, idx, :].reshape(N, -1) @ table[idx].reshape(-1, Q)
    lp += logw
    lp -= logsumexp(lp, axis=2, keepdims=True)
    return lp


def eap_counts(
    counts: np.ndarray,
    params: ItemParams,
    n_points: int = DEFAULT_POINTS,
    keep_posterior: bool = False,
) -> Scores:
    """EAP scores from category counts (N, J, Kmax), in chunks to bound memory."""
    nodes, logw = quadrature(n_points)
    table = log_prob_table(params, nodes).astype(counts.dtype)
    N, D = counts.shape[0], len(params.dimensions)
    mean, sd = np.empty((N, D)), np.empty((N, D))
    post = np.empty((N, D, nodes.size)) if keep_posterior else None
    for start in range(0, N, CHUNK):
        sl = slice(start, min(N, start + CHUNK))
        lp = _posterior(counts[sl], params, table, logw)
        p = np.exp(lp)
        m = p @ nodes
        mean[sl] = m
        sd[sl] = np.sqrt(np.maximum(p @ nodes**2 - m**2, 0.0))
        if post is not None:
            post[sl] = lp
    answered = counts.sum(axis=2)
    n_answered = np.stack([answered[:, params.dimension == d].sum(axis=1) for d in range(D)], axis=1)
    return Scores(params.dimensions, mean, sd, n_answered.astype(int), nodes, post)


def eap(y: np.ndarray, params: ItemParams, n_points: int = DEFAULT_POINTS, keep_posterior: bool = False) -> Scores:
    """Expected a posteriori scores for response matrix ``y`` (category indices, -1 missing)."""
    return eap_counts(category_counts(y, params), params, n_points, keep_posterior)
