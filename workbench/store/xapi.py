"""Activity as xAPI 1.0.3 statements: making, validating, importing and exporting them.

Two kinds of rows live in ``activity_events`` (see ``docs/xapi.md``):

- **local** statements, made by the workbench (:func:`make_statement`). They are stored in
  a compact internal form and rendered at export in the organization's current vocabulary
  (:mod:`workbench.store.xapi_export`): account home page, ADL activity types, context
  activities, registration, platform and language.
- **imported** statements, from a file or an LRS. They are kept exactly as sent (ids,
  numbers, timestamps with their offsets, verbs and extensions) and exported verbatim, with
  ``stored`` set by this store and ``authority`` kept as received (or this organization's when
  there was none).

Import never misattributes: an actor is one of the organization's leaders only through its
full account (home page and name) or an explicit identity mapping
(:mod:`workbench.store.xapi_profile`). Anything else refuses the batch, naming the
statement's index and the reason, or, where the organization allows it, is kept as an
external learner credited to no leader. A batch is all or nothing; a statement already
stored with the same content is skipped (so a repeated import or pull is harmless).

Import is bounded (:mod:`workbench.limits`): at most ``MAX_BATCH_STATEMENTS`` statements per
batch, each at most ``MAX_STATEMENT_BYTES`` of compact JSON, with a ``result.duration`` of at
most ``MAX_DURATION_SECONDS`` and a ``result.response`` of at most ``MAX_RESPONSE_CHARS``;
every indexed column is length-checked here, so SQLite and PostgreSQL refuse the same.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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
from .models import ActivityEvent, Cohort, Leader, Organization, utcnow
from .xapi_profile import XapiProfile, actor_key, organization_profile

ADL = "http://adlnet.gov/expapi/verbs/"
VERBS = {
    name: ADL + name
    for name in (
        "launched", "experienced", "progressed", "completed", "attempted", "answered",
        "passed", "failed", "attended", "commented", "interacted", "voided",
    )
}
VERB_NAMES = {iri: name for name, iri in VERBS.items()}
VOIDED = VERBS["voided"]
ACTIVITY_IRI = "urn:workbench:{type}:{id}"
#: The home page of the internal form of local statements (replaced at export).
ACCOUNT_HOME = "urn:workbench:leaders"
#: The workbench's own activity kinds (``urn:workbench:<kind>:<id>``).
OBJECT_TYPES = ("module", "knowledge-check", "scenario", "classroom-session", "assessment", "cohort",
                "discussion")
#: Kinds whose ids are content ids (checked against the content library on import).
CONTENT_TYPES = {"module": "modules", "knowledge-check": "modules", "scenario": "scenarios"}
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
    """An Agent or an identified Group (exactly one inverse functional identifier)."""

    objectType: Literal["Agent", "Group"] = "Agent"
    name: str | None = None
    mbox: str | None = None
    mbox_sha1sum: str | None = None
    openid: str | None = None
    account: Account | None = None

    @model_validator(mode="after")
    def _one_identifier(self) -> Actor:
        ids = [x for x in (self.mbox, self.mbox_sha1sum, self.openid, self.account) if x is not None]
        if len(ids) != 1:
            raise ValueError("actor needs exactly one identifier (mbox, mbox_sha1sum, openid or account)")
        if self.mbox is not None and not self.mbox.startswith("mailto:"):
            raise ValueError("actor mbox must start with 'mailto:'")
        return self


class Verb(_X):
    id: str
    display: dict[str, str] | None = None

    _iri = field_validator("id")(_check_iri)


class ActivityDefinition(_X):
    name: dict[str, str] | None = None
    type: str | None = None


class Activity(_X):
    objectType: Literal["Activity", "StatementRef", "Agent", "Group", "SubStatement"] = "Activity"
    id: str | None = None
    definition: ActivityDefinition | None = None

    @model_validator(mode="after")
    def _kinds(self) -> Activity:
        if self.objectType not in ("Activity", "StatementRef"):
            raise ValueError(f"a {self.objectType} object is not a learning activity (the workbench keeps "
                             "activities, and statement references for voiding)")
        if self.id is None:
            raise ValueError("object needs an id")
        if self.objectType == "Activity":
            _check_iri(self.id)
        else:
            uuid.UUID(self.id)
        return self


class Score(_X):
    model_config = ConfigDict(extra="allow", populate_by_name=True, allow_inf_nan=False)
    scaled: float | None = Field(default=None, ge=-1, le=1)
    raw: float | None = None
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _order(self) -> Score:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("score min is above max")
        if self.raw is not None:
            if (self.min is not None and self.raw < self.min) or (self.max is not None and self.raw > self.max):
                raise ValueError("score raw is outside min..max")
        return self


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
    platform: str | None = None
    language: str | None = None
    contextActivities: dict[Literal["parent", "grouping", "category", "other"], Any] | None = None
    extensions: dict[str, Any] | None = None


class Statement(_X):
    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    actor: Actor
    verb: Verb
    object: Activity
    result: Result | None = None
    context: Context | None = None
    timestamp: datetime | None = None
    stored: datetime | None = None
    authority: dict[str, Any] | None = None
    version: str | None = Field(default=None, pattern=r"^1\.0(\.\d+)?$")

    @field_validator("timestamp", "stored")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("timestamp needs a time zone (e.g. 2026-01-05T09:00:00Z)")
        return v

    @model_validator(mode="after")
    def _voiding(self) -> Statement:
        is_ref = self.object.objectType == "StatementRef"
        if self.verb.id == VOIDED and not is_ref:
            raise ValueError("object: a voiding statement's object must be a StatementRef")
        if is_ref and self.verb.id != VOIDED:
            raise ValueError("object: a statement reference is kept only in a voiding statement")
        if self.context is not None and not (self.object.objectType == "Activity") and (
                self.context.platform is not None or getattr(self.context, "revision", None) is not None):
            raise ValueError("context: platform and revision are allowed only when the object is an activity")
        return self

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


def xapi_time(t: datetime) -> str:
    """An aware time as xAPI text in UTC (milliseconds, ``Z``)."""
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
    raw: float | None = None,
    score_min: float | None = None,
    score_max: float | None = None,
    success: bool | None = None,
    completion: bool | None = None,
    competency: str | None = None,
    statement_id: uuid.UUID | None = None,
    extensions: dict[str, Any] | None = None,
) -> Statement:
    """Build a statement about a leader from plain values (the product's own vocabulary).

    The result is the internal form of a local statement; exports render it
    (:func:`workbench.store.xapi_export.render_local`).
    """
    if verb not in VERBS or verb == "voided":
        raise ValueError(f"unknown verb {verb!r}; expected one of {sorted(set(VERBS) - {'voided'})}")
    if timestamp.tzinfo is None:
        raise ValueError("timestamp needs a time zone")
    result = None
    if any(v is not None for v in (duration, score, raw, success, completion)):
        sc = None
        if score is not None or raw is not None:
            sc = Score(scaled=score, raw=raw, min=score_min, max=score_max)
        result = Result(
            duration=iso_duration(duration) if duration is not None else None,
            score=sc, success=success, completion=completion,
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
            definition=ActivityDefinition(name={"en-US": title or object_id},
                                          type=f"urn:workbench:activity-type:{object_type}"),
        ),
        result=result,
        context=Context(extensions=ext) if ext else None,
        timestamp=timestamp.astimezone(UTC),
    )


def split_object(object_id: str, object_kind: str = "Activity") -> tuple[str, str]:
    """``(object_type, object_id)`` columns of a statement's object."""
    if object_kind == "StatementRef":
        return "statement", object_id
    if object_id.startswith("urn:workbench:") and object_id.count(":") >= 3:
        _, _, otype, oid = object_id.split(":", 3)
        if otype in OBJECT_TYPES and oid:
            return otype, oid
    return "external", object_id


def _columns(st: Statement) -> dict[str, Any]:
    """The indexed columns of a statement's row (all but who it is and the statement itself)."""
    otype, oid = split_object(st.object.id, st.object.objectType)
    ext = (st.context.extensions if st.context else None) or {}
    return dict(
        id=str(st.id),
        verb=VERB_NAMES.get(st.verb.id, st.verb.id),
        object_type=otype,
        object_id=oid,
        competency=ext.get("urn:workbench:competency"),
        duration_seconds=duration_seconds(st.result.duration) if st.result else None,
        score_scaled=st.result.score.scaled if st.result and st.result.score else None,
        timestamp=st.timestamp,
    )


#: Where each bounded column of a row comes from in the statement, for error messages.
_COLUMN_SOURCE = {"verb": "verb.id", "object_id": "object.id",
                  "competency": "context.extensions.urn:workbench:competency"}


def _column_problem(cols: dict[str, Any], actor: str | None = None) -> str | None:
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
    limit = ActivityEvent.__table__.c["actor"].type.length
    if actor is not None and len(actor) > limit:
        return f"actor: identifier of {len(actor)} characters; at most {limit}"
    return None


def to_event(st: Statement) -> ActivityEvent:
    """The row for a local statement: indexed columns pulled out, the statement kept whole."""
    if st.actor.account is None or st.actor.account.homePage != ACCOUNT_HOME:
        raise ValueError("a local statement's actor is a workbench account (use make_statement)")
    return ActivityEvent(**_columns(st), leader_id=st.actor.account.name, origin="local", actor=None,
                         voided_by=None, statement=st.to_json())


def local_event_row(
    leader_id: str,
    verb: str,
    object_type: str,
    object_id: str,
    timestamp: datetime,
    *,
    statement_id: uuid.UUID,
    title: str | None = None,
    duration: float | None = None,
    score: float | None = None,
    success: bool | None = None,
    completion: bool | None = None,
    competency: str | None = None,
) -> dict[str, Any]:
    """The ``activity_events`` row of a local statement as a dict of column values: what
    ``to_event(make_statement(...))`` gives for the same arguments, statement JSON included,
    built without the pydantic models.

    For values the workbench's own code generated in bulk (the demo makes about 11,000
    statements; validating and dumping each through the models was a sixth of its time). The
    verb and the time zone are checked as :func:`make_statement` checks them; anything a person
    sent goes through :func:`make_statement` or :func:`validate_batch` instead.
    ``tests/store/test_xapi.py`` checks that both give the same row.
    """
    if verb not in VERBS or verb == "voided":
        raise ValueError(f"unknown verb {verb!r}; expected one of {sorted(set(VERBS) - {'voided'})}")
    if timestamp.tzinfo is None:
        raise ValueError("timestamp needs a time zone")
    if score is not None and not -1.0 <= score <= 1.0:  # also refuses NaN
        raise ValueError(f"score {score!r} is outside -1..1")
    when = timestamp.astimezone(UTC)
    iri = ACTIVITY_IRI.format(type=object_type, id=object_id)
    # key order as the models dump them (field order), so the stored JSON text is the same
    doc: dict[str, Any] = {
        "id": str(statement_id),
        "actor": {"objectType": "Agent", "account": {"homePage": ACCOUNT_HOME, "name": leader_id}},
        "verb": {"id": VERBS[verb], "display": {"en-US": verb}},
        "object": {"objectType": "Activity", "id": iri,
                   "definition": {"name": {"en-US": title or object_id},
                                  "type": f"urn:workbench:activity-type:{object_type}"}},
    }
    iso = iso_duration(duration) if duration is not None else None
    result = {k: v for k, v in (("score", None if score is None else {"scaled": float(score)}),
                                ("success", success), ("completion", completion), ("duration", iso))
              if v is not None}
    if result:
        doc["result"] = result
    if competency:
        doc["context"] = {"extensions": {"urn:workbench:competency": competency}}
    doc["timestamp"] = when.isoformat().replace("+00:00", "Z")
    otype, oid = split_object(iri)
    return dict(id=doc["id"], verb=verb, object_type=otype, object_id=oid, competency=competency or None,
                duration_seconds=duration_seconds(iso), score_scaled=None if score is None else float(score),
                timestamp=when, leader_id=leader_id, origin="local", actor=None, voided_by=None, statement=doc)


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


def empty_value(item: Any, path: str = "") -> str | None:
    """The path of the first empty value (null, ``""``, ``{}``) in a statement, if any.

    xAPI statements may not contain empty values; an independent validator refuses them.
    """
    if isinstance(item, dict):
        for k, v in item.items():
            where = f"{path}.{k}" if path else str(k)
            if v is None or v == "" or v == {}:
                return where
            found = empty_value(v, where)
            if found:
                return found
    elif isinstance(item, list):
        for i, v in enumerate(item):
            found = empty_value(v, f"{path}[{i}]")
            if found:
                return found
    return None


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
        if not isinstance(item, dict):
            raise StatementError(i, "(statement): expected a JSON object")
        empty = empty_value(item)
        if empty:
            raise StatementError(i, f"{empty}: empty value (xAPI statements may not contain empty values)")
        try:
            st = Statement.model_validate(item)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"]) or "(statement)"
            raise StatementError(i, f"{loc}: {err['msg'].removeprefix('Value error, ')}") from None
        problem = _column_problem(_columns(st), actor_key(item["actor"]))
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


@dataclass(frozen=True)
class ImportSummary:
    """What an import did: statements stored, skipped (already stored), kept as external
    learners, and statements voided."""

    stored: int
    skipped: int = 0
    external: int = 0
    voided: int = 0
    leaders_created: int = 0


_RATER_POOL = re.compile(r"^(?P<leader>[^/]+)/raters/(?P<role>manager|peer|direct_report)$")


def _same(row: ActivityEvent, cols: dict[str, Any], leader_id: str | None) -> bool:
    """Whether a stored row records the same event as an incoming statement with its id."""
    def ts(t):
        return None if t is None else t.astimezone(UTC).replace(microsecond=t.microsecond // 1000 * 1000)
    return (row.leader_id == leader_id and row.verb == cols["verb"] and row.object_type == cols["object_type"]
            and row.object_id == cols["object_id"] and ts(row.timestamp) == ts(cols["timestamp"])
            and row.score_scaled == cols["score_scaled"])


def import_statements(
    engine: Engine,
    raw: Sequence[Any],
    *,
    source: str | None = None,
    organization_id: str | None = None,
    library: Any = None,
    keep_unknown_content: bool = False,
    create_leaders: bool = False,
    now: datetime | None = None,
) -> ImportSummary:
    """Validate and store a batch for one organization, all or nothing.

    Parameters
    ----------
    raw
        The statements (parsed JSON objects).
    source
        A file name or LRS address that starts every error message.
    organization_id
        Whose leaders the actors may be (default: the store's only organization).
    library
        The content library; when given, a ``urn:workbench:module|knowledge-check|scenario``
        object whose id it does not know is refused unless ``keep_unknown_content``.
    create_leaders
        Seed a fresh store: an account on the organization's own home page that names no
        leader becomes a new leader (name from ``actor.name``, cohort from a
        ``urn:workbench:cohort:<id>`` grouping activity). The organization is created if missing.

    Raises
    ------
    StatementError
        The first statement refused, with its index and reason; nothing is stored.
    BatchTooLarge
        Over ``MAX_BATCH_STATEMENTS``.
    """
    from .xapi_profile import resolve_organization

    try:
        statements = validate_batch(raw)
        if create_leaders and organization_id is not None:
            with transaction(engine) as s:
                if s.get(Organization, organization_id) is None:
                    s.add(Organization(id=organization_id, name=organization_id))
        org_id = resolve_organization(engine, organization_id)
        profile = organization_profile(engine, org_id)
        with transaction(engine) as s:
            summary = _import(s, raw, statements, org_id, profile, library, keep_unknown_content,
                              create_leaders, now or utcnow())
    except StatementError as exc:
        if source is None:
            raise
        raise StatementError(exc.index, exc.reason, file=source) from None
    except BatchTooLarge as exc:
        if source is None:
            raise
        raise BatchTooLarge(f"{source}: {exc}") from None
    return summary


def _import(s, raw, statements, org_id: str, profile: XapiProfile, library, keep_unknown_content: bool,
            create_leaders: bool, now: datetime) -> ImportSummary:
    leaders = {lid: cid for lid, cid in s.execute(
        select(Leader.id, Leader.cohort_id).where(Leader.organization_id == org_id))}
    others = set(s.scalars(select(Leader.id).where(Leader.organization_id != org_id)))
    cohorts = set(s.scalars(select(Cohort.id).where(Cohort.organization_id == org_id)))
    mapping = profile.mapping()
    for key, lid in mapping.items():
        if lid not in leaders:
            raise StatementError(0, f"identity mapping {key} names {lid!r}, not a leader of {org_id}")
    ids = [str(st.id) for st in statements]
    existing: dict[str, ActivityEvent] = {}
    for k in range(0, len(ids), 500):
        for row in s.scalars(select(ActivityEvent).where(ActivityEvent.id.in_(ids[k:k + 500]))):
            existing[row.id] = row
    voiders: dict[str, str] = {}
    if ids:
        for k in range(0, len(ids), 500):
            for vid, target in s.execute(select(ActivityEvent.id, ActivityEvent.object_id).where(
                    ActivityEvent.object_type == "statement", ActivityEvent.object_id.in_(ids[k:k + 500]))):
                voiders[target] = vid
    stored = skipped = external = voided = created = 0
    made: dict[str, Leader] = {}
    new_rows: list[ActivityEvent] = []
    placeholders = set(s.scalars(select(Leader.id).where(Leader.organization_id == org_id, Leader.name == Leader.id))) \
        if create_leaders else set()
    batch_rows: dict[str, ActivityEvent] = {}
    stored_at = now
    for i, st in enumerate(statements):
        item = raw[i]
        cols = _columns(st)
        key = actor_key(item["actor"])
        is_void = st.verb.id == VOIDED
        leader_id: str | None = None
        acc = st.actor.account
        if is_void:
            pass  # a voiding statement credits no one with learning: its actor need not be a leader
        elif st.actor.objectType == "Group":
            m = _RATER_POOL.match(acc.name) if acc is not None and acc.homePage == profile.home_page else None
            if m and cols["object_type"] == "assessment" and m["leader"] not in leaders and create_leaders \
                    and m["leader"] not in others:
                rated = ((item.get("context") or {}).get("extensions") or {}).get("urn:workbench:rated-leader")
                name = rated.get("name") if isinstance(rated, dict) and isinstance(rated.get("name"), str) else None
                made[m["leader"]] = _create_leader(s, i, m["leader"], name, item, org_id, leaders, cohorts)
                created += 1
                if name is None:
                    placeholders.add(m["leader"])
            if m and m["leader"] in leaders and cols["object_type"] == "assessment":
                leader_id = m["leader"]  # the pooled raters of a leader: filed under the leader rated
            elif profile.external_learners != "keep":
                raise StatementError(i, f"actor: the group {key} is not a learner of {org_id}")
        elif acc is not None and acc.homePage == profile.home_page:
            if acc.name in leaders:
                leader_id = acc.name
                if create_leaders and st.actor.name and acc.name in placeholders:
                    with s.no_autoflush:
                        (made.get(acc.name) or s.get(Leader, acc.name)).name = st.actor.name[:200]
                    placeholders.discard(acc.name)
            elif acc.name in others:
                raise StatementError(i, f"actor: {acc.name!r} is a leader of another organization, not {org_id}")
            elif create_leaders:
                leader_id = acc.name
                made[leader_id] = _create_leader(s, i, leader_id, st.actor.name, item, org_id, leaders, cohorts)
                created += 1
            elif key in mapping:
                leader_id = mapping[key]
            else:
                raise StatementError(i, f"actor: account {acc.name!r} on {acc.homePage} is no leader of {org_id}")
        elif key in mapping:
            leader_id = mapping[key]
        elif profile.external_learners != "keep":
            where = (f"account {acc.name!r} on {acc.homePage} (this organization's home page is "
                     f"{profile.home_page})") if acc is not None else key
            raise StatementError(i, f"actor: {where} is not a leader of {org_id} and no identity mapping names it "
                                    "(see docs/xapi.md)")
        if library is not None and not keep_unknown_content and cols["object_type"] in CONTENT_TYPES:
            known = getattr(library, CONTENT_TYPES[cols["object_type"]])
            if cols["object_id"] not in known:
                raise StatementError(i, f"object.id: unknown {cols['object_type']} {cols['object_id']!r} (not in the "
                                        "content library; import with --keep-unknown-content to keep it)")
        if cols["id"] in existing or cols["id"] in batch_rows:
            row = existing.get(cols["id"]) or batch_rows[cols["id"]]
            if _same(row, cols, leader_id) or (is_void and row.object_id == cols["object_id"]):
                skipped += 1
                continue
            raise StatementError(i, f"id: statement {st.id} is already stored with different content")
        kept = copy.deepcopy(item)
        kept.pop("stored", None)
        kept.setdefault("id", cols["id"])
        if st.timestamp is None:
            kept["timestamp"] = xapi_time(stored_at)
            cols["timestamp"] = stored_at
        kept.setdefault("authority", profile.authority(org_id))
        kept.setdefault("version", "1.0.0")
        row = ActivityEvent(**cols, leader_id=leader_id, origin="imported",
                            actor=None if leader_id is not None else key,
                            voided_by=voiders.get(cols["id"]), stored_at=stored_at, statement=kept)
        if is_void:
            target = existing.get(st.object.id) or batch_rows.get(st.object.id)
            if target is None:
                target = s.get(ActivityEvent, st.object.id)
            if target is not None:
                if target.verb == "voided":
                    raise StatementError(i, "object: a voiding statement cannot be voided")
                if target.voided_by is None:
                    target.voided_by = cols["id"]
                    voided += 1
            # else: kept; the target is voided if it arrives later (an LRS must not refuse this)
        if leader_id is None and not is_void:
            external += 1
        new_rows.append(row)
        batch_rows[cols["id"]] = row
        stored += 1
    s.flush()  # leaders and cohorts first: the rows refer to them
    s.add_all(new_rows)
    return ImportSummary(stored=stored, skipped=skipped, external=external, voided=voided, leaders_created=created)


def _cohort_of(item: dict[str, Any]) -> tuple[str, str] | None:
    """``(id, name)`` of the ``urn:workbench:cohort:<id>`` grouping activity of a statement."""
    ctx = (item.get("context") or {}).get("contextActivities") or {}
    for act in ctx.get("grouping") or []:
        otype, oid = split_object(str(act.get("id", "")))
        if otype == "cohort" and len(oid) <= 64:
            name = ((act.get("definition") or {}).get("name") or {}).get("en-US") or oid
            return oid, str(name)[:200]
    return None


def _create_leader(s, index: int, leader_id: str, name: str | None, item: dict[str, Any], org_id: str,
                   leaders: dict[str, str | None], cohorts: set[str]) -> Leader:
    """Seed a leader from a statement (``--create-leaders``); the name may come later."""
    if len(leader_id) > 64:
        raise StatementError(index, "actor.account.name: a leader id has at most 64 characters")
    cohort = _cohort_of(item)
    if cohort is not None and cohort[0] not in cohorts:
        s.add(Cohort(id=cohort[0], organization_id=org_id, name=cohort[1]))
        cohorts.add(cohort[0])
    leader = Leader(id=leader_id, organization_id=org_id, name=(name or leader_id)[:200],
                    cohort_id=cohort[0] if cohort else None, role_level="experienced")
    s.add(leader)
    leaders[leader_id] = cohort[0] if cohort else None
    return leader


def export_statements(
    engine: Engine, leader_ids: Iterable[str] | None = None, since: datetime | None = None, *,
    library: Any = None, derived: bool = True,
) -> list[dict[str, Any]]:
    """Stored statements, ready for another system, in time order (voided ones left out).

    Local statements are rendered in each organization's vocabulary; imported ones are
    exported as they were received. ``derived`` adds the statements made from other tables
    where the privacy rules allow it (discussion posts, pooled assessment submissions).
    See :mod:`workbench.store.xapi_export`.
    """
    from .xapi_export import export_all

    return export_all(engine, leader_ids=leader_ids, since=since, library=library, derived=derived)


def record(engine_or_session, st: Statement) -> None:
    """Store one statement (in the caller's session when given one)."""
    from sqlalchemy.orm import Session

    if isinstance(engine_or_session, Session):
        engine_or_session.add(to_event(st))
        return
    with transaction(engine_or_session) as s:
        s.add(to_event(st))
