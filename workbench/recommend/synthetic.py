"""A synthetic contextual bandit whose policy values are known exactly, for testing OPE.

Contexts are drawn from a finite set with known probabilities; the reward of action ``a`` in
context ``x`` is ``offset + Bernoulli(mean[x, a])``. A policy is a ``(X, A)`` matrix of
action probabilities per context, so the value of any policy is an exact finite sum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .ope import BanditLog


def softmax_policy(scores: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``scores / temperature``: a ``(X, A)`` policy."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    z = np.asarray(scores, dtype=float) / temperature
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@dataclass(frozen=True, eq=False)
class SyntheticBandit:
    """``context_probs`` (X,), ``mean_reward`` (X, A) in [0, 1], and a constant ``offset``."""

    context_probs: np.ndarray
    mean_reward: np.ndarray
    offset: float = 0.0

    def __post_init__(self) -> None:
        p = np.asarray(self.context_probs, dtype=float)
        mu = np.asarray(self.mean_reward, dtype=float)
        if p.ndim != 1 or np.any(p < 0) or not np.isclose(p.sum(), 1.0):
            raise ValueError("context_probs must be a probability vector")
        if mu.ndim != 2 or mu.shape[0] != p.size or np.any(mu < 0) or np.any(mu > 1):
            raise ValueError(f"mean_reward must be ({p.size}, A) with values in [0, 1]")
        object.__setattr__(self, "context_probs", p)
        object.__setattr__(self, "mean_reward", mu)

    @property
    def n_contexts(self) -> int:
        return int(self.context_probs.size)

    @property
    def n_actions(self) -> int:
        return int(self.mean_reward.shape[1])

    @classmethod
    def random(cls, n_contexts: int, n_actions: int, rng: np.random.Generator, offset: float = 0.0
               ) -> SyntheticBandit:
        """Uniform contexts and mean rewards drawn from Beta(2, 2)."""
        return cls(np.full(n_contexts, 1.0 / n_contexts), rng.beta(2.0, 2.0, (n_contexts, n_actions)), offset)

    def _check_policy(self, policy: np.ndarray) -> np.ndarray:
        pol = np.asarray(policy, dtype=float)
        if pol.shape != self.mean_reward.shape:
            raise ValueError(f"policy must have shape {self.mean_reward.shape}, got {pol.shape}")
        if np.any(pol < 0) or not np.allclose(pol.sum(axis=1), 1.0):
            raise ValueError("each policy row must be a probability distribution")
        return pol

    def true_value(self, policy: np.ndarray) -> float:
        """Exact expected reward of ``policy``: ``sum_x p(x) sum_a pi(a|x) (offset + mean[x, a])``."""
        pol = self._check_policy(policy)
        return float(self.context_probs @ (pol * (self.mean_reward + self.offset)).sum(axis=1))

    def draw_log(self, n: int, logging: np.ndarray, rng: np.random.Generator) -> tuple[BanditLog, np.ndarray]:
        """``n`` decisions made by the ``logging`` policy; returns the log and the context indices."""
        pol = self._check_policy(logging)
        x = rng.choice(self.n_contexts, size=n, p=self.context_probs)
        cum = np.cumsum(pol[x], axis=1)
        a = (cum > rng.random(n)[:, None] * cum[:, -1:]).argmax(axis=1)
        r = self.offset + (rng.random(n) < self.mean_reward[x, a]).astype(float)
        return BanditLog(a, pol[x, a], r, tuple(x.tolist())), x
