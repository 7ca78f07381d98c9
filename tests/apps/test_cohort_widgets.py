"""The cohort widgets driven programmatically: group formation, session planning, my group."""

from __future__ import annotations

import datetime as dt
import html

import pytest

from workbench.apps.cohort_widgets import GroupFormationPanel, MyGroupPanel, SessionPlanner
from workbench.cohorts import (
    Viewer,
    form_groups,
    hide,
    post,
    reply,
    schedule_sessions,
    synthetic_cohort,
)

NOW = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)


def classes(widget) -> set[str]:
    found = set(widget._dom_classes)
    for c in getattr(widget, "children", ()):
        found |= classes(c)
    return found


@pytest.fixture(scope="module")
def cohort(library):
    return synthetic_cohort(20, library.competency_ids, seed=3)


# ------------------------------------------------------------------------------ groups
def test_group_panel_shows_a_preview_at_construction_and_saves_it(library, cohort):
    saved = []
    names = {m.leader_id: f"Leader {m.leader_id[-2:]}" for m in cohort}
    panel = GroupFormationPanel(cohort, library, on_save=saved.append, names=names, restarts=2)
    assert {"wb-groups", "wb-groups-min", "wb-groups-max", "wb-groups-preview", "wb-groups-save",
            "wb-groups-summary", "wb-groups-list", "wb-group-card", "wb-groups-status",
            "wb-cohort-error"} <= classes(panel.widget)
    g = panel.grouping
    assert g is not None and (panel.min_size.value, panel.max_size.value) == (4, 6)
    expected = form_groups(cohort, min_size=4, max_size=6, seed=0, restarts=2)
    assert g.groups == expected.groups
    assert len(panel.groups_view.children) == len(g.groups) == 4
    assert f"Coverage {g.coverage:.0%}" in panel.summary.value
    assert f"random groups: {g.random_coverage:.0%}" in panel.summary.value
    assert g.coverage > g.random_coverage
    first = panel.groups_view.children[0].value
    lid = g.groups[0][0]
    assert names[lid] in first and library.competencies[g.development_areas[lid][0]].name in first
    pair = next(p for p in g.coaching_pairs if p.group == 0)
    assert f"{names[pair.coach]} → {names[pair.learner]}" in first
    panel.save_button.click()
    assert saved == [g] and panel.saved is g and "Saved 4 groups" in panel.status.value


def test_group_panel_size_change_requires_a_new_preview(library, cohort):
    saved = []
    panel = GroupFormationPanel(cohort, library, on_save=saved.append, restarts=1)
    panel.min_size.value, panel.max_size.value = 3, 4
    assert panel.save_button.disabled and "preview the groups again" in panel.status.value
    assert panel.save() is False and saved == []
    panel.preview_button.click()
    assert not panel.save_button.disabled and len(panel.grouping.groups) == 5
    assert all(3 <= len(x) <= 4 for x in panel.grouping.groups)
    panel.save_button.click()
    assert len(saved) == 1 and len(saved[0].groups) == 5


def test_group_panel_reports_impossible_sizes_and_respects_forbidden_pairs(library, cohort):
    a, b = cohort[0].leader_id, cohort[1].leader_id
    panel = GroupFormationPanel(cohort, library, forbidden=[(a, b)], restarts=1)
    assert panel.grouping.group_of(a) != panel.grouping.group_of(b)
    panel.min_size.value, panel.max_size.value = 7, 3
    panel.preview_button.click()
    assert panel.grouping is None and panel.save_button.disabled
    assert "Cannot form groups" in panel.status.value and panel.groups_view.children == ()


def test_group_panel_shows_a_failing_save(library, cohort):
    def boom(_g):
        raise RuntimeError("database down")

    panel = GroupFormationPanel(cohort, library, on_save=boom, restarts=1)
    panel.save_button.click()
    assert panel.saved is None and panel.errors and "database down" in panel._cb.error.value


# ------------------------------------------------------------------------------ sessions
@pytest.fixture
def planner_args(library):
    return dict(library=library, cohort_id="c1", focus_competencies=["feedback", "delegating"])


def test_session_planner_shows_sessions_and_saves_them(planner_args):
    saved = []
    planner = SessionPlanner(**planner_args, on_save=saved.append, start=dt.date(2027, 1, 4), weekday=2,
                             at=dt.time(9, 30), count=4, cadence_days=14)
    assert {"wb-sessions", "wb-sessions-start", "wb-sessions-weekday", "wb-sessions-time", "wb-sessions-count",
            "wb-sessions-cadence", "wb-sessions-list", "wb-session-card", "wb-sessions-save", "wb-sessions-export",
            "wb-sessions-ics", "wb-sessions-download", "wb-sessions-status"} <= classes(planner.widget)
    s = planner.sessions
    assert len(s) == 4 == len(planner.list_view.children)
    assert [x.starts_at.date() for x in s] == [dt.date(2027, 1, 6) + dt.timedelta(days=14 * k) for k in range(4)]
    assert [x.competency for x in s] == ["feedback", "delegating", "feedback", "delegating"]
    card = planner.list_view.children[0].value
    assert "Wed 06 Jan 2027, 09:30" in card and s[0].title in card
    module = next(a for a in s[0].agenda if a.kind == "module")
    assert module.title in card and "Commitment for the week" in card
    planner.save_button.click()
    assert saved == [s] and "Saved 4 sessions" in planner.status.value


def test_session_planner_follows_the_controls_and_refuses_bad_input(planner_args):
    saved = []
    planner = SessionPlanner(**planner_args, on_save=saved.append, start=dt.date(2027, 1, 4), count=2)
    planner.weekday.value = 0
    planner.cadence.value = 7
    planner.count.value = 3
    assert [x.starts_at.date() for x in planner.sessions] == [dt.date(2027, 1, 4), dt.date(2027, 1, 11),
                                                             dt.date(2027, 1, 18)]
    planner.time.value = dt.time(14, 0)
    assert all(x.starts_at.time() == dt.time(14, 0) for x in planner.sessions)
    planner.count.value = 0
    assert planner.sessions == () and planner.list_view.children == ()
    assert "count must be at least 1" in planner.status.value
    assert planner.save_button.disabled and planner.export_button.disabled
    assert planner.save() is False and saved == [] and planner.export() == ""
    planner.count.value = 2
    assert len(planner.sessions) == 2 and not planner.save_button.disabled and planner.status.value == ""


def test_session_planner_exports_ics(planner_args):
    exported = []
    stamp = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    planner = SessionPlanner(**planner_args, on_export=exported.append, start=dt.date(2027, 1, 4), count=3,
                             dtstamp=stamp)
    assert planner.ics.layout.display == "none" and planner.download.value == ""
    planner.export_button.click()
    text = exported[0]
    assert len(exported) == 1 and text == planner.ics.value == planner.ics_text
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.count("BEGIN:VEVENT") == 1  # one repeating event
    assert "RRULE:FREQ=WEEKLY;COUNT=3;INTERVAL=2" in text
    assert "DTSTAMP:20261201T080000Z" in text and "UID:c1-s01-series@workbench.local" in text
    assert "ORGANIZER" not in text  # no address given: none invented
    assert planner.ics.layout.display is None
    assert "data:text/calendar" in planner.download.value and "c1-sessions.ics" in planner.download.value
    planner.count.value = 2  # a new plan drops the stale export
    assert planner.ics.value == "" and planner.download.value == ""


def test_session_planner_shows_and_exports_times_in_the_cohort_zone(planner_args):
    zones = []
    planner = SessionPlanner(**planner_args, on_timezone=zones.append, start=dt.date(2027, 1, 4), weekday=2,
                             at=dt.time(9, 30), count=2, tz="America/Chicago", organizer=("Frida F", "frida@x.org"),
                             attendees=[("Ann", "ann@x.org")])
    assert "Wed 06 Jan 2027, 09:30 CST" in planner.list_view.children[0].value
    assert planner.sessions[0].starts_at == dt.datetime(2027, 1, 6, 15, 30, tzinfo=dt.UTC)
    text = planner.export()
    assert "DTSTART;TZID=America/Chicago:20270106T093000" in text and "BEGIN:VTIMEZONE" in text
    assert "ORGANIZER;CN=\"Frida F\";ROLE=CHAIR:mailto:frida@x.org" in text.replace("\r\n ", "") and "mailto:ann@x.org" in text.replace("\r\n ", "")
    planner.zone.value = "Asia/Tokyo"  # the cohort's zone changes: saved, and sessions keep their local time
    assert zones == ["Asia/Tokyo"] and "09:30 JST" in planner.list_view.children[0].value
    assert planner.sessions[0].starts_at == dt.datetime(2027, 1, 6, 0, 30, tzinfo=dt.UTC)


# ------------------------------------------------------------------------------ my group
@pytest.fixture
def board(library):
    ann, bob, cat = Viewer("ann", "c1"), Viewer("bob", "c1"), Viewer("cat", "c2")
    fac = Viewer("fac", "c1", "facilitator")
    p1 = post("p1", bob, "Tried the question bank, it worked")
    p2 = hide(post("p2", bob, "Off-topic rant"), fac)
    r2 = reply("r2", p2, ann, "Reply inside a hidden thread")
    p3 = hide(post("p3", ann, "My own hidden post"), fac)
    p4 = post("p4", cat, "Another cohort")
    sessions = schedule_sessions(library, "c1", ["feedback", "trust"], start=dt.date(2026, 11, 1), weekday=0,
                                 at=dt.time(9, 0), count=4, cadence_days=14)
    members = [("Ann", ["Coaching"], ["Giving feedback"]), ("Bob", ["Giving feedback"], ["Building trust"])]
    return dict(ann=ann, bob=bob, posts=[p1, p2, r2, p3, p4], sessions=sessions, members=members)


def test_my_group_shows_members_sessions_prompts_and_visible_posts(board):
    panel = MyGroupPanel(board["members"], board["sessions"], board["posts"], board["ann"],
                         author_names={"bob": "Bob"}, now=NOW)
    assert {"wb-mygroup", "wb-mygroup-members", "wb-mygroup-sessions", "wb-mygroup-prompts", "wb-mygroup-posts",
            "wb-mygroup-prompt-select", "wb-mygroup-input", "wb-mygroup-post", "wb-mygroup-status",
            "wb-post"} <= classes(panel.widget)
    assert "Ann" in panel.members_view.value and "Building trust" in panel.members_view.value
    # sessions on 2, 16, 30 Nov and 14 Dec; on 27 Nov only the last two are upcoming
    assert [s.id for s in panel.upcoming] == ["c1-s03", "c1-s04"]
    assert "Mon 30 Nov 2026, 09:00" in panel.sessions_view.value and "Mon 02 Nov" not in panel.sessions_view.value
    assert "Check-in" in panel.sessions_view.value
    assert [p.id for p in panel.prompts] == ["session:c1-s03", "session:c1-s04"]
    assert html.escape(panel.prompts[0].text) in panel.prompts_view.value
    assert panel.prompts[0].text.startswith("Think of a recent time when you could have said: \u201c")
    # ann sees bob's post and her own hidden post (marked), not bob's hidden post, its thread or another cohort
    assert [p.id for p in panel.shown_posts] == ["p1", "r2", "p3"]
    assert [p.id for p in panel.shown_posts] != [p.id for p in board["posts"]]
    texts = [c.value for c in panel.posts_view.children]
    assert "Bob" in texts[0] and "Off-topic" not in "".join(texts) and "Another cohort" not in "".join(texts)
    unnamed = MyGroupPanel(board["members"], board["sessions"], board["posts"], board["ann"], now=NOW)
    assert "bob" not in unnamed.posts_view.children[0].value  # never a raw id
    assert "A member of your cohort" in unnamed.posts_view.children[0].value
    assert unnamed.author_name("facilitator:c1") == "Facilitator"
    tokyo = MyGroupPanel(board["members"], board["sessions"], board["posts"], board["ann"], now=NOW, tz="Asia/Tokyo")
    assert "Mon 30 Nov 2026, 18:00 JST" in tokyo.sessions_view.value  # 09:00 UTC shown in the leader's zone
    with pytest.raises(ValueError):
        MyGroupPanel(board["members"], board["sessions"], board["posts"], board["ann"], now=NOW, tz="Mars/Olympus")
    hidden_card = panel.posts_view.children[2]
    assert "wb-post-hidden" in hidden_card._dom_classes and "only you can see it" in hidden_card.value


def test_my_group_posts_with_prompt_and_refuses_empty_or_long_posts(board):
    calls = []
    panel = MyGroupPanel(board["members"], board["sessions"], board["posts"], board["bob"],
                         on_post=lambda text, prompt: calls.append((text, prompt)), now=NOW, max_chars=50)
    n0 = len(panel.posts_view.children)
    panel.input.value = "   "
    panel.post_button.click()
    assert calls == [] and "Write something" in panel.status.value and "wb-status-refused" in panel.status.value
    panel.input.value = "x" * 51
    panel.post_button.click()
    assert calls == [] and "51 characters" in panel.status.value and "limit is 50" in panel.status.value
    assert panel.input.value == "x" * 51 and len(panel.posts_view.children) == n0
    panel.prompt_select.value = panel.prompts[1].id
    panel.input.value = "I will try it on Monday"
    panel.post_button.click()
    assert calls == [("I will try it on Monday", panel.prompts[1])]
    assert panel.input.value == "" and "Posted." in panel.status.value
    assert len(panel.posts_view.children) == n0 + 1
    assert "I will try it on Monday" in panel.posts_view.children[-1].value
    assert panel.shown_posts[-1].prompt_id == panel.prompts[1].id and panel.shown_posts[-1].author_id == "bob"


def test_my_group_uses_the_callbacks_post_and_survives_a_failing_callback(board):
    ann = board["ann"]

    def store(text, prompt):
        return post("db-42", ann, text, prompt, created_at=NOW)

    panel = MyGroupPanel([], [], [], ann, on_post=store, now=NOW)
    assert "not in a peer group" in panel.members_view.value and "None scheduled" in panel.sessions_view.value
    assert "No posts yet" in panel.posts_view.children[0].value
    created = panel.submit("Hello group")
    assert created.id == "db-42" and [p.id for p in panel.shown_posts] == ["db-42"]

    def boom(text, prompt):
        raise RuntimeError("store offline")

    failing = MyGroupPanel([], [], [], ann, on_post=boom, now=NOW)
    failing.input.value = "Hello"
    failing.post_button.click()
    assert failing.shown_posts == [] and failing.errors and "store offline" in failing._cb.error.value
    assert failing.input.value == "Hello"
    with pytest.raises(ValueError, match="timezone-aware"):
        MyGroupPanel([], [], [], ann, now=dt.datetime(2026, 1, 1))
