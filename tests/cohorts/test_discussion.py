from __future__ import annotations

import pytest

from workbench.cohorts.discussion import (
    Viewer,
    hide,
    post,
    prompts_for,
    reply,
    unhide,
    visible_posts,
)


def test_prompts_from_modules_and_moments(library):
    ps = prompts_for(library)
    assert len(ps) == len(library.modules) + len(library.moments)
    mid = next(iter(library.modules))
    p = next(x for x in ps if x.module_id == mid)
    assert library.modules[mid].apply_this_week.strip() in p.text
    oid = next(iter(library.moments))
    assert library.moments[oid].name in next(x for x in ps if x.moment_id == oid).text
    with pytest.raises(ValueError, match="unknown module"):
        prompts_for(library, module_ids=["nope"])


@pytest.fixture
def board():
    ann, bob, cat = Viewer("ann", "c1"), Viewer("bob", "c1"), Viewer("cat", "c2")
    fac, fac2 = Viewer("fac", "c1", "facilitator"), Viewer("fac2", "c2", "facilitator")
    p1 = post("p1", ann, "first")
    p2 = post("p2", bob, "second")
    r1 = reply("r1", p2, ann, "reply to bob")
    r2 = reply("r2", r1, bob, "reply to the reply")
    p3 = post("p3", cat, "other cohort")
    return dict(ann=ann, bob=bob, cat=cat, fac=fac, fac2=fac2, posts=[p1, p2, r1, r2, p3])


def ids(ps):
    return [p.id for p in ps]


def test_leaders_see_only_their_cohort(board):
    assert ids(visible_posts(board["posts"], board["ann"])) == ["p1", "p2", "r1", "r2"]
    assert ids(visible_posts(board["posts"], board["cat"])) == ["p3"]


def test_hidden_posts_and_threads(board):
    posts = board["posts"]
    posts[1] = hide(posts[1], board["fac"])  # bob's p2, with replies r1 (ann) and r2 (bob)
    assert posts[1].hidden and posts[1].hidden_by == "fac"
    # ann: p2 hidden, r2 under a hidden thread; her own r1 still shows
    assert ids(visible_posts(posts, board["ann"])) == ["p1", "r1"]
    # bob: his own hidden p2 and his r2 show (p2 marked hidden); ann's r1 is in the hidden thread
    seen = visible_posts(posts, board["bob"])
    assert ids(seen) == ["p1", "p2", "r2"] and seen[1].hidden
    # facilitator sees everything in the cohort, hidden marked; never another cohort
    fac_view = visible_posts(posts, board["fac"])
    assert ids(fac_view) == ["p1", "p2", "r1", "r2"] and [p.hidden for p in fac_view] == [False, True, False, False]
    assert ids(visible_posts(posts, board["fac2"])) == ["p3"]
    posts[1] = unhide(posts[1], board["fac"])
    assert ids(visible_posts(posts, board["ann"])) == ["p1", "p2", "r1", "r2"]


def test_hide_permissions(board):
    p1 = board["posts"][0]
    for who in ("ann", "bob", "fac2"):
        with pytest.raises(PermissionError):
            hide(p1, board[who])
    with pytest.raises(PermissionError):
        reply("x", p1, board["cat"], "cross-cohort reply")
    with pytest.raises(ValueError, match="non-empty"):
        post("e", board["ann"], "  ")
