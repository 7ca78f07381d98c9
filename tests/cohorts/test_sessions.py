from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest

from workbench.cohorts.sessions import (
    attendance_records,
    build_agenda,
    fold_line,
    ics_escape,
    schedule_sessions,
    session_dates,
    to_ics,
)


def parse_ics(text: str) -> list[dict[str, str]]:
    """A small RFC 5545 reader: checks CRLF and folding, unfolds, unescapes TEXT, returns VEVENTs."""
    assert text.endswith("\r\n")
    raw = text.split("\r\n")[:-1]
    assert all("\n" not in x and "\r" not in x for x in raw)
    for x in raw:
        assert len(x.encode("utf-8")) <= 75
    lines: list[str] = []
    for x in raw:
        if x.startswith(" "):
            lines[-1] += x[1:]
        else:
            lines.append(x)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and any(x.startswith("PRODID:") for x in lines)
    events, cur = [], None
    for x in lines:
        if x == "BEGIN:VEVENT":
            cur = {}
        elif x == "END:VEVENT":
            events.append(cur)
            cur = None
        elif cur is not None:
            name, value = x.split(":", 1)
            # no unescaped , or ; in TEXT values
            if name in ("SUMMARY", "DESCRIPTION", "LOCATION"):
                assert not re.search(r"(?<!\\)[,;]", value.replace("\\\\", "")), value
                value = re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)
            cur[name] = value
    return events


@pytest.fixture(scope="module")
def sessions(library):
    return schedule_sessions(library, "c1", ["feedback", "delegating"], start=dt.date(2026, 3, 4), weekday=1,
                             at=dt.time(9, 30), count=4, cadence_days=14, tz="Europe/Berlin", group_id="g3",
                             location="Zoom; room 4, link in invite")


def test_dates_weekday_and_cadence():
    d = session_dates(dt.date(2026, 3, 4), weekday=1, count=3, cadence_days=7)  # 4 March 2026 is a Wednesday
    assert d == [dt.date(2026, 3, 10), dt.date(2026, 3, 17), dt.date(2026, 3, 24)]
    assert session_dates(dt.date(2026, 3, 10), 1, 1) == [dt.date(2026, 3, 10)]
    with pytest.raises(ValueError, match="weekday"):
        session_dates(dt.date(2026, 3, 4), 7, 1)


def test_schedule_utc_and_agenda(sessions, library):
    assert [s.starts_at.date() for s in sessions] == [dt.date(2026, 3, 10), dt.date(2026, 3, 24),
                                                     dt.date(2026, 4, 7), dt.date(2026, 4, 21)]
    # Berlin is UTC+1 until 29 March 2026, UTC+2 after
    assert [s.starts_at.hour for s in sessions] == [8, 8, 7, 7]
    assert all(s.starts_at.tzinfo == dt.UTC for s in sessions)
    assert [s.competency for s in sessions] == ["feedback", "delegating", "feedback", "delegating"]
    modules = []
    for s in sessions:
        assert sum(a.minutes for a in s.agenda) == s.minutes
        kinds = [a.kind for a in s.agenda]
        assert kinds[0] == "check-in" and kinds[-1] == "commitment" and "discussion" in kinds
        mods = [a for a in s.agenda if a.kind == "module"]
        for a in mods:
            m = library.modules[a.ref]
            assert m.minutes <= 30 and s.competency in m.competencies
            modules.append(a.ref)
    assert len(modules) == len(set(modules))  # no module repeated while fresh ones exist


def test_agenda_rejects_unknown_competency(library):
    with pytest.raises(ValueError, match="unknown competency"):
        build_agenda(library, "juggling", "first-time")


def test_ics_is_one_repeating_event_in_the_cohort_time_zone(sessions):
    """Built with icalendar: one VEVENT with an RRULE, DTSTART in Europe/Berlin with a VTIMEZONE,
    organizer and attendees; its occurrences, expanded, are exactly the sessions, across the change
    to summer time on 29 March 2026 (the local time stays 09:30, the UTC time moves)."""
    from dateutil.rrule import rrulestr
    from icalendar import Calendar

    text = to_ics(sessions, tz="Europe/Berlin", organizer=("Frida Facilitator", "frida@example.org"),
                  attendees=[("Ada Abara", "ada@example.org"), ("Bo Berg", "bo@example.org")],
                  dtstamp=dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC))
    assert text.endswith("\r\n") and all(len(x.encode()) <= 75 for x in text.split("\r\n"))
    cal = Calendar.from_ical(text)
    events = cal.walk("VEVENT")
    assert len(events) == 1 and [str(t["TZID"]) for t in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    e = events[0]
    assert "TZID=Europe/Berlin:20260310T093000" in text
    start = e.decoded("DTSTART")
    assert str(start.tzinfo) in ("Europe/Berlin", "CET", "CEST") or start.utcoffset() == dt.timedelta(hours=1)
    rule = e["RRULE"]
    assert rule["FREQ"] == ["WEEKLY"] and rule["INTERVAL"] == [2] and rule["COUNT"] == [len(sessions)]
    occurrences = list(rrulestr(rule.to_ical().decode(), dtstart=start))
    assert [o.astimezone(dt.UTC) for o in occurrences] == [s.starts_at for s in sessions]
    assert {o.astimezone(dt.UTC).hour for o in occurrences} == {8, 7}  # 09:30 CET, then 09:30 CEST
    assert str(e["SUMMARY"]) == "Learning together" and str(e["LOCATION"]) == "Zoom; room 4, link in invite"
    assert all(s.title in str(e["DESCRIPTION"]) for s in sessions)
    assert str(e["ORGANIZER"]) == "mailto:frida@example.org" and e["ORGANIZER"].params["CN"] == "Frida Facilitator"
    attendees = e["ATTENDEE"]
    assert sorted(str(a) for a in attendees) == ["mailto:ada@example.org", "mailto:bo@example.org"]
    assert {a.params["CN"] for a in attendees} == {"Ada Abara", "Bo Berg"}


def test_ics_of_irregular_sessions_is_one_event_each(sessions):
    from icalendar import Calendar

    moved = list(sessions)
    moved[2] = dataclasses.replace(moved[2], starts_at=moved[2].starts_at + dt.timedelta(days=1))
    cal = Calendar.from_ical(to_ics(moved, tz="Europe/Berlin", dtstamp=dt.datetime(2026, 3, 1, tzinfo=dt.UTC)))
    events = cal.walk("VEVENT")
    assert len(events) == len(moved) and not any("RRULE" in e for e in events)
    assert [e.decoded("DTSTART").astimezone(dt.UTC) for e in events] == [s.starts_at for s in moved]
    assert len({str(e["UID"]) for e in events}) == len(events)
    with pytest.raises(ValueError, match="no sessions"):
        to_ics([])


def test_escape_and_fold_utf8():
    assert ics_escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    line = "DESCRIPTION:" + "é" * 80
    folded = fold_line(line)
    parts = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in parts)
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == line


def test_attendance_records(sessions):
    recs = attendance_records(sessions[0], ["a", "b", "a"])
    assert [r["leader_id"] for r in recs] == ["a", "b"]
    assert {r["verb"] for r in recs} == {"attended"}
    assert recs[0]["object_id"] == sessions[0].id and recs[0]["timestamp"] == sessions[0].ends_at
    assert recs[0]["context"]["group_id"] == "g3"
