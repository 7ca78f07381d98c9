"""Grounding the coach in the library: which competency a leader talks about, and what to cite.

Both use the one text index of the library, :class:`workbench.content.search.LibraryIndex`.

*Detection.* The leader's words are a query; the top :data:`DETECT_K` documents of every kind
vote for their primary competency with their similarity score, optionally multiplied by a
prior (``1 + prior[c]``) built from what we know about the leader (development areas ordered
by need, the competencies of their current moment). When the message has no content word
outside :data:`GENERIC_WORDS` ("I want to be a better leader") or
the best document scores below :data:`MIN_SCORE` (the best match of every question in the
labeled evaluation set scores above 0.08; greetings and gibberish score below 0.065), the words
say too little and no competency is detected.

*Citations.* Coaching tips, coaching frameworks, modules and moment checklists are turned into
:class:`Citation` objects that say where the advice comes from: a tip names the module it draws
on ("From the module 'Delegation basics for first-time leaders': ..."), a framework its coaching
guide, a moment its checklist. The organization's values (``organization.yaml``) are cited with
:meth:`Grounding.value_citations`: the values tied to a competency, the one closest to the leader's
words first ("From Northwind Cooperative's values: "Candor with care": We say what we see ...").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..content.library import Library
from ..content.search import Hit, LibraryIndex, index_for
from .reflection import content_words

DETECT_K = 8
MIN_SCORE = 0.075
COACH_KINDS = ("tip", "framework", "module", "moment")

GENERIC_WORDS = frozenset({
    "better", "best", "good", "great", "improve", "improving", "grow", "growing", "growth", "develop", "development",
    "leader", "leaders", "leadership", "lead", "leading", "manager", "managers", "management", "manage", "managing",
    "boss", "job", "jobs", "work", "working", "role", "career", "skills", "skill", "team", "teams", "people",
    "person", "problem", "problems", "issue", "issues", "hard", "difficult", "general", "generally", "something",
    "anything", "everything", "help", "advice", "today", "lately", "day", "week", "time", "stuff", "way", "ways",
})
"""Words that say a leader wants to grow but not in what: a message whose content words are
all in this list (e.g. "I just want to be a better leader") is too vague to detect a competency."""


@dataclass(frozen=True)
class Citation:
    """One piece of library knowledge the coach offers, and where it comes from.

    ``doc_id`` is the index document (for de-duplication and logging); ``source_kind`` and
    ``source_id`` name what is cited to the leader: a ``module``, a moment ``checklist``, a
    coaching ``guide`` (for tips without a module and for frameworks) or one of the organization's
    values (``value``; ``source_id`` is the organization's name, ``doc_id`` ``value/<n>``).
    """

    doc_id: str
    doc_kind: str
    source_kind: str
    source_id: str
    source_title: str
    text: str
    competency: str | None

    @property
    def sentence(self) -> str:
        if self.source_kind == "module":
            return f"From the module '{self.source_title}': {self.text}"
        if self.source_kind == "checklist":
            return f"From the checklist for '{self.source_title}': {self.text}"
        if self.source_kind == "value":
            return f"From {self.source_id}'s values: \u201c{self.source_title}\u201d: {self.text}"
        return f"From the {self.source_title}: {self.text}"


@dataclass(frozen=True)
class Detection:
    """The competency the words point to (None when unclear), its share of the votes, all votes."""

    competency: str | None
    confidence: float
    scores: Mapping[str, float]


class Grounding:
    """Competency detection and citations over one library and its index."""

    def __init__(self, library: Library, index: LibraryIndex | None = None):
        self.library = library
        self.index = index or index_for(library)

    # ---------------------------------------------------------------- detection
    def detect(self, text: str, prior: Mapping[str, float] | None = None) -> Detection:
        """Which competency ``text`` is about, by retrieval (see the module docstring)."""
        specific = [w for w in content_words(text) if w.lower() not in GENERIC_WORDS]
        hits = self.index.search(text, k=DETECT_K) if specific else []
        if not hits or hits[0].score < MIN_SCORE:
            return Detection(None, 0.0, {})
        votes: dict[str, float] = {}
        for h in hits:
            if h.doc.competencies:
                c = h.doc.competencies[0]
                votes[c] = votes.get(c, 0.0) + h.score
        if prior:
            votes = {c: v * (1.0 + max(prior.get(c, 0.0), 0.0)) for c, v in votes.items()}
        total = sum(votes.values())
        best = max(votes, key=lambda c: votes[c])
        return Detection(best, votes[best] / total if total else 0.0, dict(sorted(votes.items(), key=lambda t: -t[1])))

    # ---------------------------------------------------------------- citations
    def suggest(
        self,
        query: str,
        competency: str | None,
        exclude: Iterable[str] = (),
        kinds: tuple[str, ...] = ("tip", "framework"),
        k: int = 1,
    ) -> list[Citation]:
        """The ``k`` best citations for ``query`` (within ``competency`` when given), skipping ``exclude``."""
        skip = set(exclude)
        hits = self.index.search(query, k=k + len(skip) + 10, kinds=kinds, competency=competency)
        if not hits and competency is not None:  # words unrelated to the library: fall back to the guide
            hits = [Hit(d, 0.0) for d in self.index.docs if d.kind in kinds and competency in d.competencies]
        out = []
        for h in hits:
            if h.doc.id in skip:
                continue
            out.append(self.cite(h.doc.kind, h.doc.id, query))
            if len(out) == k:
                break
        return out

    def value_citations(self, competency: str | None, query: str = "", k: int = 1,
                        exclude: Iterable[str] = ()) -> list[Citation]:
        """Up to ``k`` of the organization's values tied to ``competency``, best match to ``query`` first.

        Empty when the library has no organization or no value names the competency; with
        ``competency`` None every value is a candidate.
        """
        org = self.library.organization
        if org is None:
            return []
        skip = set(exclude)
        found = [(i, v) for i, v in enumerate(org.values)
                 if (competency is None or competency in v.competencies) and f"value/{i}" not in skip]
        found.sort(key=lambda t: (-_overlap(query, t[1].name + " " + t[1].description), t[0]))
        return [self.cite("value", f"value/{i}", query) for i, _ in found[:k]]

    def moment_checklist(self, moment_id: str, query: str = "", n: int = 3) -> Citation:
        """The ``n`` checklist steps of a moment that best match ``query``, in checklist order.

        Raises
        ------
        ValueError
            When the moment is not in the library.
        """
        if moment_id not in self.library.moments:
            raise ValueError(f"unknown moment {moment_id!r}; expected one of {', '.join(self.library.moments)}")
        return self.cite("moment", moment_id, query, n=n)

    def cite(self, kind: str, doc_id: str, query: str = "", n: int = 3) -> Citation:
        """A :class:`Citation` for one index document."""
        lib = self.library
        if kind == "tip":
            comp, _, i = doc_id.split("/")
            tip = lib.coaching[comp].tips[int(i)]
            text = " ".join(tip.text.split())
            mods = [m for m in tip.modules if m in lib.modules]
            if mods:
                # the tip's module that best matches the question
                mod = max(mods, key=lambda m: _overlap(query, lib.modules[m].title + " " + lib.modules[m].summary))
                return Citation(doc_id, kind, "module", mod, lib.modules[mod].title, text, comp)
            return Citation(doc_id, kind, "guide", comp, f"{self._name(comp)} coaching guide", text, comp)
        if kind == "framework":
            comp, _, i = doc_id.split("/")
            fw = lib.coaching[comp].frameworks[int(i)]
            summary = " ".join(fw.summary.split())
            steps = "; ".join(fw.steps[:5])
            text = f"{summary} Steps: {steps}." if steps else summary
            return Citation(doc_id, kind, "guide", comp, f"framework '{fw.name}' ({self._name(comp)} coaching guide)",
                            text, comp)
        if kind == "module":
            m = lib.modules[doc_id]
            text = " ".join(m.summary.split()) + f" Try this week: {' '.join(m.apply_this_week.split())}"
            return Citation(doc_id, kind, "module", m.id, m.title, text, m.primary_competency)
        if kind == "moment":
            mo = lib.moments[doc_id]
            ranked = sorted(range(len(mo.checklist)), key=lambda i: (-_overlap(query, mo.checklist[i]), i))[:n]
            steps = "; ".join(mo.checklist[i] for i in sorted(ranked))
            return Citation(doc_id, kind, "checklist", mo.id, mo.name, steps + ".", mo.competencies[0])
        if kind == "value":
            if lib.organization is None:
                raise ValueError("the library has no organization, so no values to cite")
            v = lib.organization.values[int(doc_id.split("/")[1])]
            comp = v.competencies[0] if v.competencies else None
            return Citation(doc_id, kind, "value", lib.organization.name, v.name, " ".join(v.description.split()), comp)
        if kind == "scenario":
            s = lib.scenarios[doc_id]
            return Citation(doc_id, kind, "scenario", s.id, s.title, " ".join(s.summary.split()), s.competencies[0])
        raise ValueError(f"unknown document kind {kind!r}")

    def _name(self, competency: str) -> str:
        c = self.library.competencies.get(competency)
        return c.name if c else competency


def _stems(text: str) -> set[str]:
    return {w.lower()[:5] for w in content_words(text)}


def _overlap(a: str, b: str) -> int:
    return len(_stems(a) & _stems(b))
