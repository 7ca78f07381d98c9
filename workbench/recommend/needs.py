"""Development need for the recommender.

What a need is, and when a competency is a development area, is defined once in
:mod:`workbench.skills.need` (re-exported here); this module adds only the recommender's
weighting of it.
"""

from __future__ import annotations

import numpy as np

from ..skills.need import (
    DEVELOPMENT_AREA,
    IN_RANGE,
    STRENGTH,
    assess,
    development_need,
    probability_below,
)

__all__ = ["DEVELOPMENT_AREA", "IN_RANGE", "STRENGTH", "URGENCY_SOFTNESS", "assess", "development_need",
           "probability_below", "urgency"]

#: Softness of :func:`urgency` (theta units).
URGENCY_SOFTNESS = 0.15


def urgency(need: np.ndarray, softness: float = URGENCY_SOFTNESS) -> np.ndarray:
    """A positive, smooth version of the need score (softplus): about ``need`` for large needs,
    about 0 for strong surpluses. Used where needs are multiplied by weights, so that a
    weight never turns a surplus into a larger score."""
    x = np.asarray(need, dtype=float) / softness
    return softness * np.logaddexp(0.0, x)
