"""Assessments in the store: forms open and resume, answers are validated and survive, submitting
scores with the anonymity rule, and only a leader's own submission reaches their activity stream."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import sqlalchemy as sa

from tests.conftest import stored_answers
from workbench.apps.assessment_widgets import AssessmentForm
from workbench.services import assessment as al
from workbench.sim import demo_item_params
from workbench.skills.params import params_to_json
from workbench.store import connect, make_engine, repo, transaction
from workbench.store import models as m
from workbench.store.repo import NotFound

ORG = "acme"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
EFFECTS = {"self": 0.35, "manager": 0.0, "peer": 0.0, "direct_report": 0.0}


def calibration_doc(library, seed=3, rho=0.45):
    p = demo_item_params(library, seed)
    D = len(p.dimensions)
    return params_to_json(p, np.full((D, D), rho) + (1 - rho) * np.eye(D), rater_effects=EFFECTS,
                          diagnostics={"method": "map"})


def make_org(engine, library, calibrated=True, peers=3):
    """Two leaders (A1 is assessed), a self rater, a manager and ``peers`` peer invitations for A1."""
    with transaction(engine) as s:
        s.add(m.Organization(id=ORG, name="Acme"))
        s.flush()
        s.add_all([m.Leader(id="A2", organization_id=ORG, name="Bo Berg", role_level="senior"),
                   m.Leader(id="A1", organization_id=ORG, name="Ada Abara", role_level="experienced")])
        s.flush()
        s.get(m.Leader, "A1").manager_id = "A2"
        s.add(m.Rater(id="A1-mgr", leader_id="A1", role="manager", name="Bo Berg", email="bo@acme.example"))
        s.add_all([m.Rater(id=f"A1-peer-{k}", leader_id="A1", role="peer", name=f"Peer Person {k}",
                           email=f"peer{k}@acme.example") for k in range(peers)])
        s.add(m.Rater(id="A2-peer-0", leader_id="A2", role="peer", name="Other Peer"))
        if calibrated:
            s.add(m.Calibration(id=f"{ORG}-fit", organization_id=ORG, method="map", created_at=T0,
                                params=calibration_doc(library)))


def low(item) -> int:
    """The answer that says the least skill (reverse-keyed items flip)."""
    return item.categories[-1] if item.reverse else item.categories[0]


def high(item) -> int:
    return item.categories[0] if item.reverse else item.categories[-1]


def fill(engine, state, pick, n=None, now=T0):
    """Answer the form through the widget, as the page does, ``n`` questions or all it asks."""
    form = AssessmentForm.from_state(state, on_answer=lambda i, v: al.record_answer(engine, state, i, v, now=now))
    k = 0
    while form.current_item is not None and (n is None or k < n):
        form.answer(pick(form.current_item))
        k += 1
    return form


def estimates(engine, leader_id="A1"):
    return {src: repo.latest_estimates(engine, leader_id, src).set_index("competency")[["mean", "sd"]]
            for src in al.SOURCES}


def events(engine, leader_id="A1"):
    return repo.activity_frame(engine, leader_id)


def test_calibration_choice_prefers_fitted_then_own_then_newest(engine, library):
    make_org(engine, library, calibrated=False)
    with pytest.raises(al.NoCalibration, match="no calibration"):
        al.current_calibration(engine, ORG)
    doc = calibration_doc(library)
    with transaction(engine) as s:
        s.add(m.Calibration(id="own-generating", organization_id=ORG, method="generating", created_at=T0, params=doc))
    assert al.latest_calibration(engine, ORG).id == "own-generating"
    with transaction(engine) as s:
        s.add(m.Calibration(id="shared-fit", organization_id=None, method="nuts", created_at=T0, params=doc))
        s.add(m.Calibration(id="other-org-fit", organization_id=None, method="nuts", created_at=T0 - timedelta(days=9),
                            params=doc))
    assert al.latest_calibration(engine, ORG).id == "shared-fit"
    with transaction(engine) as s:
        s.add(m.Calibration(id="own-old-fit", organization_id=ORG, method="map", created_at=T0 - timedelta(days=30),
                            params=doc))
        s.add(m.Calibration(id="own-new-generating", organization_id=ORG, method="generating",
                            created_at=T0 + timedelta(days=30), params=doc))
    info = al.latest_calibration(engine, ORG)
    assert info.id == "own-old-fit" and info.method == "map"
    model = al.current_calibration(engine, ORG)
    assert model.items_.n_items == len(library.items) and model.rater_effects_["self"]["mean"] == pytest.approx(0.35)


def test_self_form_is_adaptive_and_resumes_its_draft(engine, library):
    make_org(engine, library)
    state = al.start(engine, library, "A1", now=T0)
    assert state.adaptive and state.form == "adaptive" and state.status == "draft" and state.answers == {}
    assert state.calibration_id == f"{ORG}-fit" and state.started_at == T0
    assert len(state.questions) == len(library.items)
    item = library.items[state.questions[0].item_id]
    assert state.questions[0].text == " ".join(item.wording.self.split())
    assert state.questions[0].options == tuple(item.labels.items())
    form = fill(engine, state, lambda i: 4, n=6)
    again = al.start(engine, library, "A1")
    assert again.session_id == state.session_id and list(again.answers.items()) == list(form.answered.items())
    assert AssessmentForm.from_state(again).current_item == form.current_item
    assert al.assessment_status(engine, "A1").state == "in progress"
    # explicit choices, and the stored form wins on resume
    assert al.start(engine, library, "A1", adaptive=False).form == "adaptive"
    assert al.start(engine, library, "A2", adaptive=False).form == "full"


def test_without_a_calibration_the_self_form_is_fixed(engine, library):
    make_org(engine, library, calibrated=False)
    state = al.start(engine, library, "A1")
    assert state.form == "full" and not state.adaptive and state.calibration_id is None
    assert state.driver().total == len(library.items)
    with pytest.raises(al.NoCalibration):
        al.start(engine, library, "A2", adaptive=True)


def test_rater_forms_are_fixed_per_rater_and_checked(engine, library):
    make_org(engine, library)
    with pytest.raises(ValueError, match="invitation id"):
        al.start(engine, library, "A1", "peer")
    with pytest.raises(ValueError, match="not a peer rater of leader A1"):
        al.start(engine, library, "A1", "peer", "A2-peer-0")
    with pytest.raises(ValueError, match="not a manager rater"):
        al.start(engine, library, "A1", "manager", "A1-peer-0")
    with pytest.raises(NotFound):
        al.start(engine, library, "A1", "peer", "nobody")
    with pytest.raises(ValueError, match="unknown rater role"):
        al.start(engine, library, "A1", "friend", "A1-peer-0")
    with pytest.raises(NotFound):
        al.start(engine, library, "ZZ")
    p0 = al.start(engine, library, "A1", "peer", "A1-peer-0")
    p1 = al.start(engine, library, "A1", "peer", "A1-peer-1")
    assert p0.form == p1.form == "full" and p0.session_id != p1.session_id
    assert p0.driver().order != p1.driver().order  # each rater gets their own shuffle
    assert al.start(engine, library, "A1", "peer", "A1-peer-0").session_id == p0.session_id
    assert "colleague" in p0.question("tru-01").text and "I " not in p0.question("tru-01").text[:2]
    fill(engine, p0, lambda i: 3)
    al.submit(engine, library, p0.session_id, now=T0)
    closed = al.start(engine, library, "A1", "peer", "A1-peer-0")
    assert closed.session_id == p0.session_id and closed.status == "submitted"
    assert AssessmentForm.from_state(closed).done


def test_out_of_range_answers_are_refused_and_nothing_is_stored(engine, library):
    make_org(engine, library)
    state = al.start(engine, library, "A1", "manager", "A1-mgr")
    for bad in (0, 6, -1, "3", 2.5, True):
        with pytest.raises(ValueError, match="outside its categories"):
            al.record_answer(engine, state, "tru-01", bad)
    own = al.start(engine, library, "A1")  # the leader's own form has no "not observed"
    with pytest.raises(ValueError, match="offered to other raters only"):
        al.record_answer(engine, own, "tru-01", None)
    with pytest.raises(ValueError, match="offered to other raters only"):
        al.record_answer(engine, own.session_id, "tru-01", None, library=library)
    with pytest.raises(ValueError, match="not on this form"):
        al.record_answer(engine, state, "tru-99", 3)
    with pytest.raises(ValueError, match="unknown item"):
        al.record_answer(engine, state.session_id, "tru-99", 3, library=library)
    assert stored_answers(engine, state.session_id) == {}
    al.record_answer(engine, state, "tru-01", np.int64(2))
    al.record_answer(engine, state.session_id, "tru-01", 5, library=library)  # a change, not a second row
    al.record_answer(engine, state.session_id, "chg-01", 1)  # categories from the calibration
    with pytest.raises(ValueError, match="outside its categories"):
        al.record_answer(engine, state.session_id, "chg-01", 7)
    with transaction(engine) as s:
        rows = s.execute(sa.select(m.Response.item_id, m.Response.value)
                         .where(m.Response.session_id == state.session_id).order_by(m.Response.item_id)).all()
    assert [tuple(r) for r in rows] == [("chg-01", 1), ("tru-01", 5)]
    al.submit(engine, library, state.session_id, now=T0)
    with pytest.raises(ValueError, match="already submitted"):
        al.record_answer(engine, state, "tru-02", 3)


def test_answers_survive_a_fresh_engine_on_the_same_file(sqlite_url, library):
    eng = connect(sqlite_url)
    make_org(eng, library)
    state = al.start(eng, library, "A1")
    picks = iter([2, 4, 5, 1, 3, 4, 2])
    live = AssessmentForm.from_state(state, on_answer=lambda i, v: al.record_answer(eng, state, i, v))
    for _ in range(7):
        live.answer(next(picks))
    eng.dispose()  # the page closes: nothing else is flushed, every answer was its own transaction
    fresh = make_engine(sqlite_url)
    resumed = al.start(fresh, library, "A1")
    assert resumed.session_id == state.session_id
    assert list(resumed.answers.items()) == list(live.answered.items())
    assert AssessmentForm.from_state(resumed).current_item == live.current_item
    fresh.dispose()


def test_submit_is_idempotent_and_logs_one_self_assessment(engine, library):
    make_org(engine, library)
    state = al.start(engine, library, "A1")
    with pytest.raises(ValueError, match="at least one question"):
        al.submit(engine, library, state.session_id)
    fill(engine, state, lambda i: high(library.items[i]))
    first = al.submit(engine, library, state.session_id, now=T0 + timedelta(hours=1))
    assert first == al.SubmitResult(state.session_id, "self", already_submitted=False, rescored=True)
    ev = events(engine)
    assert len(ev) == 1 and ev.verb[0] == "completed" and ev.object_type[0] == "assessment"
    assert ev.object_id[0] == state.session_id
    est = estimates(engine)
    assert est["others"].empty and len(est["self"]) == len(library.competency_ids)
    assert (est["self"]["mean"] > 0.5).all() and np.allclose(est["self"].to_numpy(), est["all"].to_numpy())
    with transaction(engine) as s:
        n_rows = s.scalar(sa.select(sa.func.count()).select_from(m.SkillEstimate))
        cal_ids = set(s.scalars(sa.select(m.SkillEstimate.calibration_id)))
    assert n_rows == 2 * len(library.competency_ids) and cal_ids == {f"{ORG}-fit"}
    again = al.submit(engine, library, state.session_id, now=T0 + timedelta(hours=2))
    assert again.already_submitted and len(events(engine)) == 1
    with transaction(engine) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(m.SkillEstimate)) == n_rows
        assert s.get(m.AssessmentSession, state.session_id).submitted_at == T0 + timedelta(hours=1)
    status = al.assessment_status(engine, "A1")
    assert status.state == "submitted" and status.submitted.session_id == state.session_id
    n_answered = len(stored_answers(engine, state.session_id))
    assert al.assessment_status(engine, "A1").submitted.n_answers == n_answered and n_answered >= 16
    assert al.rescore(engine, library, "A1").written == ()  # nothing new to say
    retake = al.start(engine, library, "A1")  # a new self draft is a retake
    assert retake.session_id != state.session_id and retake.answers == {}


def test_a_rater_submission_logs_nothing_on_the_leaders_stream(engine, library):
    make_org(engine, library)
    for rater, role in (("A1-mgr", "manager"), ("A1-peer-0", "peer")):
        st = al.start(engine, library, "A1", role, rater)
        fill(engine, st, lambda i: 2)
        # the manager's sheet is in the leader's view at once; a first peer's is not, so nothing is rescored
        assert al.submit(engine, library, st.session_id, now=T0).rescored == (role == "manager")
    assert events(engine).empty and events(engine, "A2").empty
    with transaction(engine) as s:
        statements = json.dumps(list(s.scalars(sa.select(m.ActivityEvent.statement))))
    assert "A1-peer-0" not in statements and "Peer Person" not in statements
    assert not estimates(engine)["others"].empty  # the manager is visible at once


def test_hidden_peers_change_nothing_until_the_third_submits(engine, library):
    make_org(engine, library)
    own = al.start(engine, library, "A1")
    fill(engine, own, lambda i: high(library.items[i]))
    al.submit(engine, library, own.session_id, now=T0)
    before = estimates(engine)
    assert before["others"].empty
    hour = timedelta(hours=1)
    for k in range(2):  # two peers with a very different view
        st = al.start(engine, library, "A1", "peer", f"A1-peer-{k}")
        fill(engine, st, lambda i: low(library.items[i]))
        al.submit(engine, library, st.session_id, now=T0 + (k + 1) * hour)
        after = estimates(engine)
        assert after["others"].empty
        for src in ("self", "all"):
            assert after[src].equals(before[src])
    r = al.rescore(engine, library, "A1")
    assert r.visible_roles == frozenset() and set(r.estimates) == {"self", "all"}
    third = al.start(engine, library, "A1", "peer", "A1-peer-2")
    fill(engine, third, lambda i: low(library.items[i]))
    al.submit(engine, library, third.session_id, now=T0 + 3 * hour)
    final = estimates(engine)
    assert len(final["others"]) == len(library.competency_ids) and (final["others"]["mean"] < -0.5).all()
    assert (final["all"]["mean"] < before["all"]["mean"] - 0.3).all()
    assert final["self"].equals(before["self"])
    assert al.rescore(engine, library, "A1").visible_roles == frozenset({"peer"})


def test_the_latest_self_sheet_is_the_self_view(engine, library):
    make_org(engine, library)
    first = al.start(engine, library, "A1")
    fill(engine, first, lambda i: high(library.items[i]))
    al.submit(engine, library, first.session_id, now=T0)
    high_view = estimates(engine)["self"]["mean"]
    retake = al.start(engine, library, "A1", adaptive=False)
    fill(engine, retake, lambda i: low(library.items[i]))
    al.submit(engine, library, retake.session_id, now=T0 + timedelta(days=60))
    low_view = estimates(engine)["self"]["mean"]
    assert (low_view < -0.8).all() and (high_view > 0.8).all()


def _demo_drafts(engine):
    with transaction(engine) as s:
        return s.execute(sa.select(m.AssessmentSession.leader_id, m.AssessmentSession.id)
                         .where(m.AssessmentSession.status == "draft", m.AssessmentSession.rater_role == "self")
                         .order_by(m.AssessmentSession.leader_id)).all()


def test_a_demo_leaders_draft_resumes_and_submits(demo_copy, library):
    eng = connect(demo_copy)
    drafts = _demo_drafts(eng)
    assert len(drafts) >= 3
    leader_id, session_id = drafts[0]
    stored = stored_answers(eng, session_id)
    timings = []
    for _ in range(5):
        t = time.perf_counter()
        state = al.start(eng, library, leader_id)
        timings.append(time.perf_counter() - t)
    print(f"\nstart() on the demo: median {1000 * statistics.median(timings):.1f} ms")  # speed: benchmarks/, not here
    assert state.session_id == session_id and state.status == "draft" and state.form == "full"
    assert state.answers == stored and 10 <= len(stored) < len(library.items)
    form = AssessmentForm.from_state(state)
    assert form.current_item is not None and form.current_item not in stored
    assert f"{len(stored)} of {len(library.items)}" in form.progress.value
    assert al.assessment_status(eng, leader_id).draft.session_id == session_id
    n_events = len(events(eng, leader_id))
    assert repo.latest_estimates(eng, leader_id, "self").empty  # the demo scored submitted sheets only
    fill(eng, state, lambda i: 3)
    result = al.submit(eng, library, session_id)
    assert result.rescored and len(events(eng, leader_id)) == n_events + 1
    r = al.rescore(eng, library, leader_id)
    assert r.calibration_id.endswith("-map") and r.written == ()
    latest = repo.latest_estimates(eng, leader_id, "self").set_index("competency")
    assert len(latest) == len(library.competency_ids)
    for comp, (mean, sd) in r.estimates["self"].items():
        assert latest.loc[comp, "mean"] == pytest.approx(mean) and latest.loc[comp, "sd"] == pytest.approx(sd)
    eng.dispose()


def test_a_new_demo_self_form_is_adaptive_on_the_fitted_calibration(demo_copy, library):
    eng = connect(demo_copy)
    state = al.start(eng, library, "L0001")
    assert state.adaptive and state.calibration_id.endswith("-map") and state.answers == {}
    form = AssessmentForm.from_state(state)
    assert "0 answered · about" in form.progress.value
    eng.dispose()


def test_the_edges_do_not_import_pymc():
    code = ("import sys, workbench.services.assessment, workbench.apps.assessment_widgets; "
            "print(sorted(m for m in ('pymc', 'pytensor') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_practice_evidence_survives_a_new_assessment(engine, library):
    """A scenario played between two submissions still counts in the leader's ``all`` estimates."""
    from workbench.services.practice import play_scenario

    make_org(engine, library)
    own = al.start(engine, library, "A1")
    fill(engine, own, lambda i: high(library.items[i]))
    al.submit(engine, library, own.session_id, now=T0)
    scenario = next(iter(library.scenarios.values()))
    node, path = scenario.start, []
    while not scenario.nodes[node].ending:
        choice = scenario.nodes[node].choices[0]
        path.append(choice.id)
        node = choice.next
    touched = set(play_scenario(engine, library, "A1", scenario.id, path, now=T0 + timedelta(hours=1)).estimates)
    mgr = al.start(engine, library, "A1", "manager", "A1-mgr")
    fill(engine, mgr, lambda i: low(library.items[i]))
    al.submit(engine, library, mgr.session_id, now=T0 + timedelta(hours=2))
    with_run = estimates(engine)["all"]
    with transaction(engine) as s:
        s.execute(sa.delete(m.ScenarioRun).where(m.ScenarioRun.leader_id == "A1"))
    al.rescore(engine, library, "A1", now=T0 + timedelta(hours=3))
    sheets_only = estimates(engine)["all"]
    for comp in library.competency_ids:
        if comp in touched:
            assert with_run.loc[comp, "sd"] < sheets_only.loc[comp, "sd"], comp
        else:
            assert with_run.loc[comp, "mean"] == pytest.approx(sheets_only.loc[comp, "mean"], abs=0.02), comp


def test_not_observed_is_stored_as_missing_skipped_by_scoring_and_exported_empty(engine, library, tmp_path):
    """A rater's "not observed" is a row with no value: it counts as answered on the form, the score is
    what it would be without the item, and the responses export (what calibration reads) has an empty cell."""
    from workbench.services.calibration import export_responses, write_responses
    from workbench.skills.data import read_responses_csv
    from workbench.skills.grm import MISSING

    make_org(engine, library, peers=1)
    state = al.start(engine, library, "A1", "manager", "A1-mgr")
    unseen = {"com-03", "chg-04", "tru-09"}
    for q in state.questions:
        al.record_answer(engine, state, q.item_id, None if q.item_id in unseen else 4)
    resumed = al.start(engine, library, "A1", "manager", "A1-mgr")
    assert {i for i, v in resumed.answers.items() if v is None} == unseen and len(resumed.answers) == len(state.questions)
    with transaction(engine) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(m.Response)
                        .where(m.Response.value.is_(None), m.Response.session_id == state.session_id)) == 3
    al.submit(engine, library, state.session_id, now=T0)
    for role, rid, value in (("self", None, 3), ("peer", "A1-peer-0", 2)):  # more sheets: consecutive categories
        other = al.start(engine, library, "A1", role, rid, adaptive=False)
        for q in other.questions:
            al.record_answer(engine, other, q.item_id, value)
        al.submit(engine, library, other.session_id, now=T0)
    cal = al.latest_calibration(engine, ORG)
    _, with_unseen = al.leader_estimates(engine, library, "A1", cal)
    # the same sheet without those items at all scores the same: "not observed" adds no evidence
    ip = cal.model.items_
    sheet = {q.item_id: 4 for q in state.questions if q.item_id not in unseen}
    y = al._scored_matrix([sheet], ip)
    from workbench.skills.score import score_sheets

    sc = score_sheets(y, np.zeros(1, dtype=int), 1, ip, np.array(["manager"]), cal.model.rater_effects_)
    for k, d in enumerate(ip.dimensions):
        assert with_unseen["others"][d] == pytest.approx((sc.mean[0, k], sc.sd[0, k]), abs=1e-9)
    frame = export_responses(engine, library, ORG)
    row = frame[frame.rater == "manager"].iloc[0]
    assert row.rater == "manager" and all(pd_isna(row[i]) for i in unseen) and row["tru-01"] == 4
    path = tmp_path / "responses.csv"
    write_responses(frame, path)
    data = read_responses_csv(path)
    cols = {iid: j for j, iid in enumerate(data.items.item_ids)}
    r = list(data.rater).index("manager")
    assert all(data.y[r, cols[i]] == MISSING for i in unseen) and data.y[r, cols["tru-01"]] != MISSING
    assert data.y[list(data.rater).index("peer"), cols["del-04"]] == MISSING  # not asked of peers


def pd_isna(v) -> bool:
    import pandas as pd

    return bool(pd.isna(v))
