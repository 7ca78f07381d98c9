"""Learning activity in the store: statements and recommendation statuses per action, refusals
that store nothing, one leader's rows only, and a plan that never grows past three."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import sqlalchemy as sa

from workbench.recommend import LeaderContext
from workbench.services.learning import (
    MAX_LOG_MINUTES,
    NOT_NOW_DAYS,
    PASS_MARK,
    complete_module,
    dismiss,
    log_time,
    put_off,
    record_check,
    refresh_plan,
    score_check,
    start_module,
    week_budget,
)
from workbench.services.plans import current_plan, serve
from workbench.store import make_engine, repo, transaction
from workbench.store import models as m

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.fixture
def small(engine, library):
    """Two leaders of one organization with the same profile, so their plans share modules."""
    with transaction(engine) as s:
        s.add(m.Organization(id="ORG", name="Small Co"))
        s.flush()
        for lid in ("A1", "B2"):
            s.add(m.Leader(id=lid, organization_id="ORG", name=f"Leader {lid}", role_level="first-time",
                           first_time=True, weekly_minutes=90))
        s.flush()
        for i, comp in enumerate(library.competency_ids):
            for lid in ("A1", "B2"):
                s.add(m.SkillEstimate(leader_id=lid, competency=comp, mean=-0.8 + 0.2 * i, sd=0.4, source="all",
                                      estimated_at=NOW - timedelta(days=20)))
    plans = [serve(engine, library, lid, now=NOW - timedelta(days=1)) for lid in ("A1", "B2")]
    assert [len(p) for p in plans] == [3, 3]
    assert [r.module_id for r in plans[0]] == [r.module_id for r in plans[1]]  # what one does must not move the other
    return engine


def events(engine, leader_id: str) -> list[m.ActivityEvent]:
    with transaction(engine) as s:
        rows = s.scalars(sa.select(m.ActivityEvent).where(m.ActivityEvent.leader_id == leader_id)
                         .order_by(m.ActivityEvent.timestamp, m.ActivityEvent.id)).all()
        for r in rows:
            s.expunge(r)
        return list(rows)


def statuses(engine, leader_id: str) -> dict[str, str]:
    """module id -> status of the leader's most recent recommendation of it."""
    with transaction(engine) as s:
        rows = s.execute(sa.select(m.Recommendation.module_id, m.Recommendation.status)
                         .where(m.Recommendation.leader_id == leader_id)
                         .order_by(m.Recommendation.served_at, m.Recommendation.rank)).all()
    return dict(rows)


def snapshot(engine, leader_id: str) -> tuple:
    """Everything of one leader that the learning log could touch."""
    with transaction(engine) as s:
        recs = s.execute(sa.select(m.Recommendation.id, m.Recommendation.module_id, m.Recommendation.status)
                         .where(m.Recommendation.leader_id == leader_id).order_by(m.Recommendation.id)).all()
        evs = s.execute(sa.select(m.ActivityEvent.id, m.ActivityEvent.verb, m.ActivityEvent.object_id)
                        .where(m.ActivityEvent.leader_id == leader_id).order_by(m.ActivityEvent.id)).all()
    return tuple(map(tuple, recs)), tuple(map(tuple, evs))


def all_counts(engine) -> tuple[int, int, tuple]:
    with transaction(engine) as s:
        return (s.scalar(sa.select(sa.func.count()).select_from(m.ActivityEvent)),
                s.scalar(sa.select(sa.func.count()).select_from(m.Recommendation)),
                tuple(s.execute(sa.select(m.Recommendation.status, sa.func.count())
                                .group_by(m.Recommendation.status).order_by(m.Recommendation.status)).all()))


# ------------------------------------------------------------------------------ plan actions
def test_start_log_complete_move_the_recommendation_and_store_statements(small, library):
    eng = small
    other = snapshot(eng, "B2")
    plan = current_plan(eng, library, "A1")
    first, second = plan[0].module_id, plan[1].module_id
    mod = library.modules[first]

    start_module(eng, library, "A1", first, now=NOW)
    assert statuses(eng, "A1")[first] == "started"
    ev = events(eng, "A1")
    assert [(e.verb, e.object_type, e.object_id, e.competency) for e in ev] == [
        ("launched", "module", first, mod.primary_competency)]
    st = ev[0].statement
    assert st["actor"]["account"] == {"homePage": "urn:workbench:leaders", "name": "A1"}
    assert st["object"]["id"] == f"urn:workbench:module:{first}"
    assert st["object"]["definition"]["name"]["en-US"] == mod.title
    assert ev[0].duration_seconds is None and ev[0].timestamp == NOW

    log_time(eng, library, "A1", second, 25, now=NOW + timedelta(minutes=30))  # logging time starts it too
    assert statuses(eng, "A1")[second] == "started"
    prog = events(eng, "A1")[-1]
    assert (prog.verb, prog.object_id, prog.duration_seconds) == ("progressed", second, pytest.approx(1500.0))
    assert prog.statement["result"]["duration"] == "PT1500S"

    complete_module(eng, library, "A1", first, minutes=12, now=NOW + timedelta(hours=1))
    done = events(eng, "A1")[-1]
    assert (done.verb, done.object_id, done.duration_seconds) == ("completed", first, pytest.approx(720.0))
    assert done.statement["result"]["completion"] is True
    assert statuses(eng, "A1")[first] == "completed"
    assert first in repo.completed_modules(eng, "A1")
    assert [p.module_id for p in current_plan(eng, library, "A1")] == [p.module_id for p in plan[1:]]
    assert [p.status for p in current_plan(eng, library, "A1")] == ["started", "active"]
    # completing without minutes stores no duration; a module outside the plan can be completed too
    outside = next(mid for mid in library.modules if mid not in {p.module_id for p in plan})
    complete_module(eng, library, "A1", outside, now=NOW + timedelta(hours=2))
    last = events(eng, "A1")[-1]
    assert (last.object_id, last.duration_seconds) == (outside, None)
    assert outside not in statuses(eng, "A1")
    assert snapshot(eng, "B2") == other


def test_starting_again_keeps_started_and_completed_stays_completed(small, library):
    eng = small
    mid = current_plan(eng, library, "A1")[0].module_id
    start_module(eng, library, "A1", mid, now=NOW)
    start_module(eng, library, "A1", mid, now=NOW + timedelta(minutes=5))
    assert statuses(eng, "A1")[mid] == "started"
    complete_module(eng, library, "A1", mid, now=NOW + timedelta(minutes=20))
    start_module(eng, library, "A1", mid, now=NOW + timedelta(days=1))  # rereading later
    assert statuses(eng, "A1")[mid] == "completed"
    assert [e.verb for e in events(eng, "A1")] == ["launched", "launched", "completed", "launched"]


@pytest.mark.parametrize("minutes", [0, -5, MAX_LOG_MINUTES + 1, 1000, math.nan, math.inf, True, "10", None])
def test_bad_minutes_are_refused_with_nothing_stored(small, library, minutes):
    eng = small
    before = all_counts(eng)
    mid = current_plan(eng, library, "A1")[0].module_id
    with pytest.raises(ValueError, match="minutes"):
        log_time(eng, library, "A1", mid, minutes, now=NOW)
    if minutes is not None:
        with pytest.raises(ValueError, match="minutes"):
            complete_module(eng, library, "A1", mid, minutes=minutes, now=NOW)
    assert all_counts(eng) == before


def test_limits_of_log_time_are_inclusive(small, library):
    eng = small
    mid = current_plan(eng, library, "A1")[0].module_id
    log_time(eng, library, "A1", mid, MAX_LOG_MINUTES, now=NOW)
    log_time(eng, library, "A1", mid, 0.5, now=NOW)
    assert sorted(e.duration_seconds for e in events(eng, "A1")) == pytest.approx([30.0, MAX_LOG_MINUTES * 60.0])


def test_unknown_module_leader_or_naive_time_store_nothing(small, library):
    eng = small
    before = all_counts(eng)
    mid = current_plan(eng, library, "A1")[0].module_id
    with pytest.raises(ValueError, match="unknown module 'no-such-module'"):
        start_module(eng, library, "A1", "no-such-module", now=NOW)
    with pytest.raises(ValueError, match="unknown module"):
        record_check(eng, library, "A1", "no-such-module", [0, 0], now=NOW)
    with pytest.raises(repo.NotFound, match="NOBODY"):
        start_module(eng, library, "NOBODY", mid, now=NOW)
    with pytest.raises(repo.NotFound):
        log_time(eng, library, "NOBODY", mid, 5, now=NOW)
    with pytest.raises(repo.NotFound):
        dismiss(eng, "NOBODY", mid)
    with pytest.raises(repo.NotFound):
        week_budget(eng, "NOBODY", now=NOW)
    with pytest.raises(ValueError, match="time zone"):
        complete_module(eng, library, "A1", mid, now=datetime(2026, 11, 28, 9))
    assert all_counts(eng) == before


# ------------------------------------------------------------------------------ knowledge checks
def test_score_check_per_question_feedback_and_pass_mark(library):
    mod = library.modules["asking-powerful-questions"]
    key = [q.answer for q in mod.knowledge_check]
    assert len(key) == 3
    perfect = score_check(mod, key)
    assert (perfect.score, perfect.passed, perfect.right, perfect.total) == (1.0, True, 3, 3)
    assert [q.feedback for q in perfect.questions] == [q.feedback for q in mod.knowledge_check]
    wrong = [(a + 1) % len(q.options) for a, q in zip(key, mod.knowledge_check, strict=True)]
    zero = score_check(mod, wrong)
    assert (zero.score, zero.passed, zero.right) == (0.0, False, 0)
    q0 = zero.questions[0]
    assert (q0.chosen, q0.answer, q0.correct) == (wrong[0], key[0], False)
    assert q0.chosen_text == mod.knowledge_check[0].options[wrong[0]]
    assert q0.answer_text == mod.knowledge_check[0].options[key[0]]
    one = score_check(mod, [key[0], wrong[1], wrong[2]])
    assert one.score == pytest.approx(1 / 3) and not one.passed
    two = score_check(mod, [key[0], key[1], wrong[2]])
    assert two.score == pytest.approx(2 / 3) and two.passed
    # exactly the pass mark passes (as in the demo data: right / n >= 0.5)
    even = next(md for md in library.modules.values() if len(md.knowledge_check) in (2, 4))
    n = len(even.knowledge_check)
    half = [q.answer if i < n // 2 else (q.answer + 1) % len(q.options) for i, q in enumerate(even.knowledge_check)]
    res = score_check(even, half)
    assert res.score == PASS_MARK and res.passed
    assert score_check(mod, np.array(key)).score == 1.0  # numpy integers are option indexes too


@pytest.mark.parametrize("answers,match", [
    ([0, 0], "has 3 questions; got 2"),
    ([0, 0, 0, 0], "has 3 questions; got 4"),
    ([0, 9, 0], "question 2 is option 9"),
    ([0, 0, -1], "question 3 is option -1"),
    ([True, 0, 0], "question 1 must be an option index"),
    ([0, 1.0, 0], "question 2 must be an option index"),
    ("012", "list of option numbers"),
])
def test_bad_answers_are_refused_and_nothing_is_stored(small, library, answers, match):
    eng = small
    before = all_counts(eng)
    with pytest.raises(ValueError, match=match):
        record_check(eng, library, "A1", "asking-powerful-questions", answers, now=NOW)
    assert all_counts(eng) == before


def test_record_check_stores_passed_or_failed_with_the_score(small, library):
    eng = small
    other = snapshot(eng, "B2")
    mod = library.modules["asking-powerful-questions"]
    key = [q.answer for q in mod.knowledge_check]
    plan_before = statuses(eng, "A1")
    res = record_check(eng, library, "A1", mod.id, key, now=NOW)
    assert res.passed and res.score == 1.0
    wrong = [(a + 1) % len(q.options) for a, q in zip(key, mod.knowledge_check, strict=True)]
    res2 = record_check(eng, library, "A1", mod.id, [key[0]] + wrong[1:], now=NOW + timedelta(minutes=3))
    assert not res2.passed and res2.score == pytest.approx(1 / 3)
    ev = events(eng, "A1")
    assert [(e.verb, e.object_type, e.object_id, e.competency) for e in ev] == [
        ("passed", "knowledge-check", mod.id, "coaching"), ("failed", "knowledge-check", mod.id, "coaching")]
    assert [e.score_scaled for e in ev] == pytest.approx([1.0, 1 / 3])
    assert ev[0].statement["result"]["success"] is True and ev[1].statement["result"]["success"] is False
    assert ev[1].statement["context"]["extensions"]["urn:workbench:answers"] == [key[0]] + wrong[1:]
    assert ev[0].statement["object"]["id"] == f"urn:workbench:knowledge-check:{mod.id}"
    assert statuses(eng, "A1") == plan_before
    # attempts are numbered per leader and module: the first try stays distinguishable from retakes
    assert (res.attempt, res2.attempt) == (1, 2) and res.revealed and res2.revealed
    assert [e.statement["context"]["extensions"]["urn:workbench:attempt"] for e in ev] == [1, 2]
    assert snapshot(eng, "B2") == other
    assert record_check(eng, library, "B2", mod.id, wrong, now=NOW).attempt == 1  # another leader's count


def test_a_wrong_first_try_does_not_reveal_the_answers_and_the_second_does(library):
    mod = library.modules["asking-powerful-questions"]
    key = [q.answer for q in mod.knowledge_check]
    wrong = [key[0]] + [(a + 1) % len(q.options) for a, q in zip(key[1:], mod.knowledge_check[1:], strict=True)]
    first = score_check(mod, wrong)
    assert first.attempt == 1 and not first.revealed
    assert all(q.hint for q in first.questions)  # the shipped checks give a hint for a wrong try
    assert score_check(mod, wrong, attempt=2).revealed and score_check(mod, key).revealed
    for bad in (0, -1, True, 1.5):
        with pytest.raises(ValueError, match="attempt"):
            score_check(mod, key, attempt=bad)


# ------------------------------------------------------------------------------ not now and refresh
def test_dismiss_takes_it_out_of_the_plan_and_refuses_what_is_not_there(small, library):
    eng = small
    other = snapshot(eng, "B2")
    plan = current_plan(eng, library, "A1")
    mid = plan[0].module_id
    dismiss(eng, "A1", mid)
    assert statuses(eng, "A1")[mid] == "dismissed"
    assert mid not in {p.module_id for p in current_plan(eng, library, "A1")}
    assert events(eng, "A1") == []
    before = all_counts(eng)
    with pytest.raises(ValueError, match="not in the plan"):
        dismiss(eng, "A1", mid)  # already out (and still in B2's plan)
    never = next(mid for mid in library.modules if mid not in statuses(eng, "A1"))
    with pytest.raises(ValueError, match="not in the plan"):
        dismiss(eng, "A1", never)
    assert all_counts(eng) == before
    assert snapshot(eng, "B2") == other


def test_refresh_fills_to_three_never_more_and_skips_what_was_put_off(small, library):
    eng = small
    other = snapshot(eng, "B2")
    assert refresh_plan(eng, library, "A1", now=NOW) == []  # full: nothing served, nothing logged
    _, n_recs, _ = all_counts(eng)
    put = current_plan(eng, library, "A1")[0].module_id
    dismiss(eng, "A1", put)
    assert put_off(eng, "A1", now=NOW) == {put}
    new = refresh_plan(eng, library, "A1", now=NOW)
    assert len(new) == 1 and new[0].module_id != put
    plan = current_plan(eng, library, "A1")
    assert len(plan) == 3 and put not in {p.module_id for p in plan}
    with transaction(eng) as s:
        row = s.scalars(sa.select(m.Recommendation).where(m.Recommendation.leader_id == "A1",
                                                          m.Recommendation.module_id == new[0].module_id)).one()
        assert row.status == "active" and row.served_at == NOW and 0 < row.propensity <= 1
        assert row.context["declined"] == [put] and put not in row.context["active"]
        assert LeaderContext.from_dict(row.context).declined == {put}  # the logged context round-trips
        assert row.context["leader_id"] == "A1"
    assert all_counts(eng)[1] == n_recs + 1
    # completing or putting off two at a time and refreshing twice: never more than three open
    for step in range(4):
        when = NOW + timedelta(hours=step + 1)
        for p in current_plan(eng, library, "A1")[:2]:
            if step % 2:
                complete_module(eng, library, "A1", p.module_id, now=when)
            else:
                dismiss(eng, "A1", p.module_id)
        refresh_plan(eng, library, "A1", now=when)
        refresh_plan(eng, library, "A1", now=when)
        open_ = {p.module_id for p in current_plan(eng, library, "A1")}
        assert 1 <= len(open_) <= 3
        assert not open_ & put_off(eng, "A1", now=when)
        assert not open_ & repo.completed_modules(eng, "A1")
    assert snapshot(eng, "B2") == other


def test_put_off_modules_come_back_after_the_not_now_window(small, library):
    eng = small
    put = current_plan(eng, library, "A1")[0].module_id
    dismiss(eng, "A1", put)
    later = NOW + timedelta(days=NOT_NOW_DAYS + 1)
    assert put_off(eng, "A1", now=later) == frozenset()
    assert put_off(eng, "B2", now=NOW) == frozenset()
    with pytest.raises(ValueError, match="unknown strategy"):
        refresh_plan(eng, library, "A1", now=NOW, strategy="best")


# ------------------------------------------------------------------------------ budget
def test_week_budget_counts_the_last_seven_days(small, library):
    eng = small
    assert week_budget(eng, "A1", now=NOW) == (0.0, 90)
    mid = current_plan(eng, library, "A1")[0].module_id
    log_time(eng, library, "A1", mid, 20, now=NOW - timedelta(days=8))  # outside the window
    log_time(eng, library, "A1", mid, 15, now=NOW - timedelta(days=2))
    complete_module(eng, library, "A1", mid, minutes=10, now=NOW - timedelta(hours=1))
    used, total = week_budget(eng, "A1", now=NOW)
    assert (used, total) == (pytest.approx(25.0), 90)
    assert week_budget(eng, "B2", now=NOW) == (0.0, 90)


# ------------------------------------------------------------------------------ on the demo organization
def test_on_the_demo_statements_match_the_demo_shapes_and_stay_with_their_leader(demo_copy, library):
    eng = make_engine(demo_copy)
    leaders = repo.leaders_frame(eng).leader_id.tolist()[40:43]
    lid, neighbour = leaders[0], leaders[1]
    other = snapshot(eng, neighbour)
    used0, total = week_budget(eng, lid, now=NOW)
    assert total == repo.get_leader(eng, lid).weekly_minutes
    assert used0 == pytest.approx(repo.minutes_since(eng, lid, NOW - timedelta(days=7)))
    # the demo's own minutes still inside the budget window an hour from now
    later = repo.minutes_since(eng, lid, NOW + timedelta(hours=1) - timedelta(days=7))
    served = refresh_plan(eng, library, lid, now=NOW)
    assert 1 <= len(served) <= 3
    mid = served[0].module_id
    n0 = len(events(eng, lid))
    start_module(eng, library, lid, mid, now=NOW)
    log_time(eng, library, lid, mid, 10, now=NOW + timedelta(minutes=10))
    complete_module(eng, library, lid, mid, minutes=5, now=NOW + timedelta(minutes=20))
    mod = library.modules[mid]
    record_check(eng, library, lid, mid, [q.answer for q in mod.knowledge_check], now=NOW + timedelta(minutes=25))
    mine = events(eng, lid)[n0:]
    assert [e.verb for e in mine] == ["launched", "progressed", "completed", "passed"]
    assert week_budget(eng, lid, now=NOW + timedelta(hours=1))[0] == pytest.approx(later + 15)
    # the same columns and statement parts as the demo's own events of each verb
    with transaction(eng) as s:
        for e in mine:
            demo = s.scalars(sa.select(m.ActivityEvent).where(
                m.ActivityEvent.verb == e.verb, m.ActivityEvent.object_type == e.object_type,
                m.ActivityEvent.leader_id != lid).limit(1)).one()
            assert set(demo.statement) <= set(e.statement)
            assert set(demo.statement.get("result", {})) <= set(e.statement.get("result", {}))
    assert statuses(eng, lid)[mid] == "completed"
    assert mid in repo.completed_modules(eng, lid)
    for _ in range(3):
        refresh_plan(eng, library, lid, now=NOW + timedelta(hours=2))
    assert len(current_plan(eng, library, lid)) <= 3
    assert snapshot(eng, neighbour) == other
