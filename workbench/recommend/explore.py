"""Individual exploration: library search with filters, and what to explore next.

Search ranks documents with the one text index over the library
(:class:`workbench.content.search.LibraryIndex`) and then applies the filters.
:func:`explore_next` suggests modules from what the leader did (the competencies of their
completed and started modules, recent minutes, modules whose prerequisites they have now
completed, text close to what they worked on) and from where their skill profile points.
Suggestions are not recommendations: no weekly budget or open-recommendation limit applies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.content import Library
from workbench.content.search import KINDS, LibraryIndex, index_for

from . import reasons as text
from .catalog import ContextBatch, catalog_for
from .context import FORMATS, ROLE_LEVELS, LeaderContext
from .needs import urgency

#: Weights of the signals in :func:`explore_next`.
W_UNLOCKED, W_CONTINUE, W_SIMILAR, W_PROFILE = 1.0, 0.6, 0.4, 0.8
#: Each earlier suggestion with the same primary competency multiplies a module's score by this.
SPREAD_DISCOUNT = 0.7


@dataclass(frozen=True)
class SearchResult:
    """One search hit; ``minutes``, ``format`` and ``level`` are set for modules only."""

    kind: str
    id: str
    title: str
    score: float
    competencies: tuple[str, ...]
    minutes: int | None = None
    format: str | None = None
    level: str | None = None


def search_library(
    library: Library,
    query: str,
    k: int = 10,
    *,
    competency: str | None = None,
    format: str | None = None,
    max_minutes: int | None = None,
    level: str | None = None,
    kinds: tuple[str, ...] = ("module",),
    index: LibraryIndex | None = None,
) -> list[SearchResult]:
    """Library documents matching ``query``, best first, that pass every filter.

    Parameters
    ----------
    query
        Free text. An empty query lists the documents that pass the filters in library order
        (score 0).
    k
        At most this many results.
    competency, format, max_minutes, level
        Filters. ``format``, ``max_minutes`` and ``level`` describe modules, so giving any of
        them keeps modules only.
    kinds
        Document kinds to search (``module``, ``moment``, ``scenario``, ``tip``, ``framework``).
    index
        A prebuilt index (default: one cached per library).
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    if competency is not None and competency not in library.competencies:
        raise ValueError(f"unknown competency {competency!r}; known: {', '.join(library.competencies)}")
    if format is not None and format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; expected one of {FORMATS}")
    if level is not None and level not in ROLE_LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {ROLE_LEVELS}")
    if max_minutes is not None and (isinstance(max_minutes, bool) or max_minutes < 1):
        raise ValueError(f"max_minutes must be >= 1, got {max_minutes!r}")
    kinds = tuple(kinds)
    bad = [x for x in kinds if x not in KINDS]
    if bad or not kinds:
        raise ValueError(f"unknown document kinds {bad}; expected some of {KINDS}")
    if format is not None or max_minutes is not None or level is not None:
        kinds = tuple(x for x in kinds if x == "module")
        if not kinds:
            return []
    index = index or index_for(library)

    def keep(kind: str, doc_id: str) -> bool:
        if kind != "module":
            return True
        m = library.modules[doc_id]
        return ((format is None or m.format == format) and (level is None or m.level == level)
                and (max_minutes is None or m.minutes <= max_minutes))

    query = (query or "").strip()
    if query:
        hits = [(h.doc, h.score) for h in index.search(query, k=len(index.docs), kinds=kinds, competency=competency)]
    else:
        hits = [(d, 0.0) for d in index.docs
                if d.kind in kinds and (competency is None or competency in d.competencies)]
    out = []
    for doc, score in hits:
        if not keep(doc.kind, doc.id):
            continue
        m = library.modules.get(doc.id) if doc.kind == "module" else None
        out.append(SearchResult(doc.kind, doc.id, doc.title, float(score), tuple(doc.competencies),
                                m.minutes if m else None, m.format if m else None, m.level if m else None))
        if len(out) == k:
            break
    return out


@dataclass(frozen=True)
class Suggestion:
    """A module to explore next and why (``basis``: unlocked, continue or profile)."""

    module_id: str
    title: str
    minutes: int
    competency: str
    score: float
    basis: str
    reason: str


def explore_next(context: LeaderContext, library: Library, k: int = 5,
                 index: LibraryIndex | None = None) -> list[Suggestion]:
    """Up to ``k`` modules to explore next, from what the leader did and their profile.

    Candidates are modules not completed or open whose prerequisites are all completed.
    Each gets ``(1.0 * unlocked + 0.6 * continuity + 0.4 * similarity + 0.8 * profile)``
    times the square root of the fit of its level to the leader (first-time leaders are kept
    near foundations), where
    *unlocked* is 1 when it has prerequisites (all completed), *continuity* is how much of
    the leader's activity (modules done or open, recent minutes) is in its competencies,
    *similarity* is its text similarity to the modules they worked on, and *profile* is its
    development-need score; all in [0, 1]. Picks are made one at a time, discounting modules
    whose primary competency was already suggested, so suggestions spread.
    """
    if not isinstance(context, LeaderContext):
        raise ValueError(f"context must be a LeaderContext, got {type(context).__name__}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise ValueError(f"k must be an integer >= 0, got {k!r}")
    cat = catalog_for(library)
    batch = ContextBatch.from_contexts([context], cat)
    done, open_ = batch.completed[0], batch.active[0]
    avail = ~done & ~open_ & batch.prerequisites_met[0]
    if k == 0 or not avail.any():
        return []
    unlocked = (cat.n_prerequisites > 0).astype(float)
    worked = done | open_
    interest = cat.relevance[worked].T @ cat.minutes[worked] + batch.recent[0]
    interest = interest / interest.max() if interest.max() > 0 else interest
    continuity = (cat.relevance * interest[None, :]).max(axis=1)
    similarity = np.zeros(cat.n_modules)
    if worked.any():
        idx = index or index_for(library)
        query = " ".join(f"{library.modules[cat.module_ids[m]].title}. {library.modules[cat.module_ids[m]].summary}"
                         for m in np.flatnonzero(worked))
        for hit in idx.search(query, k=len(idx.docs), kinds=("module",)):
            similarity[cat.module_index[hit.doc.id]] = hit.score
        top = similarity[avail].max() if avail.any() else 0.0
        similarity = similarity / top if top > 0 else similarity
    need = batch.need[0]
    weight = urgency(need) * (0.5 + cat.priority)
    profile = (cat.relevance @ weight) * batch.level_fit[0]
    profile = profile / profile[avail].max() if profile[avail].max() > 0 else profile
    parts = np.stack([W_UNLOCKED * unlocked, W_CONTINUE * continuity + W_SIMILAR * similarity, W_PROFILE * profile])
    score = np.where(avail, parts.sum(axis=0) * np.sqrt(batch.level_fit[0]), -np.inf)
    picks: list[int] = []
    left = score.copy()
    for _ in range(min(k, int(avail.sum()))):
        m = int(np.argmax(left))
        picks.append(m)
        left[m] = -np.inf
        left = np.where(cat.primary == cat.primary[m], left * SPREAD_DISCOUNT, left)
    out = []
    rank = batch.need_rank[0]
    for m in picks:
        basis = ("unlocked", "continue", "profile")[int(np.argmax(parts[:, m]))]
        c = int(cat.primary[m])
        name = cat.competency_names[c]
        if basis == "unlocked":
            before = [library.modules[p].title for p in library.modules[cat.module_ids[m]].prerequisites]
            reason = (f"You completed \u201c{before[0]}\u201d, which opens this next step on "
                      f"{text.mid_sentence(name)}.")
        elif basis == "continue":
            c = int(np.argmax(np.where(cat.relevance[m] > 0, cat.relevance[m] * interest, -np.inf)))
            reason = (f"You have been working on {text.mid_sentence(cat.competency_names[c])}; "
                      f"this takes it further.")
        else:
            c = int(np.argmax(np.where(cat.relevance[m] > 0, cat.relevance[m] * weight, -np.inf)))
            phrase = text.need_phrase(batch.band[0, c], int(rank[c])) or text.standing_phrase(batch.band[0, c])
            reason = f"Your profile points here: {cat.competency_names[c]} is {phrase}."
        out.append(Suggestion(cat.module_ids[m], cat.titles[m], int(cat.minutes[m]), cat.competency_ids[int(cat.primary[m])],
                              float(score[m]), basis, reason))
    return out
