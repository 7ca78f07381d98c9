"""SQLAlchemy 2 models: the product's persistent record.

Conventions: string primary keys for things people name or link to (leaders, cohorts,
modules are content ids), integer keys for high-volume rows; every timestamp is stored
timezone-aware in UTC; free-form payloads (xAPI statements, agendas) are JSON columns.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

RATER_ROLES = ("self", "manager", "peer", "direct_report")
ROLE_LEVELS = ("first-time", "experienced", "senior")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timestamps stored in UTC and always returned timezone-aware, on every database.

    SQLite keeps no time zone, so without this a value written aware comes back naive;
    a naive value written is taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)

    cohorts: Mapped[list[Cohort]] = relationship(back_populates="organization")
    leaders: Mapped[list[Leader]] = relationship(back_populates="organization")


class Cohort(Base):
    __tablename__ = "cohorts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    facilitator: Mapped[str | None] = mapped_column(String(200))
    starts_on: Mapped[datetime | None]
    timezone: Mapped[str | None] = mapped_column(String(64))  # IANA zone; None: the organization's

    organization: Mapped[Organization] = relationship(back_populates="cohorts")
    leaders: Mapped[list[Leader]] = relationship(back_populates="cohort")


class Leader(Base):
    __tablename__ = "leaders"
    __table_args__ = (CheckConstraint(_in("role_level", ROLE_LEVELS), name="role_level"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    cohort_id: Mapped[str | None] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"), index=True)
    manager_id: Mapped[str | None] = mapped_column(ForeignKey("leaders.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str | None] = mapped_column(String(200))
    function: Mapped[str | None] = mapped_column(String(100))
    role_level: Mapped[str] = mapped_column(String(20))
    first_time: Mapped[bool] = mapped_column(Boolean, default=False)
    weekly_minutes: Mapped[int] = mapped_column(Integer, default=60)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    timezone: Mapped[str | None] = mapped_column(String(64))  # IANA zone; None: the organization's

    organization: Mapped[Organization] = relationship(back_populates="leaders")
    cohort: Mapped[Cohort | None] = relationship(back_populates="leaders")


class Rater(Base):
    """Someone asked to rate a leader: the leader themself, or a manager, peer or report.

    A row for another rater is their invitation (``workbench.services.invitations``): its id is the
    subject of the rater's signed link. ``invited_by`` is the leader's id or
    ``facilitator:<cohort id>``; a reminder sets ``reminded_at`` and counts up
    ``reminder_count``; ``revoked_at`` closes an invitation before it was answered.
    """

    __tablename__ = "raters"
    __table_args__ = (CheckConstraint(_in("role", RATER_ROLES), name="role"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    leader_id: Mapped[str] = mapped_column(ForeignKey("leaders.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    invited_by: Mapped[str | None] = mapped_column(String(100))
    reminded_at: Mapped[datetime | None]
    reminder_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    revoked_at: Mapped[datetime | None]


class AssessmentSession(Base):
    """One rater filling in one form about one leader; ``draft`` until submitted."""

    __tablename__ = "assessment_sessions"
    __table_args__ = (
        CheckConstraint(_in("status", ("draft", "submitted")), name="status"),
        CheckConstraint(_in("rater_role", RATER_ROLES), name="rater_role"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    leader_id: Mapped[str] = mapped_column(ForeignKey("leaders.id", ondelete="CASCADE"), index=True)
    rater_id: Mapped[str | None] = mapped_column(ForeignKey("raters.id", ondelete="SET NULL"), index=True)
    rater_role: Mapped[str] = mapped_column(String(20))
    form: Mapped[str] = mapped_column(String(20), default="full")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]

    responses: Mapped[list[Response]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="Response.answered_at"
    )


class Response(Base):
    __tablename__ = "responses"
    __table_args__ = (UniqueConstraint("session_id", "item_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("assessment_sessions.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str] = mapped_column(String(64), index=True)
    value: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: "not observed / can't say"
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[AssessmentSession] = relationship(back_populates="responses")


class Calibration(Base):
    """A set of calibrated item parameters (the parameters JSON contract, verbatim) and where
    they came from. At most one calibration per organization is ``active``: the one every
    leader's estimates are scored with (see :mod:`workbench.services.calibration`)."""

    __tablename__ = "calibrations"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organization_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    activated_at: Mapped[datetime | None] = mapped_column(nullable=True)
    published_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # data window, respondents, sheets, method settings, diagnostics summary, software versions
    provenance: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class SkillEstimate(Base):
    __tablename__ = "skill_estimates"
    __table_args__ = (Index("ix_skill_estimates_leader_time", "leader_id", "estimated_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    leader_id: Mapped[str] = mapped_column(ForeignKey("leaders.id", ondelete="CASCADE"))
    competency: Mapped[str] = mapped_column(String(64))
    mean: Mapped[float] = mapped_column(Float)
    sd: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(20), default="all")  # all | self | others
    calibration_id: Mapped[str | None] = mapped_column(ForeignKey("calibrations.id", ondelete="SET NULL"))
    estimated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Recommendation(Base):
    __tablename__ = "recommendations"
    __table_args__ = (
        CheckConstraint(_in("status", ("active", "started", "completed", "dismissed", "expired")), name="status"),
        CheckConstraint("propensity > 0 AND propensity <= 1", name="propensity"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    leader_id: Mapped[str] = mapped_column(ForeignKey("leaders.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[str] = mapped_column(String(64))
    strategy: Mapped[str] = mapped_column(String(40))
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    propensity: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default="active")
    served_at: Mapped[datetime] = mapped_column(default=utcnow)
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ActivityEvent(Base):
    """An xAPI statement, with the columns analytics filters on pulled out and indexed.

    ``origin`` is ``local`` for statements this workbench made (exported in the current
    vocabulary, :mod:`workbench.store.xapi`) or ``imported`` for statements received from a
    file or an LRS (kept as sent and exported verbatim). ``leader_id`` is empty for an
    external learner (kept only where the organization allows it; ``actor`` names them).
    ``verb`` is the product's verb name for an ADL verb, else the full verb IRI. A voided
    statement keeps its row with ``voided_by`` = the voiding statement's id.
    """

    __tablename__ = "activity_events"
    __table_args__ = (
        Index("ix_activity_events_leader_time", "leader_id", "timestamp"),
        Index("ix_activity_events_stored", "stored_at", "id"),
        CheckConstraint(_in("origin", ("local", "imported")), name="origin"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the statement's UUID
    leader_id: Mapped[str | None] = mapped_column(ForeignKey("leaders.id", ondelete="CASCADE"))
    verb: Mapped[str] = mapped_column(String(500), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(500), index=True)
    competency: Mapped[str | None] = mapped_column(String(64))
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    score_scaled: Mapped[float | None] = mapped_column(Float)
    timestamp: Mapped[datetime]
    stored_at: Mapped[datetime] = mapped_column(default=utcnow)
    statement: Mapped[dict[str, Any]] = mapped_column(JSON)
    origin: Mapped[str] = mapped_column(String(10), default="local", server_default="local")
    actor: Mapped[str | None] = mapped_column(String(600))
    voided_by: Mapped[str | None] = mapped_column(String(36))


class LrsCursor(Base):
    """How far ``workbench xapi push`` and ``pull`` got with one LRS (by its endpoint URL)."""

    __tablename__ = "lrs_cursors"
    endpoint: Mapped[str] = mapped_column(String(500), primary_key=True)
    pushed_stored_at: Mapped[datetime | None]
    pushed_id: Mapped[str | None] = mapped_column(String(36))
    pulled_since: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScenarioRun(Base):
    __tablename__ = "scenario_runs"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    leader_id: Mapped[str] = mapped_column(ForeignKey("leaders.id", ondelete="CASCADE"), index=True)
    scenario_id: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    ending: Mapped[str | None] = mapped_column(String(64))

    choices: Mapped[list[ScenarioChoice]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="ScenarioChoice.step"
    )


class ScenarioChoice(Base):
    __tablename__ = "scenario_choices"
    __table_args__ = (UniqueConstraint("run_id", "step"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("scenario_runs.id", ondelete="CASCADE"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    node_id: Mapped[str] = mapped_column(String(64))
    choice_id: Mapped[str] = mapped_column(String(20))
    chosen_at: Mapped[datetime] = mapped_column(default=utcnow)

    run: Mapped[ScenarioRun] = relationship(back_populates="choices")


class ChatTurn(Base):
    __tablename__ = "chat_turns"
    __table_args__ = (CheckConstraint(_in("speaker", ("leader", "coach")), name="speaker"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    leader_id: Mapped[str] = mapped_column(ForeignKey("leaders.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    speaker: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    stage: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClassroomSession(Base):
    __tablename__ = "classroom_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cohort_id: Mapped[str] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    minutes: Mapped[int] = mapped_column(Integer, default=60)
    location: Mapped[str | None] = mapped_column(String(500))
    agenda: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DiscussionPost(Base):
    __tablename__ = "discussion_posts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cohort_id: Mapped[str] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("leaders.id", ondelete="CASCADE"))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("discussion_posts.id", ondelete="CASCADE"))
    prompt: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Commitment(Base):
    """A step a leader committed to (for example at the end of a coaching conversation)."""

    __tablename__ = "commitments"
    __table_args__ = (CheckConstraint(_in("status", ("open", "done", "dropped")), name="status"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    leader_id: Mapped[str] = mapped_column(ForeignKey("leaders.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    competency: Mapped[str | None] = mapped_column(String(64))
    goal: Mapped[str | None] = mapped_column(Text)
    due: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PeerGroupMember(Base):
    """Membership of a peer group within a cohort (groups are formed by ``workbench cohort groups``)."""

    __tablename__ = "peer_group_members"
    __table_args__ = (UniqueConstraint("cohort_id", "leader_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cohort_id: Mapped[str] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[str] = mapped_column(String(64))
    leader_id: Mapped[str] = mapped_column(ForeignKey("leaders.id", ondelete="CASCADE"))
    formed_at: Mapped[datetime] = mapped_column(default=utcnow)
