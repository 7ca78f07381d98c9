"""Cohorts in the store: groups respect reporting lines and are saved; sessions, attendance,
peer feedback and discussion visibility; the cohort commands' contracts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from workbench.cohorts import PeerFeedback, Viewer
from workbench.services.cohorts import (
    add_post,
    forbidden_pairs,
    form_and_save,
    hide_post,
    peer_group,
    plan_sessions,
    posts_for,
    record_attendance,
    record_peer_feedback,
)
from workbench.store import connect, repo, transaction
from workbench.store import models as m


@pytest.fixture
def cohort_db(demo_copy):
    return demo_copy


def test_groups_are_saved_and_keep_reporting_lines_apart(cohort_db):
    eng = connect(cohort_db)
    with transaction(eng) as s:  # put a manager and their report in the same cohort
        s.get(m.Leader, "L0014").manager_id = "L0002"
    g = form_and_save(eng, "C02", 4, 6, seed=1)
    assert ("L0014", "L0002") in forbidden_pairs(eng, "C02")
    assert g.group_of("L0014") != g.group_of("L0002")
    assert all(4 <= len(grp) <= 6 for grp in g.groups) and g.coverage > g.random_coverage + 0.1
    members = sorted(repo.leaders_frame(eng, "C02").leader_id)
    assert sorted(x for grp in g.groups for x in grp) == members
    mine = peer_group(eng, "L0014")
    assert "L0014" in mine and set(mine) == set(g.groups[g.group_of("L0014")])


def test_group_view_shows_development_areas_only_for_the_leader(cohort_db, library):
    from workbench.services.cohorts import group_view

    eng = connect(cohort_db)
    form_and_save(eng, "C02", 4, 6, seed=1)
    view = group_view(eng, library, "L0014")
    me = repo.get_leader(eng, "L0014").name
    assert len(view) == len(peer_group(eng, "L0014"))
    assert all(areas == [] for name, _, areas in view if name != me)
    from workbench.cohorts import development_areas
    from workbench.services.cohorts import cohort_members

    expected = development_areas([mb for mb in cohort_members(eng, "C02") if mb.leader_id in peer_group(eng, "L0014")])
    own = next(areas for name, _, areas in view if name == me)
    assert own == [library.competencies[c].name for c in expected["L0014"]]


def test_sessions_and_attendance(cohort_db, library):
    import datetime as dt

    eng = connect(cohort_db)
    sessions = plan_sessions(eng, library, "C03", dt.date(2027, 1, 4), count=3)
    assert len(sessions) == 3 and all(s.starts_at.weekday() == 2 for s in sessions)
    with transaction(eng) as s:
        assert s.get(m.ClassroomSession, sessions[0].id).title == sessions[0].title
    record_attendance(eng, sessions[0].id, ["L0003", "L0015"])
    ev = repo.activity_frame(eng, "L0015")
    assert ((ev.verb == "attended") & (ev.object_id == sessions[0].id)).any()


def test_peer_feedback_is_other_rater_evidence(cohort_db, library):
    eng = connect(cohort_db)
    sc = library.scenarios["team-clash"]
    ratings = {c: {b: 3 for b in library.competencies[c].key_behaviors[:2]} for c in sc.competencies}
    updates = record_peer_feedback(eng, library, PeerFeedback("L0016", "L0028", sc.id, ratings))
    for comp, u in updates.items():
        assert u.after_mean > u.before_mean and u.after_sd < u.before_sd
        latest = repo.latest_estimates(eng, "L0028").set_index("competency")
        assert latest.loc[comp, "mean"] == pytest.approx(u.after_mean)


def test_discussion_visibility_and_moderation(cohort_db):
    eng = connect(cohort_db)
    author = Viewer("L0004", "C04")
    pid = add_post(eng, author, "What helped me this week: asking before telling.")
    peer, outsider, facilitator = Viewer("L0016", "C04"), Viewer("L0005", "C05"), Viewer("fac", "C04", "facilitator")
    assert pid in {p.id for p in posts_for(eng, peer)}
    assert pid not in {p.id for p in posts_for(eng, outsider)}
    with pytest.raises(PermissionError):
        posts_for(eng, Viewer("L0005", "C04"))  # not a member of C04
    with pytest.raises(PermissionError):
        hide_post(eng, pid, peer)
    hide_post(eng, pid, facilitator)
    assert pid not in {p.id for p in posts_for(eng, peer)}
    assert pid in {p.id for p in posts_for(eng, facilitator)}
    with pytest.raises(ValueError):
        add_post(eng, author, "   ")


def run(*args):
    return subprocess.run([sys.executable, "-m", "workbench.cli", *args], capture_output=True, text=True)


def test_cli_groups_json_and_sessions_ics(cohort_db, tmp_path):
    out = run("cohort", "groups", "--cohort", "C05", "--size", "4-6", "--json", "--db", cohort_db)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["coverage"] > doc["random_coverage"] and all(4 <= len(g["members"]) <= 6 for g in doc["groups"])
    ics = tmp_path / "c05.ics"
    out = run("cohort", "sessions", "--cohort", "C05", "--ics", str(ics), "--start", "2027-02-01", "--db", cohort_db)
    assert out.returncode == 0, out.stderr
    raw = ics.read_bytes()
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and raw.count(b"BEGIN:VEVENT") == 1  # one repeating event
    assert b"RRULE:FREQ=WEEKLY;COUNT=4;INTERVAL=2" in raw and b"TZID=Europe/London:20270203T150000" in raw
    assert raw.count(b"ATTENDEE") >= 4 and "GMT" in out.stdout  # members invited; times in the cohort's zone
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))


@pytest.mark.parametrize("args,words", [
    (["groups", "--cohort", "C99"], "no cohort with id 'C99'"),
    (["groups", "--cohort", "C01", "--size", "six"], "--size must look like 4-6"),
    (["sessions", "--cohort", "C01", "--start", "soon"], "--start must be YYYY-MM-DD"),
])
def test_cli_bad_input(cohort_db, args, words):
    out = run("cohort", *args, "--db", cohort_db)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0]


def test_time_zones_default_to_the_organization_and_can_be_changed(engine, library):
    """A leader's zone: their own, else their cohort's, else organization.yaml's; a bad name is refused."""
    from workbench.services.cohorts import set_timezone, timezone_for

    with transaction(engine) as s:
        s.add(m.Organization(id="o", name="O"))
        s.flush()
        s.add(m.Cohort(id="c", organization_id="o", name="C"))
        s.flush()
        s.add(m.Leader(id="a", organization_id="o", cohort_id="c", name="Ann A", role_level="first-time"))
    assert library.organization.timezone == "Europe/London"
    assert timezone_for(engine, library, leader_id="a") == timezone_for(engine, library, cohort_id="c") == "Europe/London"
    set_timezone(engine, "America/Chicago", cohort_id="c")
    assert timezone_for(engine, library, leader_id="a") == "America/Chicago"
    set_timezone(engine, "Asia/Kolkata", leader_id="a")
    assert timezone_for(engine, library, leader_id="a") == "Asia/Kolkata"
    assert timezone_for(engine, library, cohort_id="c") == "America/Chicago"
    set_timezone(engine, None, leader_id="a")  # back to the cohort's
    assert timezone_for(engine, library, leader_id="a") == "America/Chicago"
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        set_timezone(engine, "Mars/Olympus", leader_id="a")
    with pytest.raises(repo.NotFound):
        set_timezone(engine, "UTC", leader_id="nobody")
    with pytest.raises(ValueError, match="exactly one"):
        set_timezone(engine, "UTC")
