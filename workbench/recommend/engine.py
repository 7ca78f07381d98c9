"""Recommendations under constraints, with the probability of each choice.

:func:`recommend` fills up to ``k`` slots for one leader, :func:`recommend_batch` for many
at once (numpy over leaders x modules). Slots are filled one after another; at each slot the
*feasible* modules are those that

* are not completed, not already active or started, not recently declined, and not chosen
  in an earlier slot;
* have every prerequisite completed;
* take at most ``max_minutes`` (30) and fit in what is left of this week's budget
  (``weekly_minutes - minutes_used_this_week`` minus the minutes of earlier slots);
* have a primary competency that no active recommendation and no earlier slot has, unless
  no feasible module has a new one (then repeats are allowed: "spread unless nothing else
  fits").

The number of slots is ``min(k, max_active - number of active or started recommendations)``
(``max_active`` = 3), and fewer when nothing feasible is left.

**Choice and propensity.** At each slot the strategy's policy turns scores into a
distribution over the feasible modules, and the module is drawn from it:

* greedy strategies (gap, priority, moment, popular) put all mass on the best score; ties
  are broken by the leader's format preference, then by how well the module's level fits,
  then by library order. With ``epsilon`` the distribution is epsilon-greedy
  (``1 - epsilon`` on the best, ``epsilon`` spread evenly over all feasible modules); with
  ``temperature`` it is the softmax of ``score / temperature`` over feasible modules;
* ``thompson``: the probability that each feasible module is the best under a draw from
  the posterior, estimated from ``n_draws`` Monte Carlo draws; the module is then drawn
  from exactly that estimated distribution;
* ``random``: uniform over feasible modules.

A recommendation's ``propensity`` is the probability this policy gave its module at its
slot, *given the context and the modules chosen in earlier slots*. The choice distribution
at every slot sums to 1 over the feasible modules (see :func:`choice_probabilities`), so
propensities can be used as logging probabilities in off-policy evaluation
(:mod:`workbench.recommend.ope`). Deterministic choices have propensity 1.0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from workbench.content import Library

from .catalog import Catalog, ContextBatch, catalog_for
from .context import LeaderContext
from .effectiveness import EffectivenessModel
from .moment_pack import MomentPack, moment_pack
from .strategies import Strategy, _as_rng, get_strategy

MAX_ACTIVE = 3
MAX_MODULE_MINUTES = 30
DEFAULT_DRAWS = 1000
_CELLS = 4_000_000  # scores held at once when sampling (draws x leaders x modules)
_ROWS = 50_000  # leaders per chunk for greedy strategies

__all__ = [
    "MAX_ACTIVE", "MAX_MODULE_MINUTES", "BatchSelection", "MomentPack", "Recommendation",
    "choice_probabilities", "moment_pack", "recommend", "recommend_batch", "select_batch",
]


@dataclass(frozen=True)
class ModuleChoice:
    """A module chosen for a leader and why: what a fresh :class:`Recommendation` and a stored
    plan item (:class:`workbench.services.plans.PlanItem`) have in common.

    ``competency`` is the module's primary competency. ``propensity`` is the probability the
    policy chose this module at its slot given the earlier slots (module docstring).
    """

    module_id: str
    title: str
    minutes: int
    competency: str
    reason: str
    strategy: str
    score: float
    propensity: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Recommendation(ModuleChoice):
    """One recommended module for one leader, as the engine chose it: the fields of
    :class:`ModuleChoice`, then ``rank`` (the 1-based slot), ``focus`` (the competency its reason
    names: the one driving the score, which may be a secondary one) and ``candidates`` (how many
    modules were feasible).
    """

    rank: int
    focus: str
    candidates: int


@dataclass(frozen=True, eq=False)
class BatchSelection:
    """Chosen modules as arrays: ``modules[n, slot]`` indexes ``module_ids`` (-1 = empty slot)."""

    strategy: str
    leader_ids: tuple[str, ...]
    module_ids: tuple[str, ...]
    modules: np.ndarray  # (N, K) int
    scores: np.ndarray  # (N, K)
    propensities: np.ndarray  # (N, K)
    candidates: np.ndarray  # (N, K) int


# ------------------------------------------------------------------ options
def _count(name: str, value: Any, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
        raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class EngineOptions:
    """How the engine fills a plan: one value passed whole through :func:`recommend`,
    :func:`recommend_batch`, :func:`select_batch` and :func:`choice_probabilities`, the plan
    service and the simulation. Checked when made; ``replace`` makes a variant.

    Parameters
    ----------
    k
        Slots wanted; at most ``max_active`` minus the leader's open recommendations are filled.
    max_active, max_minutes
        At most this many open recommendations; modules at most this long.
    epsilon, temperature
        Optional exploration for greedy strategies (epsilon-greedy or softmax; not both).
    n_draws
        Monte Carlo draws for Thompson propensities.
    """

    k: int = 3
    max_active: int = MAX_ACTIVE
    max_minutes: float = MAX_MODULE_MINUTES
    epsilon: float | None = None
    temperature: float | None = None
    n_draws: int = DEFAULT_DRAWS

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "k", _count("k", self.k, 0))
        set_(self, "max_active", _count("max_active", self.max_active, 0))
        set_(self, "n_draws", _count("n_draws", self.n_draws, 1))
        if not np.isfinite(self.max_minutes) or self.max_minutes <= 0:
            raise ValueError(f"max_minutes must be > 0, got {self.max_minutes!r}")
        set_(self, "max_minutes", float(self.max_minutes))
        if self.epsilon is not None and self.temperature is not None:
            raise ValueError("give epsilon or temperature for exploration, not both")
        if self.epsilon is not None and not 0.0 <= self.epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {self.epsilon!r}")
        if self.temperature is not None and not (np.isfinite(self.temperature) and self.temperature > 0):
            raise ValueError(f"temperature must be > 0, got {self.temperature!r}")

    @classmethod
    def of(cls, options: EngineOptions | None = None, **overrides: Any) -> EngineOptions:
        """``options`` (default: the defaults) with the fields named in ``overrides`` replaced, so a
        call may pass a prepared value, a few keywords (``k=2, epsilon=0.1``), or both."""
        if options is not None and not isinstance(options, EngineOptions):
            raise TypeError(f"options must be an EngineOptions, got {type(options).__name__} "
                            "(pass k and the other settings by keyword)")
        base = options or cls()
        return replace(base, **overrides) if overrides else base

    def check(self, strategy: Strategy) -> EngineOptions:
        """These options for ``strategy``: exploration applies to greedy strategies only."""
        if (self.epsilon is not None or self.temperature is not None) and strategy.policy != "greedy":
            raise ValueError(f"epsilon and temperature apply to greedy strategies; {strategy.name!r} "
                             f"is already stochastic")
        return self


# -------------------------------------------------------------------- state
class _SlotState:
    """What is feasible for each leader as slots fill up."""

    def __init__(self, batch: ContextBatch, max_minutes: float, chosen: np.ndarray | None = None):
        cat = batch.catalog
        self.cat = cat
        self.base = (~batch.completed & ~batch.active & batch.prerequisites_met
                     & (cat.minutes <= max_minutes)[None, :])
        if batch.declined is not None:
            self.base &= ~batch.declined
        self.used = batch.active_primary.copy()
        self.remaining = batch.remaining.copy()
        self.chosen = np.zeros(batch.completed.shape, dtype=bool)
        self.n_open = batch.active_count.copy()
        if chosen is not None:
            rows, mods = np.nonzero(chosen & ~batch.completed & ~batch.active)
            self.take(rows, mods)

    def take(self, rows: np.ndarray, mods: np.ndarray) -> None:
        self.chosen[rows, mods] = True
        self.used[rows, self.cat.primary[mods]] = True
        np.subtract.at(self.remaining, rows, self.cat.minutes[mods])
        np.add.at(self.n_open, rows, 1)

    def feasible(self, live: np.ndarray) -> np.ndarray:
        fits = self.base & ~self.chosen & (self.cat.minutes[None, :] <= self.remaining[:, None] + 1e-9)
        fits &= live[:, None]
        spread = fits & ~self.used[:, self.cat.primary]
        return np.where(spread.any(axis=1, keepdims=True), spread, fits)


def _tie_key(batch: ContextBatch) -> np.ndarray:
    """(N, M) integer preference among equal scores: format preference, level fit, library order."""
    cat = batch.catalog
    M = cat.n_modules
    fmt = (batch.format_preference[:, None] == cat.format[None, :]) & (batch.format_preference[:, None] >= 0)
    target = np.where(batch.first_time, 0, batch.level)
    closeness = 2 - np.abs(target[:, None] - cat.level[None, :])
    return fmt * (3 * M) + closeness * M + (M - 1 - np.arange(M))[None, :]


def _greedy(F: np.ndarray, scores: np.ndarray, tie: np.ndarray) -> np.ndarray:
    masked = np.where(F, scores, -np.inf)
    best = masked.max(axis=1, keepdims=True)
    top = F & (masked >= best - 1e-9 * np.maximum(1.0, np.abs(best)))
    return np.where(top, tie, -1).argmax(axis=1)


def _draw(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One index per row drawn from each row's distribution (rows summing to > 0)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(probs.shape[0]) * cum[:, -1]
    return (cum > u[:, None]).argmax(axis=1)


def _distribution(strategy: Strategy, opts: EngineOptions, F: np.ndarray, scores: np.ndarray | None,
                  draws: np.ndarray | None, tie: np.ndarray) -> np.ndarray:
    """(N, M) choice probabilities at one slot; rows without feasible modules are all zero."""
    N, M = F.shape
    counts = F.sum(axis=1, keepdims=True)
    if strategy.policy == "uniform":
        return F / np.maximum(counts, 1)
    if strategy.policy == "sampled":
        assert draws is not None
        S = draws.shape[0]
        best = np.where(F[None], draws, -np.inf).argmax(axis=2)  # (S, N)
        flat = (best + M * np.arange(N)[None, :]).ravel()
        probs = np.bincount(flat, minlength=N * M).reshape(N, M) / S
        return np.where(F, probs, 0.0)
    assert scores is not None
    if opts.temperature is not None:
        masked = np.where(F, scores / opts.temperature, -np.inf)
        top = masked.max(axis=1, keepdims=True)
        w = np.where(F, np.exp(masked - np.where(np.isfinite(top), top, 0.0)), 0.0)
        return w / np.maximum(w.sum(axis=1, keepdims=True), 1e-300)
    onehot = np.zeros((N, M))
    onehot[np.arange(N), _greedy(F, scores, tie)] = 1.0
    onehot *= F.any(axis=1, keepdims=True)
    if opts.epsilon:
        return (1.0 - opts.epsilon) * onehot + opts.epsilon * F / np.maximum(counts, 1)
    return onehot


def _select_chunk(batch: ContextBatch, strategy: Strategy, opts: EngineOptions, rng: np.random.Generator
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    N, K = len(batch), min(opts.k, opts.max_active)
    modules = np.full((N, K), -1, dtype=np.int64)
    scores_out = np.zeros((N, K))
    props = np.zeros((N, K))
    cands = np.zeros((N, K), dtype=np.int64)
    if K == 0 or N == 0:
        return modules, scores_out, props, cands
    state = _SlotState(batch, opts.max_minutes)
    slots = np.clip(np.minimum(opts.k, opts.max_active - batch.active_count), 0, None)
    tie = _tie_key(batch)
    draws = scores = None
    if strategy.policy == "sampled":
        draws = strategy.score_draws(batch, rng, opts.n_draws)
        mean_draw = draws.mean(axis=0)
    else:
        scores = strategy.scores(batch, rng)
    exploring = opts.epsilon is not None or opts.temperature is not None
    for slot in range(K):
        F = state.feasible(slots > slot)
        has = F.any(axis=1)
        if not has.any():
            break
        if strategy.policy == "greedy" and not exploring:
            choice = _greedy(F, scores, tie)
            prop = np.ones(N)
        elif strategy.policy == "uniform":
            choice = np.where(F, scores, -np.inf).argmax(axis=1)
            prop = 1.0 / np.maximum(F.sum(axis=1), 1)
        else:
            probs = _distribution(strategy, opts, F, scores, draws, tie)
            choice = np.zeros(N, dtype=np.int64)
            choice[has] = _draw(probs[has], rng)
            prop = probs[np.arange(N), choice]
        rows = np.flatnonzero(has)
        mods = choice[rows]
        modules[rows, slot] = mods
        src = mean_draw if draws is not None else scores
        scores_out[rows, slot] = src[rows, mods]
        props[rows, slot] = prop[rows]
        cands[rows, slot] = F[rows].sum(axis=1)
        state.take(rows, mods)
    return modules, scores_out, props, cands


def _chunks(batch: ContextBatch, strategy: Strategy, opts: EngineOptions) -> Iterable[slice]:
    M = batch.catalog.n_modules
    size = max(1, _CELLS // (opts.n_draws * M)) if strategy.policy == "sampled" else _ROWS
    for start in range(0, len(batch), size):
        yield slice(start, min(start + size, len(batch)))


def _as_batch(contexts: Sequence[LeaderContext] | ContextBatch, library: Library | Catalog) -> ContextBatch:
    cat = catalog_for(library)
    if isinstance(contexts, ContextBatch):
        if contexts.catalog is not cat:
            raise ValueError("the ContextBatch was built over a different library")
        return contexts
    if isinstance(contexts, LeaderContext):
        raise ValueError("contexts must be a sequence of LeaderContext (use recommend() for one leader)")
    return ContextBatch.from_contexts(list(contexts), cat)


# ------------------------------------------------------------------ public
def select_batch(
    contexts: Sequence[LeaderContext] | ContextBatch,
    library: Library | Catalog,
    strategy: str | Strategy = "priority",
    options: EngineOptions | None = None,
    *,
    rng: np.random.Generator | int | None = None,
    popularity: Mapping[str, int | float] | None = None,
    effectiveness: EffectivenessModel | None = None,
    **settings: Any,
) -> BatchSelection:
    """The choices for many leaders as arrays (no reason texts); see :func:`recommend_batch`."""
    strat = get_strategy(strategy, popularity, effectiveness)
    opts = EngineOptions.of(options, **settings).check(strat)
    batch = _as_batch(contexts, library)
    gen = _as_rng(rng)
    parts = [_select_chunk(batch.take(sl), strat, opts, gen) for sl in _chunks(batch, strat, opts)]
    K = min(opts.k, opts.max_active)
    if parts:
        modules, scores, props, cands = (np.concatenate(x) for x in zip(*parts, strict=True))
    else:
        modules = np.zeros((0, K), dtype=np.int64)
        scores, props, cands = np.zeros((0, K)), np.zeros((0, K)), np.zeros((0, K), dtype=np.int64)
    return BatchSelection(strat.name, batch.leader_ids, batch.catalog.module_ids, modules, scores, props, cands)


def _materialize(batch: ContextBatch, strategy: Strategy, sel: BatchSelection) -> list[list[Recommendation]]:
    cat = batch.catalog
    out: list[list[Recommendation]] = [[] for _ in range(len(batch))]
    rows, slots = np.nonzero(sel.modules >= 0)
    if rows.size == 0:
        return out
    mods = sel.modules[rows, slots]
    focus = strategy.focus(batch, rows, mods)
    why = strategy.reasons(batch, rows, mods, focus)
    ids, titles, comps = cat.module_ids, cat.titles, cat.competency_ids
    minutes, primary = cat.minutes.astype(int).tolist(), cat.primary.tolist()
    for n, s, m, f, r, score, prop, cand in zip(
            rows.tolist(), slots.tolist(), mods.tolist(), focus.tolist(), why,
            sel.scores[rows, slots].tolist(), sel.propensities[rows, slots].tolist(),
            sel.candidates[rows, slots].tolist(), strict=True):
        out[n].append(Recommendation(ids[m], titles[m], minutes[m], comps[primary[m]], r, strategy.name,
                                     score, prop, s + 1, comps[f], cand))
    return out


def recommend_batch(
    contexts: Sequence[LeaderContext] | ContextBatch,
    library: Library | Catalog,
    strategy: str | Strategy = "priority",
    options: EngineOptions | None = None,
    *,
    rng: np.random.Generator | int | None = None,
    popularity: Mapping[str, int | float] | None = None,
    effectiveness: EffectivenessModel | None = None,
    **settings: Any,
) -> list[list[Recommendation]]:
    """Recommendations for many leaders at once, one list per context (same order).

    Scores all leaders against all modules with numpy; for deterministic strategies the
    result equals calling :func:`recommend` on each context. Parameters as in
    :func:`recommend`; ``contexts`` may also be a prebuilt :class:`ContextBatch`.
    """
    strat = get_strategy(strategy, popularity, effectiveness)
    batch = _as_batch(contexts, library)
    sel = select_batch(batch, batch.catalog, strat, EngineOptions.of(options, **settings), rng=rng)
    return _materialize(batch, strat, sel)


def recommend(
    context: LeaderContext,
    library: Library | Catalog,
    strategy: str | Strategy = "priority",
    options: EngineOptions | None = None,
    *,
    rng: np.random.Generator | int | None = None,
    popularity: Mapping[str, int | float] | None = None,
    effectiveness: EffectivenessModel | None = None,
    **settings: Any,
) -> list[Recommendation]:
    """Up to ``k`` modules for one leader, best first, under the constraints (module docstring).

    Parameters
    ----------
    context
        The leader.
    library
        The content library (or its :class:`~workbench.recommend.catalog.Catalog`).
    strategy
        ``"gap"``, ``"priority"``, ``"thompson"``, ``"moment"``, ``"popular"``, ``"random"``
        or a :class:`~workbench.recommend.strategies.Strategy`.
    options
        The engine's settings (:class:`EngineOptions`: ``k``, ``max_active``, ``max_minutes``,
        ``epsilon``, ``temperature``, ``n_draws``); default :class:`EngineOptions` ().
    rng
        Generator or seed for stochastic choices (thompson, random, exploration).
    popularity
        Completions per module id (required by ``popular``).
    effectiveness
        Module effectiveness posterior for ``thompson`` (default: the prior).
    **settings
        Fields of :class:`EngineOptions` to change, e.g. ``k=2`` (shorthand for
        ``options=EngineOptions(k=2)``).

    Returns
    -------
    list of Recommendation
        Possibly fewer than ``k`` (or none) when the constraints leave nothing to add.
    """
    if not isinstance(context, LeaderContext):
        raise ValueError(f"context must be a LeaderContext, got {type(context).__name__}")
    return recommend_batch([context], library, strategy, EngineOptions.of(options, **settings), rng=rng,
                           popularity=popularity, effectiveness=effectiveness)[0]


def choice_probabilities(
    contexts: Sequence[LeaderContext] | ContextBatch,
    library: Library | Catalog,
    strategy: str | Strategy = "priority",
    chosen: Sequence[Iterable[str]] | None = None,
    options: EngineOptions | None = None,
    *,
    rng: np.random.Generator | int | None = None,
    popularity: Mapping[str, int | float] | None = None,
    effectiveness: EffectivenessModel | None = None,
    **settings: Any,
) -> np.ndarray:
    """The policy's choice distribution at the next slot, (N, M) over the catalog's modules.

    ``chosen[n]`` lists the modules already placed in earlier slots for leader ``n``. Each
    row sums to 1 over the feasible modules, or is all zero when no slot is left or nothing
    fits. This is what off-policy evaluation needs for a candidate policy on logged
    contexts: the probability it would have chosen the logged module at the logged slot.
    For ``thompson`` the row is the Monte Carlo estimate from ``n_draws`` draws.
    """
    strat = get_strategy(strategy, popularity, effectiveness)
    opts = replace(EngineOptions.of(options, **settings), k=1).check(strat)
    batch = _as_batch(contexts, library)
    cat = batch.catalog
    gen = _as_rng(rng)
    init = np.zeros(batch.completed.shape, dtype=bool)
    if chosen is not None:
        if len(chosen) != len(batch):
            raise ValueError(f"chosen has {len(chosen)} entries for {len(batch)} contexts")
        for n, ids in enumerate(chosen):
            if isinstance(ids, str):
                raise ValueError(f"chosen[{n}] must be a collection of module ids, not a string")
            for mid in ids:
                if mid not in cat.module_index:
                    raise ValueError(f"chosen[{n}]: unknown module {mid!r}")
                init[n, cat.module_index[mid]] = True
    out = np.zeros(init.shape)
    for sl in _chunks(batch, strat, opts):
        sub = batch.take(sl)
        state = _SlotState(sub, opts.max_minutes, init[sl])
        F = state.feasible(state.n_open < opts.max_active)
        scores = draws = None
        if strat.policy == "sampled":
            draws = strat.score_draws(sub, gen, opts.n_draws)
        elif strat.policy == "greedy":
            scores = strat.scores(sub, gen)
        out[sl] = _distribution(strat, opts, F, scores, draws, _tie_key(sub))
    return out
