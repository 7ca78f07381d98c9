"""Reading due dates from plain words (dateparser), the leader's sentence kept verbatim, the record."""

from __future__ import annotations

from datetime import date

import pytest

from workbench.practice.commitment import (
    Commitment,
    commitment_sentence,
    default_due,
    has_intention,
    only_date,
    parse_due,
    strip_due,
)

FRIDAY = date(2026, 11, 27)


@pytest.mark.parametrize("text,due", [
    ("by Friday", date(2026, 12, 4)),
    ("I'll do it Monday.", date(2026, 11, 30)),
    ("Monday 9am", date(2026, 11, 30)),
    ("I'll talk to Sam on Monday at 9", date(2026, 11, 30)),
    ("next Tuesday", date(2026, 12, 1)),
    ("tomorrow", date(2026, 11, 28)),
    ("tomorrow morning", date(2026, 11, 28)),
    ("the day after tomorrow", date(2026, 11, 29)),
    ("today", FRIDAY),
    ("in two weeks", date(2026, 12, 11)),
    ("in a fortnight", date(2026, 12, 11)),
    ("within 10 days", date(2026, 12, 7)),
    ("in a couple of weeks", date(2026, 12, 11)),
    ("within a few days", date(2026, 11, 30)),
    ("by 4 December", date(2026, 12, 4)),
    ("Dec 4th", date(2026, 12, 4)),
    ("on 2 January", date(2027, 1, 2)),
    ("2026-12-10", date(2026, 12, 10)),
    ("by the end of the month", date(2026, 11, 30)),
    ("end of next month", date(2026, 12, 31)),
    ("next month", date(2026, 12, 31)),
    ("next week", date(2026, 12, 4)),
    ("before the 15th", date(2026, 12, 15)),  # the 15th of November has passed: the next 15th
    ("by the 30th", date(2026, 11, 30)),
    ("by thurs", date(2026, 12, 3)),
    ("talk to Sam on Monday and finish by Wednesday", date(2026, 12, 2)),  # the deadline wins
    ("I'll tell the team at tomorrow's huddle that the rota is changing", date(2026, 11, 28)),
    ("Ring Jo, she's on 2nd shift, on Thursday", date(2026, 12, 3)),
    ("I will call the 3 drivers by Friday", date(2026, 12, 4)),
])
def test_parse_due(text, due):
    found = parse_due(text, FRIDAY)
    assert found is not None and found.due == due, (text, found)


@pytest.mark.parametrize("text", ["agree a Tuesday check-in", "as soon as I can", "2020-01-01", "2026-13-45",
                                  "may I ask the team", "we will see", "I'll sit down with Ana at 3", "", "   "])
def test_no_due_date(text):
    assert parse_due(text, FRIDAY) is None


@pytest.mark.parametrize("today", [date(2026, 1, 31), date(2026, 2, 28), date(2026, 12, 31), date(2027, 6, 6)])
@pytest.mark.parametrize("text", ["by Friday", "next Tuesday", "end of the month", "before the 15th", "in two weeks",
                                  "tomorrow morning", "Monday 9am", "this week", "on the 1st"])
def test_due_dates_are_never_in_the_past(today, text):
    found = parse_due(text, today)
    assert found is not None and today <= found.due <= date(today.year + 1, 12, 31), (today, text, found)


def test_a_date_only_answer_is_told_apart_from_a_step():
    for text in ("by Friday", "make it Monday", "in two weeks", "the 15th then", "next Tuesday please"):
        assert only_date(text, FRIDAY), text
    for text in ("Call Sam by Friday", "I'll tell the team at tomorrow's huddle", "agree a Tuesday check-in", "yes"):
        assert not only_date(text, FRIDAY), text


def test_the_sentence_is_kept_verbatim():
    # the bugs of the first version: due-date words were cut out of the middle of the sentence
    for text in ("Tell the team at tomorrow's huddle that the rota is changing.",
                 "Together next Tuesday we'll write three lines for the update.",
                 "I don't know if it'll work but I'll talk to Sam on Friday",
                 "Three lines in the email by Wednesday, no more."):
        assert commitment_sentence(f"  {text}\n", FRIDAY) == text
    # several sentences: from the first to the last one with an intention or a date
    assert commitment_sentence("Hmm, good question. I think I'll ask Sam to own it by Friday.", FRIDAY) == \
        "I think I'll ask Sam to own it by Friday."
    assert commitment_sentence("Okay. I'll ring Ana tomorrow. Then I'll book the room for Monday. Thanks!", FRIDAY) == \
        "I'll ring Ana tomorrow. Then I'll book the room for Monday."
    assert commitment_sentence("Walk the floor with the new starters. Every morning.", FRIDAY) == \
        "Walk the floor with the new starters. Every morning."
    assert has_intention("we'll try it") and has_intention("I'm going to ask") and not has_intention("the rota")


def test_strip_due_and_defaults():
    found = parse_due("Ask Sam to own the checklist by Friday.", FRIDAY)
    assert strip_due("Ask Sam to own the checklist by Friday.", found.phrase) == "Ask Sam to own the checklist"
    assert default_due(FRIDAY) == date(2026, 12, 4)
    c = Commitment("Ask Sam", "delegating", date(2026, 12, 4))
    assert c.as_dict() == {"text": "Ask Sam", "competency": "delegating", "due": "2026-12-04", "goal": ""}
    with pytest.raises(ValueError, match="needs some text"):
        Commitment("  ", None, FRIDAY)
