"""The commitment a coaching conversation ends with: the leader's own sentence and its due date.

*The sentence.* A commitment is saved in the leader's words, verbatim: :func:`commitment_sentence`
picks, from a message, the sentence(s) that carry the intention ("I'll ...", "I'm going to ...")
or a date, and returns them exactly as typed (only surrounding whitespace trimmed). Nothing is
cut out of the middle: "Tell the team at tomorrow's huddle that the rota changes" stays whole,
with its date words.

*The date.* :func:`parse_due` finds dates with ``dateparser`` (``search_dates``, English,
relative to the conversation's date, preferring the future): weekdays ("by Friday", "Monday 9am",
"next Tuesday"), relative dates ("tomorrow morning", "in two weeks", "day after tomorrow") and
calendar dates ("4 December", "2026-12-10"). Three things dateparser does not read are read
here, by calendar arithmetic: the end of a period ("end of the month", "this week", "next
week", "next month": the Friday or the last day of that period), vague counts ("in a couple of
weeks", "within a few days": two and three), a day of the month alone
("before the 15th": the next 15th from today), and possessives ("tomorrow's huddle"). Clock
times are ignored (a commitment is due on a day). Spans dateparser takes for dates but which are
ordinary words ("we", "may", "a Tuesday check-in") are skipped. A date before the
conversation's date is never returned: a weekday rolls on to the next week, anything else is
dropped. A date introduced by "by", "before", "until" or "due" wins over other dates in the
message, then one introduced by "on", "at", "in", "starting" ... (when the step happens), then a
bare one ("next week's rota" is a modifier); among equals the first one.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

DEFAULT_DAYS = 7
MAX_AHEAD_DAYS = 730

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = tuple(m.lower() for m in calendar.month_name if m)

_DATE_WORDS = frozenset({
    *WEEKDAYS, *MONTHS, "mon", "tue", "tues", "wed", "weds", "thu", "thur", "thurs", "fri", "sat", "sun",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "today", "tomorrow", "tonight", "week", "weeks", "month", "months", "fortnight", "fortnights", "day", "days",
    "morning", "afternoon", "evening", "weekend", "year", "years", "noon", "midday",
})
_NOT_DATES = frozenset({"we", "may", "march", "sat", "sun", "mar", "second", "now", "a", "an", "the", "at", "on", "in",
                        "to", "day", "week", "month", "year", "mon", "wed"})
_MONTH_NAMES = {**{m: i for i, m in enumerate(MONTHS, start=1)},
                **{m[:3]: i for i, m in enumerate(MONTHS, start=1) if m not in ("may", "march")}, "sept": 9}
_ARTICLE_OK = frozenset({"week", "month", "fortnight", "day", "year", "few", "couple"})
_DURATIONS = frozenset({"minute", "minutes", "min", "mins", "hour", "hours", "hr", "hrs", "second", "seconds"})
_DEADLINE = re.compile(r"\b(by|before|until|till|til|due|no later than|within|latest)\b[\s\w']{0,12}$")
_LEADING_DEADLINE = re.compile(r"\s*(?:by|before|until|till|due|no later than)\b", re.IGNORECASE)
_PREPOSITION = re.compile(r"\b(?:on|at|in|this|starting|from|after)\s*$", re.IGNORECASE)
_LEADING_PREPOSITION = re.compile(r"\s*(?:on|at|in|this|starting|from|after)\b", re.IGNORECASE)
_AT = re.compile(r"\b(?:at|on|for|before|after|until|by)\s*$", re.IGNORECASE)
_TIMES = re.compile(r"\b(?:at\s+)?\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)|\bat\s+\d{1,2}(?::\d{2})?\b(?!\s*(?:st|nd|rd|th)\b)"
                    r"|\b\d{1,2}:\d{2}\b", re.IGNORECASE)
_POSSESSIVE = re.compile(r"(?<=[a-z])['’]s\b", re.IGNORECASE)
_ABBREVIATIONS = {"thurs": "thu", "thur": "thu", "tues": "tue", "weds": "wed", "wks": "weeks", "wk": "week"}
_PERIOD_END = re.compile(
    r"\b(?:(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?(?P<this>week|month|year)"
    r"|(?:the\s+)?end\s+of\s+next\s+(?P<next_end>week|month)"
    r"|this\s+(?P<this2>week|month)"
    r"|next\s+(?P<next>week|month)"
    r"|(?P<eod>(?:the\s+)?end\s+of\s+(?:the\s+)?day|eod|close\s+of\s+(?:play|business)))\b",
    re.IGNORECASE)
_MONTH_WORDS = "|".join((*MONTHS, "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sept?", "oct", "nov", "dec"))
_ORDINAL_DAY = re.compile(
    r"\b(?:the|by|before|on|until|till|for)\s+(?:the\s+)?(?P<day>[1-9]|[12]\d|3[01])(?:st|nd|rd|th)\b"
    r"(?=\s*(?:$|[,.;:!?)]|(?:and|or|at|to|so|then|latest|i|we|if|but|when)\b))", re.IGNORECASE)
_AFTER_MONTH = re.compile(r"\b(?:" + _MONTH_WORDS + r")\.?\s*$", re.IGNORECASE)
_VAGUE_COUNT = re.compile(r"\b(?:(?:in|within)\s+)?(?:a\s+)?(?P<n>couple\s+of|few)\s+(?P<unit>day|week|month)s\b", re.IGNORECASE)
_INTENT = re.compile(
    r"\b(?:i\s*['’]?\s*ll|i\s+will|i\s*['’]?\s*m\s+going\s+to|i\s+am\s+going\s+to|going\s+to|gonna|i\s+plan|i\s*['’]?\s*m\s+planning"
    r"|i\s+commit|i\s+promise|i\s+can|i\s+could|i\s+want\s+to|i\s*['’]?\s*d\s+like\s+to|we\s*['’]?\s*ll|we\s+will"
    r"|my\s+first\s+step|first\s+step|i\s+need\s+to|i\s+must|i\s+should|let\s+me)\b", re.IGNORECASE)
_SENTENCE = re.compile(r"(?:[^.!?\n]|[.!?]+(?![\"'”’)]*(?:\s+[A-Z0-9]|\s*$|\n)))+(?:[.!?]+[\"'”’)]*|$)")


@dataclass(frozen=True)
class Commitment:
    """A step the leader committed to: what (in their words), for which competency, by when.

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


# ------------------------------------------------------------------------------ dates
def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _friday(today: date, weeks_ahead: int = 0) -> date:
    """The Friday of this week (or of the next week when today is past Friday), plus ``weeks_ahead``."""
    friday = today + timedelta(days=4 - today.weekday())
    if friday < today:
        friday += timedelta(weeks=1)
    return friday + timedelta(weeks=weeks_ahead)


def _period_end(m: re.Match[str], today: date) -> date:
    if m.group("eod"):
        return today
    unit = m.group("this") or m.group("this2")
    if unit == "week":
        return _friday(today)
    if unit == "month":
        return _month_end(today.year, today.month)
    if unit == "year":
        return date(today.year, 12, 31)
    unit = m.group("next") or m.group("next_end")
    if unit == "week":
        return _friday(today, 1)
    y, mth = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return _month_end(y, mth)


def _add(today: date, n: int, unit: str) -> date:
    if unit == "day":
        return today + timedelta(days=n)
    if unit == "week":
        return today + timedelta(weeks=n)
    y, mth = divmod(today.month - 1 + n, 12)
    y, mth = today.year + y, mth + 1
    return date(y, mth, min(today.day, calendar.monthrange(y, mth)[1]))


def _next_day_of_month(today: date, day: int) -> date | None:
    y, mth = today.year, today.month
    for _ in range(13):
        if day <= calendar.monthrange(y, mth)[1] and date(y, mth, day) >= today:
            return date(y, mth, day)
        y, mth = (y + 1, 1) if mth == 12 else (y, mth + 1)
    return None  # pragma: no cover


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _is_date_span(span: str) -> bool:
    low = span.lower().strip(" ,.;:")
    tokens = re.findall(r"[a-z]+|\d+", low)
    if not tokens or low in _NOT_DATES:
        return False
    if tokens[0] in ("a", "an") and (len(tokens) < 2 or tokens[1] not in _ARTICLE_OK):
        return False  # "a Tuesday check-in", "a five minute Friday update": a kind of thing, not a date
    if any(t in _DURATIONS for t in tokens):
        return False  # "for twenty minutes", "a two hour session"
    # a number alone ("on 2nd shift", "the 3 drivers") is not a date; a numeric date has separators
    return any(t in _DATE_WORDS for t in tokens) or re.search(r"\d[-/.]\d", low) is not None


def parse_due(text: str, today: date) -> DueDate | None:
    """The due date mentioned in ``text``, relative to ``today``; None when there is none.

    See the module docstring for what is understood. The phrase is the text the date was read from.
    """
    if not text or not text.strip():
        return None
    work = _POSSESSIVE.sub(lambda m: " " * len(m.group(0)), text)
    work = re.sub(r"\b(" + "|".join(_ABBREVIATIONS) + r")\b",
                  lambda m: _ABBREVIATIONS[m.group(1).lower()].ljust(len(m.group(1))), work, flags=re.IGNORECASE)
    found: list[tuple[int, int, DueDate]] = []

    def add(start: int, end: int, d: date | None) -> None:
        if d is None or d < today or d > today + timedelta(days=MAX_AHEAD_DAYS):
            return
        before, span = work[max(0, start - 24):start], work[start:end]
        if _DEADLINE.search(before) or _LEADING_DEADLINE.match(span):
            marked = 0  # a deadline: "by Friday", "before the 15th"
        elif (_PREPOSITION.search(before) or _LEADING_PREPOSITION.match(span)) and not (
                _POSSESSIVE.match(text, end) and not _AT.search(before)):
            marked = 1  # when the step happens: "on Monday", "at tomorrow's huddle" (not "this week's update")
        else:
            marked = 2  # a bare mention, possibly a modifier: "next week's rota"
        found.append((marked, start, DueDate(d, text[start:end].strip())))

    for m in _PERIOD_END.finditer(work):
        add(m.start(), m.end(), _period_end(m, today))
        work = _blank(work, m.start(), m.end())
    for m in _VAGUE_COUNT.finditer(work):  # "in a couple of weeks", "within a few days"
        add(m.start(), m.end(), _add(today, 2 if m.group("n").lower().startswith("couple") else 3, m.group("unit").lower()))
        work = _blank(work, m.start(), m.end())
    for m in _ORDINAL_DAY.finditer(work):
        if _AFTER_MONTH.search(work[:m.start()]):
            continue
        add(m.start(), m.end(), _next_day_of_month(today, int(m.group("day"))))
        work = _blank(work, m.start(), m.end())
    work = _TIMES.sub(lambda m: " " * len(m.group(0)), work)
    if re.search(r"[A-Za-z0-9]", work):
        for start, end, d in _search(work, today):
            add(start, end, d)
    if not found:
        return None
    return min(found, key=lambda t: (t[0], t[1]))[2]


def _search(work: str, today: date) -> list[tuple[int, int, date | None]]:
    """Date spans dateparser finds in ``work`` (positions in ``work``), rolled past ``today`` or None."""
    import dateparser
    from dateparser.search import search_dates

    base = datetime(today.year, today.month, today.day, 12, 0)
    settings = {"RELATIVE_BASE": base, "PREFER_DATES_FROM": "future", "RETURN_AS_TIMEZONE_AWARE": False}
    hits = search_dates(work, languages=["en"], settings=settings) or []
    out: list[tuple[int, int, date | None]] = []
    pos = 0
    for span, when in hits:
        start = work.find(span, pos)
        if start < 0:
            start = work.find(span)
        if start < 0 or not _is_date_span(span):
            continue
        pos = start + len(span)
        words = [t for t in re.findall(r"[a-z]+|\d+", span.lower()) if t not in ("by", "in", "before", "until", "till", "of", "the")]
        if len(words) == 1 and words[0] in _MONTH_NAMES:  # "the December count" is no date; "by December" is its end
            if not re.search(r"\b(?:by|in|before|until|till)\s*$", work[max(0, start - 12):start] + " "
                             + span.lower().split(words[0])[0]):
                continue
            month = _MONTH_NAMES[words[0]]
            year = today.year if month >= today.month else today.year + 1
            out.append((start, start + len(span), _month_end(year, month)))
            continue
        again = dateparser.parse(span, languages=["en"], settings=settings)  # a whole span reads better alone
        d = (again or when).date()
        if d < today and any(w in span.lower() for w in WEEKDAYS + ("mon", "tue", "wed", "thu", "fri", "sat", "sun")):
            while d < today:
                d += timedelta(weeks=1)
        out.append((start, start + len(span), d if d >= today else None))
    return out


def only_date(text: str, today: date) -> bool:
    """Whether ``text`` says nothing but a date ("by Friday", "make it the 15th", "in two weeks")."""
    found = parse_due(text, today)
    if found is None:
        return False
    rest = strip_due(text, found.phrase)
    rest = re.sub(r"\b(?:make|it|that|then|please|ok|okay|actually|instead|change|move|the|date|to|do|by|on|no|yes|"
                  r"let'?s|say|how|about|maybe|rather|due)\b", " ", rest, flags=re.IGNORECASE)
    return not re.search(r"[A-Za-z]{3,}", rest)


def strip_due(text: str, phrase: str) -> str:
    """``text`` without the due-date phrase and a dangling "by"/"on"/"before" in front of it."""
    if not phrase:
        return text
    out = re.sub(r"\s*(?:\b(?:by|on|before|until|in|within|no later than)\s+)?" + re.escape(phrase), "", text,
                 count=1, flags=re.IGNORECASE)
    return re.sub(r"\s{2,}", " ", out).strip(" ,.;")


def default_due(today: date) -> date:
    return today + timedelta(days=DEFAULT_DAYS)


# ------------------------------------------------------------------------------ the sentence
def has_intention(text: str) -> bool:
    """Whether ``text`` states a first-person intention ("I'll", "I'm going to", "we will" ...)."""
    return _INTENT.search(text) is not None


def commitment_sentence(text: str, today: date | None = None) -> str:
    """The leader's commitment, verbatim: the sentences of ``text`` from the first to the last one
    that states an intention or a date (all of ``text`` when none does), surrounding whitespace trimmed."""
    spans = [(m.start(), m.end()) for m in _SENTENCE.finditer(text) if m.group(0).strip(" .!?\n\t")]
    if len(spans) <= 1:
        return text.strip()
    keep = [(s, e) for s, e in spans
            if has_intention(text[s:e]) or (today is not None and parse_due(text[s:e], today) is not None)]
    if not keep:
        return text.strip()
    return text[keep[0][0]:keep[-1][1]].strip()
