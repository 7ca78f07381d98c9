"""Moment packs: checklist, one short module, one scenario, a coaching opener, ordered by need."""

from __future__ import annotations

import pytest

from workbench.recommend import moment_pack


def test_pack_for_a_leader_weak_in_delegating(library, make_context):
    ctx = make_context("first-time", gaps={"delegating": 1.0, "coaching": 0.3})
    pack = moment_pack(ctx, library, "first-time-manager")
    moment = library.moments["first-time-manager"]
    assert pack.checklist == moment.checklist and pack.name == moment.name
    assert pack.competencies == ("delegating", "coaching", "feedback")
    assert pack.module.id == "delegation-basics" and pack.module.minutes <= 15
    assert "delegating, your largest development area" in pack.module.reason
    assert pack.scenario.id in moment.scenarios
    assert pack.coaching_competency == "delegating"
    assert pack.coaching_opener in library.coaching["delegating"].questions.goal


def test_pack_follows_the_leaders_needs(library, make_context):
    pack = moment_pack(make_context("first-time", gaps={"feedback": 1.0}), library, "first-time-manager")
    assert pack.competencies[0] == "feedback" and pack.coaching_competency == "feedback"
    assert pack.coaching_opener in library.coaching["feedback"].questions.goal
    pack = moment_pack(make_context("first-time", gaps={"coaching": 1.0}), library, "first-time-manager")
    assert pack.module.id in library.moments["first-time-manager"].modules
    assert "coaching" in library.modules[pack.module.id].competencies


def test_completed_and_locked_modules_are_left_out(library, make_context):
    moment = library.moments["delegating-a-big-task"]
    ctx = make_context(gaps={"delegating": 1.0}, completed={"delegation-basics"})
    pack = moment_pack(ctx, library, moment.id)
    assert pack.module.id in moment.modules and pack.module.id != "delegation-basics"
    # levels-of-delegation is unlocked now and short (15 min); delegating-for-growth takes 25
    assert pack.module.id == "levels-of-delegation"
    done = make_context(gaps={"delegating": 1.0}, completed=set(moment.modules))
    other = moment_pack(done, library, moment.id).module
    assert other is not None and library.modules[other.id].primary_competency == "delegating"


def test_unknown_moment_is_named(library, make_context):
    with pytest.raises(ValueError, match="unknown moment 'promotion'"):
        moment_pack(make_context(), library, "promotion")


def test_every_moment_has_a_full_pack(library, make_context):
    for mid in library.moments:
        pack = moment_pack(make_context(gaps={"trust": 0.5}), library, mid)
        assert pack.module is not None and pack.scenario is not None and pack.coaching_opener
        assert set(pack.competencies) == set(library.moments[mid].competencies)
