"""Learning activity in the store: what a leader does with their plan and the library.

The edge between the leader app's "My plan" and "Explore" tabs and :mod:`workbench.store`.
Every write is one transaction. Each action but "Not now" stores one xAPI statement (the
same shapes the demo organization uses, see :mod:`workbench.demo`) and, where the module is
in the leader's plan, moves its recommendation along:

* :func:`start_module`: a ``launched`` module statement; an active recommendation becomes started.
* :func:`log_time`: a ``progressed`` module statement with the duration; active becomes started.
* :func:`complete_module`: a ``completed`` module statement (completion true, and the duration
  of the last sitting when given); an active or started recommendation becomes completed.
* :func:`record_check`: a ``passed`` or ``failed`` knowledge-check statement with the score,
  the chosen answers (by option identity: the option's index as authored, whatever order the
  reader showed) and the attempt number; recommendations are unchanged. The best answers are
  revealed only from the second attempt on (:data:`REVEAL_AFTER`): after a wrong first try the
  leader learns which questions are wrong, with a hint, not the answer. Knowledge checks never
  move the skill estimates (see :mod:`workbench.practice.evidence`), and the attempt number keeps
  a first try distinguishable from retakes.
* :func:`dismiss` ("Not now"): an active or started recommendation becomes dismissed; no
  statement (the recommendation's status is the record).

:func:`refresh_plan` serves new recommendations (:func:`workbench.services.plans.serve`) only while
fewer than three are open, and keeps modules the leader recently put off ("Not now") out of
what it serves. :func:`week_budget` is the time used in the last seven days against the
leader's weekly budget, the same window the recommender uses.

Every function reads and writes only the given leader's rows.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ..content import Library
from ..content.schema import Module
from ..recommend import MAX_ACTIVE, Recommendation
from ..recommend.strategies import STRATEGIES
from ..store import models as m
from ..store import repo
from ..store.db import transaction
from ..store.xapi import make_statement, to_event
from .plans import serve

#: A knowledge check counts as passed at this share of right answers (as in the demo data).
PASS_MARK = 0.5
#: The best answers (and the feedback that explains them) are shown from this attempt on.
REVEAL_AFTER = 2
#: The most minutes one "Log time" entry may add (four hours).
MAX_LOG_MINUTES = 240
#: Modules put off with "Not now" are not served again for this many days after they were served.
NOT_NOW_DAYS = 14
OPEN = ("active", "started")

__all__ = [
    "MAX_LOG_MINUTES", "NOT_NOW_DAYS", "PASS_MARK", "REVEAL_AFTER", "CheckResult", "QuestionResult", "complete_module",
    "dismiss", "log_time", "put_off", "record_check", "refresh_plan", "score_check", "start_module", "week_budget",
]


# ------------------------------------------------------------------------------ knowledge checks
@dataclass(frozen=True)
class QuestionResult:
    """One answered question of a knowledge check."""

    question: str
    chosen: int
    answer: int
    correct: bool
    chosen_text: str
    answer_text: str
    feedback: str
    hint: str | None = None


@dataclass(frozen=True)
class CheckResult:
    """A scored knowledge check: ``score`` is the share of right answers (0..1).

    ``attempt`` is the leader's attempt at this module's check (1 for the first). ``revealed``
    says whether the best answers may be shown: from attempt :data:`REVEAL_AFTER` on, or when
    every answer is right.
    """

    module_id: str
    questions: tuple[QuestionResult, ...]
    score: float
    passed: bool
    attempt: int = 1

    @property
    def revealed(self) -> bool:
        return self.attempt >= REVEAL_AFTER or all(q.correct for q in self.questions)

    @property
    def right(self) -> int:
        return sum(q.correct for q in self.questions)

    @property
    def total(self) -> int:
        return len(self.questions)


def score_check(module: Module, answers: Iterable[int], attempt: int = 1) -> CheckResult:
    """Score answers against a module's knowledge check.

    Each answer names an option by its identity: its 0-based index in the options as authored
    in the module, not its position on screen (the reader shuffles the options every attempt).
    Pure: reads only the module. Raises ``ValueError`` for a wrong number of answers, a
    non-integer answer or an option index out of range, naming the question.
    """
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise ValueError(f"attempt must be 1 or more, got {attempt!r}")
    questions = module.knowledge_check
    if isinstance(answers, str | bytes | Mapping) or not isinstance(answers, Iterable):
        raise ValueError(f"answers must be a list of option numbers, got {type(answers).__name__}")
    answers = list(answers)
    if len(answers) != len(questions):
        raise ValueError(f"the knowledge check of {module.id!r} has {len(questions)} questions; "
                         f"got {len(answers)} answer(s)")
    out = []
    for i, (q, a) in enumerate(zip(questions, answers, strict=True), start=1):
        if isinstance(a, bool) or not isinstance(a, numbers.Integral):
            raise ValueError(f"answer to question {i} must be an option index, got {a!r}")
        a = int(a)
        if not 0 <= a < len(q.options):
            raise ValueError(f"answer to question {i} is option {a}, but it has options 0..{len(q.options) - 1}")
        out.append(QuestionResult(q.question, a, q.answer, a == q.answer, q.options[a], q.options[q.answer],
                                  q.feedback, q.hint))
    score = sum(r.correct for r in out) / len(out)
    return CheckResult(module.id, tuple(out), score, score >= PASS_MARK, attempt)


# ------------------------------------------------------------------------------ helpers
def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now needs a time zone (for example datetime.now(UTC))")
    return now


def _module(library: Library, module_id: str) -> Module:
    mod = library.modules.get(module_id)
    if mod is None:
        raise ValueError(f"unknown module {module_id!r}; see the modules in content/modules/")
    return mod


def _minutes(minutes: object, what: str) -> float:
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not math.isfinite(minutes):
        raise ValueError(f"{what} must be a number of minutes, got {minutes!r}")
    if minutes <= 0 or minutes > MAX_LOG_MINUTES:
        raise ValueError(f"{what} must be more than 0 and at most {MAX_LOG_MINUTES} minutes, got {minutes:g}")
    return float(minutes)


def _require_leader(s: Session, leader_id: str) -> None:
    if s.get(m.Leader, leader_id) is None:
        raise repo.NotFound(f"no leader with id {leader_id!r}")


def _set_status(s: Session, leader_id: str, module_id: str, from_: tuple[str, ...], to: str) -> int:
    """Move the leader's recommendations of a module from one of ``from_`` to ``to``; how many moved."""
    return repo.set_recommendation_status(s, leader_id, module_id, from_, to)


def _statement(s: Session, leader_id: str, verb: str, mod: Module, when: datetime, **kw) -> None:
    s.add(to_event(make_statement(leader_id, verb, "module", mod.id, when, title=mod.title,
                                  competency=mod.primary_competency, **kw)))


# ------------------------------------------------------------------------------ plan actions
def start_module(engine: Engine, library: Library, leader_id: str, module_id: str,
                 now: datetime | None = None) -> None:
    """Record that the leader opened a module ("launched"); an active recommendation of it becomes started."""
    mod, when = _module(library, module_id), _now(now)
    with transaction(engine) as s:
        _require_leader(s, leader_id)
        _statement(s, leader_id, "launched", mod, when)
        _set_status(s, leader_id, module_id, ("active",), "started")


def log_time(engine: Engine, library: Library, leader_id: str, module_id: str, minutes: float,
             now: datetime | None = None) -> None:
    """Record time spent on a module ("progressed" with that duration).

    ``minutes`` must be more than 0 and at most :data:`MAX_LOG_MINUTES`. Logging time on a
    module the plan still shows as not started marks it started.
    """
    mod, when = _module(library, module_id), _now(now)
    minutes = _minutes(minutes, "time logged")
    with transaction(engine) as s:
        _require_leader(s, leader_id)
        _statement(s, leader_id, "progressed", mod, when, duration=minutes * 60.0)
        _set_status(s, leader_id, module_id, ("active",), "started")


def complete_module(engine: Engine, library: Library, leader_id: str, module_id: str, minutes: float | None = None,
                    now: datetime | None = None) -> None:
    """Record a finished module ("completed", completion true); its open recommendation becomes completed.

    ``minutes``, when given, is the time of this last sitting (stored as the statement's
    duration, with the same limits as :func:`log_time`); time logged earlier is not repeated.
    """
    mod, when = _module(library, module_id), _now(now)
    seconds = None if minutes is None else _minutes(minutes, "time of the last sitting") * 60.0
    with transaction(engine) as s:
        _require_leader(s, leader_id)
        _statement(s, leader_id, "completed", mod, when, completion=True, duration=seconds)
        _set_status(s, leader_id, module_id, OPEN, "completed")


def record_check(engine: Engine, library: Library, leader_id: str, module_id: str, answers: list[int],
                 now: datetime | None = None) -> CheckResult:
    """Score a module's knowledge check (:func:`score_check`) and store "passed" or "failed" with the score.

    The statement's object is ``urn:workbench:knowledge-check:<module id>``, its result the
    scaled score and success, and its context the chosen options by identity (authored indexes,
    ``urn:workbench:answers``) and the attempt number (``urn:workbench:attempt``: 1 + the leader's
    earlier stored attempts at this check). Bad answers are refused before anything is stored.
    """
    mod, when = _module(library, module_id), _now(now)
    score_check(mod, answers)  # refuse bad answers before touching the store
    with transaction(engine) as s:
        _require_leader(s, leader_id)
        earlier = repo.check_attempts(s, leader_id, mod.id)
        result = score_check(mod, answers, attempt=int(earlier) + 1)
        st = make_statement(leader_id, "passed" if result.passed else "failed", "knowledge-check", mod.id, when,
                            title=mod.title, competency=mod.primary_competency, score=result.score,
                            success=result.passed,
                            extensions={"urn:workbench:answers": [q.chosen for q in result.questions],
                                        "urn:workbench:attempt": result.attempt})
        s.add(to_event(st))
    return result


def dismiss(engine: Engine, leader_id: str, module_id: str) -> None:
    """Take a module out of the leader's plan ("Not now"): its open recommendation becomes dismissed.

    Raises ``ValueError`` when the module is not in the leader's plan.
    """
    with transaction(engine) as s:
        _require_leader(s, leader_id)
        if not _set_status(s, leader_id, module_id, OPEN, "dismissed"):
            raise ValueError(f"module {module_id!r} is not in the plan of leader {leader_id}")


def put_off(engine: Engine, leader_id: str, now: datetime | None = None) -> frozenset[str]:
    """Modules the leader dismissed from recommendations served in the last :data:`NOT_NOW_DAYS` days."""
    since = _now(now) - timedelta(days=NOT_NOW_DAYS)
    return repo.dismissed_since(engine, leader_id, since)


def refresh_plan(engine: Engine, library: Library, leader_id: str, now: datetime | None = None,
                 strategy: str = "priority", seed: int | None = None) -> list[Recommendation]:
    """Serve and log new recommendations while the leader has fewer than three open; returns the new ones.

    Never more than three are open afterwards, nothing is served when three already are, and
    modules put off recently (:func:`put_off`) are not served again: they go to
    :func:`workbench.services.plans.serve` as the context's ``declined`` modules, which the engine never
    chooses and which do not take an open place. The logged context holds them too.
    """
    when = _now(now)
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; expected one of {', '.join(sorted(STRATEGIES))}")
    repo.get_leader(engine, leader_id)
    open_now = repo.active_recommendations(engine, leader_id)
    if len(open_now) >= MAX_ACTIVE:
        return []
    held = put_off(engine, leader_id, when) - set(open_now.module_id) - repo.completed_modules(engine, leader_id)
    return serve(engine, library, leader_id, strategy=strategy, seed=seed, now=when, declined=frozenset(held))


def week_budget(engine: Engine, leader_id: str, now: datetime | None = None) -> tuple[float, int]:
    """``(used_minutes, budget_minutes)``: learning minutes in the seven days up to ``now``, and the weekly budget."""
    when = _now(now)
    leader = repo.get_leader(engine, leader_id)
    return repo.minutes_since(engine, leader_id, when - timedelta(days=7)), int(leader.weekly_minutes)
