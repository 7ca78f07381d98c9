"""The library as arrays, computed once, and leaders' contexts as arrays over it.

Strategies and the engine score every leader against every module with numpy. A
:class:`Catalog` holds what they need about the modules (minutes, level, format, primary and
secondary competencies, prerequisites, moments) and about the organization (expectations
per role level, priority weights); :func:`catalog_for` builds it once per library object.
A :class:`ContextBatch` holds N leaders' contexts as matrices over the same axes.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from workbench.content import Library

from .context import FORMATS, ROLE_LEVELS, LeaderContext
from .needs import assess

#: How much a module counts towards its secondary competencies (primary counts 1).
SECONDARY_WEIGHT = 0.5
#: Fit of a module level (columns) for a leader role level (rows), in ROLE_LEVELS order.
LEVEL_FIT = np.array([
    [1.00, 0.60, 0.30],  # first-time leader
    [0.80, 1.00, 0.70],  # experienced
    [0.60, 0.85, 1.00],  # senior
])
#: Fit of a module level for a leader in their first leadership role: foundations first.
FIRST_TIME_FIT = np.array([1.00, 0.35, 0.15])


@dataclass(frozen=True, eq=False)
class Catalog:
    """Module and organization features as arrays (``M`` modules, ``C`` competencies)."""

    competency_ids: tuple[str, ...]
    competency_names: tuple[str, ...]
    module_ids: tuple[str, ...]
    titles: tuple[str, ...]
    minutes: np.ndarray  # (M,) float
    level: np.ndarray  # (M,) int index into ROLE_LEVELS
    format: np.ndarray  # (M,) int index into FORMATS
    primary: np.ndarray  # (M,) int competency index
    relevance: np.ndarray  # (M, C): 1 for the primary competency, SECONDARY_WEIGHT for others
    secondary: np.ndarray  # (M, C): SECONDARY_WEIGHT for secondary competencies, else 0
    prerequisites: np.ndarray  # (M, M) float: [m, j] = 1 when j is a prerequisite of m
    n_prerequisites: np.ndarray  # (M,)
    expectations: np.ndarray  # (L, C) expected theta per role level
    priority: np.ndarray  # (C,) organization priority weight 0..1
    organization_name: str
    moment_ids: tuple[str, ...]
    moment_names: tuple[str, ...]
    moment_modules: np.ndarray  # (Mo, M) bool
    moment_competencies: np.ndarray  # (Mo, C) bool
    #: (C,) the organization's stated reason for each priority ("" for none); quoted in reasons
    priority_rationales: tuple[str, ...] = ()

    @cached_property
    def module_index(self) -> dict[str, int]:
        return {m: i for i, m in enumerate(self.module_ids)}

    @cached_property
    def competency_index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.competency_ids)}

    @cached_property
    def moment_index(self) -> dict[str, int]:
        return {m: i for i, m in enumerate(self.moment_ids)}

    @property
    def n_modules(self) -> int:
        return len(self.module_ids)

    @property
    def n_competencies(self) -> int:
        return len(self.competency_ids)

    def require_moment(self, moment_id: str) -> int:
        """Index of a moment id; a ValueError naming it (and the known ones) otherwise."""
        try:
            return self.moment_index[moment_id]
        except KeyError:
            raise ValueError(f"unknown moment {moment_id!r}; known moments: {', '.join(self.moment_ids)}") from None

    @classmethod
    def from_library(cls, library: Library) -> Catalog:
        comps = tuple(library.competencies)
        if not comps:
            raise ValueError("the library has no competencies")
        if not library.modules:
            raise ValueError("the library has no modules")
        cidx = {c: i for i, c in enumerate(comps)}
        mods = list(library.modules.values())
        midx = {m.id: i for i, m in enumerate(mods)}
        M, C = len(mods), len(comps)
        relevance = np.zeros((M, C))
        secondary = np.zeros((M, C))
        primary = np.zeros(M, dtype=np.int64)
        prereq = np.zeros((M, M))
        for i, m in enumerate(mods):
            unknown = [c for c in m.competencies if c not in cidx]
            if unknown:
                raise ValueError(f"module {m.id!r} names unknown competencies {unknown}")
            primary[i] = cidx[m.competencies[0]]
            for c in m.competencies[1:]:
                secondary[i, cidx[c]] = SECONDARY_WEIGHT
            relevance[i] = secondary[i]
            relevance[i, primary[i]] = 1.0
            for p in m.prerequisites:
                if p not in midx:
                    raise ValueError(f"module {m.id!r} has unknown prerequisite {p!r}")
                prereq[i, midx[p]] = 1.0
        org = library.organization
        expectations = np.zeros((len(ROLE_LEVELS), C))
        priority = np.zeros(C)
        if org is not None:
            for li, level in enumerate(ROLE_LEVELS):
                for c, v in org.expectations.get(level, {}).items():
                    if c in cidx:
                        expectations[li, cidx[c]] = v
            for p in org.priorities:
                if p.competency in cidx:
                    priority[cidx[p.competency]] = p.weight
        moments = list(library.moments.values())
        moment_modules = np.zeros((len(moments), M), dtype=bool)
        moment_comps = np.zeros((len(moments), C), dtype=bool)
        for k, mo in enumerate(moments):
            for mid in mo.modules:
                if mid in midx:
                    moment_modules[k, midx[mid]] = True
            for c in mo.competencies:
                if c in cidx:
                    moment_comps[k, cidx[c]] = True
        return cls(
            competency_ids=comps,
            competency_names=tuple(library.competencies[c].name for c in comps),
            module_ids=tuple(m.id for m in mods),
            titles=tuple(m.title for m in mods),
            minutes=np.array([float(m.minutes) for m in mods]),
            level=np.array([ROLE_LEVELS.index(m.level) for m in mods], dtype=np.int64),
            format=np.array([FORMATS.index(m.format) for m in mods], dtype=np.int64),
            primary=primary,
            relevance=relevance,
            secondary=secondary,
            prerequisites=prereq,
            n_prerequisites=prereq.sum(axis=1),
            expectations=expectations,
            priority=priority,
            organization_name=org.name if org is not None else "your organization",
            moment_ids=tuple(mo.id for mo in moments),
            moment_names=tuple(mo.name for mo in moments),
            moment_modules=moment_modules,
            moment_competencies=moment_comps,
            priority_rationales=tuple(org.priority_rationale(c) if org is not None else "" for c in comps),
        )


_CACHE: dict[int, tuple[weakref.ref, Catalog]] = {}
_LOCK = threading.Lock()


def catalog_for(library: Library | Catalog) -> Catalog:
    """The :class:`Catalog` of a library, built on first use and kept while the library lives."""
    if isinstance(library, Catalog):
        return library
    key = id(library)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit[0]() is library:
            return hit[1]
    cat = Catalog.from_library(library)
    with _LOCK:
        _CACHE[key] = (weakref.ref(library, lambda _r, k=key: _CACHE.pop(k, None)), cat)
    return cat


@dataclass(frozen=True, eq=False)
class ContextBatch:
    """``N`` leader contexts as arrays over a :class:`Catalog`'s competencies and modules."""

    catalog: Catalog
    leader_ids: tuple[str, ...]
    mean: np.ndarray  # (N, C)
    sd: np.ndarray  # (N, C)
    level: np.ndarray  # (N,) role level index
    first_time: np.ndarray  # (N,) bool
    completed: np.ndarray  # (N, M) bool
    active: np.ndarray  # (N, M) bool: active or started recommendations in the library
    active_count: np.ndarray  # (N,) int: all active or started recommendations
    remaining: np.ndarray  # (N,) minutes left this week
    format_preference: np.ndarray  # (N,) int index into FORMATS, -1 for none
    moment: np.ndarray  # (N,) int moment index, -1 for none
    recent: np.ndarray  # (N, C) recent minutes
    declined: np.ndarray | None = None  # (N, M) bool: turned down recently, never served; None = nothing

    def __len__(self) -> int:
        return len(self.leader_ids)

    @classmethod
    def from_contexts(cls, contexts: Sequence[LeaderContext], library: Library | Catalog) -> ContextBatch:
        """Arrays for ``contexts``; a ValueError names the leader for an unknown competency or moment."""
        cat = catalog_for(library)
        cidx, midx = cat.competency_index, cat.module_index
        comps = cat.competency_ids
        N, C, M = len(contexts), cat.n_competencies, cat.n_modules
        mean = np.zeros((N, C))
        sd = np.ones((N, C))
        recent = np.zeros((N, C))
        completed = np.zeros((N, M), dtype=bool)
        active = np.zeros((N, M), dtype=bool)
        declined = np.zeros((N, M), dtype=bool)
        active_count = np.zeros(N, dtype=np.int64)
        level = np.zeros(N, dtype=np.int64)
        first_time = np.zeros(N, dtype=bool)
        remaining = np.zeros(N)
        fmt = np.full(N, -1, dtype=np.int64)
        moment = np.full(N, -1, dtype=np.int64)
        level_of = {lv: i for i, lv in enumerate(ROLE_LEVELS)}
        fmt_of = {f: i for i, f in enumerate(FORMATS)}
        for n, ctx in enumerate(contexts):
            if not isinstance(ctx, LeaderContext):
                raise ValueError(f"contexts[{n}] is a {type(ctx).__name__}, not a LeaderContext")
            sm = ctx.skill_mean
            if sm:
                if len(sm) == C and all(c in sm for c in comps):
                    mean[n] = [sm[c] for c in comps]
                    sd[n] = [ctx.skill_sd[c] for c in comps]
                else:
                    for c, v in sm.items():
                        j = cidx.get(c)
                        if j is None:
                            raise ValueError(f"leader {ctx.leader_id}: unknown competency {c!r} in skill_mean; "
                                             f"known: {', '.join(comps)}")
                        mean[n, j] = v
                        sd[n, j] = ctx.skill_sd[c]
            for c, v in ctx.recent_minutes.items():
                j = cidx.get(c)
                if j is None:
                    raise ValueError(f"leader {ctx.leader_id}: unknown competency {c!r} in recent_minutes")
                recent[n, j] = v
            for mid in ctx.completed:
                j = midx.get(mid)
                if j is not None:
                    completed[n, j] = True
            for mid in ctx.active:
                j = midx.get(mid)
                if j is not None:
                    active[n, j] = True
            for mid in ctx.declined:
                j = midx.get(mid)
                if j is not None:
                    declined[n, j] = True
            active_count[n] = len(ctx.active)
            level[n] = level_of[ctx.role_level]
            first_time[n] = bool(ctx.first_time)
            remaining[n] = ctx.remaining_minutes
            if ctx.format_preference is not None:
                fmt[n] = fmt_of[ctx.format_preference]
            if ctx.moment is not None:
                j = cat.moment_index.get(ctx.moment)
                if j is None:
                    raise ValueError(f"leader {ctx.leader_id}: unknown moment {ctx.moment!r}; "
                                     f"known moments: {', '.join(cat.moment_ids)}")
                moment[n] = j
        return cls(cat, tuple(c.leader_id for c in contexts), mean, sd, level, first_time, completed, active,
                   active_count, remaining, fmt, moment, recent, declined if declined.any() else None)

    def take(self, rows: slice | np.ndarray) -> ContextBatch:
        """The sub-batch of some rows (a slice or an index array)."""
        ids = np.asarray(self.leader_ids, dtype=object)[rows]
        return ContextBatch(self.catalog, tuple(ids), *(getattr(self, f)[rows] for f in (
            "mean", "sd", "level", "first_time", "completed", "active", "active_count", "remaining",
            "format_preference", "moment", "recent")), None if self.declined is None else self.declined[rows])

    # ------------------------------------------------------------ derived arrays
    @cached_property
    def expectation(self) -> np.ndarray:
        """(N, C) the organization's expectation for each leader's role level."""
        return self.catalog.expectations[self.level]

    @cached_property
    def _needs(self):
        return assess(self.mean, self.sd, self.expectation)

    @cached_property
    def need(self) -> np.ndarray:
        """(N, C) need score (:func:`workbench.skills.need.assess`): gap scaled by its certainty."""
        return self._needs.score

    @cached_property
    def band(self) -> np.ndarray:
        """(N, C) ``"development area"``, ``"in range"`` or ``"strength"`` (:mod:`workbench.skills.need`)."""
        return self._needs.label

    @cached_property
    def development(self) -> np.ndarray:
        """(N, C) True where the competency is a development area of the leader."""
        return self._needs.development_area

    @cached_property
    def need_rank(self) -> np.ndarray:
        """(N, C) 0 for each leader's largest development area, 1 for the next, ...; development
        areas first (largest need first), then the other competencies by need."""
        order = np.lexsort((-self.need, ~self.development), axis=1)  # last key sorts first
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(order.shape[1])[None, :], axis=1)
        return rank

    @cached_property
    def level_fit(self) -> np.ndarray:
        """(N, M) how well each module's level fits each leader (first-time leaders: foundations)."""
        cat = self.catalog
        fit = LEVEL_FIT[self.level][:, cat.level]
        if self.first_time.any():
            fit = np.where(self.first_time[:, None], FIRST_TIME_FIT[cat.level][None, :], fit)
        return fit

    @cached_property
    def prerequisites_met(self) -> np.ndarray:
        """(N, M) True where every prerequisite of the module is completed."""
        cat = self.catalog
        if not cat.n_prerequisites.any():
            return np.ones(self.completed.shape, dtype=bool)
        done = self.completed.astype(float) @ cat.prerequisites.T
        return done >= cat.n_prerequisites[None, :] - 0.5

    @cached_property
    def active_primary(self) -> np.ndarray:
        """(N, C) True where an active recommendation's primary competency is c."""
        cat = self.catalog
        out = np.zeros((len(self), cat.n_competencies), dtype=bool)
        rows, mods = np.nonzero(self.active)
        out[rows, cat.primary[mods]] = True
        return out
