"""Reasons a leader can read: short sentences naming the competency and why it was chosen."""

from __future__ import annotations

from functools import lru_cache

from .needs import DEVELOPMENT_AREA, STRENGTH

_cached = lru_cache(maxsize=8192)

_ORDINAL = ("largest", "second-largest", "third-largest")
_LEVEL_PLURAL = {"first-time": "first-time leaders", "experienced": "experienced leaders", "senior": "senior leaders"}
_LEVEL_SINGULAR = {"first-time": "a first-time leader", "experienced": "an experienced leader",
                   "senior": "a senior leader"}


def mid_sentence(name: str) -> str:
    """A competency name inside a sentence: "Building trust" -> "building trust"."""
    if len(name) > 1 and name[1].isupper():  # keep acronyms as they are
        return name
    return name[:1].lower() + name[1:]


def need_phrase(band: str, rank: int) -> str | None:
    """``"your largest development area"`` etc. for a development area, else None.

    ``band`` is the competency's label from :mod:`workbench.skills.need` and ``rank`` its place
    among the leader's development areas (0 = largest need).
    """
    if band != DEVELOPMENT_AREA:
        return None
    if rank < len(_ORDINAL):
        return f"your {_ORDINAL[rank]} development area"
    return "one of your development areas"


def standing_phrase(band: str) -> str:
    """How a competency that is not a development area stands against the role's expectation."""
    if band == STRENGTH:
        return "a strength you can lean on"
    return "not clearly below what your role expects"


def priority_phrase(weight: float) -> str | None:
    """How the organization ranks a competency, or None when it is not a stated priority."""
    if weight >= 0.8:
        return "a top priority for your organization"
    if weight >= 0.5:
        return "a priority for your organization"
    return None


@_cached
def gap_reason(competency: str, band: str, rank: int, level: str) -> str:
    phrase = need_phrase(band, rank)
    if phrase is not None:
        return f"{competency} is {phrase} compared with what is expected of {_LEVEL_PLURAL[level]}."
    if band == STRENGTH:
        return (f"You already meet what is expected of {_LEVEL_PLURAL[level]} in {mid_sentence(competency)}; "
                f"this module helps you keep building it.")
    return (f"Your {mid_sentence(competency)} is not clearly below what is expected of {_LEVEL_PLURAL[level]}; "
            f"this module helps you strengthen it.")


def quoted(rationale: str) -> str:
    """The organization's own words in quotation marks, the sentence's full stop outside them."""
    words = " ".join(rationale.split()).rstrip(".")
    return f"\u201c{words}\u201d" if words else ""


@_cached
def priority_reason(competency: str, band: str, rank: int, level: str, weight: float,
                    foundational: bool, rationale: str = "") -> str:
    """Why a module was chosen by need and the organization's priorities.

    When the competency is a priority and the organization gave its ``rationale``
    (``organization.yaml``, ``priorities``), the reason quotes it.
    """
    phrase, prio = need_phrase(band, rank), priority_phrase(weight)
    quote = quoted(rationale) if prio is not None else ""
    if phrase is not None and prio is not None:
        text = f"{competency} is {phrase} and {prio}" + (f": {quote}." if quote else ".")
    elif phrase is not None:
        text = f"{competency} is {phrase} for {_LEVEL_SINGULAR[level]}."
    elif prio is not None and quote:
        text = f"{competency} is {prio}: {quote}. This module helps you build on what you already do."
    elif prio is not None:
        text = f"{competency} is {prio}, and this module helps you build on what you already do."
    elif band == STRENGTH:
        text = (f"You already meet what is expected in {mid_sentence(competency)}; "
                f"this module helps you keep building it.")
    else:
        text = (f"Your {mid_sentence(competency)} is not clearly below what your role expects; "
                f"this module helps you strengthen it.")
    if foundational:
        text += " It is written for leaders in their first leadership role."
    return text


@_cached
def thompson_reason(competency: str, band: str, rank: int) -> str:
    phrase = need_phrase(band, rank)
    tail = "based on the gains leaders have made with it so far"
    if phrase is None:
        return f"This module on {mid_sentence(competency)} looks among the most likely to help you, {tail}."
    return f"{competency} is {phrase}, and this module looks among the most likely to help, {tail}."


@_cached
def moment_reason(competency: str, band: str, rank: int, moment_name: str) -> str:
    phrase = need_phrase(band, rank) or standing_phrase(band)
    return f"For your moment \u201c{moment_name}\u201d: it works on {mid_sentence(competency)}, {phrase}."


@_cached
def popular_reason(competency: str, completions: int) -> str:
    if completions <= 0:
        return f"Not yet completed by other leaders, so you can be among the first; it works on {mid_sentence(competency)}."
    times = "time" if completions == 1 else "times"
    return f"Popular with other leaders (completed {completions:,} {times}); it works on {mid_sentence(competency)}."


@_cached
def random_reason(competency: str) -> str:
    return f"Picked at random so you can explore the library: it works on {mid_sentence(competency)}."
