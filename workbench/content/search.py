"""Text retrieval over the content library (TF-IDF with scikit-learn).

One index serves the leader's library search, "explore next" and the coaching chatbot's
grounding. Every searchable piece is a :class:`Doc`: a module (title, summary, body), a
moment (name, description, checklist), a scenario (title, summary), a coaching tip or a
coaching framework. Word n-grams (1-2) with sublinear term frequency, plus character
n-grams within words for robustness to inflections and typos ("delegate" ~ "delegating").
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .library import Library
from .types import CONTENT_TYPES, DOC_KINDS, Doc

__all__ = ["KINDS", "Doc", "Hit", "LibraryIndex", "index_for", "library_docs"]

KINDS = DOC_KINDS


@dataclass(frozen=True)
class Hit:
    doc: Doc
    score: float


def library_docs(library: Library) -> list[Doc]:
    """The search documents of every content type that has them, in the order of the type table."""
    return [doc for t in CONTENT_TYPES if t.docs is not None for doc in t.docs(library)]


class LibraryIndex:
    """A fitted TF-IDF index over the library's documents."""

    def __init__(self, library: Library):
        self.library = library
        self.docs = library_docs(library)

    @cached_property
    def _fitted(self):
        from scipy.sparse import hstack
        from sklearn.feature_extraction.text import TfidfVectorizer

        words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english", min_df=1)
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2)
        texts = [d.text for d in self.docs]
        Xw, Xc = words.fit_transform(texts), chars.fit_transform(texts)
        X = hstack([Xw, 0.6 * Xc]).tocsr()
        norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
        X = X.multiply(1 / np.maximum(norms, 1e-12)[:, None]).tocsr()
        return words, chars, X

    def search(
        self,
        query: str,
        k: int = 10,
        kinds: tuple[str, ...] | None = None,
        competency: str | None = None,
        boost: dict[str, float] | None = None,
    ) -> list[Hit]:
        """The ``k`` best documents for ``query`` (cosine similarity), best first.

        ``kinds`` restricts the document kinds, ``competency`` keeps documents tagged with it,
        and ``boost`` multiplies the score of documents tagged with a competency (1 + boost).
        """
        from scipy.sparse import hstack

        query = (query or "").strip()
        if not query:
            return []
        words, chars, X = self._fitted
        q = hstack([words.transform([query]), 0.6 * chars.transform([query])]).tocsr()
        qn = np.sqrt(q.multiply(q).sum())
        if qn == 0:
            return []
        scores = np.asarray((X @ q.T).todense()).ravel() / qn
        if boost:
            scores = scores * np.array([1 + max((boost.get(c, 0.0) for c in d.competencies), default=0.0)
                                        for d in self.docs])
        keep = np.array([(kinds is None or d.kind in kinds) and (competency is None or competency in d.competencies)
                         for d in self.docs])
        scores = np.where(keep, scores, -np.inf)
        order = np.argsort(-scores, kind="stable")[:k]
        return [Hit(self.docs[i], float(scores[i])) for i in order if np.isfinite(scores[i]) and scores[i] > 0]


_INDEXES: dict[int, tuple[weakref.ref, LibraryIndex]] = {}
_LOCK = threading.Lock()


def index_for(library: Library) -> LibraryIndex:
    """The library's :class:`LibraryIndex`, built once and kept while the library lives: the library
    search, "explore next" and the coach's grounding share it."""
    key = id(library)
    with _LOCK:
        hit = _INDEXES.get(key)
        if hit is not None and hit[0]() is library:
            return hit[1]
    index = LibraryIndex(library)
    with _LOCK:
        # the dict is bound now: at interpreter shutdown the module's globals may already be None
        _INDEXES[key] = (weakref.ref(library, lambda _r, k=key, held=_INDEXES: held.pop(k, None)), index)
    return index
