"""Activity events as xAPI statements: validation, conversion to rows, export and import.

A statement is validated with pydantic against the parts of the xAPI 1.0.3 data model the
product uses (actor with one inverse functional identifier, verb IRI, activity object,
optional result and context, timestamp). Import is all-or-nothing: a batch with one bad
statement loads none and names the bad one.

Import is bounded (:mod:`workbench.limits`): at most ``MAX_BATCH_STATEMENTS`` statements per
batch, each at most ``MAX_STATEMENT_BYTES`` of compact JSON, with a ``result.duration`` of at
most ``MAX_DURATION_SECONDS`` and a ``result.response`` of at most ``MAX_RESPONSE_CHARS``.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import Engine, select

from ..limits import (
    MAX_BATCH_STATEMENTS,
    MAX_DURATION_SECONDS,
    MAX_RESPONSE_CHARS,
    MAX_STATEMENT_BYTES,
    XAPI_FILE,
)
from .db import transaction
from .models import ActivityEvent, Leader

ADL = "http://adlnet.gov/expapi/verbs/"
VERBS = {
    name: ADL + name
    for name in (
        "launched", "experienced", "progressed", "completed", "attempted", "answered",
        "passed", "failed", "attended", "commented", "interacted",
    )
}
ACTIVITY_IRI = "urn:workbench:{type}:{id}"
ACCOUNT_HOME = "urn:workbench:leaders"
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_DURATION = re.compile(
    r"^P(?!$)(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
    r"(?:T(?=\d)(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)


class _X(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


def _check_iri(v: str) -> str:
    if not _IRI.match(v):
        raise ValueError(f"{v!r} is not an absolute IRI")
    return v


class Account(_X):
    homePage: str
    name: str = Field(min_length=1)


class Actor(_X):
    objectType: Literal["Agent"] = "Agent"
    name: str | None = None
    mbox: str | None = None
    account: Account | None = None

    @model_validator(mode="after")
    def _one_identifier(self) -> Actor:
        ids = [x for x in (self.mbox, self.account) if x is not None]
        if len(ids) != 1:
            raise ValueError("actor needs exactly one identifier (mbox or account)")
        if self.mbox is not None and not self.mbox.startswith("mailto:"):
            raise ValueError("actor mbox must start with 'mailto:'")
        return self


class Verb(_X):
    id: str
    display: dict[str, str] = {}

    _iri = field_validator("id")(_check_iri)


class ActivityDefinition(_X):
    name: dict[str, str] = {}
    type: str | None = None


class Activity(_X):
    objectType: Literal["Activity"] = "Activity"
    id: str
    definition: ActivityDefinition | None = None

    _iri = field_validator("id")(_check_iri)


class Score(_X):
    model_config = ConfigDict(extra="allow", populate_by_name=True, allow_inf_nan=False)
    scaled: float | None = Field(default=None, ge=-1, le=1)
    raw: float | None = None
    min: float | None = None
    max: float | None = None


class Result(_X):
    score: Score | None = None
    success: bool | None = None
    completion: bool | None = None
    duration: str | None = Field(default=None, max_length=64)
    response: str | None = Field(default=None, max_length=MAX_RESPONSE_CHARS)

    @field_validator("duration")
    @classmethod
    def _iso_duration(cls, v: str | None) -> str | None:
        if v is not None and not _DURATION.match(v):
            raise ValueError(f"duration {v!r} is not an ISO 8601 duration")
        return v


class Context(_X):
    registration: uuid.UUID | None = None
    extensions: dict[str, Any] = {}


class Statement(_X):
    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    actor: Actor
    verb: Verb
    object: Activity
    result: Result | None = None
    context: Context | None = None
    timestamp: datetime

    @field_validator("timestamp")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("timestamp needs a time zone (e.g. 2026-01-05T09:00:00Z)")
        return v.astimezone(UTC)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


def duration_seconds(iso: str | None) -> float | None:
    if iso is None:
        return None
    m = _DURATION.match(iso)
    if not m:
        raise ValueError(f"not an ISO 8601 duration: {iso!r}")
    y, mo, w, d, h, mi, s = (float(x) if x else 0.0 for x in m.groups())
    return (((y * 365 + mo * 30 + w * 7 + d) * 24 + h) * 60 + mi) * 60 + s


def iso_duration(seconds: float) -> str:
    return f"PT{round(float(seconds), 2):g}S"


def make_statement(
    leader_id: str,
    verb: str,
    object_type: str,
    object_id: str,
    timestamp: datetime,
    *,
    name: str | None = None,
    title: str | None = None,
    duration: float | None = None,
    score: float | None = None,
    success: bool | None = None,
    completion: bool | None = None,
    competency: str | None = None,
    statement_id: uuid.UUID | None = None,
    extensions: dict[str, Any] | None = None,
) -> Statement:
    """Build a statement about a leader from plain values (the product's own vocabulary)."""
    if verb not in VERBS:
        raise ValueError(f"unknown verb {verb!r}; expected one of {sorted(VERBS)}")
    result = None
    if any(v is not None for v in (duration, score, success, completion)):
        result = Result(
            duration=iso_duration(duration) if duration is not None else None,
            score=Score(scaled=score) if score is not None else None,
            success=success,
            completion=completion,
        )
    ext = dict(extensions or {})
    if competency:
        ext["urn:workbench:competency"] = competency
    return Statement(
        id=statement_id or uuid.uuid4(),
        actor=Actor(name=name, account=Account(homePage=ACCOUNT_HOME, name=leader_id)),
        verb=Verb(id=VERBS[verb], display={"en-US": verb}),
        object=Activity(
            id=ACTIVITY_IRI.format(type=object_type, id=object_id),
            definition=ActivityDefinition(
                name={"en-US": title or object_id}, type=f"urn:workbench:activity-type:{object_type}"
            ),
        ),
        result=result,
        context=Context(extensions=ext) if ext else None,
        timestamp=timestamp,
    )


def _columns(st: Statement) -> dict[str, Any]:
    """The indexed columns of a statement's row (everything but the statement itself)."""
    if st.actor.account is None:
        raise ValueError("statement actor must be a workbench account (actor.account.name = leader id)")
    obj = st.object.id
    if obj.startswith("urn:workbench:") and obj.count(":") >= 3:
        _, _, otype, oid = obj.split(":", 3)
    else:
        otype, oid = "external", obj
    ext = st.context.extensions if st.context else {}
    return dict(
        id=str(st.id),
        leader_id=st.actor.account.name,
        verb=st.verb.id.rsplit("/", 1)[-1],
        object_type=otype,
        object_id=oid,
        competency=ext.get("urn:workbench:competency"),
        duration_seconds=duration_seconds(st.result.duration) if st.result else None,
        score_scaled=st.result.score.scaled if st.result and st.result.score else None,
        timestamp=st.timestamp,
    )


#: Where each bounded column of a row comes from in the statement, for error messages.
_COLUMN_SOURCE = {"leader_id": "actor.account.name", "verb": "verb.id", "object_type": "object.id",
                  "object_id": "object.id", "competency": "context.extensions.urn:workbench:competency"}


def _column_problem(cols: dict[str, Any]) -> str | None:
    """A reason when a column value would not fit the table (PostgreSQL refuses it; SQLite would not)."""
    for name, where in _COLUMN_SOURCE.items():
        value = cols[name]
        if value is None:
            continue
        if not isinstance(value, str):
            return f"{where}: must be text, got {type(value).__name__}"
        length = ActivityEvent.__table__.c[name].type.length
        if length is not None and len(value) > length:
            return f"{where}: {len(value)} characters; the {name.replace('_', ' ')} may have at most {length}"
    return None


def to_event(st: Statement) -> ActivityEvent:
    """The row for a statement: indexed columns pulled out, the statement kept whole."""
    return ActivityEvent(**_columns(st), statement=st.to_json())


class StatementError(ValueError):
    """A batch was refused; ``index`` is the first bad statement's position (0-based)."""

    def __init__(self, index: int, reason: str, file: str | None = None):
        self.index, self.reason, self.file = index, reason, file
        super().__init__(f"{file + ': ' if file else ''}statement {index}: {reason}")


class BatchTooLarge(ValueError):
    """A batch holds more statements than :data:`~workbench.limits.MAX_BATCH_STATEMENTS`."""


def statement_bytes(item: Any) -> int:
    """Size of a statement as compact JSON (UTF-8), the measure of ``MAX_STATEMENT_BYTES``."""
    return len(json.dumps(item, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8"))


def validate_batch(raw: Sequence[Any]) -> list[Statement]:
    """Parse every statement of a batch or raise :class:`StatementError` for the first bad one.

    Raises :class:`BatchTooLarge` (before looking at any statement) for a batch over
    ``MAX_BATCH_STATEMENTS``.
    """
    if not isinstance(raw, list):
        raise StatementError(0, "expected a JSON array of statements")
    if len(raw) > MAX_BATCH_STATEMENTS:
        raise BatchTooLarge(f"{len(raw):,} statements in one batch; the limit is {MAX_BATCH_STATEMENTS:,} "
                            "(split the file)")
    out, seen = [], set()
    for i, item in enumerate(raw):
        size = statement_bytes(item)
        if size > MAX_STATEMENT_BYTES:
            raise StatementError(i, f"(statement): {size:,} bytes of JSON; the limit is {MAX_STATEMENT_BYTES:,}")
        try:
            st = Statement.model_validate(item)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"]) or "(statement)"
            raise StatementError(i, f"{loc}: {err['msg']}") from None
        if st.actor.account is None:
            raise StatementError(i, "actor: must identify a leader by account (account.name = leader id)")
        problem = _column_problem(_columns(st))
        if problem:
            raise StatementError(i, problem)
        if st.result is not None and st.result.duration is not None:
            if duration_seconds(st.result.duration) > MAX_DURATION_SECONDS:
                raise StatementError(i, f"result.duration: {st.result.duration!r} is longer than the limit of "
                                        f"{MAX_DURATION_SECONDS // 3600} hours for one activity")
        if st.id in seen:
            raise StatementError(i, f"id: duplicate statement id {st.id} in batch")
        seen.add(st.id)
        out.append(st)
    return out


def read_batch_file(path: str | Path) -> list[Any]:
    """The JSON array of a statements file, size-checked before it is read.

    Raises ``ValueError`` with one line naming the file: missing, over
    :data:`~workbench.limits.XAPI_FILE`'s limit, not UTF-8, or not valid JSON (line, column).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    XAPI_FILE.check(path)
    try:
        with path.open("rb") as fh:  # json reads bytes; no second copy of the text in memory
            raw = json.load(fh)
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise ValueError(f"{path}: JSON nested too deeply") from None
    return raw


def import_statements(engine: Engine, raw: Sequence[Any], *, source: str | None = None) -> int:
    """Validate and store a batch, all or nothing. Returns how many were stored.

    ``source`` (a file name) starts every error message when given.
    """
    try:
        statements = validate_batch(raw)
        with transaction(engine) as s:
            leaders = set(s.scalars(select(Leader.id)))
            existing = set(s.scalars(select(ActivityEvent.id).where(
                ActivityEvent.id.in_([str(st.id) for st in statements]))))
            for i, st in enumerate(statements):
                if st.actor.account.name not in leaders:
                    raise StatementError(i, f"actor: unknown leader {st.actor.account.name!r}")
                if str(st.id) in existing:
                    raise StatementError(i, f"id: statement {st.id} is already stored")
                s.add(to_event(st))
    except StatementError as exc:
        if source is None:
            raise
        raise StatementError(exc.index, exc.reason, file=source) from None
    except BatchTooLarge as exc:
        if source is None:
            raise
        raise BatchTooLarge(f"{source}: {exc}") from None
    return len(statements)


def export_statements(
    engine: Engine, leader_ids: Iterable[str] | None = None, since: datetime | None = None
) -> list[dict[str, Any]]:
    """Stored statements (optionally for some leaders, or since a time) in time order."""
    q = select(ActivityEvent.statement).order_by(ActivityEvent.timestamp, ActivityEvent.id)
    if leader_ids is not None:
        q = q.where(ActivityEvent.leader_id.in_(list(leader_ids)))
    if since is not None:
        q = q.where(ActivityEvent.timestamp >= since)
    with transaction(engine) as s:
        return list(s.scalars(q))


def record(engine_or_session, st: Statement) -> None:
    """Store one statement (in the caller's session when given one)."""
    from sqlalchemy.orm import Session

    if isinstance(engine_or_session, Session):
        engine_or_session.add(to_event(st))
        return
    with transaction(engine_or_session) as s:
        s.add(to_event(st))
