"""Reading a skill posterior against a reference: 90% intervals, bands, probability below.

A skill estimate is a normal posterior ``theta ~ N(mean, sd)`` on the organization's scale
(0 = organization average). Compared with a reference value ``r`` (the expectation for the
leader's role level, or 0):

* the 90% credible interval is ``mean +/- 1.645 sd``;
* the band is ``"development area"`` when the whole interval lies below ``r``, ``"strength"``
  when it lies wholly above, and ``"in range"`` otherwise (the leader app's profile uses the same
  rule with ``r = 0``);
* ``P(theta < r) = Phi((r - mean) / sd)``, the probability the skill is below the reference.

A development area is therefore a competency with ``P(theta < r) > 0.95``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

#: Half-width of the 90% interval in standard deviations (the leader app's profile uses the same value).
Z90 = 1.645
DEVELOPMENT_AREA = "development area"
STRENGTH = "strength"
IN_RANGE = "in range"


def interval90(mean, sd) -> tuple[np.ndarray, np.ndarray]:
    """The 90% credible interval ``(low, high)`` of a normal posterior (broadcasts)."""
    mean, sd = np.asarray(mean, dtype=float), np.asarray(sd, dtype=float)
    return mean - Z90 * sd, mean + Z90 * sd


def band(mean, sd, reference=0.0) -> np.ndarray:
    """``"development area"``, ``"strength"`` or ``"in range"`` for each estimate (broadcasts).

    Parameters
    ----------
    mean, sd
        Posterior mean and SD of the skill.
    reference
        The value to compare with: the role level's expectation, or 0 (organization average).

    Returns
    -------
    numpy.ndarray
        Strings; ``""`` where the mean or SD is missing.
    """
    low, high = interval90(mean, sd)
    ref = np.asarray(reference, dtype=float)
    out = np.where(high < ref, DEVELOPMENT_AREA, np.where(low > ref, STRENGTH, IN_RANGE)).astype(object)
    out[np.isnan(low) | np.isnan(high)] = ""
    return out


def probability_below(mean, sd, reference=0.0) -> np.ndarray:
    """``P(theta < reference)`` under ``N(mean, sd)`` (the normal CDF, as ``scipy.stats.norm.cdf``)."""
    mean, sd = np.asarray(mean, dtype=float), np.asarray(sd, dtype=float)
    return ndtr((np.asarray(reference, dtype=float) - mean) / sd)
