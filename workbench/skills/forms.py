"""The questions of an assessment form and the order they are asked in: plain data and pure logic.

A form is driven by one of two drivers over the answers given so far (item id -> stored value, in
the order given):

* :class:`FixedDriver` asks every item in a fixed order (:func:`interleaved_order`: shuffled per
  session, dealt round-robin across competencies);
* :class:`AdaptiveDriver` asks what :class:`~workbench.skills.adaptive.AdaptiveSession` chooses on
  the calibrated item parameters, and stops when every competency is measured precisely enough.

Both are pure functions of the ordered answers and a seed (:func:`session_seed` of the session id),
so a form rebuilt from saved answers continues where the person left off. The store side (opening,
saving, submitting) is :mod:`workbench.services.assessment`; the widget is
:class:`workbench.apps.assessment_widgets.AssessmentForm`.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .adaptive import AdaptiveSession, fisher_information
from .grm import ItemParams

TARGET_SD = 0.5
"""Posterior SD per competency at which the adaptive form stops (on the demo calibration about 32
of 56 questions, correlation 0.97 with full-form scores)."""
MIN_ITEMS_PER_COMPETENCY = 2
"""Questions per competency the adaptive form asks first; after them the leader may submit."""
MIN_RATER_ANSWERS_PER_COMPETENCY = 3
"""A manager, peer or direct report may submit once every competency has this many questions
answered (or all of its questions, when their role is asked fewer), "not observed" included, and
at least one answer overall is on the scale. Three answers per competency is what the adaptive
self-assessment's precision target needs on average, and a rater who cannot see a behaviour says
so rather than guessing."""
NOT_OBSERVED_LABEL = "Not observed / can't say"


@dataclass(frozen=True)
class Question:
    """One item as a rater sees it: the wording for their role and the labelled options."""

    item_id: str
    competency: str
    text: str
    options: tuple[tuple[int, str], ...]  # (stored value, label), in scale order
    not_observed: bool = False  # offers "not observed / can't say", stored as missing (None)

    @property
    def categories(self) -> tuple[int, ...]:
        return tuple(v for v, _ in self.options)


def session_seed(session_id: str) -> int:
    """A stable 63-bit seed from a session id (the question order of a session never changes)."""
    return int.from_bytes(hashlib.sha256(session_id.encode()).digest()[:8], "big") >> 1


def interleaved_order(questions: Sequence[Question], seed: int) -> tuple[str, ...]:
    """All items, shuffled within each competency and dealt across competencies.

    Each next question comes from a competency other than the previous question's: first the one
    asked least so far, until each has :data:`MIN_RATER_ANSWERS_PER_COMPETENCY` (so a rater reaches
    the submit rule in about that many rounds), then the one with the most questions left (ties in
    a shuffled order). Neighbouring questions are about different competencies whenever that is
    possible, even when competencies have different numbers of questions (a role's subset).
    """
    rng = random.Random(seed)
    groups: dict[str, list[str]] = {}
    for q in questions:
        groups.setdefault(q.competency, []).append(q.item_id)
    names = list(groups)
    rng.shuffle(names)
    rank = {c: k for k, c in enumerate(names)}
    for pile in groups.values():
        rng.shuffle(pile)
    out: list[str] = []
    dealt = dict.fromkeys(names, 0)
    last: str | None = None
    while any(groups.values()):
        live = [c for c in names if groups[c]]
        choices = [c for c in live if c != last] or live
        c = min(choices, key=lambda c: (min(dealt[c], MIN_RATER_ANSWERS_PER_COMPETENCY), -len(groups[c]), rank[c]))
        out.append(groups[c].pop())
        dealt[c] += 1
        last = c
    return tuple(out)


class FixedDriver:
    """Every item in a fixed order; the next question is the first one not answered yet.

    Without ``competencies`` the form is submittable once every question is answered. With
    ``competencies`` (item id -> competency) and ``min_per_competency``, once each competency has
    that many answers (or all of its questions, when it has fewer), "not observed" (None)
    included, and at least one answer is on the scale (:data:`MIN_RATER_ANSWERS_PER_COMPETENCY`).
    """

    adaptive = False

    def __init__(self, order: Sequence[str], competencies: Mapping[str, str] | None = None,
                 min_per_competency: int | None = None):
        self.order = tuple(order)
        if len(set(self.order)) != len(self.order):
            raise ValueError("the form's order lists an item twice")
        self.total = len(self.order)
        self.competencies = dict(competencies or {})
        self.min_per_competency = min_per_competency
        if min_per_competency is not None:
            missing = [i for i in self.order if i not in self.competencies]
            if missing:
                raise ValueError(f"no competency given for item(s) {', '.join(missing)}")

    def owed(self, answers: Mapping[str, int | None]) -> dict[str, int]:
        """Answers each competency still needs before the form may be submitted (rule above)."""
        if self.min_per_competency is None:
            return {}
        pool = Counter(self.competencies[i] for i in self.order)
        done = Counter(self.competencies[i] for i in self.order if i in answers)
        return {c: min(n, self.min_per_competency) - done[c] for c, n in pool.items()
                if min(n, self.min_per_competency) > done[c]}

    def next_item(self, answers: Mapping[str, int]) -> str | None:
        return next((i for i in self.order if i not in answers), None)

    def remaining(self, answers: Mapping[str, int]) -> int:
        return sum(i not in answers for i in self.order)

    def submit_blocker(self, answers: Mapping[str, int | None]) -> str | None:
        if self.min_per_competency is not None:
            owed = sum(self.owed(answers).values())
            if owed:
                return (f"Answer {owed} more question{'s' if owed != 1 else ''} to submit: at least "
                        f"{self.min_per_competency} about each area (\"not observed\" counts).")
            if not any(v is not None for i, v in answers.items() if i in self.competencies):
                return "Answer at least one question on the scale to submit; every answer so far is \"not observed\"."
            return None
        left = self.remaining(answers)
        if left:
            return f"Answer the remaining {left} question{'s' if left != 1 else ''} to submit."
        return None


class AdaptiveDriver:
    """Questions chosen by :class:`~workbench.skills.adaptive.AdaptiveSession` from the answers so far.

    Answers are labels (the stored values); they are converted to category indices as scored
    (reverse keying undone) before they reach the model. The session is replayed from the answers
    whenever they are not an extension of what it has seen (a changed answer, a resumed form), so
    :meth:`next_item` is a pure function of the ordered answers and the seed.

    Parameters
    ----------
    params
        Item parameters of the pool (the calibrated items the form may ask).
    correlation
        Prior correlation between competencies.
    seed
        Seed for the session's exposure control (derive it from the session id).
    target_sd
        Stop when every competency's posterior SD is at most this.
    min_items_per_competency
        Questions about each competency asked first; submitting is possible after them.
    randomesque
        Choose among this many best items (exposure control).
    """

    adaptive = True

    def __init__(self, params: ItemParams, correlation: np.ndarray, seed: int, target_sd: float = TARGET_SD,
                 min_items_per_competency: int = MIN_ITEMS_PER_COMPETENCY, randomesque: int = 2):
        self.params = params
        self.correlation = np.asarray(correlation, dtype=float)
        self.seed = int(seed)
        self.target_sd = float(target_sd)
        pool = np.bincount(params.dimension, minlength=len(params.dimensions))
        self.minimums = tuple(int(x) for x in np.minimum(pool, int(min_items_per_competency)))
        self.randomesque = int(randomesque)
        self.total = params.n_items
        self._index = {iid: j for j, iid in enumerate(params.item_ids)}
        self._session: AdaptiveSession | None = None
        self._fed: list[tuple[str, int]] = []

    def _new_session(self) -> AdaptiveSession:
        return AdaptiveSession(self.params, self.correlation, self.target_sd, min_items_per_dim=self.minimums,
                               randomesque=self.randomesque, seed=self.seed)

    def category_index(self, item_id: str, value: int) -> int:
        """The category index as scored for a stored label."""
        j = self._index[item_id]
        k, first = int(self.params.n_categories[j]), int(self.params.first_category[j])
        idx = int(value) - first
        if not 0 <= idx < k:
            raise ValueError(f"answer {value!r} for item {item_id} is outside its categories {first}..{first + k - 1}")
        return k - 1 - idx if self.params.reverse[j] else idx

    def _sync(self, answers: Mapping[str, int]) -> AdaptiveSession:
        seq = [(i, int(v)) for i, v in answers.items() if i in self._index]
        if self._session is None or seq[: len(self._fed)] != self._fed:
            self._session, self._fed = self._new_session(), []
        for item_id, value in seq[len(self._fed):]:
            self._session.next_item()  # draw exactly as the live form did before this answer
            self._session.answer(item_id, self.category_index(item_id, value))
            self._fed.append((item_id, value))
        return self._session

    def counts(self, answers: Mapping[str, int]) -> np.ndarray:
        """Answered items per competency."""
        self._sync(answers)
        dims = [int(self.params.dimension[self._index[i]]) for i, _ in self._fed]
        return np.bincount(np.asarray(dims, dtype=int), minlength=len(self.params.dimensions))

    def next_item(self, answers: Mapping[str, int]) -> str | None:
        return self._sync(answers).next_item()

    def remaining(self, answers: Mapping[str, int]) -> int:
        """A rough count of the questions still to come (0 once the form has stopped).

        Per competency: the minimum still owed, or the best remaining items whose Fisher information
        closes the gap to the target precision (ignoring what correlated competencies contribute,
        so it errs on the long side), capped by the items left.
        """
        session = self._sync(answers)
        if session.next_item() is None:
            return 0
        counts = self.counts(answers)
        taken = np.zeros(self.total, dtype=bool)
        taken[[self._index[i] for i, _ in self._fed]] = True
        info = fisher_information(self.params, session.mean[None, :])[0]
        sd = session.sd
        total = 0
        for d in range(len(self.params.dimensions)):
            left = np.sort(info[(self.params.dimension == d) & ~taken])[::-1]
            owed = max(0, self.minimums[d] - int(counts[d]))
            needed = 0
            if sd[d] > self.target_sd and left.size:
                gap = 1.0 / self.target_sd**2 - 1.0 / sd[d] ** 2
                needed = int(np.searchsorted(np.cumsum(left), gap) + 1)
            total += min(left.size, max(owed, needed))
        return max(1, min(total, session.design.max_items - session.n_items))

    def submit_blocker(self, answers: Mapping[str, int]) -> str | None:
        owed = int(np.maximum(np.asarray(self.minimums) - self.counts(answers), 0).sum())
        if owed:
            return f"Answer {owed} more question{'s' if owed != 1 else ''} before you can submit."
        return None
