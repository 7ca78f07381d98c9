"""Assessments in the store: opening and resuming forms, saving answers, submitting and scoring.

The edge between the store (:mod:`workbench.store`) and the skill model (:mod:`workbench.skills`)
for the assessment form. The widget (:class:`workbench.apps.assessment_widgets.AssessmentForm`)
takes what :func:`start` returns and calls back into this module:

>>> state = start(engine, library, "L0001")                       # doctest: +SKIP
>>> form = AssessmentForm.from_state(                              # doctest: +SKIP
...     state,
...     on_answer=lambda item_id, value: record_answer(engine, state, item_id, value),
...     on_submit=lambda: submit(engine, library, state.session_id))

Forms
-----
* **Adaptive** (the default for a leader's self-assessment, stored as form ``"adaptive"``): the
  next question comes from :class:`~workbench.skills.adaptive.AdaptiveSession` on the current
  calibration. It asks :data:`MIN_ITEMS_PER_COMPETENCY` questions about every competency first,
  then stops when every competency's posterior SD is at most :data:`TARGET_SD`. The leader may
  submit at any time after the minimum.
* **Fixed** (the default for managers, peers and direct reports, stored as form ``"full"``): every
  item of the bank asked of the rater's role (an item's ``raters``: peers are not asked how the
  leader delegates to or coaches their own reports), worded for that role, in an order shuffled
  per session and interleaved across competencies so that no two neighbouring questions are about
  the same competency. A rater may answer "not observed / can't say" (stored as a missing value)
  and may submit once each competency has :data:`MIN_RATER_ANSWERS_PER_COMPETENCY` answers; the
  leader's own fixed form (no calibration yet) asks every item.

Both orders are a pure function of the answers given so far and a seed derived from the session
id, so a form rebuilt from the saved answers continues exactly where the person left off. A
resumed draft keeps the form it was started with.

Scoring and anonymity
---------------------
:func:`submit` marks a session submitted (once), then :func:`rescore` recomputes the leader's
estimates from every submitted sheet about them with the current calibration and its rater
effects (quadrature scoring, no PyMC): source ``self`` from the latest self sheet, ``others`` and
``all`` from the sheets of the roles in :func:`~workbench.skills.raters.visible_roles` only.
Only a self submission puts a statement on the leader's activity stream; a rater's submission
writes nothing that names or identifies the rater.
"""

from __future__ import annotations

import hashlib
import numbers
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import numpy as np
from sqlalchemy import Engine, func, select

from .content import Library
from .skills.adaptive import AdaptiveSession, fisher_information
from .skills.grm import MISSING, ItemParams
from .skills.model import GradedResponseModel
from .skills.params import ModelParams
from .skills.raters import OTHER_ROLES, RATER_ROLES, included_sheets, visible_roles
from .skills.score import score_sheets
from .store import models as m
from .store import repo
from .store.db import transaction
from .store.repo import NotFound
from .store.xapi import make_statement, record

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
ADAPTIVE_FORM, FIXED_FORM = "adaptive", "full"
SOURCES = ("self", "others", "all")


class NoCalibration(LookupError):
    """There are no item parameters to run an adaptive form or to score with."""


# ------------------------------------------------------------------------------ plain data
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


@dataclass(frozen=True)
class CalibrationInfo:
    """A stored calibration: its id, method, time and the fitted model read from its parameters."""

    id: str
    method: str
    created_at: datetime
    model: GradedResponseModel = field(repr=False)

    @property
    def params(self) -> ModelParams:
        return self.model.params_

    @classmethod
    def from_json(cls, id: str, method: str, created_at: datetime, doc: dict) -> CalibrationInfo:
        """Through the parameters JSON's one reader (a ``DataError`` names the calibration)."""
        return cls(id, method, created_at, GradedResponseModel.from_json(doc, f"calibration {id}"))


@dataclass(frozen=True)
class SessionSummary:
    """An assessment session without its answers."""

    session_id: str
    leader_id: str
    rater_role: str
    form: str
    status: str
    started_at: datetime
    submitted_at: datetime | None
    n_answers: int


@dataclass(frozen=True)
class AssessmentStatus:
    """Where a leader (or one rater) stands: an open draft and/or the latest submitted sheet."""

    draft: SessionSummary | None
    submitted: SessionSummary | None

    @property
    def state(self) -> Literal["not started", "in progress", "submitted"]:
        if self.draft is not None:
            return "in progress"
        return "submitted" if self.submitted is not None else "not started"


@dataclass(frozen=True)
class SubmitResult:
    session_id: str
    rater_role: str
    already_submitted: bool  # True when the session had been submitted before this call
    rescored: bool  # False when there was no calibration to score with


@dataclass(frozen=True)
class RescoreResult:
    """What :func:`rescore` computed; ``written`` lists the sources that got new rows."""

    leader_id: str
    calibration_id: str
    visible_roles: frozenset[str]
    estimates: Mapping[str, Mapping[str, tuple[float, float]]]  # source -> competency -> (mean, sd)
    written: tuple[str, ...]


# ------------------------------------------------------------------------------ drivers
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


# ------------------------------------------------------------------------------ form state
@dataclass(frozen=True)
class FormState:
    """Everything the assessment form needs for one session (no results, nothing about other raters).

    ``questions`` are all the items the form may ask, in bank order; ``answers`` the saved answers
    (item id -> stored value) in the order they were given. :meth:`driver` builds a fresh question
    driver; the widget replays ``answers`` into it.
    """

    session_id: str
    leader_id: str
    rater_role: str
    form: str  # "adaptive" or "full"
    status: Literal["draft", "submitted"]
    questions: tuple[Question, ...]
    answers: Mapping[str, int]
    calibration_id: str | None
    started_at: datetime
    submitted_at: datetime | None
    target_sd: float = TARGET_SD
    min_items_per_competency: int = MIN_ITEMS_PER_COMPETENCY
    model: ModelParams | None = field(default=None, repr=False)  # the adaptive pool's parameters

    @property
    def adaptive(self) -> bool:
        return self.form == ADAPTIVE_FORM

    @property
    def submitted(self) -> bool:
        return self.status == "submitted"

    @property
    def seed(self) -> int:
        return session_seed(self.session_id)

    def question(self, item_id: str) -> Question:
        for q in self.questions:
            if q.item_id == item_id:
                return q
        raise ValueError(f"item {item_id!r} is not on this form")

    def driver(self) -> AdaptiveDriver | FixedDriver:
        """A fresh driver for this form (adaptive on the calibration, or the fixed interleaved order)."""
        if self.adaptive:
            if self.model is None:
                raise NoCalibration("an adaptive form needs item parameters")
            return AdaptiveDriver(self.model.items, self.model.correlation, self.seed, self.target_sd,
                                  self.min_items_per_competency)
        order = interleaved_order(self.questions, self.seed)
        if self.rater_role == "self":
            return FixedDriver(order)
        return FixedDriver(order, {q.item_id: q.competency for q in self.questions},
                           MIN_RATER_ANSWERS_PER_COMPETENCY)


# ------------------------------------------------------------------------------ calibrations
def latest_calibration(engine: Engine, organization_id: str | None) -> CalibrationInfo:
    """The calibration to score with for an organization: its active one.

    The active calibration is the one published last (or activated or rolled back to; see
    :mod:`workbench.calibration_log`). Without an active one (a store no one published to):
    a fitted calibration (any method but ``"generating"``, the demo's true values) over a
    generating one; among those the organization's own over shared ones (no organization); then
    the newest.

    Raises
    ------
    NoCalibration
        When neither the organization nor the shared pool has any calibration.
    """
    q = select(m.Calibration.id, m.Calibration.method, m.Calibration.created_at, m.Calibration.organization_id,
               m.Calibration.active)
    q = q.where((m.Calibration.organization_id == organization_id) | m.Calibration.organization_id.is_(None))
    with transaction(engine) as s:
        rows = s.execute(q).all()
        if not rows:
            where = f"organization {organization_id!r}" if organization_id else "the store"
            raise NoCalibration(f"there is no calibration for {where}: publish one with `workbench calibrate "
                                "--publish` (or build the demo with `workbench demo`)")
        best = max(rows, key=lambda r: (bool(r.active), r.method != "generating", r.organization_id is not None,
                                        r.created_at, r.id))
        doc = s.scalar(select(m.Calibration.params).where(m.Calibration.id == best.id))
    return CalibrationInfo.from_json(best.id, best.method, best.created_at, doc)


def current_calibration(engine: Engine, organization_id: str | None) -> ModelParams:
    """The parameters of :func:`latest_calibration` (raises :class:`NoCalibration` when there is none)."""
    return latest_calibration(engine, organization_id).params


def _pool(library: Library, params: ModelParams) -> tuple[list[str], ModelParams]:
    """Library items the calibration knows with the same categories: the adaptive form's pool."""
    ip = params.items
    keep = []
    for j, iid in enumerate(ip.item_ids):
        item = library.items.get(iid)
        if item is None:
            continue
        cats = tuple(range(int(ip.first_category[j]), int(ip.first_category[j] + ip.n_categories[j])))
        if cats == item.categories and bool(ip.reverse[j]) == item.reverse:
            keep.append(j)
    sub = ip.subset(keep)
    return list(sub.item_ids), ModelParams(sub, params.correlation, params.rater_effects, params.diagnostics,
                                           params.reliability)


def _questions(library: Library, role: str, item_ids: Iterable[str] | None = None) -> tuple[Question, ...]:
    """The items asked of ``role`` (its subset of the bank), worded for it; other raters than the
    leader may answer "not observed"."""
    wanted = None if item_ids is None else set(item_ids)
    return tuple(
        Question(item.id, item.competency, " ".join(item.wording.for_role(role).split()),
                 tuple(item.labels.items()), not_observed=role != "self")
        for item in library.items.values() if (wanted is None or item.id in wanted) and item.asks(role)
    )


# ------------------------------------------------------------------------------ sessions
def _summary(s, sess: m.AssessmentSession) -> SessionSummary:
    n = s.scalar(select(func.count()).select_from(m.Response).where(m.Response.session_id == sess.id))
    return SessionSummary(sess.id, sess.leader_id, sess.rater_role, sess.form, sess.status, sess.started_at,
                          sess.submitted_at, int(n or 0))


def _sessions_query(leader_id: str, rater_role: str, rater_id: str | None, any_self_rater: bool):
    q = select(m.AssessmentSession).where(m.AssessmentSession.leader_id == leader_id,
                                          m.AssessmentSession.rater_role == rater_role)
    if not any_self_rater:
        q = q.where(m.AssessmentSession.rater_id.is_(None) if rater_id is None
                    else m.AssessmentSession.rater_id == rater_id)
    return q


def assessment_status(engine: Engine, leader_id: str, rater_role: str = "self",
                      rater_id: str | None = None) -> AssessmentStatus:
    """The open draft and the latest submitted session of a leader's self-assessment (or of one rater).

    For ``self`` without ``rater_id`` every self session of the leader counts, whoever opened it.
    The page shows the form for a draft, a "done / retake" panel for a submission.
    """
    q = _sessions_query(leader_id, rater_role, rater_id, rater_role == "self" and rater_id is None)
    with transaction(engine) as s:
        draft = s.scalars(q.where(m.AssessmentSession.status == "draft")
                          .order_by(m.AssessmentSession.started_at.desc(), m.AssessmentSession.id)).first()
        sub = s.scalars(q.where(m.AssessmentSession.status == "submitted")
                        .order_by(m.AssessmentSession.submitted_at.desc(), m.AssessmentSession.id)).first()
        return AssessmentStatus(_summary(s, draft) if draft else None, _summary(s, sub) if sub else None)


def latest_submission(engine: Engine, leader_id: str, rater_role: str = "self") -> SessionSummary | None:
    """The leader's latest submitted self-assessment (or of a role), or None."""
    return assessment_status(engine, leader_id, rater_role).submitted


def _ordered_answers(s, session_id: str) -> dict[str, int | None]:
    """Saved answers in the order given; None is "not observed"."""
    rows = s.execute(select(m.Response.item_id, m.Response.value).where(m.Response.session_id == session_id)
                     .order_by(m.Response.answered_at, m.Response.id)).all()
    return {item_id: None if value is None else int(value) for item_id, value in rows}


def start(engine: Engine, library: Library, leader_id: str, rater_role: str = "self", rater_id: str | None = None,
          adaptive: bool | None = None, now: datetime | None = None) -> FormState:
    """Open or resume a form about ``leader_id`` and return what the widget needs.

    Parameters
    ----------
    engine, library
        The store and the content library (items, wordings, scales).
    leader_id
        The leader being assessed.
    rater_role
        ``self``, ``manager``, ``peer`` or ``direct_report``; questions are worded for it.
    rater_id
        The rater (invitation) row. Required for other raters, so that two peers never share a
        draft; optional for ``self`` (then any self draft of the leader is resumed).
    adaptive
        Adaptive (True) or fixed (False) for a *new* session; default adaptive for ``self`` when a
        calibration exists, fixed otherwise. A resumed draft keeps the form it was started with.
    now
        The start time of a new session.

    Returns
    -------
    FormState
        A draft, resumed or new. For another rater whose sheet is already submitted (and who has no
        draft), the submitted session, so their link shows "thank you" and never a second form.
        For ``self`` a submitted sheet is never reopened: a new draft is a retake (check
        :func:`assessment_status` first to offer one).

    Raises
    ------
    NotFound
        Unknown leader or rater.
    ValueError
        Unknown role, a rater of another leader or role, or another rater without ``rater_id``.
    NoCalibration
        An adaptive form was asked for (or is being resumed) and there are no item parameters.
    """
    if rater_role not in RATER_ROLES:
        raise ValueError(f"unknown rater role {rater_role!r}; expected one of {', '.join(RATER_ROLES)}")
    if rater_role != "self" and rater_id is None:
        raise ValueError(f"a {rater_role.replace('_', ' ')} form needs the rater's invitation id")
    with transaction(engine) as s:
        leader = s.get(m.Leader, leader_id)
        if leader is None:
            raise NotFound(f"no leader with id {leader_id!r}")
        org = leader.organization_id
        if rater_id is not None:
            rater = s.get(m.Rater, rater_id)
            if rater is None:
                raise NotFound(f"no rater with id {rater_id!r}")
            if rater.leader_id != leader_id or rater.role != rater_role:
                raise ValueError(f"rater {rater_id} is not a {rater_role} rater of leader {leader_id}")
        q = _sessions_query(leader_id, rater_role, rater_id, rater_role == "self" and rater_id is None)
        existing = s.scalars(q.where(m.AssessmentSession.status == "draft")
                             .order_by(m.AssessmentSession.started_at.desc(), m.AssessmentSession.id)).first()
        if existing is None and rater_role != "self":
            existing = s.scalars(q.where(m.AssessmentSession.status == "submitted")
                                 .order_by(m.AssessmentSession.submitted_at.desc())).first()
        session_id = existing.id if existing is not None else None
        draft_rater = existing.rater_id if existing is not None else rater_id

    calibration: CalibrationInfo | None = None
    if session_id is None:
        want_adaptive = adaptive
        if want_adaptive is None:
            want_adaptive = rater_role == "self"
            if want_adaptive:
                try:
                    calibration = latest_calibration(engine, org)
                except NoCalibration:
                    want_adaptive = False
        if want_adaptive and calibration is None:
            calibration = latest_calibration(engine, org)
        form = ADAPTIVE_FORM if want_adaptive else FIXED_FORM
        session_id = repo.open_session(engine, leader_id, rater_role, draft_rater, form=form)
        if now is not None:
            with transaction(engine) as s:
                sess = s.get(m.AssessmentSession, session_id)
                if sess.status == "draft" and not s.scalar(select(m.Response.id).where(
                        m.Response.session_id == session_id).limit(1)):
                    sess.started_at = now
    return _state(engine, library, session_id, org, calibration)


def _state(engine: Engine, library: Library, session_id: str, organization_id: str | None,
           calibration: CalibrationInfo | None = None) -> FormState:
    with transaction(engine) as s:
        sess = s.get(m.AssessmentSession, session_id)
        if sess is None:
            raise NotFound(f"no assessment session {session_id!r}")
        answers = _ordered_answers(s, session_id)
        info = (sess.leader_id, sess.rater_role, sess.form, sess.status, sess.started_at, sess.submitted_at)
    leader_id, role, form, status, started_at, submitted_at = info
    model, cal_id = None, None
    if form == ADAPTIVE_FORM:
        calibration = calibration or latest_calibration(engine, organization_id)
        pool_ids, model = _pool(library, calibration.params)
        questions = _questions(library, role, pool_ids)
        cal_id = calibration.id
    else:
        questions = _questions(library, role)
    return FormState(session_id, leader_id, role, form, status, questions, answers, cal_id, started_at,
                     submitted_at, model=model)


def open_state(engine: Engine, library: Library, session_id: str) -> FormState:
    """The form state of an existing session, draft or submitted (e.g. to show a submitted one as done)."""
    with transaction(engine) as s:
        sess = s.get(m.AssessmentSession, session_id)
        if sess is None:
            raise NotFound(f"no assessment session {session_id!r}")
        org = s.scalar(select(m.Leader.organization_id).where(m.Leader.id == sess.leader_id))
    return _state(engine, library, session_id, org)


# ------------------------------------------------------------------------------ answers
def _categories(engine: Engine, session_id: str, item_id: str, library: Library | None) -> tuple[int, ...]:
    if library is not None:
        item = library.items.get(item_id)
        if item is None:
            raise ValueError(f"unknown item {item_id!r}")
        return item.categories
    with transaction(engine) as s:
        org = s.scalar(select(m.Leader.organization_id).join(
            m.AssessmentSession, m.AssessmentSession.leader_id == m.Leader.id).where(m.AssessmentSession.id == session_id))
    if org is None:
        raise NotFound(f"no assessment session {session_id!r}")
    ip = current_calibration(engine, org).items
    if item_id not in ip.item_ids:
        raise ValueError(f"unknown item {item_id!r}")
    j = ip.item_ids.index(item_id)
    return tuple(range(int(ip.first_category[j]), int(ip.first_category[j] + ip.n_categories[j])))


def record_answer(engine: Engine, state_or_session_id: FormState | str, item_id: str, value: int | None,
                  now: datetime | None = None, *, library: Library | None = None) -> None:
    """Save (or change) one answer of a draft, in its own transaction.

    The value must be one of the item's categories (the stored label, e.g. 1..5), or None for
    "not observed / can't say" on a manager's, peer's or direct report's form (stored as missing;
    the leader's own form has no such answer). With a
    :class:`FormState` the item must be on that form; with a bare session id the categories come
    from ``library`` when given, else from the current calibration.

    Raises
    ------
    ValueError
        An unknown item, a value outside its categories (nothing is stored), or a submitted session.
    NotFound
        Unknown session.
    """
    if isinstance(state_or_session_id, FormState):
        session_id = state_or_session_id.session_id
        question = state_or_session_id.question(item_id)
        categories, allow_missing = question.categories, question.not_observed
    else:
        session_id = state_or_session_id
        categories = _categories(engine, session_id, item_id, library)
        allow_missing = _session_role(engine, session_id) != "self"
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = int(value)
    _check_invitation(engine, session_id, now)
    repo.save_response(engine, session_id, item_id, value, categories, at=now, allow_missing=allow_missing)


def _session_role(engine: Engine, session_id: str) -> str | None:
    with transaction(engine) as s:
        return s.scalar(select(m.AssessmentSession.rater_role).where(m.AssessmentSession.id == session_id))


def _check_invitation(engine: Engine, session_id: str, now: datetime | None) -> None:
    """A rater's answers count only while their invitation is open (a page left open after the
    invitation was withdrawn or expired must not save): raises ``InvitationClosed`` otherwise."""
    from .invitations import open_for_rater

    with transaction(engine) as s:
        row = s.execute(select(m.AssessmentSession.rater_role, m.AssessmentSession.rater_id, m.AssessmentSession.status)
                        .where(m.AssessmentSession.id == session_id)).first()
    if row is not None and row.rater_role != "self" and row.rater_id is not None and row.status == "draft":
        open_for_rater(engine, row.rater_id, now)


# ------------------------------------------------------------------------------ submit and score
def submit(engine: Engine, library: Library, session_id: str, now: datetime | None = None) -> SubmitResult:
    """Submit a session (idempotent), rescore its leader, and log a self-assessment on their stream.

    The status change and, for a self-assessment, the xAPI statement ("completed" an "assessment")
    commit together. A rater's submission logs nothing on the leader's stream. Rescoring follows in
    its own transaction; without any calibration the submission stands and ``rescored`` is False.
    Submitting again does nothing (no second statement, no new estimates).

    Raises
    ------
    NotFound
        Unknown session.
    ValueError
        The session has no answers.
    InvitationClosed
        A rater's invitation was withdrawn or has expired.
    """
    now = now or datetime.now(UTC)
    _check_invitation(engine, session_id, now)
    with transaction(engine) as s:
        sess = s.get(m.AssessmentSession, session_id, with_for_update=True)
        if sess is None:
            raise NotFound(f"no assessment session {session_id!r}")
        role, leader_id = sess.rater_role, sess.leader_id
        if sess.status == "submitted":
            return SubmitResult(session_id, role, already_submitted=True, rescored=False)
        n = len(_ordered_answers(s, session_id))
        if n == 0:
            raise ValueError("answer at least one question before submitting")
        sess.status, sess.submitted_at = "submitted", now
        if role == "self":
            record(s, make_statement(
                leader_id, "completed", "assessment", session_id, now, title="Self-assessment", completion=True,
                extensions={"urn:workbench:form": sess.form, "urn:workbench:items-answered": n}))
    if role != "self":
        sessions, _ = _sheets(engine, leader_id)
        if session_id not in included_sheets([(sid, r) for sid, r, _ in sessions]):
            # not (yet) in what the leader may see: rescoring now could still write a dated point
            # (practice replay, a newer calibration) that tells the leader someone just answered
            return SubmitResult(session_id, role, already_submitted=False, rescored=False)
    try:
        rescore(engine, library, leader_id, now=now)
    except NoCalibration:
        return SubmitResult(session_id, role, already_submitted=False, rescored=False)
    return SubmitResult(session_id, role, already_submitted=False, rescored=True)


def _sheets(engine: Engine, leader_id: str) -> tuple[list[tuple[str, str, datetime]], dict[str, dict[str, int]]]:
    """Submitted sessions about a leader (id, role, submitted_at) and their answers."""
    with transaction(engine) as s:
        sessions = s.execute(
            select(m.AssessmentSession.id, m.AssessmentSession.rater_role, m.AssessmentSession.submitted_at)
            .where(m.AssessmentSession.leader_id == leader_id, m.AssessmentSession.status == "submitted")
            .order_by(m.AssessmentSession.submitted_at, m.AssessmentSession.id)).all()
        rows = s.execute(
            select(m.Response.session_id, m.Response.item_id, m.Response.value)
            .join(m.AssessmentSession, m.Response.session_id == m.AssessmentSession.id)
            .where(m.AssessmentSession.leader_id == leader_id, m.AssessmentSession.status == "submitted")).all()
    answers: dict[str, dict[str, int]] = {}
    for sid, item_id, value in rows:
        sheet = answers.setdefault(sid, {})
        if value is not None:  # "not observed" is missing: the model skips it
            sheet[item_id] = int(value)
    return [tuple(r) for r in sessions], answers


def _scored_matrix(sheets: Sequence[Mapping[str, int]], ip: ItemParams) -> np.ndarray:
    """Stored labels -> category indices as scored (reverse keying applied); uncalibrated items dropped."""
    y = np.full((len(sheets), ip.n_items), MISSING, dtype=int)
    index = {iid: j for j, iid in enumerate(ip.item_ids)}
    for r, sheet in enumerate(sheets):
        for item_id, value in sheet.items():
            j = index.get(item_id)
            if j is None:
                continue
            k, idx = int(ip.n_categories[j]), int(value) - int(ip.first_category[j])
            if 0 <= idx < k:
                y[r, j] = k - 1 - idx if ip.reverse[j] else idx
    return y


def rescore(engine: Engine, library: Library, leader_id: str, now: datetime | None = None) -> RescoreResult:
    """Recompute a leader's estimates from every submitted sheet about them and store the new ones.

    Sources: ``self`` from the latest self sheet (a retake replaces the earlier view); ``others``
    from the sheets of the roles in :func:`~workbench.skills.raters.visible_roles` (a manager once
    submitted, peers and direct reports only from 3 of a role, and then in blocks of 3 in submission
    order: :func:`~workbench.skills.raters.included_sheets`); ``all`` from the latest self sheet
    plus those visible sheets. No ``others`` rows without a visible role, so hidden raters' answers
    change nothing the leader can see. Each sheet is read through its rater type's effect from the
    calibration. ``all`` then takes in the evidence of every stored scenario run (replayed from
    its choices), so practice still counts after a new assessment. Rows are written only for
    sources whose values differ from the latest stored ones (same calibration), so rescoring
    twice writes nothing new.

    Raises
    ------
    NotFound
        Unknown leader.
    NoCalibration
        No calibration to score with.
    """
    leader = repo.get_leader(engine, leader_id)
    cal = latest_calibration(engine, leader.organization_id)
    visible, estimates = leader_estimates(engine, library, leader_id, cal)
    at = now or datetime.now(UTC)
    with transaction(engine) as s:
        written = write_estimates(s, leader_id, cal.id, estimates, at)
    return RescoreResult(leader_id, cal.id, visible, estimates, written)


def leader_estimates(engine: Engine, library: Library, leader_id: str, cal: CalibrationInfo
                     ) -> tuple[frozenset[str], dict[str, dict[str, tuple[float, float]]]]:
    """A leader's estimates per source with calibration ``cal``, from their stored answer sheets
    and practice (see :func:`rescore`); nothing is written. Returns ``(visible roles, estimates)``."""
    ip = cal.params.items
    sessions, answers = _sheets(engine, leader_id)
    latest_self = [sid for sid, role, _ in sessions if role == "self"][-1:]
    counts = Counter(role for _, role, _ in sessions if role in OTHER_ROLES)
    visible = visible_roles(counts)
    others = included_sheets([(sid, role) for sid, role, _ in sessions])
    roles = {sid: role for sid, role, _ in sessions}
    by_source = {"self": latest_self, "others": others, "all": latest_self + others}
    competencies = [d for d in ip.dimensions if d in library.competencies]
    estimates: dict[str, dict[str, tuple[float, float]]] = {}
    for source, sids in by_source.items():
        if not sids:
            continue
        y = _scored_matrix([answers.get(sid, {}) for sid in sids], ip)
        sc = score_sheets(y, np.zeros(len(sids), dtype=int), 1, ip, np.array([roles[sid] for sid in sids]),
                          cal.params.rater_effects)
        estimates[source] = {d: (float(sc.mean[0, k]), float(sc.sd[0, k]))
                             for k, d in enumerate(ip.dimensions) if d in competencies}
    if "all" in estimates:
        estimates["all"] = _with_practice(engine, library, leader_id, estimates["all"])
    return visible, estimates


def write_estimates(s, leader_id: str, calibration_id: str, estimates: Mapping[str, Mapping[str, tuple[float, float]]],
                    at: datetime) -> tuple[str, ...]:
    """Add estimate rows in session ``s`` for the sources whose values differ from the latest
    stored ones (or were scored with another calibration); earlier rows stay as history."""
    written = []
    for source, values in estimates.items():
        if _unchanged(s, leader_id, source, calibration_id, values):
            continue
        written.append(source)
        for comp, (mean, sd) in values.items():
            s.add(m.SkillEstimate(leader_id=leader_id, competency=comp, mean=mean, sd=sd, source=source,
                                  calibration_id=calibration_id, estimated_at=at))
    return tuple(written)


def _stored_runs(engine: Engine, library: Library, leader_id: str) -> list:
    """The leader's finished scenario runs, rebuilt from their stored choices, oldest first.
    A run whose scenario or choices no longer exist in the library is skipped."""
    from .practice.scenario import ScenarioRun

    with transaction(engine) as s:
        rows = s.execute(select(m.ScenarioRun.id, m.ScenarioRun.scenario_id, m.ScenarioRun.started_at,
                                m.ScenarioChoice.choice_id, m.ScenarioChoice.chosen_at)
                         .join(m.ScenarioChoice, m.ScenarioChoice.run_id == m.ScenarioRun.id)
                         .where(m.ScenarioRun.leader_id == leader_id, m.ScenarioRun.finished_at.is_not(None))
                         .order_by(m.ScenarioRun.started_at, m.ScenarioRun.id, m.ScenarioChoice.step)).all()
    runs, by_run = [], {}
    for run_id, scenario_id, started, choice_id, at in rows:
        by_run.setdefault((run_id, scenario_id, started), []).append((choice_id, at))
    for (_, scenario_id, started), choices in by_run.items():
        scenario = library.scenarios.get(scenario_id)
        if scenario is None:
            continue
        run = ScenarioRun(scenario, clock=lambda started=started: started)
        try:
            for choice_id, at in choices:
                run.choose(choice_id, at=at)
        except ValueError:
            continue  # the scenario was edited since: this run no longer replays
        if run.done:
            runs.append(run)
    return runs


def _with_practice(engine: Engine, library: Library, leader_id: str,
                   values: Mapping[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """The ``all`` estimates from the answer sheets, updated with every stored scenario run, so a
    new assessment does not wipe out the evidence from practice (see docs/practice.md)."""
    runs = _stored_runs(engine, library, leader_id)
    if not runs:
        return dict(values)
    from .practice.evidence import apply_run, posterior_from_estimates

    posterior = posterior_from_estimates(tuple(values), dict(values))
    for run in runs:
        apply_run(posterior, run)
    return {d: (float(posterior.mean[k]), float(posterior.sd[k])) for k, d in enumerate(posterior.dimensions)}


def _unchanged(s, leader_id: str, source: str, calibration_id: str, values: Mapping[str, tuple[float, float]]) -> bool:
    rows = s.execute(select(m.SkillEstimate.competency, m.SkillEstimate.mean, m.SkillEstimate.sd,
                            m.SkillEstimate.calibration_id)
                     .where(m.SkillEstimate.leader_id == leader_id, m.SkillEstimate.source == source)
                     .order_by(m.SkillEstimate.estimated_at, m.SkillEstimate.id)).all()
    latest = {comp: (mean, sd, cid) for comp, mean, sd, cid in rows}  # the last row per competency wins
    for comp, (mean, sd) in values.items():
        old = latest.get(comp)
        if old is None or old[2] != calibration_id or abs(old[0] - mean) > 1e-5 or abs(old[1] - sd) > 1e-5:
            return False
    return True
