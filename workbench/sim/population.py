"""Simulated leaders: latent skills, role levels, engagement, time budgets, preferences.

:func:`generate_population` is the one generator of simulated people: it draws ``n`` leaders
deterministically from a seed. True skills (theta scale of the skill model) are correlated
across competencies and centred, per role level, on the organization's expectation for that
level (``library.organization.expectations``) plus ``mean_offset`` (negative: the average
leader has something to develop). Everything else that needs simulated leaders is composed
from it:

* the A/B experiments (:mod:`workbench.sim.run`, :mod:`workbench.sim.ab`) use it directly;
* :func:`simulate_comparison` adds what a strategy comparison needs (noisy skill estimates,
  minutes already used, prior completions, the true outcome model) and returns a
  :class:`~workbench.recommend.tuning.ComparisonSet`;
* the demo organization (``workbench.demo.build_demo``) draws its leaders from it and writes
  them, their answers and their learning to the store.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from workbench.content import Library
from workbench.recommend import Catalog, ContextBatch, catalog_for
from workbench.recommend.context import FORMATS, ROLE_LEVELS
from workbench.recommend.tuning import MATERIAL_SHORTFALL, ComparisonSet, OutcomeModel

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
    budgets: tuple[float, ...] = BUDGETS,
    budget_shares: tuple[float, ...] = BUDGET_SHARES,
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
    budgets, budget_shares
        Weekly learning budgets (minutes) leaders choose from, and how often each is chosen.

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
    bud, bp = np.asarray(budgets, dtype=float), np.asarray(budget_shares, dtype=float)
    if bud.ndim != 1 or bud.shape != bp.shape or np.any(bud <= 0) or np.any(bp < 0) or not np.isclose(bp.sum(), 1):
        raise ValueError("budgets must be positive minutes with budget_shares (same length) summing to 1")
    cat = catalog_for(library)
    C = cat.n_competencies
    rng = np.random.default_rng([int(seed), 101])
    level = rng.choice(len(ROLE_LEVELS), size=n, p=shares / shares.sum())
    expectation = cat.expectations[level]
    R = np.full((C, C), correlation) + (1.0 - correlation) * np.eye(C)
    z = rng.standard_normal((n, C)) @ np.linalg.cholesky(R).T
    skill = expectation + mean_offset + skill_sd * z
    eng = rng.beta(*engagement, size=n)
    budget = rng.choice(bud, size=n, p=bp)
    fmt = np.where(rng.random(n) < preference_share, rng.integers(0, len(FORMATS), size=n), -1)
    n_moments = max(len(cat.moment_ids), 1)
    moment = rng.integers(0, n_moments, size=n) if cat.moment_ids else np.full(n, -1)
    ids = tuple(f"sim-{seed}-{i:06d}" for i in range(n))
    return Population(ids, cat.competency_ids, level, skill, expectation, eng, budget, fmt, moment)


#: Share of first-time, experienced and senior leaders in strategy comparisons (the demo's mix).
LEVEL_MIX: tuple[float, float, float] = (0.45, 0.40, 0.15)
#: Weekly budgets leaders choose in strategy comparisons, and how often.
COMPARISON_BUDGETS: tuple[float, ...] = (30.0, 45.0, 60.0, 90.0, 120.0)
COMPARISON_BUDGET_SHARES: tuple[float, ...] = (0.25, 0.25, 0.25, 0.15, 0.10)


def _check_fraction(value: float, name: str) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be within [0, 1], got {value!r}")


def simulate_comparison(
    library: Library | Catalog,
    n: int = 2000,
    seed: int = 0,
    *,
    level_mix: Sequence[float] = LEVEL_MIX,
    spread: float = 0.9,
    correlation: float = 0.45,
    sd_range: tuple[float, float] = (0.2, 0.5),
    budgets: Sequence[float] = COMPARISON_BUDGETS,
    budget_probs: Sequence[float] = COMPARISON_BUDGET_SHARES,
    capacity_noise: float = 0.3,
    completed_mean: float = 1.5,
    format_preference_share: float = 0.3,
    outcome: OutcomeModel | None = None,
    overwhelm: float = 1.5,
    level_fit: bool = False,
) -> ComparisonSet:
    """Simulated leaders whose truth is known, set up for comparing strategies.

    The leaders come from :func:`generate_population`: a role level (``level_mix``), a true
    skill profile ``theta = expectation(level) + spread * z`` with ``z`` correlated normal
    (``correlation`` between competencies, as in the demo organization), a weekly budget from
    ``budgets`` and a format preference for ``format_preference_share`` of them. On top of that,
    from a random stream of its own: a skill estimate
    ``mean = theta + sd * noise`` with ``sd ~ U(sd_range)`` per competency (what the recommender
    sees, with honest uncertainty); 0-50% of the budget already used; the minutes they really have, ``remaining * LogNormal(-capacity_noise**2 / 2,
    capacity_noise)`` (unbiased, but some leaders have less time than they said); a Poisson
    (``completed_mean``) number of completed modules without prerequisites, chosen by each
    module's appeal (LogNormal(0, 0.8)), which also makes popularity uneven. The true module effectiveness is ``outcome`` or
    :meth:`OutcomeModel.draw`.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    mix = np.asarray(level_mix, dtype=float)
    if mix.shape != (len(ROLE_LEVELS),) or np.any(mix < 0) or not np.isclose(mix.sum(), 1.0):
        raise ValueError(f"level_mix must be {len(ROLE_LEVELS)} shares summing to 1, got {tuple(level_mix)}")
    bud, bp = np.asarray(budgets, dtype=float), np.asarray(budget_probs, dtype=float)
    if bud.ndim != 1 or bud.shape != bp.shape or np.any(bud <= 0) or np.any(bp < 0) or not np.isclose(bp.sum(), 1):
        raise ValueError("budgets must be positive minutes with budget_probs (same length) summing to 1")
    low, high = sd_range
    if not 0 < low <= high:
        raise ValueError(f"sd_range must be (low, high) with 0 < low <= high, got {sd_range!r}")
    if not -1.0 / 7.0 < correlation < 1.0:  # positive definite for 8 competencies at least
        raise ValueError(f"correlation must be in (-1/7, 1), got {correlation!r}")
    for name, v in (("spread", spread), ("capacity_noise", capacity_noise), ("completed_mean", completed_mean)):
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
    _check_fraction(format_preference_share, "format_preference_share")
    cat = catalog_for(library)
    rng = np.random.default_rng([seed, 20_260])
    N, C, M = int(n), cat.n_competencies, cat.n_modules
    if outcome is None:
        outcome = OutcomeModel.draw(cat, np.random.default_rng([seed, 1]), overwhelm=overwhelm, level_fit=level_fit)
    elif tuple(outcome.module_ids) != cat.module_ids:
        raise ValueError("the outcome model is over a different module list than the library")

    people = generate_population(library if isinstance(library, Library) else cat, N, seed, correlation=correlation,
                                 skill_sd=spread if spread > 0 else 1e-12, mean_offset=0.0,
                                 level_shares=tuple(mix), preference_share=format_preference_share,
                                 budgets=tuple(bud), budget_shares=tuple(bp))
    level, theta, weekly, fmt = people.level, people.skill, people.weekly_minutes, people.format_preference
    sd = rng.uniform(low, high, size=(N, C))
    mean = theta + sd * rng.standard_normal((N, C))
    used = np.round(weekly * rng.uniform(0.0, 0.5, size=N))
    remaining = weekly - used
    capacity = remaining * rng.lognormal(-0.5 * capacity_noise**2, capacity_noise, size=N)

    appeal = rng.lognormal(0.0, 0.8, size=M) * (cat.n_prerequisites == 0)
    completed = np.zeros((N, M), dtype=bool)
    counts = np.minimum(rng.poisson(completed_mean, size=N), int((appeal > 0).sum()))
    # Gumbel top-k: each leader's completions, without replacement, with probability by appeal
    keys = np.where(appeal > 0, np.log(np.where(appeal > 0, appeal, 1.0)), -np.inf)[None, :] \
        + rng.gumbel(size=(N, M))
    order = np.argsort(-keys, axis=1)
    take = np.arange(M)[None, :] < counts[:, None]
    np.put_along_axis(completed, order, take, axis=1)

    digits = max(5, len(str(N)))
    batch = ContextBatch(
        catalog=cat, leader_ids=tuple(f"S{i + 1:0{digits}d}" for i in range(N)), mean=mean, sd=sd, level=level,
        first_time=level == 0, completed=completed, active=np.zeros((N, M), dtype=bool),
        active_count=np.zeros(N, dtype=np.int64), remaining=remaining, format_preference=fmt,
        moment=np.full(N, -1, dtype=np.int64), recent=np.zeros((N, C)),
    )
    shortfall = np.maximum(cat.expectations[level] - theta, 0.0)
    top = np.where(shortfall.max(axis=1) > MATERIAL_SHORTFALL, shortfall.argmax(axis=1), -1)
    popularity = dict(zip(cat.module_ids, completed.sum(axis=0).tolist(), strict=True))
    return ComparisonSet(f"simulated (n={N:,}, seed={seed})", batch, shortfall, capacity, top, outcome, popularity,
                      theta)
