"""Virtual classroom sessions: dates, agendas from shared development areas, iCalendar export.

A schedule is ``count`` sessions, the first on the first ``weekday`` on or after ``start``,
then every ``cadence_days`` days, at ``at`` local time in the time zone ``tz``; start times are
stored in UTC. Session k focuses on the group's k-th shared development area (cycling), and its
agenda is:

1. check-in on last session's commitments (5 minutes);
2. one module on the focus competency at the cohort's level, at most ``max_module_minutes``
   (30) long, the first one not yet used in this schedule (``Library.find_modules``);
3. a discussion built on a moment for that competency (``Library.moments_for``), taking the
   time left;
4. a commitment for the week, from the module's ``apply_this_week`` (5 minutes).

:func:`to_ics` writes RFC 5545 text by hand: ``VCALENDAR`` with one ``VEVENT`` per session
(``UID``, ``DTSTAMP``, ``DTSTART``/``DTEND`` in UTC, ``SUMMARY``, ``DESCRIPTION``, optional
``LOCATION``), TEXT values escaped (backslash, semicolon, comma, newline), content lines folded
at 75 octets without splitting a UTF-8 character, CRLF line endings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from ..content.library import Library

CHECK_IN_MINUTES = 5
COMMIT_MINUTES = 5


@dataclass(frozen=True)
class AgendaItem:
    """One block of a session: ``kind`` is check-in, module, discussion or commitment."""

    kind: str
    title: str
    minutes: int
    ref: str | None = None  # module or moment id
    text: str = ""


@dataclass(frozen=True)
class ClassroomSession:
    """One scheduled session (mirrors the store's ``classroom_sessions`` row)."""

    id: str
    cohort_id: str
    title: str
    starts_at: dt.datetime  # aware, UTC
    minutes: int
    agenda: tuple[AgendaItem, ...]
    group_id: str | None = None
    location: str | None = None
    competency: str | None = None

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + dt.timedelta(minutes=self.minutes)

    def to_record(self) -> dict[str, Any]:
        """A plain dict with the store's column names (agenda as JSON-ready data)."""
        return {
            "id": self.id, "cohort_id": self.cohort_id, "group_id": self.group_id, "title": self.title,
            "starts_at": self.starts_at, "minutes": self.minutes, "location": self.location,
            "agenda": {"competency": self.competency,
                       "items": [{"kind": a.kind, "title": a.title, "minutes": a.minutes, "ref": a.ref, "text": a.text}
                                 for a in self.agenda]},
        }

    def description(self) -> str:
        lines = [f"{a.minutes} min - {a.title}" + (f": {a.text}" if a.text else "") for a in self.agenda]
        return "\n".join(lines)


def session_dates(start: dt.date, weekday: int, count: int, cadence_days: int = 14) -> list[dt.date]:
    """``count`` dates: the first ``weekday`` (0 = Monday) on or after ``start``, then every ``cadence_days``."""
    if not 0 <= weekday <= 6:
        raise ValueError(f"weekday must be 0 (Monday) .. 6 (Sunday), got {weekday}")
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    if cadence_days < 1:
        raise ValueError(f"cadence_days must be at least 1, got {cadence_days}")
    first = start + dt.timedelta(days=(weekday - start.weekday()) % 7)
    return [first + dt.timedelta(days=k * cadence_days) for k in range(count)]


def build_agenda(
    library: Library, competency: str, level: str, minutes: int = 60, max_module_minutes: int = 30,
    exclude_modules: Iterable[str] = (),
) -> tuple[AgendaItem, ...]:
    """The agenda of one session focused on ``competency`` (see the module docstring)."""
    if competency not in library.competencies:
        raise ValueError(f"unknown competency {competency!r}")
    if minutes < CHECK_IN_MINUTES + COMMIT_MINUTES + 10:
        raise ValueError(f"a session needs at least {CHECK_IN_MINUTES + COMMIT_MINUTES + 10} minutes, got {minutes}")
    used = set(exclude_modules)
    budget = minutes - CHECK_IN_MINUTES - COMMIT_MINUTES - 10  # keep 10 minutes for discussion
    cands = [m for m in library.find_modules(competency=competency, level=level, max_minutes=min(max_module_minutes, budget))]
    cands += [m for m in library.find_modules(competency=competency, max_minutes=min(max_module_minutes, budget))
              if m not in cands]  # other levels as a fallback
    fresh = [m for m in cands if m.id not in used] or cands
    items = [AgendaItem("check-in", "Check-in on last session's commitments", CHECK_IN_MINUTES)]
    module = fresh[0] if fresh else None
    if module is not None:
        items.append(AgendaItem("module", module.title, module.minutes, module.id, module.summary))
    moments = library.moments_for(competency)
    name = library.competencies[competency].name
    left = minutes - sum(a.minutes for a in items) - COMMIT_MINUTES
    if moments:
        mo = moments[0] if module is None else next((x for x in moments if x.id in module.moments), moments[0])
        prompt = mo.discussion_prompt()
        items.append(AgendaItem("discussion", f"Discussion: {mo.name}", left, mo.id, prompt))
    else:
        items.append(AgendaItem("discussion", f"Discussion: {name}", left, None,
                                f"Where did {name.lower()} matter in your work since the last session?"))
    commit = module.apply_this_week if module is not None else f"Pick one step to practise {name.lower()} this week."
    items.append(AgendaItem("commitment", "Commitment for the week", COMMIT_MINUTES, module.id if module else None, commit))
    return tuple(items)


def schedule_sessions(
    library: Library,
    cohort_id: str,
    focus: Sequence[str],
    *,
    start: dt.date,
    weekday: int,
    at: dt.time,
    count: int,
    cadence_days: int = 14,
    tz: str = "UTC",
    minutes: int = 60,
    level: str = "first-time",
    group_id: str | None = None,
    location: str | None = None,
    title: str = "Learning together",
) -> tuple[ClassroomSession, ...]:
    """Schedule ``count`` sessions, session k on ``focus[k % len(focus)]``.

    Parameters
    ----------
    focus
        Competencies in order, typically :meth:`Grouping.shared_development_areas`.
    at, tz
        Local start time and IANA time zone; stored as UTC (daylight saving handled by ``zoneinfo``).
    """
    if not focus:
        raise ValueError("focus needs at least one competency")
    zone = ZoneInfo(tz)
    used: list[str] = []
    out = []
    prefix = f"{cohort_id}-{group_id}" if group_id else cohort_id
    for k, day in enumerate(session_dates(start, weekday, count, cadence_days)):
        comp = focus[k % len(focus)]
        agenda = build_agenda(library, comp, level, minutes, exclude_modules=used)
        used += [a.ref for a in agenda if a.kind == "module" and a.ref]
        local = dt.datetime.combine(day, at.replace(tzinfo=None), tzinfo=zone)
        name = library.competencies[comp].name
        out.append(ClassroomSession(f"{prefix}-s{k + 1:02d}", cohort_id, f"{title} {k + 1}/{count}: {name}",
                                    local.astimezone(dt.UTC), minutes, agenda, group_id, location, comp))
    return tuple(out)


def local_time(t: dt.datetime, tz: str, fmt: str = "%a %d %b %Y, %H:%M") -> str:
    """A time in the zone ``tz`` with the zone's abbreviation (``Wed 04 Mar 2026, 09:00 GMT``);
    a naive time is taken as UTC (what the store keeps)."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    local = t.astimezone(ZoneInfo(tz))
    return f"{local.strftime(fmt)} {local.tzname()}"


# ---------------------------------------------------------------- iCalendar
def ics_escape(text: str) -> str:
    """Escape a TEXT value (RFC 5545 3.3.11)."""
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def fold_line(line: str, limit: int = 75) -> str:
    """Fold a content line at ``limit`` octets (continuation lines start with one space)."""
    out, cur, size = [], [], 0
    for ch in line:
        n = len(ch.encode("utf-8"))
        cap = limit if not out else limit - 1  # the leading space counts
        if size + n > cap:
            out.append("".join(cur))
            cur, size = [], 0
        cur.append(ch)
        size += n
    out.append("".join(cur))
    return "\r\n ".join(out)


def _series(sessions: Sequence[ClassroomSession], zone: ZoneInfo) -> int | None:
    """Days between sessions when they repeat regularly (same local time and length, a fixed
    cadence in days), else None."""
    if len(sessions) < 2:
        return None
    local = [s.starts_at.astimezone(zone) for s in sessions]
    gaps = {(b.date() - a.date()).days for a, b in zip(local, local[1:], strict=False)}
    same = len({t.time() for t in local}) == 1 and len({s.minutes for s in sessions}) == 1
    return gaps.pop() if same and len(gaps) == 1 and min(gaps) > 0 else None


def _person(prop: str, email: str, name: str | None, role: str):
    from icalendar import vCalAddress

    addr = vCalAddress(f"mailto:{email}")
    if name:
        addr.params["CN"] = name
    addr.params["ROLE"] = role
    if prop == "ATTENDEE":
        addr.params["PARTSTAT"] = "NEEDS-ACTION"
        addr.params["RSVP"] = "TRUE"
    return addr


def series_title(sessions: Sequence[ClassroomSession]) -> str:
    """The series' name: the common title before " 1/6: ..." (as :func:`schedule_sessions` writes it)."""
    heads = {s.title.rsplit(" ", 1)[0] if " " in s.title else s.title for s in sessions}
    first = sessions[0].title
    cut = first.find(f" 1/{len(sessions)}:")
    return first[:cut] if cut > 0 else (heads.pop() if len(heads) == 1 else first)


def to_ics(sessions: Sequence[ClassroomSession], *, tz: str = "UTC", organizer: tuple[str | None, str] | None = None,
           attendees: Sequence[tuple[str | None, str]] = (), dtstamp: dt.datetime | None = None,
           domain: str = "workbench.local", prodid: str = "-//Leadership Workbench//Cohorts//EN") -> str:
    """The sessions as an iCalendar document, built with the ``icalendar`` library.

    Sessions that repeat at a fixed cadence (same local time and length) become ONE event with a
    recurrence rule (``RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=6``, or daily for a cadence that is not
    whole weeks) in the time zone ``tz`` (``DTSTART;TZID=...`` and a ``VTIMEZONE``), so calendars
    keep the local time across daylight-saving changes; its description lists each date's topic
    and agenda. Irregular sessions become one event each, in the same zone. ``organizer`` and
    ``attendees`` are ``(name, email)`` pairs (``ORGANIZER`` and ``ATTENDEE`` with ``CN``).
    """
    from icalendar import Calendar, Event

    if not sessions:
        raise ValueError("no sessions to export")
    zone = ZoneInfo(tz)
    stamp = (dtstamp or dt.datetime.now(dt.UTC))
    if stamp.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    cal = Calendar()
    cal.add("prodid", prodid)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")

    def event(uid: str, start: dt.datetime, minutes: int, summary: str, description: str, location: str | None):
        e = Event()
        e.add("uid", f"{uid}@{domain}")
        e.add("dtstamp", stamp.astimezone(dt.UTC))
        e.add("dtstart", start.astimezone(zone))
        e.add("dtend", (start + dt.timedelta(minutes=minutes)).astimezone(zone))
        e.add("summary", summary)
        e.add("description", description)
        if location:
            e.add("location", location)
        if organizer is not None:
            e.add("organizer", _person("ORGANIZER", organizer[1], organizer[0], "CHAIR"))
        for name, email in attendees:
            e.add("attendee", _person("ATTENDEE", email, name, "REQ-PARTICIPANT"), encode=0)
        return e

    cadence = _series(sessions, zone)
    if cadence is not None:
        first = sessions[0]
        lines = []
        for s in sessions:
            lines.append(f"{s.starts_at.astimezone(zone):%a %d %b %Y}: {s.title}\n{s.description()}")
        e = event(f"{first.id}-series", first.starts_at, first.minutes, series_title(sessions),
                  "\n\n".join(lines), first.location)
        rule = ({"freq": "weekly", "interval": cadence // 7} if cadence % 7 == 0 else {"freq": "daily", "interval": cadence})
        e.add("rrule", {**rule, "count": len(sessions)})
        cal.add_component(e)
    else:
        for s in sessions:
            cal.add_component(event(s.id, s.starts_at, s.minutes, s.title, s.description(), s.location))
    if tz != "UTC":
        cal.add_missing_timezones()
    return cal.to_ical().decode("utf-8")


# ---------------------------------------------------------------- attendance
def attendance_records(session: ClassroomSession, attendees: Iterable[str],
                       at: dt.datetime | None = None) -> list[dict[str, Any]]:
    """One activity-event-like dict per attendee, verb ``"attended"``.

    Keys: ``leader_id``, ``verb``, ``object_type`` (``"classroom_session"``), ``object_id``,
    ``object_name``, ``timestamp`` (aware UTC, default the session's end), ``context``
    (cohort, group, competency, minutes). Duplicate attendees are reported once.
    """
    when = (at or session.ends_at).astimezone(dt.UTC)
    seen: list[str] = []
    for a in attendees:
        if not a:
            raise ValueError("attendee ids must be non-empty")
        if a not in seen:
            seen.append(a)
    return [{
        "leader_id": a, "verb": "attended", "object_type": "classroom_session", "object_id": session.id,
        "object_name": session.title, "timestamp": when,
        "context": {"cohort_id": session.cohort_id, "group_id": session.group_id,
                    "competency": session.competency, "minutes": session.minutes},
    } for a in seen]
