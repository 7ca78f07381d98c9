"""Recommendation strategies behind one small interface.

A strategy scores every module for every leader of a :class:`ContextBatch` (higher is
better) and explains a chosen module in a sentence. It does not apply constraints: the
engine (:mod:`workbench.recommend.engine`) filters candidates and turns scores into a choice
distribution according to the strategy's ``policy``:

* ``"greedy"``: the best-scoring feasible module (gap, priority, moment, popular);
* ``"sampled"``: Thompson sampling: the module that is best under one posterior draw;
  the engine estimates the probability of each module being best by Monte Carlo;
* ``"uniform"``: every feasible module equally likely (random).

For one leader, :meth:`Strategy.rank` is the whole interface: context and library (and an
rng) in, scored candidates out.

Module scores (``need`` from :mod:`workbench.recommend.needs`, ``A[m, c]`` = 1 for the
module's primary competency and 0.5 for each other one):

* ``gap``: ``need[primary] + 0.5 * sum(max(need[other], 0))``, pure development need;
* ``priority``: ``sum_c A[m, c] * urgency(need_c) * (0.5 + priority_c)`` times the level fit
  (modules of the leader's level fit best; first-time leaders get first-time modules);
* ``thompson``: per draw ``theta ~ N(mean, sd)`` and effectiveness ``p * g`` from an
  :class:`~workbench.recommend.effectiveness.EffectivenessModel`:
  ``effectiveness * (0.05 + sum_c A[m, c] * max(e_c - theta_c, 0)) * level fit``;
* ``moment``: ``1 + s / (1 + s)`` for the moment's modules and ``s / (1 + s)`` for others,
  with ``s`` the priority score, so the moment's modules always come first;
* ``popular``: completions count; ``random``: uniform draws.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from workbench.content import Library

from . import reasons as text
from .catalog import Catalog, ContextBatch, catalog_for
from .context import ROLE_LEVELS, LeaderContext
from .effectiveness import EffectivenessModel
from .needs import urgency

THOMPSON_FLOOR = 0.05


@dataclass(frozen=True)
class ScoredCandidate:
    """One module as a strategy sees it for one leader (no constraints applied)."""

    module_id: str
    score: float
    competency: str  # the competency the reason names (the one driving the score)
    reason: str


def _as_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


class Strategy(ABC):
    """Scores modules for leaders; see the module docstring for each strategy's formula."""

    name: ClassVar[str]
    policy: ClassVar[str] = "greedy"
    #: Outside data the strategy is built with: keyword arguments of its constructor, supplied by
    #: whoever builds it (the store's service, the simulation), e.g. ``popularity`` for ``popular``.
    #: :meth:`build` passes exactly these, so no caller switches on a strategy's name.
    needs: ClassVar[tuple[str, ...]] = ()
    #: The strategy needs a moment in every leader's context.
    needs_moment: ClassVar[bool] = False

    @classmethod
    def build(cls, **data) -> Strategy:
        """The strategy from the outside data it :attr:`needs` (missing ones as None, others ignored)."""
        return cls(**{key: data.get(key) for key in cls.needs})

    @abstractmethod
    def scores(self, batch: ContextBatch, rng: np.random.Generator) -> np.ndarray:
        """(N, M) scores, higher is better (one posterior draw for sampled strategies)."""

    def score_draws(self, batch: ContextBatch, rng: np.random.Generator, n_draws: int) -> np.ndarray:
        """(S, N, M) independent score draws; only sampled strategies need more than one."""
        return np.stack([self.scores(batch, rng) for _ in range(n_draws)])

    def focus(self, batch: ContextBatch, rows: np.ndarray, modules: np.ndarray) -> np.ndarray:
        """Competency index each chosen module's reason names: the one driving its need score."""
        cat = batch.catalog
        weight = cat.relevance[modules] * (urgency(batch.need[rows]) * (0.5 + cat.priority)[None, :])
        weight = np.where(cat.relevance[modules] > 0, weight, -np.inf)
        return weight.argmax(axis=1)

    @abstractmethod
    def reasons(self, batch: ContextBatch, rows: np.ndarray, modules: np.ndarray,
                focus: np.ndarray) -> list[str]:
        """One sentence per (row, module) pair, naming the competency ``focus``."""

    # ------------------------------------------------------------- one leader
    def rank(self, context: LeaderContext, library: Library | Catalog,
             rng: np.random.Generator | int | None = None) -> list[ScoredCandidate]:
        """Every module scored for one leader, best first (ties in library order)."""
        batch = ContextBatch.from_contexts([context], catalog_for(library))
        s = self.scores(batch, _as_rng(rng))[0]
        order = np.argsort(-s, kind="stable")
        rows = np.zeros(order.size, dtype=np.int64)
        foc = self.focus(batch, rows, order)
        why = self.reasons(batch, rows, order, foc)
        cat = batch.catalog
        return [ScoredCandidate(cat.module_ids[m], float(s[m]), cat.competency_ids[f], r)
                for m, f, r in zip(order, foc, why, strict=True)]


# ---------------------------------------------------------------- need-based
def gap_scores(batch: ContextBatch) -> np.ndarray:
    cat = batch.catalog
    need = batch.need
    return need[:, cat.primary] + np.maximum(need, 0.0) @ cat.secondary.T


def priority_scores(batch: ContextBatch) -> np.ndarray:
    cat = batch.catalog
    weighted = urgency(batch.need) * (0.5 + cat.priority)[None, :]
    return (weighted @ cat.relevance.T) * batch.level_fit


def _need_info(batch: ContextBatch, rows: np.ndarray, focus: np.ndarray) -> tuple[list[str], list[int]]:
    """Each pair's band (:mod:`workbench.skills.need`) and development-area rank, bucketed to what
    the reason text depends on (the band, and the rank up to 3) so the cached text functions hit often."""
    return batch.band[rows, focus].tolist(), np.minimum(batch.need_rank[rows, focus], 3).tolist()


class GapStrategy(Strategy):
    """Largest development need first (gap to the role's expectation, scaled by certainty)."""

    name = "gap"

    def scores(self, batch: ContextBatch, rng: np.random.Generator) -> np.ndarray:
        return gap_scores(batch)

    def focus(self, batch: ContextBatch, rows: np.ndarray, modules: np.ndarray) -> np.ndarray:
        cat = batch.catalog
        weight = np.where(cat.relevance[modules] > 0, cat.relevance[modules] * batch.need[rows], -np.inf)
        return weight.argmax(axis=1)

    def reasons(self, batch, rows, modules, focus):
        cat = batch.catalog
        need, rank = _need_info(batch, rows, focus)
        names, levels = cat.competency_names, batch.level[rows].tolist()
        return [text.gap_reason(names[f], n, r, ROLE_LEVELS[lv])
                for lv, f, n, r in zip(levels, focus.tolist(), need, rank, strict=True)]


class PriorityStrategy(Strategy):
    """Needs weighted by the organization's priorities and the fit of the module's level."""

    name = "priority"

    def scores(self, batch: ContextBatch, rng: np.random.Generator) -> np.ndarray:
        return priority_scores(batch)

    def reasons(self, batch, rows, modules, focus):
        cat = batch.catalog
        need, rank = _need_info(batch, rows, focus)
        names, prio = cat.competency_names, cat.priority.tolist()
        levels = batch.level[rows].tolist()
        found = (batch.first_time[rows] & (cat.level[modules] == 0)).tolist()
        why = cat.priority_rationales
        return [text.priority_reason(names[f], n, r, ROLE_LEVELS[lv], prio[f], fd, why[f] if why else "")
                for lv, f, n, r, fd in zip(levels, focus.tolist(), need, rank, found, strict=True)]


class MomentStrategy(Strategy):
    """The leader's current moment's modules first, each group ordered by the priority score."""

    name = "moment"
    needs_moment = True

    def scores(self, batch: ContextBatch, rng: np.random.Generator) -> np.ndarray:
        missing = np.flatnonzero(batch.moment < 0)
        if missing.size:
            raise ValueError(f"the moment strategy needs a moment in the context; leader "
                             f"{batch.leader_ids[missing[0]]} has none")
        s = priority_scores(batch)
        inside = batch.catalog.moment_modules[batch.moment]
        return inside + s / (1.0 + s)

    def reasons(self, batch, rows, modules, focus):
        cat = batch.catalog
        need, rank = _need_info(batch, rows, focus)
        inside = cat.moment_modules[batch.moment[rows], modules]
        names, prio = cat.competency_names, cat.priority.tolist()
        levels, moments = batch.level[rows].tolist(), batch.moment[rows].tolist()
        found = (batch.first_time[rows] & (cat.level[modules] == 0)).tolist()
        out = []
        for lv, mo, f, n, r, inm, fd in zip(levels, moments, focus.tolist(), need, rank, inside.tolist(), found,
                                            strict=True):
            if inm:
                out.append(text.moment_reason(names[f], n, r, cat.moment_names[mo]))
            else:
                out.append(text.priority_reason(names[f], n, r, ROLE_LEVELS[lv], prio[f], fd,
                                                cat.priority_rationales[f] if cat.priority_rationales else ""))
        return out


# ------------------------------------------------------------------ Thompson
class ThompsonStrategy(Strategy):
    """Thompson sampling over the leader's skill posterior and modules' effectiveness posterior."""

    name = "thompson"
    policy = "sampled"
    needs = ("effectiveness",)

    def __init__(self, effectiveness: EffectivenessModel | None = None):
        if effectiveness is not None and not isinstance(effectiveness, EffectivenessModel):
            raise ValueError(f"effectiveness must be an EffectivenessModel, got {type(effectiveness).__name__}")
        self.effectiveness = effectiveness
        self._aligned: tuple[Catalog, EffectivenessModel] | None = None

    def model_for(self, catalog: Catalog) -> EffectivenessModel:
        """The effectiveness model aligned with the catalog's modules (the prior when none was given)."""
        if self._aligned is None or self._aligned[0] is not catalog:
            base = self.effectiveness or EffectivenessModel.prior(catalog.module_ids)
            self._aligned = (catalog, base.aligned(catalog.module_ids))
        return self._aligned[1]

    def scores(self, batch: ContextBatch, rng: np.random.Generator) -> np.ndarray:
        return self.score_draws(batch, rng, 1)[0]

    def score_draws(self, batch: ContextBatch, rng: np.random.Generator, n_draws: int) -> np.ndarray:
        cat = batch.catalog
        eff = self.model_for(cat).sample(rng, n_draws)  # (S, M)
        z = rng.standard_normal((n_draws, len(batch), cat.n_competencies))
        theta = batch.mean[None] + batch.sd[None] * z
        shortfall = np.maximum(batch.expectation[None] - theta, 0.0)
        relevance = shortfall @ cat.relevance.T + THOMPSON_FLOOR  # (S, N, M)
        relevance *= eff[:, None, :]
        relevance *= batch.level_fit[None]
        return relevance

    def reasons(self, batch, rows, modules, focus):
        cat = batch.catalog
        need, rank = _need_info(batch, rows, focus)
        return [text.thompson_reason(cat.competency_names[f], n, r)
                for f, n, r in zip(focus.tolist(), need, rank, strict=True)]


# ----------------------------------------------------------------- baselines
class PopularStrategy(Strategy):
    """Most-completed modules first (completions per module id, given as input)."""

    name = "popular"
    needs = ("popularity",)

    def __init__(self, popularity: Mapping[str, int | float]):
        if popularity is None or not isinstance(popularity, Mapping):
            raise ValueError("the popular strategy needs popularity: a mapping of module id to completions")
        for mid, n in popularity.items():
            if isinstance(n, bool) or not isinstance(n, int | float | np.integer | np.floating) \
                    or not np.isfinite(n) or n < 0:
                raise ValueError(f"popularity[{mid!r}] must be a count >= 0, got {n!r}")
        self.popularity = dict(popularity)

    def counts(self, catalog: Catalog) -> np.ndarray:
        return np.array([float(self.popularity.get(m, 0)) for m in catalog.module_ids])

    def scores(self, batch: ContextBatch, rng: np.random.Generator) -> np.ndarray:
        return np.broadcast_to(self.counts(batch.catalog), (len(batch), batch.catalog.n_modules))

    def focus(self, batch, rows, modules):
        return batch.catalog.primary[modules]

    def reasons(self, batch, rows, modules, focus):
        cat = batch.catalog
        return [text.popular_reason(cat.competency_names[f], int(round(self.popularity.get(cat.module_ids[m], 0))))
                for m, f in zip(modules.tolist(), focus.tolist(), strict=True)]


class RandomStrategy(Strategy):
    """Uniformly random scores: every feasible module is equally likely to be chosen."""

    name = "random"
    policy = "uniform"

    def scores(self, batch: ContextBatch, rng: np.random.Generator) -> np.ndarray:
        return rng.random((len(batch), batch.catalog.n_modules))

    def focus(self, batch, rows, modules):
        return batch.catalog.primary[modules]

    def reasons(self, batch, rows, modules, focus):
        cat = batch.catalog
        return [text.random_reason(cat.competency_names[f]) for f in focus.tolist()]


STRATEGIES: dict[str, type[Strategy]] = {
    s.name: s for s in (GapStrategy, PriorityStrategy, ThompsonStrategy, MomentStrategy, PopularStrategy,
                        RandomStrategy)
}


def get_strategy(
    strategy: str | Strategy,
    popularity: Mapping[str, int | float] | None = None,
    effectiveness: EffectivenessModel | None = None,
) -> Strategy:
    """A strategy object by name (or the object itself), given the inputs it needs."""
    if isinstance(strategy, Strategy):
        return strategy
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}")
    return STRATEGIES[strategy].build(popularity=popularity, effectiveness=effectiveness)
