"""Simulated leaders: latent skills, role levels, engagement, time budgets, preferences.

:func:`generate_population` draws ``n`` leaders deterministically from a seed. True skills
(theta scale of the skill model) are correlated across competencies and centred, per role
level, on the organization's expectation for that level (``library.organization.expectations``)
plus ``mean_offset`` (negative: the average leader has something to develop).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.content import Library
from workbench.recommend import catalog_for
from workbench.recommend.context import FORMATS, ROLE_LEVELS

#: Default share of leaders per role level (first-time, experienced, senior).
LEVEL_SHARES = (0.5, 0.35, 0.15)
#: Weekly learning budgets (minutes) a leader may set, and how often each is chosen.
BUDGETS = (20.0, 30.0, 45.0, 60.0, 90.0)
BUDGET_SHARES = (0.15, 0.3, 0.25, 0.2, 0.1)


@dataclass(frozen=True, eq=False)
class Population:
    """``N`` simulated leaders as arrays over the library's ``C`` competencies.

    Attributes
    ----------
    leader_ids : tuple of str
    competencies : tuple of str
        Competency ids, the column order of ``skill`` and ``expectation``.
    level : (N,) int
        Role level index into ``ROLE_LEVELS``.
    skill : (N, C) float
        True latent skill (theta scale).
    expectation : (N, C) float
        The organization's expectation for each leader's role level.
    engagement : (N,) float
        Engagement propensity in (0, 1): the chance of acting on a recommendation that fits.
    weekly_minutes : (N,) float
        The weekly learning budget the leader set (the recommender sees it).
    format_preference : (N,) int
        Preferred format index into ``FORMATS``, -1 for none.
    moment : (N,) int
        A leadership moment index into the catalog's moments (for the ``moment`` strategy).
    """

    leader_ids: tuple[str, ...]
    competencies: tuple[str, ...]
    level: np.ndarray
    skill: np.ndarray
    expectation: np.ndarray
    engagement: np.ndarray
    weekly_minutes: np.ndarray
    format_preference: np.ndarray
    moment: np.ndarray

    def __post_init__(self) -> None:
        for name in ("level", "skill", "expectation", "engagement", "weekly_minutes", "format_preference",
                     "moment"):
            arr = np.array(getattr(self, name))
            if arr.shape[0] != len(self.leader_ids):
                raise ValueError(f"{name} has {arr.shape[0]} rows for {len(self.leader_ids)} leaders")
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    def __len__(self) -> int:
        return len(self.leader_ids)

    def take(self, rows: np.ndarray | slice) -> Population:
        """The sub-population of some rows (an index array or a slice)."""
        ids = tuple(np.asarray(self.leader_ids, dtype=object)[rows])
        return Population(ids, self.competencies, *(getattr(self, f)[rows] for f in (
            "level", "skill", "expectation", "engagement", "weekly_minutes", "format_preference", "moment")))


def generate_population(
    library: Library,
    n: int,
    seed: int,
    *,
    correlation: float = 0.45,
    skill_sd: float = 0.6,
    mean_offset: float = -0.35,
    level_shares: tuple[float, float, float] = LEVEL_SHARES,
    engagement: tuple[float, float] = (6.0, 3.0),
    preference_share: float = 0.6,
) -> Population:
    """Draw ``n`` leaders, the same ones for the same ``seed``.

    Parameters
    ----------
    library
        Gives the competencies, the expectations per role level and the moments.
    n, seed
        Population size (>= 1) and seed.
    correlation
        Correlation of true skills between any two competencies (0 <= rho < 1).
    skill_sd
        SD of a true skill around its level mean.
    mean_offset
        Level mean minus the level's expectation (theta units).
    level_shares
        Shares of first-time, experienced and senior leaders.
    engagement
        Beta(a, b) parameters of the engagement propensity (default mean 2/3).
    preference_share
        Share of leaders with a preferred format (uniform over formats).

    Returns
    -------
    Population
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"population size must be an integer >= 1, got {n!r}")
    if not 0.0 <= correlation < 1.0:
        raise ValueError(f"correlation must be in [0, 1), got {correlation!r}")
    if not skill_sd > 0:
        raise ValueError(f"skill_sd must be > 0, got {skill_sd!r}")
    shares = np.asarray(level_shares, dtype=float)
    if shares.shape != (len(ROLE_LEVELS),) or np.any(shares < 0) or shares.sum() <= 0:
        raise ValueError(f"level_shares must be {len(ROLE_LEVELS)} non-negative numbers, got {level_shares!r}")
    cat = catalog_for(library)
    C = cat.n_competencies
    rng = np.random.default_rng([int(seed), 101])
    level = rng.choice(len(ROLE_LEVELS), size=n, p=shares / shares.sum())
    expectation = cat.expectations[level]
    R = np.full((C, C), correlation) + (1.0 - correlation) * np.eye(C)
    z = rng.standard_normal((n, C)) @ np.linalg.cholesky(R).T
    skill = expectation + mean_offset + skill_sd * z
    eng = rng.beta(*engagement, size=n)
    budget = rng.choice(np.asarray(BUDGETS), size=n, p=np.asarray(BUDGET_SHARES))
    fmt = np.where(rng.random(n) < preference_share, rng.integers(0, len(FORMATS), size=n), -1)
    n_moments = max(len(cat.moment_ids), 1)
    moment = rng.integers(0, n_moments, size=n) if cat.moment_ids else np.full(n, -1)
    ids = tuple(f"sim-{seed}-{i:06d}" for i in range(n))
    return Population(ids, cat.competency_ids, level, skill, expectation, eng, budget, fmt, moment)
