"""One arm of an experiment: the real recommendation strategies, week by week, in memory.

Each simulated week, for all leaders of the arm at once:

1. the recommender sees what the product would see: the leader's *measured* skill (EAP mean
   and SD from the last assessment), role level, completed modules, weekly budget, format
   preference and moment, as a :class:`~workbench.recommend.ContextBatch`;
2. :func:`~workbench.recommend.select_batch` picks up to ``k`` modules with the arm's
   strategy and settings (no recommendation is carried over: a module not completed this
   week is dropped and may come back later);
3. the leader works through them in slot order; each is completed with the probability of
   :func:`~workbench.sim.dynamics.completion_probability` given the time left this week, and
   completing one applies :func:`~workbench.sim.dynamics.completion_gain`;
4. engagement, practice and decay follow :mod:`workbench.sim.dynamics`.

Leaders are assessed before week 1 and after the last week (and every ``reassess_every``
weeks in between, when set), through :func:`~workbench.sim.measure.measure`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.content import Library
from workbench.recommend import (
    ContextBatch,
    EffectivenessModel,
    EngineOptions,
    catalog_for,
    select_batch,
)
from workbench.recommend.engine import DEFAULT_DRAWS
from workbench.recommend.strategies import STRATEGIES
from workbench.skills.grm import ItemParams

from . import dynamics as dyn_
from .dynamics import Dynamics, work_through
from .measure import measure
from .population import Population

#: Settings an arm may give to the engine (fields of :class:`~workbench.recommend.EngineOptions`).
ENGINE_SETTINGS = ("k", "epsilon", "temperature", "n_draws", "max_minutes")
#: Settings an arm may give: the engine's, then the simulation's own.
SETTINGS = (*ENGINE_SETTINGS, "effectiveness_boost", "reassess_every", "learn")
OUTCOMES = ("measured_gain", "measured_need_gain", "true_gain", "true_need_gain", "engagement", "minutes",
            "completed")
#: Measured outcomes and the pre-assessment score their baseline-adjusted (ANCOVA) analysis uses.
BASELINES = {"measured_gain": "pre_score", "measured_need_gain": "pre_need_score"}
#: The true-skill outcome with the same weights as each outcome (the estimand the simulator knows).
TRUE_COUNTERPART = {"measured_gain": "true_gain", "measured_need_gain": "true_need_gain", "true_gain": "true_gain",
                    "true_need_gain": "true_need_gain"}
#: Monte Carlo draws for Thompson sampling in simulations (the engine's default is 1000).
SIM_DRAWS = 100


@dataclass(frozen=True, eq=False)
class ArmOutcome:
    """Per-leader outcomes of one simulated arm (arrays aligned with ``leader_ids``).

    ``measured_gain`` is the mean over competencies of post minus pre EAP means;
    ``measured_need_gain`` weights competencies by the pre-assessment need
    ``max(expectation - pre, 0)`` (equal weights for a leader without need); ``true_*`` are
    the same on true skills with the same weights. ``pre_score`` and ``pre_need_score`` are the
    pre-assessment EAP means averaged the same two ways: the baselines of the measured gains.
    """

    strategy: str
    leader_ids: tuple[str, ...]
    weeks: int
    measured_gain: np.ndarray
    measured_need_gain: np.ndarray
    true_gain: np.ndarray
    true_need_gain: np.ndarray
    engagement: np.ndarray
    minutes: np.ndarray
    completed: np.ndarray
    pre_score: np.ndarray
    pre_need_score: np.ndarray

    @property
    def leader_weeks(self) -> int:
        return len(self.leader_ids) * self.weeks

    def outcome(self, name: str) -> np.ndarray:
        """One outcome array by name (one of ``OUTCOMES``)."""
        if name not in OUTCOMES:
            raise ValueError(f"unknown outcome {name!r}; expected one of {', '.join(OUTCOMES)}")
        return getattr(self, name)


def check_settings(strategy: str, settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validated arm settings (a ValueError names the first bad one)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}")
    out = dict(settings or {})
    unknown = sorted(set(out) - set(SETTINGS))
    if unknown:
        raise ValueError(f"unknown setting {unknown[0]!r}; expected some of {', '.join(SETTINGS)}")
    for key in ("k", "n_draws"):
        v = out.get(key, 1)
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{key} must be an integer >= 1, got {v!r}")
    eps = out.get("epsilon", 0.0)
    if isinstance(eps, bool) or not isinstance(eps, int | float) or not 0 <= eps <= 1:
        raise ValueError(f"epsilon must be a number from 0 to 1, got {eps!r}")
    for key in ("temperature", "max_minutes"):
        v = out.get(key, 1.0)
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v < float("inf"):
            raise ValueError(f"{key} must be a finite number > 0, got {v!r}")
    if not isinstance(out.get("learn", True), bool):
        raise ValueError(f"learn must be true or false, got {out['learn']!r}")
    boost = out.get("effectiveness_boost", 1.0)
    if isinstance(boost, bool) or not isinstance(boost, int | float) or not boost > 0:
        raise ValueError(f"effectiveness_boost must be a number > 0, got {boost!r}")
    every = out.get("reassess_every", 0)
    if isinstance(every, bool) or not isinstance(every, int) or every < 0:
        raise ValueError(f"reassess_every must be an integer >= 0, got {every!r}")
    return out


def _weights(pre: np.ndarray, expectation: np.ndarray) -> np.ndarray:
    need = np.maximum(expectation - pre, 0.0)
    total = need.sum(axis=1, keepdims=True)
    return np.where(total > 0, need / np.where(total > 0, total, 1.0), 1.0 / need.shape[1])


def simulate_arm(
    population: Population,
    strategy: str,
    weeks: int,
    library: Library,
    item_params: ItemParams,
    seed: int | tuple[int, ...],
    *,
    settings: Mapping[str, Any] | None = None,
    dynamics: Dynamics | None = None,
    effectiveness: np.ndarray | None = None,
) -> ArmOutcome:
    """Simulate ``weeks`` weeks of one strategy for every leader of ``population``.

    Parameters
    ----------
    population
        The arm's leaders (:func:`~workbench.sim.population.generate_population`).
    strategy
        A strategy name of :data:`workbench.recommend.STRATEGIES`.
    weeks
        Number of weeks (>= 1).
    library, item_params
        The content library and the item parameters used to assess leaders.
    seed
        Seed of the arm's random stream (an int or a tuple of ints); same seed, same result.
    settings
        Arm settings: ``k``, ``epsilon``, ``temperature``, ``n_draws``, ``max_minutes`` (passed to
        :func:`~workbench.recommend.select_batch`), ``effectiveness_boost`` (multiplies the true
        effectiveness of every module in this arm: a planted effect), ``reassess_every``
        (weeks between re-assessments the recommender sees; 0 = never) and ``learn``
        (Thompson: update completion posteriors each week; default True).
    dynamics
        Learning dynamics (default :class:`Dynamics`).
    effectiveness
        True module effectiveness, aligned with the library's modules (default: drawn from
        ``seed`` with :func:`~workbench.sim.dynamics.draw_effectiveness`). Pass the same array
        to every arm of an experiment.

    Returns
    -------
    ArmOutcome
    """
    opts = check_settings(strategy, settings)
    if isinstance(weeks, bool) or not isinstance(weeks, int | np.integer) or weeks < 1:
        raise ValueError(f"weeks must be an integer >= 1, got {weeks!r}")
    dyn = dynamics or Dynamics()
    cat = catalog_for(library)
    if tuple(population.competencies) != tuple(cat.competency_ids):
        raise ValueError("the population's competencies differ from the library's")
    seq = (seed,) if isinstance(seed, int | np.integer) else tuple(seed)
    rng = np.random.default_rng([int(s) for s in seq] + [303])
    M = cat.n_modules
    eff = dyn_.draw_effectiveness(M, int(seq[0]), dyn.effectiveness_cv) if effectiveness is None \
        else np.asarray(effectiveness, float)
    if eff.shape != (M,):
        raise ValueError(f"effectiveness must have one value per module ({M}), got shape {eff.shape}")
    eff = eff * float(opts.get("effectiveness_boost", 1.0))
    kind = STRATEGIES[strategy]
    options = EngineOptions(**{"n_draws": SIM_DRAWS if kind.policy == "sampled" else DEFAULT_DRAWS,
                               **{key: opts[key] for key in ENGINE_SETTINGS if key in opts}})
    every = int(opts.get("reassess_every", 0))
    learn = bool(opts.get("learn", True))

    N = len(population)
    comps = population.competencies
    skill = population.skill.copy()
    floor = population.skill - dyn.floor_margin
    expectation = population.expectation
    engagement = population.engagement.copy()
    completed = np.zeros((N, M), dtype=bool)
    trace = np.zeros_like(skill)
    minutes = np.zeros(N)
    n_completed = np.zeros(N, dtype=np.int64)
    pre = measure(skill, comps, item_params, rng)
    seen_mean, seen_sd = pre.mean, pre.sd
    model = EffectivenessModel.prior(cat.module_ids) if "effectiveness" in kind.needs else None
    counts = np.zeros(M)
    ids = population.leader_ids
    first_time = population.level == 0
    no_active = np.zeros((N, M), dtype=bool)
    zeros_n = np.zeros(N, dtype=np.int64)
    recent = np.zeros_like(skill)

    for week in range(1, weeks + 1):
        batch = ContextBatch(cat, ids, seen_mean, seen_sd, population.level, first_time, completed.copy(),
                             no_active, zeros_n, population.weekly_minutes.astype(float),
                             population.format_preference, population.moment, recent)
        popularity = dict(zip(cat.module_ids, counts.tolist(), strict=True)) if "popularity" in kind.needs else None
        sel = select_batch(batch, cat, strategy, options, rng=rng, popularity=popularity, effectiveness=model)
        chosen = sel.modules
        left = dyn_.available_minutes(population.weekly_minutes, rng, dyn)
        done_slots = work_through(chosen, cat.minutes, engagement, left, rng)
        shown = np.zeros(N)
        irrelevant = np.zeros(N)
        too_long = np.zeros(N)
        gained = np.zeros(skill.shape, dtype=bool)
        obs_mod: list[int] = []
        obs_done: list[bool] = []
        for slot in range(chosen.shape[1]):
            m = chosen[:, slot]
            rows = np.flatnonzero(m >= 0)
            if rows.size == 0:
                continue
            mods = m[rows]
            mins = cat.minutes[mods]
            gap = expectation[rows, cat.primary[mods]] - skill[rows, cat.primary[mods]]
            shown[rows] += 1
            irrelevant[rows] += gap <= dyn.relevance_threshold
            too_long[rows] += mins > left[rows]
            done = done_slots[rows, slot]
            if model is not None and learn:
                obs_mod.extend(mods.tolist())
                obs_done.extend(done.tolist())
            r, md = rows[done], mods[done]
            rel = cat.relevance[md]
            skill[r] += dyn_.completion_gain(skill[r], expectation[r], rel, eff[md], dyn)
            gained[r] |= rel > 0
            trace[r] += rel
            completed[r, md] = True
            left[r] -= cat.minutes[md]
            minutes[r] += cat.minutes[md]
            n_completed[r] += 1
            np.add.at(counts, md, 1.0)
        has = shown > 0
        denom = np.maximum(shown, 1)
        engagement = dyn_.update_engagement(engagement, irrelevant / denom, too_long / denom, has, dyn)
        practice = dyn_.practice_gain(skill, expectation, trace, engagement, dyn)
        skill += practice
        gained |= practice > 1e-12
        skill = dyn_.decay(skill, floor, gained, dyn)
        trace *= dyn.practice_memory
        if model is not None and learn and obs_mod:
            model = model.update([cat.module_ids[j] for j in obs_mod], obs_done)
        if every and week % every == 0 and week < weeks:
            now = measure(skill, comps, item_params, rng)
            seen_mean, seen_sd = now.mean, now.sd

    post = measure(skill, comps, item_params, rng)
    w = _weights(pre.mean, expectation)
    d_meas = post.mean - pre.mean
    d_true = skill - population.skill
    return ArmOutcome(strategy, ids, int(weeks), d_meas.mean(axis=1), (w * d_meas).sum(axis=1),
                      d_true.mean(axis=1), (w * d_true).sum(axis=1), engagement, minutes, n_completed,
                      pre.mean.mean(axis=1), (w * pre.mean).sum(axis=1))
