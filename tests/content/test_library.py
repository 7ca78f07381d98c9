"""The shipped library: complete, clean, and answering queries."""

from __future__ import annotations

from collections import Counter

import pytest

from workbench.content import check
from workbench.content.schema import MAX_MODULE_MINUTES

from ..conftest import REPO


def test_shipped_library_has_no_problems():
    assert [str(p) for p in check(REPO / "content")] == []


def test_framework_and_item_bank(library):
    assert len(library.competencies) >= 8
    for cid, comp in library.competencies.items():
        items = library.items_for(cid)
        assert len(items) >= 6, cid
        assert any(i.reverse for i in items), f"{cid} has no reverse-keyed item"
        assert len(comp.key_behaviors) >= 3
        for i in items:
            assert i.categories == (1, 2, 3, 4, 5)
            for role in ("self", "manager", "peer", "direct_report"):
                if i.asks(role):
                    assert i.wording.for_role(role)
                else:
                    with pytest.raises(ValueError, match="not asked"):
                        i.wording.for_role(role)
        for role in ("manager", "peer", "direct_report"):  # every role is asked about every competency
            assert sum(i.asks(role) for i in items) >= 2, (cid, role)


def test_rater_roles_see_only_what_they_can_observe(library):
    """Peers are not asked how the leader delegates to or coaches their own reports; compound and
    motive items are gone (issue 14)."""
    items = library.items
    for iid in ("del-01", "del-03", "del-04", "del-05", "del-07", "coa-04", "coa-05", "coa-07"):
        assert not items[iid].asks("peer") and items[iid].asks("direct_report") and items[iid].asks("manager")
    assert all(i.asks("self") for i in items.values())
    for iid in ("tru-01", "tru-07"):  # one behaviour per item: no "and"/"even when"/"by the time" riders
        text = items[iid].wording.self
        assert not any(w in text for w in (" by the time ", " even when ", " and ")), text
    assert "because" not in " ".join(items["del-06"].wording.for_role(r) for r in items["del-06"].raters)


def test_item_wording_must_match_its_raters():
    from workbench.content.schema import ItemEntry

    base = {"id": "tru-99", "wording": {"self": "I do it.", "manager": "They do it.", "direct_report": "My manager does it."}}
    with pytest.raises(ValueError, match="wording.peer is missing"):
        ItemEntry(**base)
    ok = ItemEntry(**base, raters=("self", "manager", "direct_report"))
    assert ok.raters == ("self", "manager", "direct_report")
    with pytest.raises(ValueError, match="is not among its raters"):
        ItemEntry(**{**base, "wording": {**base["wording"], "peer": "They do."}}, raters=("self", "manager", "direct_report"))
    with pytest.raises(ValueError, match="must include self"):
        ItemEntry(**base, raters=("manager", "direct_report"))


def test_modules(library):
    assert len(library.modules) >= 30
    for m in library.modules.values():
        assert m.minutes <= MAX_MODULE_MINUTES
        assert 2 <= len(m.knowledge_check) <= 4
        assert len(m.body.split()) >= 300, f"{m.id} body is too thin"
    assert set(Counter(m.level for m in library.modules.values())) == {"first-time", "experienced", "senior"}
    assert len({m.format for m in library.modules.values()}) == 5


def test_scenarios_moments_org_coaching(library):
    assert len(library.scenarios) >= 8
    assert len(library.moments) >= 10
    assert {m.kind for m in library.moments.values()} == {"big", "small"}
    assert library.organization is not None and library.organization.priorities
    assert set(library.coaching) == set(library.competencies)


def test_queries(library):
    dele = library.find_modules(competency="delegating")
    assert dele and all("delegating" in m.competencies for m in dele)
    first = library.find_modules(level="first-time", max_minutes=15)
    assert first and all(m.level == "first-time" and m.minutes <= 15 for m in first)
    tools = library.find_modules(format="tool")
    assert tools and all(m.format == "tool" for m in tools)
    moment = next(iter(library.moments.values()))
    by_moment = library.find_modules(moment=moment.id)
    assert all(moment.id in m.moments for m in by_moment)
    assert library.find_modules(competency="delegating", level="senior", format="article", max_minutes=1) == []
    assert len(library.items_for("coaching")) == len([i for i in library.items.values() if i.competency == "coaching"])
    assert list(library.items_frame.columns) == ["item_id", "dimension", "reverse", "scale"]
