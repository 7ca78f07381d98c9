"""Development need: how far, and how surely, a leader falls short of what their role expects.

For competency ``c`` with posterior ``theta_c ~ N(mean, sd)`` and the organization's
expectation ``e`` for the leader's role level, the gap is ``g = e - mean``. The need is the
gap scaled by how sure we are of its sign::

    need = g * P(sign of e - theta is the sign of g) = g * Phi(|g| / sd)

For a shortfall (``g > 0``) the factor is ``P(theta < e)``, the probability the skill is
below expectation; a vague estimate (large ``sd``) halves the gap at most, a sharp one keeps
it whole. Above expectation the need is negative, and more negative the surer the surplus.
The function is continuous and increasing in ``g``, so needs rank competencies sensibly
whether the leader is below or above expectations.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

#: Needs above this (theta units) are called development areas in reasons.
DEVELOPMENT_THRESHOLD = 0.05
#: Softness of :func:`urgency` (theta units).
URGENCY_SOFTNESS = 0.15


def development_need(mean: np.ndarray, sd: np.ndarray, expectation: np.ndarray) -> np.ndarray:
    """Gap to expectation scaled by the certainty of its sign (broadcasts).

    Parameters
    ----------
    mean, sd
        Posterior mean and SD of the skill (``sd > 0``).
    expectation
        The expected skill for the role level.

    Returns
    -------
    numpy.ndarray
        ``(expectation - mean) * Phi(|expectation - mean| / sd)``.
    """
    gap = np.asarray(expectation, dtype=float) - np.asarray(mean, dtype=float)
    return gap * ndtr(np.abs(gap) / np.asarray(sd, dtype=float))


def probability_below(mean: np.ndarray, sd: np.ndarray, expectation: np.ndarray) -> np.ndarray:
    """``P(theta < expectation)`` under ``N(mean, sd)``."""
    return ndtr((np.asarray(expectation, dtype=float) - np.asarray(mean, dtype=float)) / np.asarray(sd, dtype=float))


def urgency(need: np.ndarray, softness: float = URGENCY_SOFTNESS) -> np.ndarray:
    """A positive, smooth version of the need (softplus): about ``need`` for large needs,
    about 0 for strong surpluses. Used where needs are multiplied by weights, so that a
    weight never turns a surplus into a larger score."""
    x = np.asarray(need, dtype=float) / softness
    return softness * np.logaddexp(0.0, x)
