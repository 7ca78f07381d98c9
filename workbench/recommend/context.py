"""What the recommender knows about one leader at the moment it recommends.

A :class:`LeaderContext` is plain, validated data: the leader's role level, their skill
posterior (mean and SD per competency, on the theta scale of the skill model), what they
have completed or have open, their weekly time budget and a few optional preferences. It
reads nothing from the store; the adapter that logs recommendations builds it (and can
keep :meth:`LeaderContext.to_dict` as the logged context).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, get_args

from workbench.content.schema import LEVELS, Format

ROLE_LEVELS: tuple[str, ...] = LEVELS
FORMATS: tuple[str, ...] = get_args(Format)


def _ids(value: Iterable[str], name: str) -> frozenset[str]:
    if isinstance(value, str):
        raise ValueError(f"{name} must be a collection of module ids, not the string {value!r}")
    out = frozenset(value)
    bad = [v for v in out if not isinstance(v, str) or not v]
    if bad:
        raise ValueError(f"{name} must hold non-empty module id strings, got {sorted(map(repr, bad))}")
    return out


def _numbers(value: Mapping[str, float], name: str, *, positive: bool = False,
             nonnegative: bool = False) -> Mapping[str, float]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{name} must be a mapping from competency id to number, got {type(value).__name__}")
    out: dict[str, float] = {}
    for key, v in value.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"{name} has a key that is not a competency id: {key!r}")
        try:
            x = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"{name}[{key!r}] must be a number, got {v!r}") from None
        if not math.isfinite(x):
            raise ValueError(f"{name}[{key!r}] must be finite, got {v!r}")
        if positive and x <= 0:
            raise ValueError(f"{name}[{key!r}] must be > 0, got {v!r}")
        if nonnegative and x < 0:
            raise ValueError(f"{name}[{key!r}] must be >= 0, got {v!r}")
        out[key] = x
    return MappingProxyType(out)


@dataclass(frozen=True)
class LeaderContext:
    """One leader, as the recommender sees them.

    Parameters
    ----------
    leader_id
        The leader's id (used only to name them in errors and logs).
    role_level
        ``"first-time"``, ``"experienced"`` or ``"senior"``; selects the organization's
        expectations and the level of content that fits.
    skill_mean, skill_sd
        Posterior mean and SD per competency id (theta scale). Both must name the same
        competencies. A competency missing from both is treated as unassessed: the skill
        model's prior N(0, 1).
    first_time
        True for a leader in their first leadership role. ``None`` (the default) means
        ``role_level == "first-time"``.
    completed
        Module ids the leader has completed. Ids no longer in the library are ignored.
    active
        Module ids of recommendations that are active or started (they count towards the
        limit of open recommendations and are never recommended again). A module that is
        also in ``completed`` counts as completed only.
    weekly_minutes, minutes_used_this_week
        The weekly learning-time budget the leader set, and the minutes already spent this
        week; new recommendations fit in the difference.
    format_preference
        A module format the leader prefers; it only breaks ties between equal scores.
    moment
        A leadership moment id the leader is in (required by the ``moment`` strategy).
    recent_minutes
        Recent learning minutes per competency (optional; used by exploration).
    function
        The leader's function or department (optional; carried for logging).
    declined
        Module ids the leader recently turned down ("not now"). They are never recommended
        while declined, and unlike ``active`` they do not count towards the open limit or the
        spread across competencies.
    """

    leader_id: str
    role_level: str
    skill_mean: Mapping[str, float] = field(default_factory=dict)
    skill_sd: Mapping[str, float] = field(default_factory=dict)
    first_time: bool | None = None
    completed: frozenset[str] = frozenset()
    active: frozenset[str] = frozenset()
    weekly_minutes: float = 60.0
    minutes_used_this_week: float = 0.0
    format_preference: str | None = None
    moment: str | None = None
    recent_minutes: Mapping[str, float] = field(default_factory=dict)
    function: str | None = None
    declined: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        put = object.__setattr__
        if not isinstance(self.leader_id, str) or not self.leader_id:
            raise ValueError(f"leader_id must be a non-empty string, got {self.leader_id!r}")
        who = f"leader {self.leader_id}"
        if self.role_level not in ROLE_LEVELS:
            raise ValueError(f"{who}: role_level must be one of {ROLE_LEVELS}, got {self.role_level!r}")
        mean = _numbers(self.skill_mean, f"{who}: skill_mean")
        sd = _numbers(self.skill_sd, f"{who}: skill_sd", positive=True)
        if set(mean) != set(sd):
            only_mean, only_sd = sorted(set(mean) - set(sd)), sorted(set(sd) - set(mean))
            raise ValueError(f"{who}: skill_mean and skill_sd must name the same competencies "
                             f"(mean only: {only_mean}, sd only: {only_sd})")
        put(self, "skill_mean", mean)
        put(self, "skill_sd", sd)
        if self.first_time is None:
            put(self, "first_time", self.role_level == "first-time")
        elif not isinstance(self.first_time, bool):
            raise ValueError(f"{who}: first_time must be True, False or None, got {self.first_time!r}")
        completed = _ids(self.completed, f"{who}: completed")
        put(self, "completed", completed)
        put(self, "active", _ids(self.active, f"{who}: active") - completed)
        put(self, "declined", _ids(self.declined, f"{who}: declined") - completed - self.active)
        for name in ("weekly_minutes", "minutes_used_this_week"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
                raise ValueError(f"{who}: {name} must be a finite number >= 0, got {v!r}")
            put(self, name, float(v))
        if self.format_preference is not None and self.format_preference not in FORMATS:
            raise ValueError(f"{who}: format_preference must be one of {FORMATS} or None, "
                             f"got {self.format_preference!r}")
        if self.moment is not None and (not isinstance(self.moment, str) or not self.moment):
            raise ValueError(f"{who}: moment must be a moment id or None, got {self.moment!r}")
        put(self, "recent_minutes", _numbers(self.recent_minutes, f"{who}: recent_minutes", nonnegative=True))
        if self.function is not None and not isinstance(self.function, str):
            raise ValueError(f"{who}: function must be a string or None, got {self.function!r}")

    def __hash__(self) -> int:
        return hash((self.leader_id, self.role_level, tuple(sorted(self.skill_mean.items())),
                     tuple(sorted(self.skill_sd.items())), self.completed, self.active, self.moment))

    # ------------------------------------------------------------------ derived
    @property
    def remaining_minutes(self) -> float:
        """Minutes left in this week's budget (never negative)."""
        return max(0.0, self.weekly_minutes - self.minutes_used_this_week)

    # -------------------------------------------------------------- round trip
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (sorted lists for the id sets); inverse of :meth:`from_dict`."""
        return {
            "leader_id": self.leader_id,
            "role_level": self.role_level,
            "first_time": self.first_time,
            "skill_mean": dict(self.skill_mean),
            "skill_sd": dict(self.skill_sd),
            "completed": sorted(self.completed),
            "active": sorted(self.active),
            "weekly_minutes": self.weekly_minutes,
            "minutes_used_this_week": self.minutes_used_this_week,
            "format_preference": self.format_preference,
            "moment": self.moment,
            "recent_minutes": dict(self.recent_minutes),
            "function": self.function,
            "declined": sorted(self.declined),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LeaderContext:
        """Rebuild a context from :meth:`to_dict` output; unknown keys are an error."""
        known = set(cls.__dataclass_fields__)
        extra = sorted(set(data) - known)
        if extra:
            raise ValueError(f"unknown LeaderContext fields {extra}; expected some of {sorted(known)}")
        kwargs = dict(data)
        for key in ("completed", "active", "declined"):
            if key in kwargs and not isinstance(kwargs[key], str):
                kwargs[key] = frozenset(kwargs[key])
        return cls(**kwargs)
