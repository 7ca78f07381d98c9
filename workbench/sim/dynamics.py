"""Learning dynamics of simulated leaders (all parameters in :class:`Dynamics`).

Every formula works on arrays, one row per leader; ``docs/simulation.md`` states them with
their default values. In short:

* **completion gain**: completing module ``m`` raises competency ``c`` by
  ``completion_gain * effectiveness[m] * relevance[m, c] * headroom(e_c - theta_c)``, with
  ``headroom(gap) = logistic(gap / headroom_scale)``: about 1 far below the expectation
  ``e_c``, 1/2 at it and falling towards 0 above it (diminishing returns);
* **practice**: a completed module leaves a practice trace on its competencies (relevance,
  capped at 1, shrinking by ``practice_memory`` each week); each week practice adds
  ``practice_gain * engagement * trace * headroom``;
* **decay**: a competency that gained nothing this week loses ``decay`` of its distance above
  its floor (the leader's starting skill minus ``floor_margin``);
* **engagement**: after a week with recommendations, with ``irrelevant`` the share of them
  whose primary competency is not a true need (gap <= ``relevance_threshold``) and
  ``too_long`` the share longer than the time the leader had left,
  ``e += engagement_rise * (1 - e) * (1 - irrelevant - too_long)
  - e * (irrelevance_drop * irrelevant + length_drop * too_long)``;
* **completion**: a recommended module is completed with probability
  ``engagement * min(1, available / minutes) ** 2`` (``available``: the minutes the leader
  still has this week; the time a leader really has varies around their budget by the
  log-normal factor ``exp(time_noise * z - time_noise**2 / 2)``);
* **true module effectiveness**: one draw per module, Gamma with mean 1 and coefficient of
  variation ``effectiveness_cv`` (:func:`draw_effectiveness`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from scipy.special import expit


@dataclass(frozen=True)
class Dynamics:
    """Parameters of the learning dynamics (theta units per week unless stated)."""

    completion_gain: float = 0.25
    headroom_scale: float = 0.3
    practice_gain: float = 0.03
    practice_memory: float = 0.5
    decay: float = 0.02
    floor_margin: float = 0.1
    engagement_rise: float = 0.03
    irrelevance_drop: float = 0.08
    length_drop: float = 0.15
    relevance_threshold: float = 0.0
    time_noise: float = 0.3
    effectiveness_cv: float = 0.4

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v):
                raise ValueError(f"Dynamics.{f.name} must be a finite number, got {v!r}")
            if f.name not in ("relevance_threshold",) and v < 0:
                raise ValueError(f"Dynamics.{f.name} must be >= 0, got {v!r}")
        if self.headroom_scale <= 0:
            raise ValueError(f"Dynamics.headroom_scale must be > 0, got {self.headroom_scale!r}")
        for name in ("practice_memory", "decay"):
            if getattr(self, name) > 1:
                raise ValueError(f"Dynamics.{name} must be <= 1, got {getattr(self, name)!r}")


def draw_effectiveness(n_modules: int, seed: int, cv: float = Dynamics.effectiveness_cv) -> np.ndarray:
    """True effectiveness per module: Gamma with mean 1 and coefficient of variation ``cv``."""
    if n_modules < 0:
        raise ValueError(f"n_modules must be >= 0, got {n_modules!r}")
    rng = np.random.default_rng([int(seed), 202])
    if cv == 0:
        return np.ones(n_modules)
    shape = 1.0 / cv**2
    return rng.gamma(shape, 1.0 / shape, size=n_modules)


def headroom(skill: np.ndarray, expectation: np.ndarray, dyn: Dynamics) -> np.ndarray:
    """Diminishing-returns factor in (0, 1): ``logistic((expectation - skill) / headroom_scale)``."""
    return expit((np.asarray(expectation, float) - np.asarray(skill, float)) / dyn.headroom_scale)


def completion_gain(skill: np.ndarray, expectation: np.ndarray, relevance: np.ndarray,
                    effectiveness: np.ndarray, dyn: Dynamics) -> np.ndarray:
    """(N, C) skill gains of completing one module per row.

    ``relevance`` is (N, C), the completed module's relevance row (1 primary, 0.5 secondary);
    ``effectiveness`` is (N,), the module's true effectiveness.
    """
    eff = np.asarray(effectiveness, float)[:, None]
    return dyn.completion_gain * eff * relevance * headroom(skill, expectation, dyn)


def practice_gain(skill: np.ndarray, expectation: np.ndarray, trace: np.ndarray, engagement: np.ndarray,
                  dyn: Dynamics) -> np.ndarray:
    """(N, C) this week's practice gains from the practice trace (capped at 1)."""
    return (dyn.practice_gain * np.asarray(engagement, float)[:, None] * np.minimum(trace, 1.0)
            * headroom(skill, expectation, dyn))


def decay(skill: np.ndarray, floor: np.ndarray, trained: np.ndarray, dyn: Dynamics) -> np.ndarray:
    """Skills after a week: untrained ones lose ``decay`` of their distance above ``floor``."""
    skill = np.asarray(skill, float)
    loss = dyn.decay * np.maximum(skill - floor, 0.0)
    return np.where(trained, skill, skill - loss)


def completion_probability(engagement: np.ndarray, minutes: np.ndarray, available: np.ndarray) -> np.ndarray:
    """``engagement * min(1, available / minutes) ** 2`` (0 where ``available <= 0``)."""
    minutes = np.maximum(np.asarray(minutes, float), 1e-9)
    fit = np.clip(np.asarray(available, float) / minutes, 0.0, 1.0)
    return np.asarray(engagement, float) * fit**2


def update_engagement(engagement: np.ndarray, irrelevant: np.ndarray, too_long: np.ndarray,
                      shown: np.ndarray, dyn: Dynamics) -> np.ndarray:
    """Engagement after a week.

    ``irrelevant`` and ``too_long`` are the shares (0..1) of the week's recommendations that
    were irrelevant or too long; rows with ``shown`` False (no recommendation) are unchanged.
    """
    e = np.asarray(engagement, float)
    irr, long_ = np.asarray(irrelevant, float), np.asarray(too_long, float)
    good = np.clip(1.0 - irr - long_, 0.0, 1.0)
    new = e + dyn.engagement_rise * (1.0 - e) * good - e * (dyn.irrelevance_drop * irr + dyn.length_drop * long_)
    return np.where(shown, np.clip(new, 1e-6, 1.0 - 1e-6), e)


def available_minutes(weekly_minutes: np.ndarray, rng: np.random.Generator, dyn: Dynamics) -> np.ndarray:
    """Minutes a leader really has this week: the budget times a mean-1 log-normal factor."""
    s = dyn.time_noise
    z = rng.standard_normal(np.shape(weekly_minutes))
    return np.asarray(weekly_minutes, float) * np.exp(s * z - s * s / 2.0)


def work_through(modules: np.ndarray, minutes: np.ndarray, engagement: np.ndarray, available: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
    """(N, K) completions of plans worked through slot by slot.

    ``modules`` holds catalog indices (-1 = empty slot) and ``minutes`` each module's length;
    a module is completed with :func:`~workbench.sim.dynamics.completion_probability` given the
    minutes left, and a completed module uses up its minutes. One uniform draw per filled slot
    from ``rng``, slot by slot: the week of :func:`~workbench.sim.run.simulate_arm`, of
    :func:`~workbench.sim.logs.log_week` and of the demo organization.
    """
    left = np.asarray(available, float).copy()
    done = np.zeros(modules.shape, dtype=bool)
    for s in range(modules.shape[1]):
        rows = np.flatnonzero(modules[:, s] >= 0)
        if rows.size == 0:
            continue
        mins = minutes[modules[rows, s]]
        p = completion_probability(engagement[rows], mins, left[rows])
        hit = rng.random(rows.size) < p
        done[rows[hit], s] = True
        left[rows[hit]] -= mins[hit]
    return done
