"""Pydantic models for every kind of authored content.

These models are the authority on the content format; ``docs/content-format.md`` is their
guide for authors. Models validate one file's own fields; checks that need the whole
library (links between files, scenario graphs) live in :mod:`workbench.content.checks`.
"""

from __future__ import annotations

import random
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
Id = str

RaterRole = Literal["self", "manager", "peer", "direct_report"]
RATER_ROLES: tuple[str, ...] = ("self", "manager", "peer", "direct_report")
Level = Literal["first-time", "experienced", "senior"]
LEVELS: tuple[str, ...] = ("first-time", "experienced", "senior")
Format = Literal["article", "video-script", "practice", "podcast-script", "tool"]
MAX_MODULE_MINUTES = 30

SCALES: dict[str, dict[int, str]] = {
    "agreement": {
        1: "Strongly disagree",
        2: "Disagree",
        3: "Neither agree nor disagree",
        4: "Agree",
        5: "Strongly agree",
    },
    "frequency": {1: "Never", 2: "Rarely", 3: "Sometimes", 4: "Often", 5: "Almost always"},
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Competency(_Model):
    id: Id = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    key_behaviors: tuple[str, ...] = Field(min_length=1)


class CompetencyFramework(_Model):
    competencies: tuple[Competency, ...] = Field(min_length=1)


class Wording(_Model):
    """An item's text per rater role. ``self`` is always asked; another role's wording is given
    exactly when that role is asked the item (see ``ItemEntry.raters``)."""

    self: str = Field(min_length=1)
    manager: str | None = Field(default=None, min_length=1)
    peer: str | None = Field(default=None, min_length=1)
    direct_report: str | None = Field(default=None, min_length=1)

    def for_role(self, role: str) -> str:
        if role not in RATER_ROLES:
            raise ValueError(f"unknown rater role {role!r}; expected one of {RATER_ROLES}")
        text = getattr(self, role)
        if text is None:
            raise ValueError(f"this item is not asked of a {role.replace('_', ' ')}")
        return text


class ItemEntry(_Model):
    id: Id = Field(pattern=r"^[a-z]+-\d{2,}$")
    reverse: bool = False
    behavior: str | None = None
    #: the roles asked this item: everyone by default; leave out a role that cannot see the
    #: behaviour (peers do not see how a leader delegates to or coaches their own reports)
    raters: tuple[RaterRole, ...] = RATER_ROLES
    wording: Wording

    @model_validator(mode="after")
    def _wording_per_role(self) -> ItemEntry:
        if "self" not in self.raters:
            raise ValueError(f"item {self.id}: raters must include self (every item is in the self-assessment)")
        if len(set(self.raters)) != len(self.raters):
            raise ValueError(f"item {self.id}: raters lists a role twice")
        for role in RATER_ROLES:
            text = getattr(self.wording, role)
            if role in self.raters and text is None:
                raise ValueError(f"item {self.id}: wording.{role} is missing, but {role} is among its raters")
            if role not in self.raters and text is not None:
                raise ValueError(f"item {self.id}: wording.{role} is given, but {role} is not among its raters "
                                 f"({', '.join(self.raters)})")
        return self


class ItemBankFile(_Model):
    competency: Id
    scale: Literal["agreement", "frequency"]
    items: tuple[ItemEntry, ...] = Field(min_length=1)


class Item(_Model):
    """One assessment item as the rest of the product sees it."""

    id: Id
    competency: Id
    scale: Literal["agreement", "frequency"]
    reverse: bool
    behavior: str | None
    wording: Wording
    raters: tuple[RaterRole, ...] = RATER_ROLES

    def asks(self, role: str) -> bool:
        """Whether a rater in ``role`` is asked this item."""
        return role in self.raters

    @property
    def categories(self) -> tuple[int, ...]:
        return tuple(SCALES[self.scale])

    @property
    def labels(self) -> dict[int, str]:
        return SCALES[self.scale]


class KnowledgeCheckQuestion(_Model):
    """One knowledge-check question.

    ``answer`` is the index of the best option in ``options`` as authored; that index is the
    option's identity (the reader shows the options in a new order each attempt and maps the
    choice back). ``feedback`` explains why the best option is best and is shown once the answer
    is revealed; ``hint`` (optional) is shown after a wrong first try and must not give the
    answer away.
    """

    question: str = Field(min_length=1)
    options: tuple[str, ...] = Field(min_length=2, max_length=6)
    answer: int = Field(ge=0)
    feedback: str = Field(min_length=1)
    hint: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _answer_in_options(self) -> KnowledgeCheckQuestion:
        if self.answer >= len(self.options):
            raise ValueError(
                f"answer index {self.answer} is out of range for {len(self.options)} options"
            )
        if len({" ".join(o.split()).lower() for o in self.options}) != len(self.options):
            raise ValueError("two options have the same text; each option must be different")
        return self

    def order(self, rng: random.Random) -> tuple[int, ...]:
        """A fresh display order of the options (authored indexes), drawn from ``rng``."""
        idx = list(range(len(self.options)))
        rng.shuffle(idx)
        return tuple(idx)


class ModuleMeta(_Model):
    id: Id = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    competencies: tuple[Id, ...] = Field(min_length=1)
    level: Level
    format: Format
    minutes: int = Field(ge=1)
    prerequisites: tuple[Id, ...] = ()
    moments: tuple[Id, ...] = ()
    knowledge_check: tuple[KnowledgeCheckQuestion, ...] = Field(min_length=2, max_length=4)
    apply_this_week: str = Field(min_length=1)


class Module(ModuleMeta):
    body: str = Field(min_length=1)

    @property
    def primary_competency(self) -> str:
        return self.competencies[0]


STRONG_QUALITY = 2.0
"""A scenario choice is strong when its mean quality over the competencies it touches is at least 2
("good" on the 0 poor, 1 weak, 2 good, 3 strong scale), and weaker below that."""


class Choice(_Model):
    """One option at a decision point.

    A weaker choice (mean quality below :data:`STRONG_QUALITY`) must say what would have worked
    at this point (``instead``) and name the modules that teach it (``modules``): the debrief
    shows both to a leader who took it.
    """

    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    next: Id
    feedback: str = Field(min_length=1)
    behavior: str = Field(min_length=1)
    quality: dict[Id, int] = Field(min_length=1)
    instead: str | None = Field(default=None, min_length=1)
    modules: tuple[Id, ...] = ()

    @field_validator("quality")
    @classmethod
    def _quality_levels(cls, v: dict[str, int]) -> dict[str, int]:
        for comp, level in v.items():
            if not 0 <= level <= 3:
                raise ValueError(f"quality for {comp!r} must be 0..3, got {level}")
        return v

    @property
    def mean_quality(self) -> float:
        return sum(self.quality.values()) / len(self.quality)

    @property
    def strong(self) -> bool:
        return self.mean_quality >= STRONG_QUALITY


class Epilogue(_Model):
    """A passage added to an ending when the path took any of the choices in ``if_chosen``.

    Each reference is ``<node id>:<choice id>``; the library check makes sure both exist.
    """

    if_chosen: tuple[str, ...] = Field(min_length=1)
    text: str = Field(min_length=1)

    @field_validator("if_chosen")
    @classmethod
    def _refs(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for ref in v:
            node, sep, choice = ref.partition(":")
            if not sep or not node or not choice:
                raise ValueError(f"{ref!r} is not a choice reference; write it as '<node id>:<choice id>'")
        return v

    def applies(self, taken: set[tuple[str, str]]) -> bool:
        return any(tuple(ref.split(":", 1)) in taken for ref in self.if_chosen)


class Node(_Model):
    text: str = Field(min_length=1)
    ending: bool = False
    choices: tuple[Choice, ...] = ()
    epilogues: tuple[Epilogue, ...] = ()

    @model_validator(mode="after")
    def _ending_xor_choices(self) -> Node:
        if self.ending and self.choices:
            raise ValueError("an ending node has no choices")
        if not self.ending and len(self.choices) < 2:
            raise ValueError("a decision node needs at least 2 choices (or ending: true)")
        if self.epilogues and not self.ending:
            raise ValueError("only an ending node has epilogues")
        ids = [c.id for c in self.choices]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate choice ids {ids}")
        return self


class Scenario(_Model):
    id: Id = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    competencies: tuple[Id, ...] = Field(min_length=1)
    moments: tuple[Id, ...] = ()
    start: Id
    nodes: dict[Id, Node] = Field(min_length=2)


class Moment(_Model):
    id: Id = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    kind: Literal["big", "small"]
    description: str = Field(min_length=1)
    competencies: tuple[Id, ...] = Field(min_length=1)
    modules: tuple[Id, ...] = ()
    scenarios: tuple[Id, ...] = ()
    checklist: tuple[str, ...] = Field(min_length=1)
    #: the discussion prompt for a cohort session, written as a sentence to the leader; by default
    #: one built around the moment's name (see :meth:`discussion_prompt`)
    discussion: str | None = None

    def discussion_prompt(self) -> str:
        """A prompt that reads as a written sentence: the author's own, else the moment's name quoted
        as the leader would say it ("Think of a recent time when you could have said: “I'm ...”")."""
        if self.discussion:
            return self.discussion
        said = self.name.rstrip(".!?")
        return (f"Think of a recent time when you could have said: \u201c{said}.\u201d What did you do, "
                "what happened, and what would you try next time?")


class MomentsFile(_Model):
    moments: tuple[Moment, ...] = Field(min_length=1)


class Value(_Model):
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    competencies: tuple[Id, ...] = ()


class Priority(_Model):
    competency: Id
    weight: float = Field(ge=0.0, le=1.0)
    rationale: str = ""


class SupportChannels(_Model):
    """The organization's own support channels, named by the coach on the support path.

    Each is optional free text (a name and how to reach it); the coach uses generic wording for
    any left out. ``emergency`` replaces the generic emergency numbers, ``crisis_line`` the
    generic crisis lines.
    """

    emergency: str | None = Field(default=None, min_length=1)
    crisis_line: str | None = Field(default=None, min_length=1)
    eap: str | None = Field(default=None, min_length=1)
    hr: str | None = Field(default=None, min_length=1)
    speak_up: str | None = Field(default=None, min_length=1)
    occupational_health: str | None = Field(default=None, min_length=1)


class OrganizationNotes(_Model):
    """What the organization says about its own setting, shown as "In <name>" with each module.

    ``modules`` maps a module id to a note written for that module; ``competencies`` maps a
    competency id to a note shown with every module whose primary competency it is and that has no
    note of its own. Both are free text (Markdown inline marks allowed).
    """

    competencies: dict[Id, str] = {}
    modules: dict[Id, str] = {}

    @field_validator("competencies", "modules")
    @classmethod
    def _notes_not_blank(cls, v: dict[str, str]) -> dict[str, str]:
        for key, note in v.items():
            if not str(note).strip():
                raise ValueError(f"the note for {key!r} is empty")
        return v


class Organization(_Model):
    name: str = Field(min_length=1)
    #: the IANA time zone sessions and posts are shown in unless a cohort or leader has its own
    timezone: str = "UTC"
    mission: str = ""
    values: tuple[Value, ...] = ()
    priorities: tuple[Priority, ...] = ()
    expectations: dict[Level, dict[Id, float]] = {}
    support: SupportChannels | None = None
    #: where the organization's people work ("stores", "depots", "on the road"), named in notes
    settings: tuple[str, ...] = ()
    notes: OrganizationNotes = OrganizationNotes()
    #: the organization's own transformation, offered to leaders as a big moment
    transformation: Moment | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}: use an IANA name such as 'Europe/London'") from exc
        return v

    def priority_weight(self, competency: str) -> float:
        for p in self.priorities:
            if p.competency == competency:
                return p.weight
        return 0.0

    def priority_rationale(self, competency: str) -> str:
        """The organization's stated reason for prioritizing ``competency`` ("" when none)."""
        for p in self.priorities:
            if p.competency == competency:
                return " ".join(p.rationale.split())
        return ""

    def values_for(self, competencies: tuple[str, ...] | list[str]) -> tuple[Value, ...]:
        """The values tied to any of ``competencies``, in the order the organization lists them."""
        wanted = set(competencies)
        return tuple(v for v in self.values if wanted & set(v.competencies))


class CoachingTip(_Model):
    text: str
    modules: tuple[Id, ...] = ()


class Framework(_Model):
    name: str
    summary: str
    steps: tuple[str, ...] = ()


class GrowQuestions(_Model):
    goal: tuple[str, ...] = Field(min_length=1)
    reality: tuple[str, ...] = Field(min_length=1)
    options: tuple[str, ...] = Field(min_length=1)
    way_forward: tuple[str, ...] = Field(min_length=1)


class CoachingGuide(_Model):
    competency: Id
    questions: GrowQuestions
    tips: tuple[CoachingTip, ...] = ()
    frameworks: tuple[Framework, ...] = ()
