"""LeaderContext: validation, defaults and the round trip through plain data."""

from __future__ import annotations

import dataclasses
import json

import pytest

from workbench.recommend import LeaderContext


def test_defaults_and_derived_fields():
    ctx = LeaderContext("L1", "first-time", {"delegating": -0.5}, {"delegating": 0.4},
                        completed=["a", "b"], active={"b", "c"}, weekly_minutes=45, minutes_used_this_week=50)
    assert ctx.first_time is True
    assert ctx.completed == frozenset({"a", "b"})
    assert ctx.active == frozenset({"c"})  # a completed module counts as completed only
    assert ctx.remaining_minutes == 0.0
    assert LeaderContext("L2", "senior").first_time is False
    assert LeaderContext("L3", "experienced", first_time=True).first_time is True


def test_round_trip_through_json():
    ctx = LeaderContext("L1", "senior", {"trust": 0.2, "change": -0.1}, {"trust": 0.3, "change": 0.5},
                        completed={"x"}, active={"y"}, format_preference="tool", moment="new-role",
                        recent_minutes={"trust": 30}, function="Stores")
    back = LeaderContext.from_dict(json.loads(json.dumps(ctx.to_dict())))
    assert back == ctx
    with pytest.raises(ValueError, match="unknown LeaderContext fields"):
        LeaderContext.from_dict({**ctx.to_dict(), "mood": "good"})


def test_context_is_immutable():
    ctx = LeaderContext("L1", "senior", {"trust": 0.2}, {"trust": 0.3})
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.role_level = "first-time"  # type: ignore[misc]
    with pytest.raises(TypeError):
        ctx.skill_mean["trust"] = 3.0  # type: ignore[index]
    assert hash(ctx) == hash(LeaderContext("L1", "senior", {"trust": 0.2}, {"trust": 0.3}))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"leader_id": ""}, "leader_id must be a non-empty string"),
    ({"role_level": "junior"}, "role_level must be one of"),
    ({"skill_sd": {"trust": 0.0}}, r"skill_sd\['trust'\] must be > 0"),
    ({"skill_mean": {"trust": float("nan")}}, r"skill_mean\['trust'\] must be finite"),
    ({"skill_mean": {"trust": "high"}}, "must be a number"),
    ({"skill_sd": {"change": 0.3}}, "must name the same competencies"),
    ({"completed": "delegation-basics"}, "collection of module ids, not the string"),
    ({"weekly_minutes": -5}, "weekly_minutes must be a finite number >= 0"),
    ({"minutes_used_this_week": float("inf")}, "minutes_used_this_week"),
    ({"format_preference": "comic"}, "format_preference must be one of"),
    ({"recent_minutes": {"trust": -1}}, r"recent_minutes\['trust'\] must be >= 0"),
    ({"first_time": "yes"}, "first_time must be"),
])
def test_bad_input_is_named(kwargs, message):
    base = {"leader_id": "L9", "role_level": "experienced", "skill_mean": {"trust": 0.1}, "skill_sd": {"trust": 0.3}}
    with pytest.raises(ValueError, match=message):
        LeaderContext(**{**base, **kwargs})
