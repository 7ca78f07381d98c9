"""The leader and cohort apps: right data for the right person, error pages otherwise."""

from __future__ import annotations

import json
import os

import pytest

from workbench.apps.cohort import SECTIONS, CohortPage, cohort_app
from workbench.apps.leader import LeaderPage, leader_app, profile_table
from workbench.services.identity import make_token
from workbench.store import repo

from ..conftest import REPO

KEY = "test-secret"


@pytest.fixture(autouse=True)
def _secret(monkeypatch):
    monkeypatch.setenv("WORKBENCH_SECRET", KEY)


def html_of(widget) -> str:
    parts = []

    def walk(w):
        if hasattr(w, "value") and isinstance(w.value, str):
            parts.append(w.value)
        for c in getattr(w, "children", ()):
            walk(c)

    walk(widget)
    return "\n".join(parts)


def test_leader_sees_their_own_profile_and_activity(demo_engine, library):
    me, other = repo.get_leader(demo_engine, "L0001"), repo.get_leader(demo_engine, "L0002")
    page = LeaderPage(demo_engine, library, me)
    assert "wb-leader-app" in page.widget._dom_classes
    assert page.tabs.selected_index == 0 and page.built == {"My profile"}  # the rest waits to be opened
    page.open("Progress")
    text = html_of(page.widget)
    assert me.name in text and "Development areas" in text
    assert other.name not in text or other.name == me.name
    from workbench.services.progress import personal_progress

    p = personal_progress(demo_engine, library, me.id)
    assert f"{p.modules.started} started, <b>{p.modules.completed} completed</b>" in text
    assert f"{p.time.minutes_total:.0f} minutes" in text


def test_every_section_builds_without_error(demo_copy, library):
    from workbench.store import make_engine

    eng = make_engine(demo_copy)
    page = LeaderPage(eng, library, repo.get_leader(eng, "L0001"))
    for name in page.sections:
        box = page.open(name)
        assert box.children, name
        assert "wb-section-error" not in html_of(box) and not any(
            "wb-section-error" in c._dom_classes for c in box.children), name
    assert page.tabs.selected_index == len(page.sections) - 1


@pytest.mark.parametrize("token", [None, "", "forged.token", lambda: make_token("facilitator", "C01"),
                                   lambda: make_token("leader", "L0001", key="not-the-secret"),
                                   lambda: make_token("leader", "NOBODY")])
def test_leader_app_refuses_bad_links(demo_engine, library, token):
    tok = token() if callable(token) else token
    page = leader_app(tok, library=library, db=demo_engine)
    assert "wb-error-page" in page._dom_classes
    assert "Cannot open this page" in page.value
    assert repo.get_leader(demo_engine, "L0001").name not in page.value


def test_cohort_app(demo_engine, library):
    page = CohortPage(demo_engine, library, repo.get_cohort(demo_engine, "C01"))
    assert page.built == {"Overview"}
    for name in SECTIONS:
        box = page.open(name)
        assert box.children and not any("wb-section-error" in c._dom_classes for c in box.children), name
    text = html_of(page.widget)
    members = repo.leaders_frame(demo_engine, "C01")
    assert all(name in text for name in members.name)
    outsiders = repo.leaders_frame(demo_engine, "C02")
    roster = html_of(page.boxes["Roster and skills"])  # (invited raters may be leaders of other cohorts)
    assert not any(f"<td>{name}</td>" in roster for name in set(outsiders.name) - set(members.name))
    assert "coverage" in text.lower()  # the group formation preview is on the page
    assert "Needs attention" in text and "Rater invitations" in text
    assert "wb-error-page" in cohort_app(make_token("leader", "L0001"), library=library, db=demo_engine)._dom_classes


def test_profile_table_bands(library):
    import pandas as pd

    est = pd.DataFrame({"competency": ["coaching", "trust", "change"], "mean": [-1.5, 1.4, 0.1], "sd": [0.3, 0.3, 0.3]})
    t = profile_table(est, library)
    assert list(t.competency) == ["coaching", "change", "trust"]
    assert list(t.band) == ["development area", "in range", "strength"]
    assert (t.low < t["mean"]).all() and (t.high > t["mean"]).all()


def test_leader_notebook_runs_under_papermill(demo_db, tmp_path):
    import papermill as pm

    token = make_token("leader", "L0003", key=KEY)
    env = {"WORKBENCH_DB": demo_db, "WORKBENCH_SECRET": KEY}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        nb = pm.execute_notebook(str(REPO / "notebooks/apps/leader.ipynb"), str(tmp_path / "out.ipynb"),
                                 parameters={"token": token}, kernel_name="python3", progress_bar=False)
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    state = json.dumps(nb.metadata.get("widgets", {}))
    from workbench.store import make_engine

    assert repo.get_leader(make_engine(demo_db), "L0003").name in state


@pytest.mark.parametrize("size", [0, 3, 5])
def test_a_new_small_cohort_shows_every_section(engine, library, size):
    """A brand-new cohort, some members never assessed: every tab shows, none fails."""
    from workbench.store import models as m
    from workbench.store.db import transaction

    with transaction(engine) as s:
        s.add(m.Organization(id="o", name="Org"))
        s.flush()
        s.add(m.Cohort(id="K1", organization_id="o", name="Cohort K1"))
        s.flush()
        for i in range(size):
            s.add(m.Leader(id=f"K{i}", organization_id="o", cohort_id="K1", name=f"Kim {i}", role_level="first-time"))
        if size:
            s.flush()
            s.add_all([m.SkillEstimate(leader_id="K0", competency=c, mean=-0.5, sd=0.4) for c in library.competency_ids])
    page = CohortPage(engine, library, repo.get_cohort(engine, "K1"))
    for name in SECTIONS:
        box = page.open(name)
        assert box.children and not any("wb-section-error" in c._dom_classes for c in box.children), name


def test_a_preheated_leader_kernel_holds_nobody_and_serves_the_link_it_is_given(demo_db, monkeypatch):
    """``preheat()`` (run in a waiting kernel before any request) reads as a leader nobody is, closes every
    widget it made and keeps only the library and the store's engine; the page then built is the link's
    leader's, on that engine and library, with the same content as one built without preheating."""
    from ipywidgets.widgets import widget as widget_module

    from workbench.apps import common, leader

    monkeypatch.setenv("WORKBENCH_DB", demo_db)
    monkeypatch.setattr(common, "PREHEATED", {})
    before = set(widget_module._instances)
    leader.preheat()
    assert set(widget_module._instances) <= before  # nothing left to send to the page it will serve
    assert set(common.PREHEATED) == {"library", "engine", "url"}
    eng = common.engine()
    assert eng is common.PREHEATED["engine"] and common.page_library() is common.PREHEATED["library"]
    me, other = repo.get_leader(eng, "L0001"), repo.get_leader(eng, "L0002")
    header, rest = leader.leader_parts(make_token("leader", me.id))
    import re

    def page_text(h, r):  # (the chart tables' ids are random)
        return re.sub(r"T_[0-9a-f]+", "T_", html_of(h) + html_of(r()))

    text = page_text(header, rest)
    assert me.name in text and (other.name not in text or other.name == me.name)
    monkeypatch.setattr(common, "PREHEATED", {})
    cold_header, cold_rest = leader.leader_parts(make_token("leader", me.id))
    assert page_text(cold_header, cold_rest) == text
    common.preheated(eng=eng)
    monkeypatch.setenv("WORKBENCH_DB", demo_db + ".other")
    assert common.engine() is not eng  # another database named: a new engine
