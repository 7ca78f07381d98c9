"""Multi-rater (360) invitations: asking a leader's manager, peers and direct reports for their view.

An invitation is a :class:`~workbench.store.models.Rater` row of role ``manager``, ``peer`` or
``direct_report``; its id is the subject of the rater's signed link (``make_token("rater", id)``).
The rater's answers are an assessment session with ``rater_id`` = the invitation id, so an
invitation's status follows from its row and its sessions:

===========  =================================================================
``invited``  sent, nothing answered yet (no session)
``started``  the rater has a draft session (answers saved, not submitted)
``submitted`` the rater submitted; the invitation is closed, with thanks
``expired``  past ``expires_at`` and not submitted
``revoked``  withdrawn before it was answered
===========  =================================================================

Two views, with different rules. The facilitator's view (:func:`invitations_for`,
:func:`cohort_invitations`, :func:`due_reminders`) lists invitations with names, emails and
times. The leader's view (:func:`leader_summary`) only counts: per role, how many are in each
state, which roles may be shown under the anonymity rule (:func:`workbench.skills.raters.visible_roles`)
and how many more answers a hidden role needs. The manager may be named there (there is only
one); peers and direct reports are never named or identified, not even by invitation id.
Nothing here writes to the leader's activity stream.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ..skills.raters import ANONYMOUS_ROLES, MIN_ANONYMOUS_RATERS, OTHER_ROLES, visible_roles
from ..store import invitation_repo
from ..store import models as m
from ..store.db import transaction
from ..store.repo import NotFound
from .identity import InvalidLink, make_token

STATUSES = ("invited", "started", "submitted", "expired", "revoked")
OPEN_STATUSES = ("invited", "started")
DEFAULT_DAYS = 21
MAX_DAYS = 90
REMINDER_AFTER_DAYS = 3
FACILITATOR_PREFIX = "facilitator:"
#: The longest address mail can deliver to (RFC 5321's 254-character path); the column holds 320.
MAX_EMAIL_CHARS = 254


class InvitationError(ValueError):
    """An invitation request that cannot be carried out (the message says why)."""


class InvitationClosed(InvalidLink):
    """The rater's invitation can no longer be answered.

    A subclass of :class:`workbench.services.identity.InvalidLink`, so a page that shows an error for a
    bad link shows this one too. ``reason`` is ``expired``, ``revoked``, ``submitted`` or ``unknown``.
    """

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True)
class Invitation:
    """One invitation as stored."""

    id: str
    leader_id: str
    role: str
    name: str | None
    email: str | None
    invited_by: str | None
    invited_at: datetime
    expires_at: datetime | None
    reminded_at: datetime | None
    reminder_count: int
    revoked_at: datetime | None

    @property
    def last_contact(self) -> datetime:
        """When the rater last heard from us: the last reminder, else the invitation."""
        return self.reminded_at or self.invited_at


@dataclass(frozen=True)
class InvitationStatus(Invitation):
    """An invitation with its state (facilitator's view: names allowed)."""

    status: str = "invited"
    started_at: datetime | None = None
    submitted_at: datetime | None = None
    answered: int = 0  # answers saved so far

    @property
    def open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class RaterAssignment:
    """What the rater page needs to show a form, and nothing about the leader's results."""

    invitation_id: str
    leader_id: str
    leader_name: str
    role: str
    rater_name: str | None
    expires_at: datetime | None
    status: str  # invited or started


@dataclass(frozen=True)
class RoleSummary:
    """Counts for one rater role, as the leader may see them."""

    role: str
    invited: int
    started: int
    submitted: int
    expired: int
    revoked: int
    visible: bool  # this role's answers may enter what the leader sees
    needed: int  # more submissions before the role becomes visible (0 when visible)
    included: int = 0  # submitted sheets in the leader's view (blocks of 3 for peers and reports)
    min_anonymous: int = MIN_ANONYMOUS_RATERS

    @property
    def until_update(self) -> int:
        """More submissions before the leader's view of this role next changes."""
        if self.role == "manager":
            return 0 if self.submitted else 1
        return self.min_anonymous - (self.submitted - self.included) if self.visible else self.needed

    @property
    def open(self) -> int:
        return self.invited + self.started


@dataclass(frozen=True)
class LeaderSummary:
    """The leader's view of their invitations: counts only, no rater identities.

    The manager, of whom there is one, may be named (``manager_name``, ``manager_status``).
    """

    leader_id: str
    roles: tuple[RoleSummary, ...]
    visible: frozenset[str]
    manager_name: str | None = None
    manager_status: str | None = None
    min_anonymous: int = MIN_ANONYMOUS_RATERS

    def role(self, role: str) -> RoleSummary:
        for r in self.roles:
            if r.role == role:
                return r
        raise KeyError(f"no rater role {role!r}; expected one of {OTHER_ROLES}")

    def to_frame(self) -> pd.DataFrame:
        """One row per role: the counts, visibility and submissions still needed."""
        return pd.DataFrame([{f.name: getattr(r, f.name) for f in fields(r)} for r in self.roles])


# ---------------------------------------------------------------------- helpers
def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def status_of(*, submitted: bool, started: bool, revoked_at: datetime | None, expires_at: datetime | None,
              now: datetime) -> str:
    """The status rule: submitted, then revoked, then expired, then started, else invited."""
    if submitted:
        return "submitted"
    if revoked_at is not None:
        return "revoked"
    if expires_at is not None and _now(now) >= expires_at:
        return "expired"
    return "started" if started else "invited"


def _invitation(r: m.Rater) -> Invitation:
    return Invitation(r.id, r.leader_id, r.role, r.name, r.email, r.invited_by, r.invited_at, r.expires_at,
                      r.reminded_at, int(r.reminder_count or 0), r.revoked_at)


def _statuses(s: Session, now: datetime, *, ids: Iterable[str] | None = None, leader_id: str | None = None,
              cohort_id: str | None = None) -> list[InvitationStatus]:
    """Invitations (narrowed to some ids, a leader or a cohort) with their status."""
    raters, by_rater = invitation_repo.invitations_with_sheets(s, OTHER_ROLES, ids=ids, leader_id=leader_id,
                                                               cohort_id=cohort_id)
    out = []
    for r in raters:
        sess = by_rater.get(r.id, [])
        submitted = [x for x in sess if x[0] == "submitted"]
        # "started" means answers are saved: opening the form alone creates an empty draft
        status = status_of(submitted=bool(submitted), started=any(x[3] > 0 for x in sess), revoked_at=r.revoked_at,
                           expires_at=r.expires_at, now=now)
        out.append(InvitationStatus(
            **asdict(_invitation(r)), status=status,
            started_at=min((x[1] for x in sess), default=None),
            submitted_at=max((x[2] for x in submitted if x[2] is not None), default=None),
            answered=max((x[3] for x in (submitted or sess)), default=0),
        ))
    return out


def _one(s: Session, invitation_id: str, now: datetime) -> InvitationStatus:
    found = _statuses(s, now, ids=[invitation_id])
    if not found:
        raise NotFound(f"no invitation {invitation_id!r}")
    return found[0]


def _check_inviter(leader: m.Leader, invited_by: str | None) -> None:
    if invited_by is None or invited_by == leader.id:
        return
    if invited_by.startswith(FACILITATOR_PREFIX):
        cohort = invited_by.removeprefix(FACILITATOR_PREFIX)
        if cohort and cohort == leader.cohort_id:
            return
        raise PermissionError(f"{invited_by} cannot invite raters for {leader.id}, who is not in cohort {cohort!r}")
    raise InvitationError(f"invited_by must be the leader's id ({leader.id!r}) or 'facilitator:<cohort id>', "
                          f"got {invited_by!r}")


def _check_days(days: int) -> None:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise InvitationError(f"an invitation lasts 1 to {MAX_DAYS} days, got {days!r}")


# ---------------------------------------------------------------------- writes
def _check_email(email: str) -> None:
    """Refuse an address that is not an email address by its syntax (email-validator; no DNS lookup)."""
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvitationError(f"{email!r} does not look like an email address: {exc}") from None


def invite(engine: Engine, leader_id: str, role: str, name: str | None = None, email: str | None = None,
           invited_by: str | None = None, days: int = DEFAULT_DAYS, now: datetime | None = None) -> Invitation:
    """Invite someone to rate a leader in a role.

    Parameters
    ----------
    leader_id
        The leader to be rated.
    role
        ``manager``, ``peer`` or ``direct_report`` (a self-assessment needs no invitation).
    name, email
        Optional; shown only in the facilitator's view. An email is checked for its syntax
        (email-validator, no DNS lookup) and compared case-insensitively.
    invited_by
        The leader's own id, or ``facilitator:<cohort id>`` for the leader's cohort's facilitator.
    days
        How long the invitation stays open (1 to :data:`MAX_DAYS`).

    Raises
    ------
    NotFound
        No such leader.
    PermissionError
        A facilitator of another cohort.
    InvitationError
        An unknown role; a second manager while one is invited, answering or has answered; an
        email already invited for this leader and role (unless that invitation was revoked or
        expired); the leader's own email; a malformed email; ``days`` out of range.
    """
    now = _now(now)
    if role not in OTHER_ROLES:
        raise InvitationError(f"unknown rater role {role!r}; invite one of {', '.join(OTHER_ROLES)} "
                              "(a leader's self-assessment needs no invitation)")
    _check_days(days)
    name = (name or "").strip()[:200] or None
    email = (email or "").strip().lower() or None
    if email is not None and len(email) > MAX_EMAIL_CHARS:
        raise InvitationError(f"the email address has {len(email)} characters; at most {MAX_EMAIL_CHARS}")
    if email is not None:
        _check_email(email)
    with transaction(engine) as s:
        leader = s.get(m.Leader, leader_id)
        if leader is None:
            raise NotFound(f"no leader with id {leader_id!r}")
        _check_inviter(leader, invited_by)
        if email is not None and leader.email and email == leader.email.strip().lower():
            raise InvitationError(f"{email} is {leader_id}'s own address; a leader rates themself in the "
                                  "self-assessment, not through an invitation")
        existing = [x for x in _statuses(s, now, leader_id=leader_id) if x.status not in ("revoked", "expired")]
        if role == "manager":
            current = [x for x in existing if x.role == "manager"]
            if current:
                raise InvitationError(f"{leader_id} already has a manager invitation ({current[0].status}); "
                                      "revoke it or let it expire before inviting another manager")
        if email is not None:
            same = [x for x in existing if x.role == role and (x.email or "").lower() == email]
            if same:
                raise InvitationError(f"{email} is already invited as {role.replace('_', ' ')} for {leader_id} "
                                      f"({same[0].status}); extend that invitation instead of sending another")
        row = m.Rater(id=uuid.uuid4().hex, leader_id=leader_id, role=role, name=name, email=email,
                      invited_by=invited_by, invited_at=now, expires_at=now + timedelta(days=days),
                      reminder_count=0)
        s.add(row)
        s.flush()
        return _invitation(row)


def revoke(engine: Engine, invitation_id: str, now: datetime | None = None) -> InvitationStatus:
    """Withdraw an invitation that has not been answered (idempotent for a revoked one).

    A draft the rater had started is kept but never scored. A submitted invitation cannot be
    revoked (``InvitationError``): its answers are already part of the leader's results.
    """
    now = _now(now)
    with transaction(engine) as s:
        inv = _one(s, invitation_id, now)
        if inv.status == "submitted":
            raise InvitationError(f"invitation {invitation_id} was already answered and cannot be revoked")
        if inv.status != "revoked":
            s.get(m.Rater, invitation_id).revoked_at = now
        return _one(s, invitation_id, now)


def extend(engine: Engine, invitation_id: str, days: int, now: datetime | None = None) -> InvitationStatus:
    """Give a rater ``days`` more: from the current expiry, or from now if it has passed.

    Reopens an expired invitation; refuses a submitted or revoked one (``InvitationError``).
    """
    now = _now(now)
    _check_days(days)
    with transaction(engine) as s:
        inv = _one(s, invitation_id, now)
        if inv.status in ("submitted", "revoked"):
            raise InvitationError(f"invitation {invitation_id} is {inv.status}; only an open or expired "
                                  "invitation can be extended")
        row = s.get(m.Rater, invitation_id)
        row.expires_at = max(row.expires_at or now, now) + timedelta(days=days)
        return _one(s, invitation_id, now)


def mark_reminded(engine: Engine, invitation_ids: str | Iterable[str], now: datetime | None = None) -> int:
    """Record that a reminder went out (all or nothing). Returns how many were marked.

    Raises ``NotFound`` for an unknown id and ``InvitationError`` when one of them is no
    longer open (submitted, expired or revoked), marking none.
    """
    now = _now(now)
    ids = [invitation_ids] if isinstance(invitation_ids, str) else list(dict.fromkeys(invitation_ids))
    with transaction(engine) as s:
        found = {x.id: x for x in _statuses(s, now, ids=ids)} if ids else {}
        for iid in ids:
            if iid not in found:
                raise NotFound(f"no invitation {iid!r}")
            if not found[iid].open:
                raise InvitationError(f"invitation {iid} is {found[iid].status}; there is nothing to remind about")
        for iid in ids:
            row = s.get(m.Rater, iid)
            row.reminded_at, row.reminder_count = now, int(row.reminder_count or 0) + 1
    return len(ids)


# ---------------------------------------------------------------------- reads
def invitations_for(engine: Engine, leader_id: str, now: datetime | None = None) -> list[InvitationStatus]:
    """Every invitation for one leader with its status (the FACILITATOR's view: names allowed)."""
    now = _now(now)
    with transaction(engine) as s:
        if s.get(m.Leader, leader_id) is None:
            raise NotFound(f"no leader with id {leader_id!r}")
        return _statuses(s, now, leader_id=leader_id)


def cohort_invitations(engine: Engine, cohort_id: str, now: datetime | None = None) -> list[InvitationStatus]:
    """Every invitation for the leaders of a cohort (the facilitator's view), in one query."""
    now = _now(now)
    with transaction(engine) as s:
        if s.get(m.Cohort, cohort_id) is None:
            raise NotFound(f"no cohort with id {cohort_id!r}")
        return _statuses(s, now, cohort_id=cohort_id)


def to_frame(statuses: Iterable[InvitationStatus]) -> pd.DataFrame:
    """Invitations as a table (one row each, the dataclass fields as columns)."""
    cols = [f.name for f in fields(InvitationStatus)]
    return pd.DataFrame([asdict(x) for x in statuses], columns=cols)


def due_reminders(engine: Engine, cohort_id: str | None = None, leader_id: str | None = None,
                  now: datetime | None = None, after_days: float = REMINDER_AFTER_DAYS) -> list[InvitationStatus]:
    """Open invitations (invited or started) whose rater last heard from us ``after_days`` or more ago.

    Limited to one cohort or one leader when given (both: that leader, if in that cohort);
    the whole store otherwise. Oldest contact first.
    """
    now = _now(now)
    if after_days < 0:
        raise InvitationError(f"after_days must not be negative, got {after_days}")
    with transaction(engine) as s:
        rows = _statuses(s, now, leader_id=leader_id, cohort_id=cohort_id)
    cutoff = now - timedelta(days=after_days)
    due = [x for x in rows if x.open and x.last_contact <= cutoff]
    return sorted(due, key=lambda x: (x.last_contact, x.leader_id, x.id))


def leader_summary(engine: Engine, leader_id: str, now: datetime | None = None,
                   min_anonymous: int = MIN_ANONYMOUS_RATERS) -> LeaderSummary:
    """The LEADER's view: counts per role and state, visibility under the anonymity rule.

    Peers and direct reports appear only as counts. The manager's name and state are given
    (one manager is identifiable anyway). ``needed`` says how many more submissions a hidden
    role needs: 1 for the manager, ``min_anonymous`` minus those submitted for the others.
    """
    rows = invitations_for(engine, leader_id, now)
    counts = {role: dict.fromkeys(STATUSES, 0) for role in OTHER_ROLES}
    for x in rows:
        counts[x.role][x.status] += 1
    visible = visible_roles({role: c["submitted"] for role, c in counts.items()}, min_anonymous=min_anonymous)
    roles = []
    for role in OTHER_ROLES:
        c = counts[role]
        need = min_anonymous if role in ANONYMOUS_ROLES else 1
        included = (c["submitted"] if role == "manager" else min_anonymous * (c["submitted"] // min_anonymous))
        roles.append(RoleSummary(role, c["invited"], c["started"], c["submitted"], c["expired"], c["revoked"],
                                 role in visible, 0 if role in visible else need - c["submitted"],
                                 included if role in visible else 0, min_anonymous))
    managers = [x for x in rows if x.role == "manager"]
    current = next((x for x in reversed(managers) if x.status not in ("revoked", "expired")), None)
    current = current or (managers[-1] if managers else None)
    return LeaderSummary(leader_id, tuple(roles), visible,
                         manager_name=current.name if current else None,
                         manager_status=current.status if current else None,
                         min_anonymous=min_anonymous)


def open_for_rater(engine: Engine, invitation_id: str, now: datetime | None = None) -> RaterAssignment:
    """What the rater page shows for a (verified) rater link, or :class:`InvitationClosed`.

    Raises ``InvitationClosed`` when the invitation is unknown, revoked, expired or already
    submitted; the page shows its message and reads nothing else. Returns nothing about the
    leader's results: only who the form is about, in which role, and until when.
    """
    now = _now(now)
    with transaction(engine) as s:
        found = _statuses(s, now, ids=[invitation_id])
        if not found:
            raise InvitationClosed("unknown", "this invitation is not known: it may have been withdrawn")
        inv = found[0]
        if inv.status == "submitted":
            raise InvitationClosed("submitted", "this form was already submitted — thank you")
        if inv.status == "revoked":
            raise InvitationClosed("revoked", "this invitation was withdrawn; there is nothing to fill in")
        if inv.status == "expired":
            raise InvitationClosed("expired", "this invitation has expired: ask the person who invited you "
                                              "for a new one")
        leader = s.get(m.Leader, inv.leader_id)
        return RaterAssignment(inv.id, inv.leader_id, leader.name, inv.role, inv.name, inv.expires_at, inv.status)


def rater_token(engine: Engine, invitation_id: str, now: datetime | None = None, key: str | None = None) -> str:
    """A signed rater link token for an open invitation (``InvitationClosed`` otherwise).

    Link tokens live :data:`workbench.services.identity.DEFAULT_TTL_HOURS` (14 days), invitations
    :data:`DEFAULT_DAYS`; a reminder should therefore carry a fresh token.
    """
    open_for_rater(engine, invitation_id, now)
    return make_token("rater", invitation_id, key=key)


# ---------------------------------------------------------------------- the facilitator's table and mail
ROLE_WORDS = {"manager": "manager", "peer": "peer", "direct_report": "direct report"}
TABLE_COLUMNS = ("leader", "role", "rater", "email", "status", "invited", "expires", "reminders", "answered", "link")


@dataclass(frozen=True)
class MailDraft:
    """A reminder (or first invitation) mail for the facilitator to send: who, subject and body."""

    to: str | None
    subject: str
    body: str

    def mailto(self) -> str:
        """A ``mailto:`` address that opens the draft in the facilitator's mail program."""
        from urllib.parse import quote

        return f"mailto:{quote(self.to or '')}?subject={quote(self.subject)}&body={quote(self.body)}"


def mail_draft(inv: InvitationStatus, leader_name: str, link: str, *, sender: str | None = None,
               now: datetime | None = None) -> MailDraft:
    """The mail asking (or reminding) a rater to answer, naming the leader rated and the deadline.

    A first mail for an invitation never reminded and not started; a reminder otherwise. The body
    says what the form is, how long it takes, how the answers are used (anonymity for peers and
    direct reports) and until when the link works; it carries the rater's personal link.
    """
    now = _now(now)
    first = leader_name.split()[0] if leader_name.strip() else leader_name
    greeting = f"Hello {inv.name.split()[0]}," if inv.name else "Hello,"
    role = ROLE_WORDS[inv.role]
    reminder = inv.reminder_count > 0 or inv.status == "started" or (now - inv.invited_at) >= timedelta(days=1)
    until = f" It is open until {inv.expires_at:%A %d %B}." if inv.expires_at else ""
    if inv.status == "started":
        ask = (f"Thank you for starting the feedback form about {leader_name}. Your answers so far are saved: "
               "the same link takes you back to where you stopped.")
    elif reminder:
        ask = f"A reminder: {leader_name} would value your view as their {role}, and the form is still waiting."
    else:
        ask = f"{leader_name} has asked for feedback from the people they work with, and you were invited as their {role}."
    if inv.role == "manager":
        privacy = f"As {first}'s manager your answers are not anonymous: {first} sees them next to their own view."
    else:
        privacy = (f"Your answers are pooled with those of other {role}s; {first} sees only the combined view, "
                   f"and only once at least {MIN_ANONYMOUS_RATERS} of you have answered.")
    body = "\n\n".join([
        greeting,
        ask,
        "The form asks how often you see particular behaviours, about 15 minutes in all. Where you have not "
        "seen something, answer \"Not observed / can't say\"." + until,
        privacy,
        f"Your personal link (please do not forward it):\n{link}",
        f"Thank you,\n{sender}" if sender else "Thank you",
    ])
    subject = (f"Reminder: your feedback for {leader_name}" if reminder else f"Feedback for {leader_name}: your view as their {role}")
    return MailDraft(inv.email, subject, body)


def facilitator_table(statuses: Iterable[InvitationStatus], leader_names: dict[str, str],
                      link: Callable[[InvitationStatus], str | None] | None = None) -> pd.DataFrame:
    """The facilitator's invitation table (columns :data:`TABLE_COLUMNS`): one row per invitation,
    the leader by name, times as dates, and a fresh personal link for each open invitation
    (``link(status)``; empty for closed ones). Written as CSV by :func:`table_csv`."""
    rows = []
    for x in statuses:
        rows.append({
            "leader": leader_names.get(x.leader_id, x.leader_id), "role": ROLE_WORDS[x.role], "rater": x.name or "",
            "email": x.email or "", "status": x.status, "invited": f"{x.invited_at:%Y-%m-%d}",
            "expires": "" if x.expires_at is None else f"{x.expires_at:%Y-%m-%d}", "reminders": x.reminder_count,
            "answered": x.answered, "link": (link(x) or "") if (link is not None and x.open) else "",
        })
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def table_csv(table: pd.DataFrame) -> str:
    """A :func:`facilitator_table` as CSV text (UTF-8, a header row, for a spreadsheet or a mail merge)."""
    return table.to_csv(index=False, lineterminator="\n")
