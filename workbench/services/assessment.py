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
id, so a form rebuilt from the saved answers continues exactly where the person left off (the
drivers are plain logic in :mod:`workbench.skills.forms`). A resumed draft keeps the form it was
started with.

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

import numbers
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import numpy as np
from sqlalchemy import Engine

from ..content import Library
from ..skills.forms import (
    MIN_ITEMS_PER_COMPETENCY,
    MIN_RATER_ANSWERS_PER_COMPETENCY,
    TARGET_SD,
    AdaptiveDriver,
    FixedDriver,
    Question,
    interleaved_order,
    session_seed,
)
from ..skills.grm import MISSING, ItemParams
from ..skills.model import GradedResponseModel
from ..skills.raters import OTHER_ROLES, RATER_ROLES, included_sheets, visible_roles
from ..skills.score import score_sheets
from ..store import assessment_repo, calibration_repo, practice_repo, repo
from ..store import models as m
from ..store.db import transaction
from ..store.repo import NotFound
from ..store.xapi import make_statement, record

ADAPTIVE_FORM, FIXED_FORM = "adaptive", "full"
SOURCES = ("self", "others", "all")


class NoCalibration(LookupError):
    """There are no item parameters to run an adaptive form or to score with."""


# ------------------------------------------------------------------------------ plain data
@dataclass(frozen=True)
class CalibrationInfo:
    """A stored calibration: its id, method, time and the fitted model read from its parameters."""

    id: str
    method: str
    created_at: datetime
    model: GradedResponseModel = field(repr=False)

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
    model: GradedResponseModel | None = field(default=None, repr=False)  # the adaptive pool's model

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
            return AdaptiveDriver(self.model.items_, self.model.correlation_, self.seed, self.target_sd,
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
    :mod:`workbench.services.calibration`). Without an active one (a store no one published to):
    a fitted calibration (any method but ``"generating"``, the demo's true values) over a
    generating one; among those the organization's own over shared ones (no organization); then
    the newest.

    Raises
    ------
    NoCalibration
        When neither the organization nor the shared pool has any calibration.
    """
    with transaction(engine) as s:
        rows = calibration_repo.candidates(s, organization_id)
        if not rows:
            where = f"organization {organization_id!r}" if organization_id else "the store"
            raise NoCalibration(f"there is no calibration for {where}: publish one with `workbench calibrate "
                                "--publish` (or build the demo with `workbench demo`)")
        best = max(rows, key=lambda r: (bool(r.active), r.method != "generating", r.organization_id is not None,
                                        r.created_at, r.id))
        doc = calibration_repo.params_of(s, best.id)
    return CalibrationInfo.from_json(best.id, best.method, best.created_at, doc)


def current_calibration(engine: Engine, organization_id: str | None) -> GradedResponseModel:
    """The fitted model of :func:`latest_calibration` (raises :class:`NoCalibration` when there is none)."""
    return latest_calibration(engine, organization_id).model


def _pool(library: Library, model: GradedResponseModel) -> tuple[list[str], GradedResponseModel]:
    """Library items the calibration knows with the same categories: the adaptive form's pool."""
    ip = model.items_
    keep = []
    for j, iid in enumerate(ip.item_ids):
        item = library.items.get(iid)
        if item is None:
            continue
        cats = tuple(range(int(ip.first_category[j]), int(ip.first_category[j] + ip.n_categories[j])))
        if cats == item.categories and bool(ip.reverse[j]) == item.reverse:
            keep.append(j)
    sub = model.subset([ip.item_ids[j] for j in keep])
    return list(sub.items_.item_ids), sub


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
    return SessionSummary(sess.id, sess.leader_id, sess.rater_role, sess.form, sess.status, sess.started_at,
                          sess.submitted_at, assessment_repo.response_count(s, sess.id))


def assessment_status(engine: Engine, leader_id: str, rater_role: str = "self",
                      rater_id: str | None = None) -> AssessmentStatus:
    """The open draft and the latest submitted session of a leader's self-assessment (or of one rater).

    For ``self`` without ``rater_id`` every self session of the leader counts, whoever opened it.
    The page shows the form for a draft, a "done / retake" panel for a submission.
    """
    any_rater = rater_role == "self" and rater_id is None
    with transaction(engine) as s:
        draft = assessment_repo.latest_session(s, leader_id, rater_role, rater_id, "draft", any_rater=any_rater)
        sub = assessment_repo.latest_session(s, leader_id, rater_role, rater_id, "submitted", any_rater=any_rater)
        return AssessmentStatus(_summary(s, draft) if draft else None, _summary(s, sub) if sub else None)


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
        any_rater = rater_role == "self" and rater_id is None
        existing = assessment_repo.latest_session(s, leader_id, rater_role, rater_id, "draft", any_rater=any_rater)
        if existing is None and rater_role != "self":
            existing = assessment_repo.latest_session(s, leader_id, rater_role, rater_id, "submitted",
                                                      any_rater=any_rater)
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
                if sess.status == "draft" and not assessment_repo.has_answers(s, session_id):
                    sess.started_at = now
    return _state(engine, library, session_id, org, calibration)


def _state(engine: Engine, library: Library, session_id: str, organization_id: str | None,
           calibration: CalibrationInfo | None = None) -> FormState:
    with transaction(engine) as s:
        sess = s.get(m.AssessmentSession, session_id)
        if sess is None:
            raise NotFound(f"no assessment session {session_id!r}")
        answers = assessment_repo.ordered_answers(s, session_id)
        info = (sess.leader_id, sess.rater_role, sess.form, sess.status, sess.started_at, sess.submitted_at)
    leader_id, role, form, status, started_at, submitted_at = info
    model, cal_id = None, None
    if form == ADAPTIVE_FORM:
        calibration = calibration or latest_calibration(engine, organization_id)
        pool_ids, model = _pool(library, calibration.model)
        questions = _questions(library, role, pool_ids)
        cal_id = calibration.id
    else:
        questions = _questions(library, role)
    return FormState(session_id, leader_id, role, form, status, questions, answers, cal_id, started_at,
                     submitted_at, model=model)


# ------------------------------------------------------------------------------ answers
def _categories(engine: Engine, session_id: str, item_id: str, library: Library | None) -> tuple[int, ...]:
    if library is not None:
        item = library.items.get(item_id)
        if item is None:
            raise ValueError(f"unknown item {item_id!r}")
        return item.categories
    org = assessment_repo.session_organization(engine, session_id)
    if org is None:
        raise NotFound(f"no assessment session {session_id!r}")
    ip = current_calibration(engine, org).items_
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
    row = assessment_repo.session_rater(engine, session_id)
    return None if row is None else row.rater_role


def _check_invitation(engine: Engine, session_id: str, now: datetime | None) -> None:
    """A rater's answers count only while their invitation is open (a page left open after the
    invitation was withdrawn or expired must not save): raises ``InvitationClosed`` otherwise."""
    from .invitations import open_for_rater

    row = assessment_repo.session_rater(engine, session_id)
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
        n = len(assessment_repo.ordered_answers(s, session_id))
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
    sessions, rows = assessment_repo.submitted_sheets(engine, leader_id)
    answers: dict[str, dict[str, int]] = {}
    for sid, item_id, value in rows:
        sheet = answers.setdefault(sid, {})
        if value is not None:  # "not observed" is missing: the model skips it
            sheet[item_id] = int(value)
    return sessions, answers


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
    ip = cal.model.items_
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
                          cal.model.rater_effects_)
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
    from ..practice.scenario import ScenarioRun

    rows = practice_repo.finished_run_choices(engine, leader_id)
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
    """The ``all`` estimates from the answer sheets, updated with the stored scenario runs, so a
    new assessment does not wipe out the evidence from practice (see docs/practice.md). Each
    scenario's first run counts; replays count with the replay weight (0), as when they were saved."""
    runs = _stored_runs(engine, library, leader_id)
    if not runs:
        return dict(values)
    from ..practice.evidence import apply_run, evidence_weights, posterior_from_estimates

    posterior = posterior_from_estimates(tuple(values), dict(values))
    for run, weight in zip(runs, evidence_weights([r.scenario.id for r in runs]), strict=True):
        apply_run(posterior, run, weight=weight)
    return {d: (float(posterior.mean[k]), float(posterior.sd[k])) for k, d in enumerate(posterior.dimensions)}


def _unchanged(s, leader_id: str, source: str, calibration_id: str, values: Mapping[str, tuple[float, float]]) -> bool:
    rows = repo.estimate_rows(s, leader_id, source)
    latest = {comp: (mean, sd, cid) for comp, mean, sd, cid in rows}  # the last row per competency wins
    for comp, (mean, sd) in values.items():
        old = latest.get(comp)
        if old is None or old[2] != calibration_id or abs(old[0] - mean) > 1e-5 or abs(old[1] - sd) > 1e-5:
            return False
    return True
