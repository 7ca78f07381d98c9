"""Library search with filters, and what to explore next."""

from __future__ import annotations

import pytest

from workbench.recommend.explore import explore_next, search_library


def test_a_title_finds_its_module_first(library):
    for m in library.modules.values():
        assert search_library(library, m.title, 3)[0].id == m.id, m.title


def test_search_ranks_relevant_modules(library):
    hits = search_library(library, "delegate", 5)
    assert hits[0].id == "delegation-basics"
    assert all("delegating" in h.competencies for h in hits[:3])
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    moments = search_library(library, "conflict in my team", 3, kinds=("moment",))
    assert moments[0].id == "conflict-today" and moments[0].minutes is None


def test_filters_hold(library):
    for query in ("feedback", "change", "team", ""):
        for f in [{"competency": "trust"}, {"format": "tool"}, {"max_minutes": 12}, {"level": "senior"},
                  {"competency": "feedback", "level": "first-time", "max_minutes": 15}]:
            hits = search_library(library, query, 50, **f)
            for h in hits:
                m = library.modules[h.id]
                assert "competency" not in f or f["competency"] in m.competencies
                assert "format" not in f or m.format == f["format"]
                assert "max_minutes" not in f or m.minutes <= f["max_minutes"]
                assert "level" not in f or m.level == f["level"]
            if not query:
                expected = library.find_modules(competency=f.get("competency"), format=f.get("format"),
                                                level=f.get("level"), max_minutes=f.get("max_minutes"))
                assert [h.id for h in hits] == [m.id for m in expected]
    assert search_library(library, "feedback", 50, max_minutes=10, kinds=("moment",)) == []


def test_bad_filters_are_named(library):
    with pytest.raises(ValueError, match="unknown competency 'listening'"):
        search_library(library, "x", competency="listening")
    with pytest.raises(ValueError, match="unknown format 'comic'"):
        search_library(library, "x", format="comic")
    with pytest.raises(ValueError, match="unknown level 'junior'"):
        search_library(library, "x", level="junior")
    with pytest.raises(ValueError, match="k must be"):
        search_library(library, "x", k=0)
    with pytest.raises(ValueError, match="unknown document kinds"):
        search_library(library, "x", kinds=("video",))


def test_explore_next_follows_what_the_leader_did(library, make_context):
    ctx = make_context("first-time", completed={"delegation-basics"}, active={"feedback-sbi"})
    out = explore_next(ctx, library, 5)
    ids = [s.module_id for s in out]
    assert ids[0] == "levels-of-delegation" and out[0].basis == "unlocked"
    assert "Delegation basics for first-time leaders" in out[0].reason
    assert not {"delegation-basics", "feedback-sbi"} & set(ids)
    assert len(ids) == 5 == len(set(ids))
    for s in out:  # only modules whose prerequisites are complete
        assert set(library.modules[s.module_id].prerequisites) <= ctx.completed


def test_recent_activity_steers_exploration(library, make_context):
    out = explore_next(make_context(recent_minutes={"coaching": 90}), library, 3)
    assert out[0].basis == "continue" and "coaching" in library.modules[out[0].module_id].competencies
    assert "working on coaching" in out[0].reason


def test_a_new_leader_explores_from_their_profile(library, make_context):
    out = explore_next(make_context(gaps={"change": 1.0}), library, 4)
    assert out[0].basis == "profile" and out[0].competency == "change"
    assert out[0].reason == "Your profile points here: Leading change is your largest development area."
    assert len({s.competency for s in out}) >= 2  # spread, even with one dominant need
    assert explore_next(make_context(), library, 0) == []


def test_search_explore_and_the_coach_share_one_index_per_library(library):
    from workbench.content import Library
    from workbench.content.search import index_for
    from workbench.practice.grounding import Grounding

    index = index_for(library)
    assert index_for(library) is index and Grounding(library).index is index
    index.search("giving feedback")
    assert "_fitted" in vars(index)  # fitted on the first search and kept on the shared index
    other = Library.load()
    assert index_for(other) is not index  # another library object gets its own
