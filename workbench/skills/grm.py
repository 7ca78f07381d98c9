"""The graded response model in plain numpy.

Parameterization (the parameters JSON contract): for an item with categories
``c_0 < c_1 < ... < c_{K-1}`` (stored here as indices ``0..K-1``),

    P(Y >= k | theta) = logistic(a * (theta - b_k)),   k = 1..K-1,  b_1 < ... < b_{K-1}

and P(Y = k) is the difference of neighbouring cumulative probabilities. Each item loads on
one dimension; theta ~ N(0, R) over dimensions. Missing responses are ``-1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

MISSING = -1


# numpy forms of scipy.special's log_expit and expit: this module is on the path of `workbench
# score` and of every page that scores, and importing scipy.special costs about 0.3 s of CPU
def log_expit(z: np.ndarray) -> np.ndarray:
    """log(1 / (1 + exp(-z))), stable for large |z|."""
    return -np.logaddexp(0.0, -np.asarray(z, dtype=float))


def expit(z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-z)), without overflow warnings for large |z|."""
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@dataclass(frozen=True)
class ItemParams:
    """Item parameters for a test; ``b`` is padded with NaN past each item's K-1 thresholds."""

    item_ids: tuple[str, ...]
    dimension: np.ndarray  # (J,) int index into ``dimensions``
    dimensions: tuple[str, ...]
    a: np.ndarray  # (J,)
    b: np.ndarray  # (J, Kmax-1), NaN-padded
    n_categories: np.ndarray  # (J,)
    first_category: np.ndarray = field(default=None)  # (J,) the label of category index 0
    reverse: np.ndarray = field(default=None)  # (J,) bool
    # derived tables (e.g. log probabilities on a quadrature grid), computed once per instance
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        J = len(self.item_ids)
        if self.first_category is None:
            object.__setattr__(self, "first_category", np.ones(J, dtype=int))
        if self.reverse is None:
            object.__setattr__(self, "reverse", np.zeros(J, dtype=bool))
        for name in ("dimension", "a", "n_categories", "first_category", "reverse"):
            if len(getattr(self, name)) != J:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries for {J} items")
        if self.b.shape[0] != J:
            raise ValueError(f"b has {self.b.shape[0]} rows for {J} items")

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def thresholds(self, j: int) -> np.ndarray:
        return self.b[j, : self.n_categories[j] - 1]

    def subset(self, idx: Sequence[int]) -> ItemParams:
        idx = np.asarray(idx, dtype=int)
        return ItemParams(
            item_ids=tuple(self.item_ids[i] for i in idx),
            dimension=self.dimension[idx],
            dimensions=self.dimensions,
            a=self.a[idx],
            b=self.b[idx],
            n_categories=self.n_categories[idx],
            first_category=self.first_category[idx],
            reverse=self.reverse[idx],
        )


def log_category_probs(theta: np.ndarray, a: float, b: np.ndarray) -> np.ndarray:
    """log P(Y = k | theta) for one item, shape ``(len(theta), K)``, computed stably.

    With z_k = a (theta - b_k), P(Y=k) = sigma(z_k) - sigma(z_{k+1}) for the middle
    categories; in logs, log sigma(z_k) + log1mexp(log sigma(z_{k+1}) - log sigma(z_k)).
    """
    theta = np.asarray(theta, dtype=float)[:, None]
    z = a * (theta - np.asarray(b, dtype=float)[None, :])  # (Q, K-1)
    upper = np.concatenate([np.zeros((theta.shape[0], 1)), log_expit(z)], axis=1)  # log P(Y>=k), k=0..K-1
    lower = np.concatenate([log_expit(z), np.full((theta.shape[0], 1), -np.inf)], axis=1)  # log P(Y>=k+1)
    diff = lower - upper  # <= 0
    with np.errstate(divide="ignore"):
        return upper + np.log(-np.expm1(np.minimum(diff, -1e-300)))


def category_probs(theta: np.ndarray, a: float, b: np.ndarray) -> np.ndarray:
    p_ge = expit(a * (np.asarray(theta, float)[:, None] - np.asarray(b, float)[None, :]))
    ones = np.ones((p_ge.shape[0], 1))
    zeros = np.zeros((p_ge.shape[0], 1))
    cum = np.concatenate([ones, p_ge, zeros], axis=1)
    return cum[:, :-1] - cum[:, 1:]


def simulate_responses(theta: np.ndarray, params: ItemParams, rng: np.random.Generator) -> np.ndarray:
    """Draw category indices ``0..K-1`` for persons ``theta`` (N, D) on every item."""
    theta = np.atleast_2d(np.asarray(theta, float))
    N = theta.shape[0]
    u = rng.random((N, params.n_items))
    # every item at once: (N, J, Kmax-1); a NaN-padded threshold gives a NaN probability, never above u
    z = params.a[None, :, None] * (theta[:, params.dimension, None] - params.b[None, :, :])
    with np.errstate(invalid="ignore"):
        return (u[:, :, None] < expit(z)).sum(axis=2)


def random_item_params(
    item_ids: Sequence[str],
    dimension: Sequence[int],
    dimensions: Sequence[str],
    rng: np.random.Generator,
    n_categories: int | Sequence[int] = 5,
    a_range: tuple[float, float] = (0.8, 2.2),
) -> ItemParams:
    """Plausible GRM parameters for simulation: a ~ U(a_range), ordered thresholds around 0."""
    J = len(item_ids)
    K = np.broadcast_to(np.asarray(n_categories, dtype=int), (J,)).copy()
    a = rng.uniform(*a_range, size=J)
    b = np.full((J, K.max() - 1), np.nan)
    for j in range(J):
        loc = rng.normal(0.0, 0.5)
        spread = np.sort(rng.normal(0.0, 1.0, size=K[j] - 1))
        steps = np.linspace(-1.6, 1.6, K[j] - 1) if K[j] > 2 else np.zeros(1)
        b[j, : K[j] - 1] = np.sort(loc + steps + 0.25 * spread)
    return ItemParams(tuple(item_ids), np.asarray(dimension, int), tuple(dimensions), a, b, K)
