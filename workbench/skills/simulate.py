"""Simulated respondents for recovery tests, benchmarks and the adaptive-testing simulator."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .data import ItemSpec, ResponseData
from .grm import MISSING, ItemParams, random_item_params, simulate_responses


def item_spec(params: ItemParams) -> ItemSpec:
    return ItemSpec(params.item_ids, params.dimension, params.dimensions, params.reverse, params.first_category,
                    params.n_categories)


def make_test(n_items: int, n_dims: int, rng: np.random.Generator, n_categories: int | list[int] = 5,
              reverse_share: float = 0.0) -> ItemParams:
    """A test of ``n_items`` spread evenly over ``n_dims`` dimensions, with random parameters."""
    dims = tuple(f"d{d + 1}" for d in range(n_dims))
    dim = np.arange(n_items) % n_dims
    p = random_item_params([f"i{j + 1:02d}" for j in range(n_items)], dim, dims, rng, n_categories=n_categories)
    reverse = rng.random(n_items) < reverse_share
    return ItemParams(p.item_ids, p.dimension, p.dimensions, p.a, p.b, p.n_categories,
                      first_category=np.where(p.n_categories == 2, 0, 1), reverse=reverse)


def correlated_thetas(n: int, D: int, rho: float | np.ndarray, rng: np.random.Generator) -> np.ndarray:
    R = np.asarray(rho, float) if np.ndim(rho) == 2 else np.full((D, D), float(rho)) + (1 - float(rho)) * np.eye(D)
    return rng.multivariate_normal(np.zeros(D), R, size=n)


def simulate_data(
    params: ItemParams,
    theta: np.ndarray,
    rng: np.random.Generator,
    missing: float = 0.0,
    raters: Mapping[str, int] | None = None,
    rater_effects: Mapping[str, float] | None = None,
) -> ResponseData:
    """Responses of persons ``theta`` (N, D), optionally from several rater types per person.

    ``raters`` maps a rater type to how many sheets of that type each person gets; the sheet
    is answered at theta + rater_effects[type].
    """
    theta = np.atleast_2d(theta)
    N = theta.shape[0]
    rows, person, rater = [], [], []
    plan = list((raters or {"self": 1}).items())
    for t, k in plan:
        for _ in range(k):
            shift = (rater_effects or {}).get(t, 0.0)
            y = simulate_responses(theta + shift, params, rng)
            if missing:
                y = np.where(rng.random(y.shape) < missing, MISSING, y)
            rows.append(y)
            person.append(np.arange(N))
            rater.append(np.full(N, t))
    y = np.concatenate(rows)
    person = np.concatenate(person)
    rater_arr = np.concatenate(rater) if raters is not None else None
    order = np.lexsort((np.arange(len(person)), person))
    y, person = y[order], person[order]
    rater_arr = rater_arr[order] if rater_arr is not None else None
    keep = (y != MISSING).any(axis=1)
    return ResponseData(tuple(f"p{i:05d}" for i in range(N)), person[keep],
                        rater_arr[keep] if rater_arr is not None else None, y[keep], item_spec(params))
