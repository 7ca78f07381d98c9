"""Reading a skill posterior against the role's expectation: 90% intervals, bands, probability below.

The meaning of the bands is :mod:`workbench.skills.need`'s, the one place that defines a
development area; this module gives the analytics its array-shaped helpers:

* the 90% credible interval is ``mean +/- Z90 sd``;
* the band is ``"development area"`` when the whole interval lies below the expectation,
  ``"strength"`` when it lies wholly above, and ``"in range"`` otherwise;
* ``P(theta < e) = Phi((e - mean) / sd)``.
"""

from __future__ import annotations

import numpy as np

from ..skills.need import DEVELOPMENT_AREA, IN_RANGE, STRENGTH, Z90, assess, probability_below

__all__ = ["DEVELOPMENT_AREA", "IN_RANGE", "STRENGTH", "Z90", "band", "interval90", "probability_below"]


def interval90(mean, sd) -> tuple[np.ndarray, np.ndarray]:
    """The 90% credible interval ``(low, high)`` of a normal posterior (broadcasts)."""
    mean, sd = np.asarray(mean, dtype=float), np.asarray(sd, dtype=float)
    return mean - Z90 * sd, mean + Z90 * sd


def band(mean, sd, reference=0.0) -> np.ndarray:
    """``"development area"``, ``"strength"`` or ``"in range"`` per estimate (broadcasts);
    ``""`` where the mean or SD is missing. ``reference`` is the role level's expectation."""
    return assess(mean, sd, reference).label
