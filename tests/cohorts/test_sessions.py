from __future__ import annotations

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


def test_ics_roundtrip(sessions):
    text = to_ics(sessions, dtstamp=dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC))
    events = parse_ics(text)
    assert len(events) == len(sessions)
    for e, s in zip(events, sessions, strict=True):
        for key in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "DESCRIPTION"):
            assert key in e
        assert e["DTSTART"] == s.starts_at.strftime("%Y%m%dT%H%M%SZ")
        assert e["DTEND"].endswith("Z") and e["DTEND"] > e["DTSTART"]
        assert e["SUMMARY"] == s.title
        assert e["DESCRIPTION"] == s.description()
        assert e["LOCATION"] == "Zoom; room 4, link in invite"
    assert len({e["UID"] for e in events}) == len(events)
    assert any(len(x.encode()) == 75 for x in text.split("\r\n"))  # something was actually folded


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
