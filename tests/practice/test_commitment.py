"""Reading due dates from plain words; the commitment record."""

from __future__ import annotations

from datetime import date

import pytest

from workbench.practice.commitment import Commitment, default_due, parse_due, strip_due

FRIDAY = date(2026, 11, 27)


@pytest.mark.parametrize("text,due", [
    ("by Friday", date(2026, 12, 4)),
    ("I'll do it Monday.", date(2026, 11, 30)),
    ("next Friday", date(2026, 12, 4)),
    ("tomorrow", date(2026, 11, 28)),
    ("the day after tomorrow", date(2026, 11, 29)),
    ("today", FRIDAY),
    ("in two weeks", date(2026, 12, 11)),
    ("within 10 days", date(2026, 12, 7)),
    ("in a couple of weeks", date(2026, 12, 11)),
    ("by 4 December", date(2026, 12, 4)),
    ("Dec 4th", date(2026, 12, 4)),
    ("on 2 January", date(2027, 1, 2)),
    ("2026-12-10", date(2026, 12, 10)),
    ("by the end of the month", date(2026, 11, 30)),
    ("next month", date(2026, 12, 31)),
    ("next week", date(2026, 12, 4)),
    ("talk to Sam on Monday and finish by Wednesday", date(2026, 12, 2)),
])
def test_parse_due(text, due):
    found = parse_due(text, FRIDAY)
    assert found is not None and found.due == due, (text, found)


@pytest.mark.parametrize("text", ["agree a Tuesday check-in", "as soon as I can", "2020-01-01", "2026-13-45"])
def test_no_due_date(text):
    assert parse_due(text, FRIDAY) is None


def test_strip_due_and_defaults():
    found = parse_due("Ask Sam to own the checklist by Friday.", FRIDAY)
    assert strip_due("Ask Sam to own the checklist by Friday.", found.phrase) == "Ask Sam to own the checklist"
    assert default_due(FRIDAY) == date(2026, 12, 4)
    c = Commitment("Ask Sam", "delegating", date(2026, 12, 4))
    assert c.as_dict() == {"text": "Ask Sam", "competency": "delegating", "due": "2026-12-04", "goal": ""}
    with pytest.raises(ValueError, match="needs some text"):
        Commitment("  ", None, FRIDAY)
