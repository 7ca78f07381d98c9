"""Scoring without MCMC: each person's posterior over theta by Gauss-Hermite quadrature.

Each item loads on one dimension, so with an independent N(0, 1) prior per dimension the
posterior factorizes and every dimension is integrated on its own 1-D grid. This path
imports only numpy and scipy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from .grm import MISSING, ItemParams, log_category_probs

DEFAULT_POINTS = 61


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


def log_likelihood_grid(y: np.ndarray, params: ItemParams, nodes: np.ndarray) -> np.ndarray:
    """Sum of log P(y_ij | theta = node) over each person's items, per dimension: (N, D, Q)."""
    y = np.atleast_2d(y)
    N, J = y.shape
    if J != params.n_items:
        raise ValueError(f"responses have {J} columns for {params.n_items} items")
    D = len(params.dimensions)
    ll = np.zeros((N, D, nodes.size))
    for j in range(J):
        yj = y[:, j]
        seen = yj != MISSING
        if not seen.any():
            continue
        K = params.n_categories[j]
        if (yj[seen] < 0).any() or (yj[seen] >= K).any():
            raise ValueError(f"item {params.item_ids[j]}: category index outside 0..{K - 1}")
        table = log_category_probs(nodes, params.a[j], params.thresholds(j))  # (Q, K)
        ll[seen, params.dimension[j], :] += table[:, yj[seen]].T
    return ll


def eap(
    y: np.ndarray,
    params: ItemParams,
    n_points: int = DEFAULT_POINTS,
    keep_posterior: bool = False,
    prior_log_weights: np.ndarray | None = None,
) -> Scores:
    """Expected a posteriori scores for response matrix ``y`` (category indices, -1 missing)."""
    nodes, logw = quadrature(n_points)
    if prior_log_weights is not None:
        logw = prior_log_weights
    ll = log_likelihood_grid(y, params, nodes)
    lp = ll + logw
    lp -= logsumexp(lp, axis=2, keepdims=True)
    p = np.exp(lp)
    mean = p @ nodes
    var = p @ (nodes**2) - mean**2
    seen = (np.atleast_2d(y) != MISSING).astype(int)
    counts = np.stack([seen[:, params.dimension == d].sum(axis=1) for d in range(len(params.dimensions))], axis=1)
    return Scores(
        dimensions=params.dimensions,
        mean=mean,
        sd=np.sqrt(np.maximum(var, 0.0)),
        n_answered=counts,
        nodes=nodes,
        log_posterior=lp if keep_posterior else None,
    )
