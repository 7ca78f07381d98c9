"""Comparing and tuning recommendation strategies, on real contexts and on simulated leaders.

A :class:`ComparisonSet` is what a comparison needs about a group of leaders: their contexts as a
:class:`~workbench.recommend.catalog.ContextBatch` (what the recommender sees), each leader's
shortfall per competency and the minutes they really have this week (what decides the
outcome), module popularity (for the ``popular`` baseline and for novelty) and an
:class:`OutcomeModel`. Two constructors:

* :func:`comparison_from_contexts`: real leaders' :class:`~workbench.recommend.LeaderContext`
  objects (the research notebook builds them from the store with
  ``workbench.services.plans.leader_context``). The truth is unknown, so the outcome is *expected under
  the skill posterior*: the shortfall is ``E[max(e - theta, 0)]`` for ``theta ~ N(mean, sd)``,
  the capacity is the budget the leader has left, and module effectiveness is the posterior
  mean of an :class:`~workbench.recommend.EffectivenessModel` (the prior when none is given,
  which treats all modules alike).
* :func:`workbench.sim.population.simulate_comparison`: simulated leaders whose truth is known: role levels, true skill
  profiles, noisy skill estimates, budgets, the minutes they really have, completions, and the
  true effectiveness of every module. Strategies see only the estimates, and are judged on the
  truth.

**Outcome model** (:class:`OutcomeModel`). A module ``m`` has a true completion probability
``p_m`` and a gain ``g_m``, the share of a leader's shortfall in a competency that completing
the module closes; its effectiveness is ``p_m * g_m``. With the leader's shortfall
``s_c = max(e_c - theta_c, 0)`` (``e`` the organization's expectation for the role level) and
``A[m, c]`` = 1 for the module's primary competency and 0.5 for its other ones::

    value(m) = p_m * g_m * sum_c A[m, c] * s_c        (times the level fit, if level_fit=True)
    benefit  = sum over the plan's modules of value(m) * overwhelm factor

The plan overwhelms a leader when its minutes ``T`` exceed the minutes they really have this
week ``B``; then the benefit is multiplied by ``max(0, 1 - overwhelm * (T - B) / T)``. With
``overwhelm = 1`` a leader gets through the share ``B / T`` of the plan; the default 1.5 adds the
cost of feeling swamped. The engine keeps plans within the *stated* budget, so overwhelm comes
from leaders who have less time than they said (``capacity_noise`` in the simulation).

**Metrics** (:class:`StrategyMetrics`, :func:`plan_metrics`), per strategy:

* ``benefit``: mean expected benefit per leader (``benefit_se``: its standard error);
* ``development_coverage``: among leaders with a development area (for real leaders as defined
  by :mod:`workbench.skills.need`, the largest one; for simulated leaders, whose true skill is
  known, the largest true shortfall when it exceeds :data:`MATERIAL_SHORTFALL`), the share whose
  plan has a module whose primary competency is that competency;
* ``diversity``: distinct primary competencies per non-empty plan;
* ``catalogue_coverage``: share of the library's modules recommended to anyone;
* ``novelty``: mean self-information ``-log2(share of completions)`` of recommended modules
  (completions + 1, so unseen modules are finite): higher means less mainstream;
* ``minutes``: mean plan minutes per leader;
* ``first_time_fit``: share of first-time leaders with a non-empty plan whose every module is
  written for first-time leaders;
* ``priority_alignment``: mean organization priority weight of recommended modules' primary
  competencies; ``overwhelmed``: share of leaders whose plan exceeds their real minutes;
  ``empty``: share of leaders who got nothing.

:func:`compare_strategies` gives one row per strategy; with ``oracle=True`` it adds
:class:`OracleStrategy`, greedy on the outcome model's own values, as the ceiling.

**Tuning** (:func:`tune`): a small grid search over :class:`WeightedPriorityStrategy`'s weights
(``priority_weight``: how much organization priorities multiply need; ``level_weight``: the
exponent on the level fit) and the engine's exploration (``temperature``: softmax over scores,
0 = greedy; ``epsilon``), on one population with common random numbers (the same seed at every
grid point), returned as a tidy DataFrame with each point's paired benefit difference to the
best. Tune on simulated leaders and check the choice on a second simulated population (another
seed, the same ``outcome``) with :func:`evaluate_settings` before trusting it.

Everything is deterministic given the seed. Nothing here reads the store.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from functools import cached_property

import numpy as np
import pandas as pd
from scipy.special import ndtr

from workbench.content import Library

from .catalog import Catalog, ContextBatch, catalog_for
from .context import FORMATS, ROLE_LEVELS, LeaderContext
from .effectiveness import NOISE_SD, PRIOR_COMPLETION, PRIOR_GAIN, EffectivenessModel
from .engine import BatchSelection, EngineOptions, select_batch
from .needs import urgency
from .strategies import PriorityStrategy, Strategy, get_strategy

#: A simulated leader's true shortfall (theta units) that counts as a development area in the metrics.
MATERIAL_SHORTFALL = 0.05

__all__ = [
    "DEFAULT_STRATEGIES", "METRICS", "TUNABLE", "OracleStrategy", "OutcomeModel", "ComparisonSet", "StrategyMetrics", "WeightedPriorityStrategy",
    "best_setting", "compare_strategies", "evaluate", "evaluate_settings",
    "expected_shortfall",
    "learned_effectiveness", "plan_metrics", "comparison_from_contexts", "tune",
]

#: Strategies compared by default (``moment`` needs a moment per leader, so it is left out).
DEFAULT_STRATEGIES: tuple[str, ...] = ("gap", "priority", "thompson", "popular", "random")
#: Thompson draws per choice in comparisons: enough to choose; propensities are not used here.
TUNING_DRAWS = 200
#: Grid parameters :func:`tune` understands.
TUNABLE: tuple[str, ...] = ("priority_weight", "level_weight", "temperature", "epsilon")
#: Metric columns, in table order.
METRICS: tuple[str, ...] = ("benefit", "benefit_se", "development_coverage", "diversity", "catalogue_coverage",
                            "novelty", "minutes", "first_time_fit", "priority_alignment", "overwhelmed", "empty")
_LABELS = {
    "benefit": "mean expected benefit", "benefit_se": "benefit SE", "development_coverage": "top need covered",
    "diversity": "competencies per plan", "catalogue_coverage": "catalogue coverage", "novelty": "novelty (bits)",
    "minutes": "minutes per plan", "first_time_fit": "first-time fit", "priority_alignment": "priority alignment",
    "overwhelmed": "overwhelmed", "empty": "empty plans",
}


# --------------------------------------------------------------------------- outcome
def expected_shortfall(mean: np.ndarray, sd: np.ndarray, expectation: np.ndarray) -> np.ndarray:
    """``E[max(e - theta, 0)]`` for ``theta ~ N(mean, sd)`` (broadcasts; ``sd > 0``).

    Equals ``(e - mean) * Phi(z) + sd * phi(z)`` with ``z = (e - mean) / sd``.
    """
    gap = np.asarray(expectation, dtype=float) - np.asarray(mean, dtype=float)
    sd = np.asarray(sd, dtype=float)
    z = gap / sd
    return gap * ndtr(z) + sd * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True, eq=False)
class OutcomeModel:
    """True (or believed) effectiveness of every module and how plans turn into benefit.

    Parameters
    ----------
    module_ids
        The modules, in the catalog's order.
    completion
        ``(M,)`` probability that a leader who starts the module completes it.
    gain
        ``(M,)`` share of the leader's shortfall that completing the module closes (>= 0).
    overwhelm
        Penalty for plans longer than the minutes the leader really has (module docstring).
    level_fit
        Multiply each module's value by the fit of its level for the leader (the catalog's
        ``LEVEL_FIT``, foundations for first-time leaders). Off by default: the plain model.
    """

    module_ids: tuple[str, ...]
    completion: np.ndarray
    gain: np.ndarray
    overwhelm: float = 1.5
    level_fit: bool = False

    def __post_init__(self) -> None:
        n = len(self.module_ids)
        for name, low, high in (("completion", 0.0, 1.0), ("gain", 0.0, np.inf)):
            arr = np.array(getattr(self, name), dtype=float)
            if arr.shape != (n,):
                raise ValueError(f"{name} must have one value per module ({n}), got shape {arr.shape}")
            if not np.all(np.isfinite(arr)) or np.any(arr < low) or np.any(arr > high):
                raise ValueError(f"{name} must be finite and within [{low}, {high}]")
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        if isinstance(self.overwhelm, bool) or not math.isfinite(float(self.overwhelm)) or self.overwhelm < 0:
            raise ValueError(f"overwhelm must be a finite number >= 0, got {self.overwhelm!r}")
        object.__setattr__(self, "overwhelm", float(self.overwhelm))

    @property
    def effectiveness(self) -> np.ndarray:
        """``(M,)`` completion probability times gain."""
        return self.completion * self.gain

    @classmethod
    def draw(cls, library: Library | Catalog, rng: np.random.Generator | int | None = None, *,
             overwhelm: float = 1.5, level_fit: bool = False) -> OutcomeModel:
        """A random truth from the effectiveness prior: ``p ~ Beta(4, 2)``, ``g ~ N(0.15, 0.10)``
        clipped to [0.01, 0.6] (the prior of :class:`~workbench.recommend.EffectivenessModel`)."""
        cat = catalog_for(library)
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        M = cat.n_modules
        p = gen.beta(*PRIOR_COMPLETION, size=M)
        g = np.clip(PRIOR_GAIN[0] + PRIOR_GAIN[1] * gen.standard_normal(M), 0.01, 0.6)
        return cls(cat.module_ids, p, g, overwhelm, level_fit)

    @classmethod
    def from_effectiveness(cls, library: Library | Catalog, model: EffectivenessModel | None = None, *,
                           overwhelm: float = 1.5, level_fit: bool = False) -> OutcomeModel:
        """Posterior means of an effectiveness model (its gain read as the share of need
        closed, floored at 0); the prior when ``model`` is None."""
        cat = catalog_for(library)
        base = (model or EffectivenessModel.prior(cat.module_ids)).aligned(cat.module_ids)
        return cls(cat.module_ids, base.alpha / (base.alpha + base.beta), np.maximum(base.gain_mean, 0.0),
                   overwhelm, level_fit)

    def module_values(self, batch: ContextBatch, shortfall: np.ndarray) -> np.ndarray:
        """``(N, M)`` value of each module for each leader (before the overwhelm factor)."""
        cat = batch.catalog
        if tuple(cat.module_ids) != self.module_ids:
            raise ValueError("the outcome model and the contexts are over different module lists")
        value = (shortfall @ cat.relevance.T) * self.effectiveness[None, :]
        if self.level_fit:
            value = value * batch.level_fit
        return value

    def benefit(self, batch: ContextBatch, shortfall: np.ndarray, capacity: np.ndarray,
                modules: np.ndarray) -> np.ndarray:
        """``(N,)`` benefit of each leader's plan; ``modules[n, slot]`` indexes the catalog, -1 = empty."""
        modules = np.asarray(modules)
        if modules.ndim != 2 or modules.shape[0] != len(batch):
            raise ValueError(f"modules must be (N, K) with N = {len(batch)}, got shape {modules.shape}")
        chosen = modules >= 0
        safe = np.where(chosen, modules, 0)
        rows = np.arange(len(batch))[:, None]
        value = np.where(chosen, self.module_values(batch, shortfall)[rows, safe], 0.0).sum(axis=1)
        total = np.where(chosen, batch.catalog.minutes[safe], 0.0).sum(axis=1)
        over = np.maximum(total - capacity, 0.0)
        factor = np.clip(1.0 - self.overwhelm * over / np.maximum(total, 1e-12), 0.0, 1.0)
        return value * factor


def learned_effectiveness(outcome: OutcomeModel, observations: int = 20, seed: int | None = 0,
                          noise_sd: float = NOISE_SD) -> EffectivenessModel:
    """What a recommender would have learned after ``observations`` starts of every module.

    Each start completes with the true probability; each completion reports a gain drawn from
    ``N(g_m, noise_sd**2)``. The result starts from the default prior, so ``observations = 0``
    gives the prior. Use it to give ``thompson`` realistic, partly informed beliefs.
    """
    if isinstance(observations, bool) or not isinstance(observations, int | np.integer) or observations < 0:
        raise ValueError(f"observations must be an integer >= 0, got {observations!r}")
    rng = np.random.default_rng(seed)
    model = EffectivenessModel.prior(outcome.module_ids, noise_sd=noise_sd)
    if observations == 0:
        return model
    M = len(outcome.module_ids)
    done = rng.random((observations, M)) < outcome.completion[None, :]
    gains = outcome.gain[None, :] + noise_sd * rng.standard_normal((observations, M))
    ids = [m for _ in range(observations) for m in outcome.module_ids]
    return model.update(ids, done.ravel().tolist(),
                        [float(g) if d else None for g, d in zip(gains.ravel(), done.ravel(), strict=True)])


# ------------------------------------------------------------------------ population
@dataclass(frozen=True, eq=False)
class ComparisonSet:
    """Leaders to compare strategies on: what the recommender sees and what decides the outcome.

    ``shortfall`` (N, C) and ``capacity`` (N,) decide the benefit; ``top_need`` (N,) is each
    leader's largest development area (competency index, -1 for none); ``theta`` is the true
    skill of simulated leaders (None for real ones).
    """

    name: str
    batch: ContextBatch
    shortfall: np.ndarray
    capacity: np.ndarray
    top_need: np.ndarray
    outcome: OutcomeModel
    popularity: Mapping[str, float]
    theta: np.ndarray | None = None

    def __post_init__(self) -> None:
        N, C = len(self.batch), self.batch.catalog.n_competencies
        if np.shape(self.shortfall) != (N, C):
            raise ValueError(f"shortfall must be ({N}, {C}), got {np.shape(self.shortfall)}")
        for name in ("capacity", "top_need"):
            if np.shape(getattr(self, name)) != (N,):
                raise ValueError(f"{name} must have one value per leader ({N}), got {np.shape(getattr(self, name))}")

    def __len__(self) -> int:
        return len(self.batch)

    @property
    def catalog(self) -> Catalog:
        return self.batch.catalog

    @property
    def truth_known(self) -> bool:
        return self.theta is not None

    @cached_property
    def popularity_counts(self) -> np.ndarray:
        """(M,) completions per catalog module."""
        return np.array([float(self.popularity.get(m, 0)) for m in self.catalog.module_ids])

    def contexts(self, rows: Sequence[int] | slice | None = None) -> list[LeaderContext]:
        """The leaders as :class:`LeaderContext` objects (all, or some rows), for :func:`recommend`;
        ``weekly_minutes`` is the budget left this week (nothing used yet)."""
        b, cat = self.batch, self.catalog
        idx = range(len(b)) if rows is None else range(len(b))[rows] if isinstance(rows, slice) else rows
        comps, mods = cat.competency_ids, np.asarray(cat.module_ids, dtype=object)
        out = []
        for n in idx:
            fmt = int(b.format_preference[n])
            out.append(LeaderContext(
                b.leader_ids[n], ROLE_LEVELS[int(b.level[n])],
                dict(zip(comps, b.mean[n].tolist(), strict=True)), dict(zip(comps, b.sd[n].tolist(), strict=True)),
                first_time=bool(b.first_time[n]), completed=frozenset(mods[b.completed[n]].tolist()),
                active=frozenset(mods[b.active[n]].tolist()), weekly_minutes=float(b.remaining[n]),
                format_preference=FORMATS[fmt] if fmt >= 0 else None,
                moment=cat.moment_ids[int(b.moment[n])] if b.moment[n] >= 0 else None,
            ))
        return out


def comparison_from_contexts(contexts: Sequence[LeaderContext], library: Library | Catalog, *,
                             popularity: Mapping[str, float] | None = None,
                             effectiveness: EffectivenessModel | None = None, overwhelm: float = 1.5,
                             level_fit: bool = False, name: str = "contexts") -> ComparisonSet:
    """Real leaders: the outcome is expected under their skill posteriors (module docstring).

    Parameters
    ----------
    contexts
        The leaders (e.g. built with ``workbench.services.plans.leader_context``).
    library
        The content library or its catalog.
    popularity
        Completions per module id (for ``popular`` and novelty); default none.
    effectiveness
        Beliefs about module effectiveness (default: the prior, all modules alike).
    """
    if not contexts:
        raise ValueError("no contexts: a population needs at least one leader")
    cat = catalog_for(library)
    batch = ContextBatch.from_contexts(list(contexts), cat)
    shortfall = expected_shortfall(batch.mean, batch.sd, batch.expectation)
    top = np.where(batch.development.any(axis=1), batch.need_rank.argmin(axis=1), -1)
    outcome = OutcomeModel.from_effectiveness(cat, effectiveness, overwhelm=overwhelm, level_fit=level_fit)
    return ComparisonSet(name, batch, shortfall, batch.remaining.copy(), top, outcome, dict(popularity or {}))


# -------------------------------------------------------------------- a tunable strategy
class WeightedPriorityStrategy(PriorityStrategy):
    """The priority strategy with its two weights exposed for tuning.

    ``score[m] = (sum_c A[m, c] * urgency(need_c) * (1 + priority_weight * priority_c))
    * level_fit[m] ** level_weight``. ``priority_weight = 0`` ignores the organization's
    priorities (need only); the shipped ``priority`` strategy is ``priority_weight = 2``,
    ``level_weight = 1`` (its factor ``0.5 + priority`` is half of ``1 + 2 * priority``, and a
    constant factor does not change a greedy choice). ``level_weight = 0`` ignores levels.
    """

    def __init__(self, priority_weight: float = 2.0, level_weight: float = 1.0):
        for name, v in (("priority_weight", priority_weight), ("level_weight", level_weight)):
            if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating) \
                    or not math.isfinite(v) or v < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
        self.priority_weight = float(priority_weight)
        self.level_weight = float(level_weight)
        self.name = f"priority(w={self.priority_weight:g}, level={self.level_weight:g})"

    def scores(self, batch: ContextBatch, rng: np.random.Generator) -> np.ndarray:
        cat = batch.catalog
        weighted = urgency(batch.need) * (1.0 + self.priority_weight * cat.priority)[None, :]
        fit = batch.level_fit if self.level_weight == 1.0 else batch.level_fit ** self.level_weight
        return (weighted @ cat.relevance.T) * fit


class OracleStrategy(Strategy):
    """Greedy on the outcome model's own module values: a ceiling for the other strategies.

    It knows what no recommender knows (the true shortfalls and effectiveness of a simulated
    population; for real leaders, the expected values the outcome is computed from). Greedy
    slot filling under the same constraints is not guaranteed optimal, but it is the
    reference every strategy is judged against.
    """

    name = "oracle"

    def __init__(self, population: ComparisonSet):
        self._values = population.outcome.module_values(population.batch, population.shortfall)
        self._row = {lid: i for i, lid in enumerate(population.batch.leader_ids)}

    def scores(self, batch: ContextBatch, rng: np.random.Generator) -> np.ndarray:
        try:
            rows = np.array([self._row[lid] for lid in batch.leader_ids], dtype=np.int64)
        except KeyError as exc:
            raise ValueError(f"the oracle knows only its population's leaders, not {exc.args[0]!r}") from None
        return self._values[rows]

    def focus(self, batch, rows, modules):
        return batch.catalog.primary[modules]

    def reasons(self, batch, rows, modules, focus):
        return ["Chosen with knowledge of the true outcome (a simulation reference)."] * len(modules)


# ------------------------------------------------------------------------------ metrics
@dataclass(frozen=True)
class StrategyMetrics:
    """How one strategy's plans do on one population (see the module docstring)."""

    strategy: str
    leaders: int
    benefit: float
    benefit_se: float
    development_coverage: float
    diversity: float
    catalogue_coverage: float
    novelty: float
    minutes: float
    first_time_fit: float
    priority_alignment: float
    overwhelmed: float
    empty: float

    def to_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if x.size else float("nan")


def plan_metrics(population: ComparisonSet, selection: BatchSelection) -> StrategyMetrics:
    """Metrics of one selection (from :func:`~workbench.recommend.select_batch`) on a population."""
    return _plan_metrics(population, selection)[0]


def _plan_metrics(population: ComparisonSet, selection: BatchSelection) -> tuple[StrategyMetrics, np.ndarray]:
    """The metrics and each leader's benefit."""
    b, cat = population.batch, population.catalog
    modules = np.asarray(selection.modules)
    if tuple(selection.leader_ids) != tuple(b.leader_ids):
        raise ValueError("the selection was made for other leaders than the population's")
    N = len(b)
    chosen = modules >= 0
    safe = np.where(chosen, modules, 0)
    nonempty = chosen.any(axis=1)
    benefit = population.outcome.benefit(b, population.shortfall, population.capacity, modules)
    primary = np.where(chosen, cat.primary[safe], -1)
    has_top = population.top_need >= 0
    covered = (primary == population.top_need[:, None]).any(axis=1)
    ordered = np.sort(primary, axis=1)
    new = np.ones_like(ordered, dtype=bool)
    new[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    distinct = ((ordered >= 0) & new).sum(axis=1)[nonempty]
    share = (population.popularity_counts + 1.0) / (population.popularity_counts + 1.0).sum()
    info = -np.log2(share)
    minutes = np.where(chosen, cat.minutes[safe], 0.0).sum(axis=1)
    ft = b.first_time & nonempty
    all_foundation = (~chosen | (cat.level[safe] == 0)).all(axis=1)
    return StrategyMetrics(
        strategy=selection.strategy,
        leaders=N,
        benefit=float(benefit.mean()),
        benefit_se=float(benefit.std(ddof=1) / math.sqrt(N)) if N > 1 else float("nan"),
        development_coverage=_mean(covered[has_top]),
        diversity=_mean(distinct),
        catalogue_coverage=float(np.unique(modules[chosen]).size / cat.n_modules),
        novelty=_mean(info[modules[chosen]]),
        minutes=float(minutes.mean()),
        first_time_fit=_mean(all_foundation[ft]),
        priority_alignment=_mean(cat.priority[cat.primary[modules[chosen]]]),
        overwhelmed=float((minutes > population.capacity + 1e-9).mean()),
        empty=float((~nonempty).mean()),
    ), benefit


def evaluate(
    population: ComparisonSet,
    strategy: str | Strategy = "priority",
    *,
    k: int = 3,
    seed: int = 0,
    effectiveness: EffectivenessModel | None = None,
    temperature: float | None = None,
    epsilon: float | None = None,
    n_draws: int = TUNING_DRAWS,
) -> StrategyMetrics:
    """Recommend for the whole population with one strategy and measure the plans.

    ``temperature`` 0 or None means greedy. ``effectiveness`` goes to ``thompson`` (default
    its prior); ``popular`` uses the population's popularity.
    """
    return _evaluate(population, strategy, k=k, seed=seed, effectiveness=effectiveness, temperature=temperature,
                     epsilon=epsilon, n_draws=n_draws)[0]


def _evaluate(population: ComparisonSet, strategy: str | Strategy, *, k: int, seed: int,
              effectiveness: EffectivenessModel | None, temperature: float | None, epsilon: float | None,
              n_draws: int) -> tuple[StrategyMetrics, np.ndarray]:
    strat = get_strategy(strategy, population.popularity, effectiveness)
    options = EngineOptions(k=k, temperature=temperature or None, epsilon=epsilon or None, n_draws=n_draws)
    sel = select_batch(population.batch, population.catalog, strat, options, rng=np.random.default_rng(seed))
    return _plan_metrics(population, sel)


def _paired(benefits: list[np.ndarray], reference: int) -> tuple[list[float], list[float]]:
    """Mean and standard error of each setting's per-leader benefit minus the reference's."""
    ref = benefits[reference]
    n = ref.size
    diffs = [b - ref for b in benefits]
    return ([float(d.mean()) for d in diffs],
            [float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan") for d in diffs])


def compare_strategies(
    population: ComparisonSet,
    strategies: Sequence[str | Strategy] = DEFAULT_STRATEGIES,
    *,
    k: int = 3,
    seed: int = 0,
    effectiveness: EffectivenessModel | None = None,
    n_draws: int = TUNING_DRAWS,
    oracle: bool = False,
) -> pd.DataFrame:
    """One row per strategy with every metric (columns ``strategy``, ``leaders`` and :data:`METRICS`).

    Every strategy runs with the same seed on the same population. ``oracle`` adds a last row,
    :class:`OracleStrategy`, greedy on the outcome model's own values: the ceiling.
    """
    if isinstance(strategies, str):
        strategies = [strategies]
    strategies = list(strategies)
    if not strategies and not oracle:
        raise ValueError("strategies is empty: name at least one strategy")
    if oracle:
        strategies.append(OracleStrategy(population))
    rows = [evaluate(population, s, k=k, seed=seed, effectiveness=effectiveness, n_draws=n_draws).to_dict()
            for s in strategies]
    table = pd.DataFrame(rows, columns=[f.name for f in fields(StrategyMetrics)])
    if table.strategy.duplicated().any():
        raise ValueError(f"strategies must be distinct, got {list(table.strategy)}")
    table.attrs["population"] = population.name
    return table


# ------------------------------------------------------------------------------- tuning
def tune(
    population: ComparisonSet,
    grid: Mapping[str, Sequence[float]],
    *,
    strategy: str = "priority",
    objective: str = "benefit",
    k: int = 3,
    seed: int = 0,
    effectiveness: EffectivenessModel | None = None,
    n_draws: int = TUNING_DRAWS,
) -> pd.DataFrame:
    """Grid search: every combination of ``grid`` values, measured on ``population``.

    Parameters
    ----------
    grid
        Parameter name -> values, from :data:`TUNABLE`: ``priority_weight`` and
        ``level_weight`` (of :class:`WeightedPriorityStrategy`; ``strategy`` must be
        ``"priority"``), ``temperature`` (softmax; 0 = greedy) and ``epsilon``.
    strategy
        The strategy whose exploration is tuned; ``"priority"`` means
        :class:`WeightedPriorityStrategy` (defaults 2 and 1, the shipped weights).
    objective
        The metric that picks the best setting (higher is better), from :data:`METRICS`.

    Returns
    -------
    pandas.DataFrame
        One row per combination: the parameters, ``strategy``, every metric, ``best`` (True
        on the row with the highest objective; the first one on ties), and
        ``benefit_vs_best``, ``benefit_vs_best_se``: the mean and standard error of the
        per-leader benefit difference to the best row. Grid points share leaders and random
        numbers, so these paired differences are far more precise than ``benefit_se``.
    """
    if not isinstance(grid, Mapping) or not grid:
        raise ValueError("grid must be a non-empty mapping of parameter name to values")
    unknown = [p for p in grid if p not in TUNABLE]
    if unknown:
        raise ValueError(f"unknown tuning parameters {unknown}; expected some of {', '.join(TUNABLE)}")
    if objective not in METRICS or objective == "benefit_se":
        raise ValueError(f"unknown objective {objective!r}; expected one of {', '.join(m for m in METRICS if m != 'benefit_se')}")
    values: dict[str, list[float]] = {}
    for p, vs in grid.items():
        if isinstance(vs, str) or not isinstance(vs, Sequence | np.ndarray) or len(vs) == 0:
            raise ValueError(f"grid[{p!r}] must be a non-empty list of numbers")
        try:
            values[p] = [float(v) for v in vs]
        except (TypeError, ValueError):
            raise ValueError(f"grid[{p!r}] must hold numbers, got {list(vs)!r}") from None
    combos = [dict(zip(values, combo, strict=True)) for combo in itertools.product(*values.values())]
    table, benefits = _settings_table(population, combos, strategy=strategy, k=k, seed=seed,
                                      effectiveness=effectiveness, n_draws=n_draws)
    best = int(table[objective].to_numpy().argmax())
    table["best"] = np.arange(len(table)) == best
    table["benefit_vs_best"], table["benefit_vs_best_se"] = _paired(benefits, best)
    table.attrs.update(population=population.name, objective=objective, parameters=list(values))
    return table


def _setting(params: Mapping[str, float], strategy: str) -> dict[str, float]:
    unknown = [p for p in params if p not in TUNABLE]
    if unknown:
        raise ValueError(f"unknown tuning parameters {unknown}; expected some of {', '.join(TUNABLE)}")
    weights = [p for p in params if p in ("priority_weight", "level_weight")]
    if weights and strategy != "priority":
        raise ValueError(f"{', '.join(weights)} tune the priority strategy, not {strategy!r}")
    out = {}
    for p, v in params.items():
        if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating) \
                or not math.isfinite(v) or v < 0:
            raise ValueError(f"{p} values must be finite and >= 0, got {v!r}")
        if p == "epsilon" and v > 1:
            raise ValueError(f"epsilon values must be within [0, 1], got {v!r}")
        out[p] = float(v)
    if "temperature" in out and "epsilon" in out:
        raise ValueError("tune temperature or epsilon, not both (the engine uses one exploration at a time)")
    return out


def evaluate_settings(
    population: ComparisonSet,
    settings: Sequence[Mapping[str, float]] | Mapping[str, Mapping[str, float]],
    *,
    strategy: str = "priority",
    k: int = 3,
    seed: int = 0,
    effectiveness: EffectivenessModel | None = None,
    n_draws: int = TUNING_DRAWS,
) -> pd.DataFrame:
    """Measure a few settings of :data:`TUNABLE` parameters (e.g. the shipped and the tuned
    one, on a fresh population). ``settings`` is a list of dicts, or a dict of labelled ones
    (then a ``setting`` column holds the labels). One row per setting, as in :func:`tune`,
    with ``benefit_vs_first`` and ``benefit_vs_first_se``: the mean and standard error of the
    per-leader benefit difference to the first setting (paired: same leaders, same seed)."""
    table, benefits = _settings_table(population, settings, strategy=strategy, k=k, seed=seed,
                                      effectiveness=effectiveness, n_draws=n_draws)
    table["benefit_vs_first"], table["benefit_vs_first_se"] = _paired(benefits, 0)
    return table


def _settings_table(population: ComparisonSet,
                    settings: Sequence[Mapping[str, float]] | Mapping[str, Mapping[str, float]], *, strategy: str,
                    k: int, seed: int, effectiveness: EffectivenessModel | None,
                    n_draws: int) -> tuple[pd.DataFrame, list[np.ndarray]]:
    labelled = isinstance(settings, Mapping)
    items = list(settings.items()) if labelled else [(None, s) for s in settings]
    if not items:
        raise ValueError("settings is empty: give at least one setting")
    rows, benefits = [], []
    for label, params in items:
        if not isinstance(params, Mapping):
            raise ValueError(f"each setting must be a mapping of parameter to value, got {params!r}")
        setting = _setting(params, strategy)
        if strategy == "priority":
            strat: str | Strategy = WeightedPriorityStrategy(setting.get("priority_weight", 2.0),
                                                             setting.get("level_weight", 1.0))
        else:
            strat = strategy
        m, benefit = _evaluate(population, strat, k=k, seed=seed, effectiveness=effectiveness, n_draws=n_draws,
                               temperature=setting.get("temperature"), epsilon=setting.get("epsilon"))
        rows.append(({"setting": label} if labelled else {}) | setting | m.to_dict())
        benefits.append(benefit)
    table = pd.DataFrame(rows)
    table.attrs["population"] = population.name
    return table, benefits


def best_setting(table: pd.DataFrame) -> dict[str, float]:
    """The tuned parameters of the ``best`` row of a :func:`tune` table."""
    if "best" not in table or not table["best"].any():
        raise ValueError("not a tune() table: it has no best row")
    row = table[table["best"]].iloc[0]
    params = table.attrs.get("parameters") or [c for c in table.columns if c in TUNABLE]
    return {p: float(row[p]) for p in params}
