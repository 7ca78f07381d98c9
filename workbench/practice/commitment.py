"""The commitment a coaching conversation ends with, and reading a due date from plain words."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

DEFAULT_DAYS = 7

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9
NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
           "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a couple of": 2, "a couple": 2, "couple of": 2,
           "a few": 3, "few": 3}


@dataclass(frozen=True)
class Commitment:
    """A step the leader committed to: what, for which competency, by when.

    ``goal`` is the leader's goal in their own words, kept for the plan's context.
    """

    text: str
    competency: str | None
    due: date
    goal: str = ""

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError("a commitment needs some text")

    def as_dict(self) -> dict[str, str | None]:
        return {"text": self.text, "competency": self.competency, "due": self.due.isoformat(), "goal": self.goal}


@dataclass(frozen=True)
class DueDate:
    """A due date read from text, with the words it was read from."""

    due: date
    phrase: str


_NUM = r"(\d{1,2}|a couple of|a couple|couple of|a few|few|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_DAY = "|".join(WEEKDAYS)
_MON = "|".join(sorted(MONTHS, key=len, reverse=True))
_PATTERNS: tuple[tuple[str, str], ...] = (
    ("iso", r"\b(\d{4})-(\d{2})-(\d{2})\b"),
    ("day_month", r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(" + _MON + r")\.?\b"),
    ("month_day", r"\b(" + _MON + r")\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b"),
    ("in_n", r"\b(?:in|within)\s+(?:the\s+next\s+)?" + _NUM + r"\s+(day|week|month)s?\b"),
    ("day_after", r"\bday\s+after\s+tomorrow\b"),
    ("tomorrow", r"\btomorrow\b"),
    ("today", r"\b(today|tonight|this\s+(?:afternoon|evening|morning))\b"),
    ("next_weekday", r"\bnext\s+(" + _DAY + r")\b"),
    # a bare weekday counts only after a preposition or at the end of a clause ("a Tuesday
    # check-in" is not a deadline)
    ("weekday", r"\b(?:(?:on|by|this|before|until|due|from)\s+(" + _DAY + r")\b|(" + _DAY + r")\s*(?=[.!?,;)]|$))"),
    ("end_week", r"\b(?:end\s+of\s+(?:the|this)\s+week|this\s+week|end\s+of\s+week)\b"),
    ("next_week", r"\b(?:next\s+week|end\s+of\s+next\s+week)\b"),
    ("end_month", r"\b(?:end\s+of\s+(?:the|this)\s+month|this\s+month)\b"),
    ("next_month", r"\bnext\s+month\b"),
)


_DEADLINE = re.compile(r"\b(by|before|until|till|due|no later than|within)\b")


def _next_weekday(today: date, weekday: int) -> date:
    """The next date with that weekday strictly after today (1..7 days ahead)."""
    ahead = (weekday - today.weekday()) % 7
    return today + timedelta(days=ahead or 7)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _upcoming(today: date, month: int, day: int) -> date | None:
    for year in (today.year, today.year + 1):
        try:
            d = date(year, month, day)
        except ValueError:
            return None
        if d >= today:
            return d
    return None


def parse_due(text: str, today: date) -> DueDate | None:
    """The first due date mentioned in ``text``, relative to ``today``; None when there is none.

    Understood: ISO dates (2026-12-04), "4 December", "Dec 4th", "in two weeks", "within 10
    days", "today", "tomorrow", "day after tomorrow", a weekday (the next one after today),
    "next Friday" (Friday of next calendar week), "this week" / "end of the week" (the coming
    Friday), "next week" (Friday of next week), "end of the month", "next month" (its last day).
    A phrase introduced by "by", "before", "until" or "due" wins over other dates in the text
    ("talk to Sam on Monday and finish by Friday" is due Friday). Dates in the past are ignored.
    """
    low = text.lower()
    found: list[tuple[int, int, DueDate]] = []
    for kind, pattern in _PATTERNS:
        for m in re.finditer(pattern, low):
            d = _resolve(kind, m, today)
            if d is not None and d >= today:
                before = low[max(0, m.start() - 16):m.start()] + low[m.start():m.end()]
                marked = 0 if _DEADLINE.search(before) else 1
                found.append((marked, m.start(), DueDate(d, text[m.start():m.end()].strip())))
    if not found:
        return None
    # a phrase marked as a deadline ("by", "before", "until", "due") wins, then the earliest
    # mention; at one position the more specific pattern (listed first) wins
    return min(found, key=lambda t: (t[0], t[1]))[2]


def _resolve(kind: str, m: re.Match[str], today: date) -> date | None:
    g = m.groups()
    if kind == "iso":
        try:
            return date(int(g[0]), int(g[1]), int(g[2]))
        except ValueError:
            return None
    if kind == "day_month":
        return _upcoming(today, MONTHS[g[1]], int(g[0]))
    if kind == "month_day":
        return _upcoming(today, MONTHS[g[0]], int(g[1]))
    if kind == "in_n":
        n = int(g[0]) if g[0].isdigit() else NUMBERS[g[0]]
        unit = g[1]
        if unit == "day":
            return today + timedelta(days=n)
        if unit == "week":
            return today + timedelta(weeks=n)
        month = today.month - 1 + n
        year, month = today.year + month // 12, month % 12 + 1
        return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))
    if kind == "day_after":
        return today + timedelta(days=2)
    if kind == "tomorrow":
        return today + timedelta(days=1)
    if kind == "today":
        return today
    if kind == "next_weekday":
        monday_next = today - timedelta(days=today.weekday()) + timedelta(weeks=1)
        return monday_next + timedelta(days=WEEKDAYS.index(g[0]))
    if kind == "weekday":
        return _next_weekday(today, WEEKDAYS.index(g[0] or g[1]))
    if kind == "end_week":
        friday = today + timedelta(days=4 - today.weekday())
        return friday if friday >= today else friday + timedelta(weeks=1)
    if kind == "next_week":
        return today + timedelta(days=4 - today.weekday()) + timedelta(weeks=1)
    if kind == "end_month":
        return _month_end(today.year, today.month)
    if kind == "next_month":
        y, mth = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        return _month_end(y, mth)
    return None  # pragma: no cover


def strip_due(text: str, phrase: str) -> str:
    """``text`` without the due-date phrase and a dangling "by"/"on"/"before" in front of it."""
    if not phrase:
        return text
    out = re.sub(r"\s*(?:\b(?:by|on|before|until|in|within|no later than)\s+)?" + re.escape(phrase), "", text,
                 count=1, flags=re.IGNORECASE)
    return re.sub(r"\s{2,}", " ", out).strip(" ,.;")


def default_due(today: date) -> date:
    return today + timedelta(days=DEFAULT_DAYS)
