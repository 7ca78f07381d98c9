"""A moment pack: what a leader needs in a leadership moment, in one place.

For a moment (``content/moments.yaml``) the pack holds its checklist, one short module, one
practice scenario and a coaching question to open with, each chosen for the leader: the
moment's competencies are ordered by the leader's development need, and the module and
scenario that serve the neediest of them come first. The weekly time budget does not apply:
a pack is support for right now, not part of the weekly plan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.content import Library

from . import reasons as text
from .catalog import ContextBatch, catalog_for
from .context import LeaderContext
from .needs import urgency

#: Modules up to this many minutes count as short.
SHORT_MINUTES = 15
MAX_MODULE_MINUTES = 30


@dataclass(frozen=True)
class PackItem:
    """A module or scenario in a moment pack."""

    kind: str  # "module" | "scenario"
    id: str
    title: str
    minutes: int | None
    competency: str  # the moment competency it serves best (name)
    reason: str


@dataclass(frozen=True)
class MomentPack:
    """Everything for one moment, ordered by the leader's needs in its competencies."""

    moment_id: str
    name: str
    kind: str
    competencies: tuple[str, ...]  # the moment's competency ids, largest need first
    checklist: tuple[str, ...]
    module: PackItem | None
    scenario: PackItem | None
    coaching_opener: str | None
    coaching_competency: str | None


def moment_pack(context: LeaderContext, library: Library, moment_id: str) -> MomentPack:
    """The moment pack of ``moment_id`` for this leader.

    Raises
    ------
    ValueError
        For an unknown moment id (naming it and the known ones).
    """
    if not isinstance(context, LeaderContext):
        raise ValueError(f"context must be a LeaderContext, got {type(context).__name__}")
    cat = catalog_for(library)
    k = cat.require_moment(moment_id)
    moment = library.moments[moment_id]
    batch = ContextBatch.from_contexts([context], cat)
    need, rank = batch.need[0], batch.need_rank[0]
    weight = urgency(need) * (0.5 + cat.priority)  # how much each competency matters to this leader
    in_moment = cat.moment_competencies[k]
    order = sorted(np.flatnonzero(in_moment), key=lambda c: (-need[c], moment.competencies.index(cat.competency_ids[c])))
    comps = tuple(cat.competency_ids[c] for c in order)

    def describe(c: int) -> str:
        return text.need_phrase(batch.band[0, c], int(rank[c])) or text.standing_phrase(batch.band[0, c])

    # one short module ------------------------------------------------------
    module = None
    ok = (~batch.completed[0] & batch.prerequisites_met[0] & (cat.minutes <= MAX_MODULE_MINUTES))
    ids = [cat.module_index[m] for m in moment.modules if m in cat.module_index]
    pool = [m for m in ids if ok[m]]
    if not pool:  # everything in the moment is done: other modules on its competencies
        pool = [m for m in np.flatnonzero(ok) if in_moment[cat.primary[m]]]
    if pool:
        short = [m for m in pool if cat.minutes[m] <= SHORT_MINUTES]
        pool = short or [min(pool, key=lambda m: cat.minutes[m])]
        value = {m: float((cat.relevance[m] * weight * in_moment).sum()) for m in pool}
        best = max(pool, key=lambda m: (value[m], -cat.minutes[m], -pool.index(m)))
        serves = np.where((cat.relevance[best] > 0) & in_moment, cat.relevance[best] * weight, -np.inf)
        c = int(serves.argmax()) if np.isfinite(serves.max()) else int(cat.primary[best])
        module = PackItem("module", cat.module_ids[best], cat.titles[best], int(cat.minutes[best]),
                          cat.competency_names[c],
                          f"A short module for this moment: it works on {text.mid_sentence(cat.competency_names[c])}, "
                          f"{describe(c)}.")

    # one practice scenario ----------------------------------------------------
    scenario = None
    scen = [library.scenarios[s] for s in moment.scenarios if s in library.scenarios]
    if not scen and comps:
        scen = library.scenarios_for(comps[0])
    if scen:
        def serves_s(s) -> tuple[float, int]:
            cs = [cat.competency_index[c] for c in s.competencies if c in cat.competency_index]
            inside = [c for c in cs if in_moment[c]] or cs
            return max((float(weight[c]) for c in inside), default=0.0), max(inside, key=lambda c: weight[c])

        best_s = max(scen, key=lambda s: serves_s(s)[0])
        c = serves_s(best_s)[1]
        scenario = PackItem("scenario", best_s.id, best_s.title, None, cat.competency_names[c],
                            f"Practise the moment safely first: it exercises {text.mid_sentence(cat.competency_names[c])}, "
                            f"{describe(c)}.")

    # coaching opener ------------------------------------------------------------
    opener = opener_comp = None
    for cid in comps:
        guide = library.coaching.get(cid)
        if guide is not None and guide.questions.goal:
            opener, opener_comp = guide.questions.goal[0], cid
            break

    return MomentPack(moment.id, moment.name, moment.kind, comps, tuple(moment.checklist), module, scenario,
                      opener, opener_comp)
