"""Development need: the one meaning of "development area" in the workbench.

Every screen and text that says a leader should develop a competency (the profile, the plan's
reasons, the coach, peer-group formation, the personal and cohort analytics) asks this module.

For a competency with skill posterior ``theta ~ N(mean, sd)`` (the skill model's estimate, on
the organization's scale: 0 is the organization's average) and the organization's expectation
``e`` for the leader's role level (0 where it sets none):

* ``gap = e - mean``: how far the estimate falls short of the expectation (negative above it);
* ``p_below = P(theta < e) = Phi(gap / sd)``: the probability the skill is below the expectation;
* ``score = gap * Phi(|gap| / sd)``: the gap scaled by the certainty of its sign, used to rank
  competencies (continuous and increasing in the gap, negative for a surplus);
* the **label**, by one rule:

  - ``"development area"`` when ``p_below > DEVELOPMENT_PROBABILITY`` (0.95), that is when the
    whole 90% credible interval ``mean +/- 1.645 sd`` lies below the expectation;
  - ``"strength"`` when ``p_below < 1 - DEVELOPMENT_PROBABILITY``: the interval lies wholly above;
  - ``"in range"`` otherwise (not clearly below nor above what the role expects).

Development areas are listed largest ``score`` first. This module needs only numpy and scipy,
so pages may import it without loading the sampler.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

#: A competency is a development area when the skill is below expectation with more than this probability.
DEVELOPMENT_PROBABILITY = 0.95
#: Half-width of the 90% credible interval in SDs; its edges are where the label changes.
Z90 = float(ndtri(DEVELOPMENT_PROBABILITY))
DEVELOPMENT_AREA = "development area"
STRENGTH = "strength"
IN_RANGE = "in range"
LABELS = (DEVELOPMENT_AREA, IN_RANGE, STRENGTH)


def _arrays(mean, sd, expectation) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean, sd, expectation = (np.asarray(x, dtype=float) for x in (mean, sd, expectation))
    with np.errstate(invalid="ignore"):
        if np.any(sd <= 0):
            raise ValueError("a skill SD must be positive")
    return mean, sd, expectation


def development_need(mean, sd, expectation) -> np.ndarray:
    """The ranking score ``gap * Phi(|gap| / sd)`` (broadcasts; see the module docstring)."""
    mean, sd, expectation = _arrays(mean, sd, expectation)
    gap = expectation - mean
    return gap * ndtr(np.abs(gap) / sd)


def probability_below(mean, sd, expectation) -> np.ndarray:
    """``P(theta < expectation)`` under ``N(mean, sd)`` (broadcasts)."""
    mean, sd, expectation = _arrays(mean, sd, expectation)
    return ndtr((expectation - mean) / sd)


@dataclass(frozen=True)
class Needs:
    """Need of many (leader, competency) cells at once; every field broadcasts to one shape.

    Attributes
    ----------
    gap, p_below, score
        See the module docstring; NaN where the mean or SD is missing.
    """

    gap: np.ndarray
    p_below: np.ndarray
    score: np.ndarray

    @property
    def development_area(self) -> np.ndarray:
        """True where the competency is a development area (False where not estimated)."""
        with np.errstate(invalid="ignore"):
            return self.p_below > DEVELOPMENT_PROBABILITY

    @property
    def strength(self) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return self.p_below < 1 - DEVELOPMENT_PROBABILITY

    @property
    def label(self) -> np.ndarray:
        """``"development area"``, ``"strength"`` or ``"in range"``; ``""`` where not estimated."""
        out = np.where(self.development_area, DEVELOPMENT_AREA,
                       np.where(self.strength, STRENGTH, IN_RANGE)).astype(object)
        out[np.isnan(self.p_below)] = ""
        return out


def assess(mean, sd, expectation=0.0) -> Needs:
    """The need of every cell of ``mean``, ``sd`` and ``expectation`` (broadcast together).

    Parameters
    ----------
    mean, sd
        Posterior mean and SD of the skill (``sd > 0``; NaN for "not estimated").
    expectation
        The organization's expectation for the leader's role level (0 = its average).

    Returns
    -------
    Needs
    """
    mean, sd, expectation = _arrays(mean, sd, expectation)
    gap = expectation - mean
    return Needs(gap=gap, p_below=ndtr(gap / sd), score=gap * ndtr(np.abs(gap) / sd))


@dataclass(frozen=True)
class Need:
    """One leader's need in one competency (see the module docstring)."""

    competency: str
    mean: float
    sd: float
    expectation: float
    gap: float
    p_below: float
    score: float

    @property
    def label(self) -> str:
        if self.p_below > DEVELOPMENT_PROBABILITY:
            return DEVELOPMENT_AREA
        return STRENGTH if self.p_below < 1 - DEVELOPMENT_PROBABILITY else IN_RANGE

    @property
    def development_area(self) -> bool:
        return self.label == DEVELOPMENT_AREA


def need(competency: str, mean: float, sd: float, expectation: float = 0.0) -> Need:
    """The need of one competency for one leader."""
    n = assess(mean, sd, expectation)
    return Need(competency, float(mean), float(sd), float(expectation), float(n.gap), float(n.p_below),
                float(n.score))


def leader_needs(skills: Mapping[str, tuple[float, float]], expectations: Mapping[str, float] | None = None
                 ) -> tuple[Need, ...]:
    """Every competency's need for one leader, largest score first (ties in the given order).

    Parameters
    ----------
    skills
        ``{competency: (mean, sd)}``, the leader's current estimates.
    expectations
        ``{competency: expected skill}`` for the leader's role level; 0 where missing.
    """
    exp = expectations or {}
    out = [need(c, m, s, float(exp.get(c, 0.0))) for c, (m, s) in skills.items()]
    return tuple(sorted(out, key=lambda n: -n.score))


def development_areas(skills: Mapping[str, tuple[float, float]], expectations: Mapping[str, float] | None = None
                      ) -> tuple[str, ...]:
    """The leader's development areas, largest need first."""
    return tuple(n.competency for n in leader_needs(skills, expectations) if n.development_area)
