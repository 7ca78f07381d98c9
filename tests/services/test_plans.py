"""Serving recommendations from the store: context, constraints across calls, logging, CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import sqlalchemy as sa

from workbench.services.plans import current_plan, leader_context, pack_for, serve
from workbench.store import make_engine, repo, transaction
from workbench.store import models as m


@pytest.fixture
def plan_db(demo_copy):
    return demo_copy


def test_context_comes_from_the_leaders_own_rows(plan_db, library):
    eng = make_engine(plan_db)
    ctx = leader_context(eng, library, "L0010")
    est = repo.latest_estimates(eng, "L0010")
    assert ctx.skill_mean == pytest.approx(dict(zip(est.competency, est["mean"], strict=True)))
    assert ctx.completed == frozenset(repo.completed_modules(eng, "L0010"))
    assert ctx.weekly_minutes == repo.get_leader(eng, "L0010").weekly_minutes



def _count_transactions(eng) -> list[int]:
    begun = [0]
    sa.event.listen(eng, "begin", lambda _conn: begun.__setitem__(0, begun[0] + 1))
    return begun


def test_one_use_case_is_one_transaction(plan_db, library):
    eng = make_engine(plan_db)
    begun = _count_transactions(eng)
    ctx = leader_context(eng, library, "L0010")
    assert begun[0] == 1 and ctx.leader_id == "L0010"
    before = begun[0]
    recs = serve(eng, library, "L0015", strategy="popular")
    assert recs and begun[0] - before == 1  # context, popularity and the logged rows together
    with transaction(eng) as s:  # a service handed an open session joins it instead of opening its own
        s.execute(sa.text("SELECT 1"))  # the transaction begins at its first statement
        before = begun[0]
        joined_ctx = leader_context(s, library, "L0010")
        assert begun[0] == before
    assert (joined_ctx.skill_mean, joined_ctx.completed, joined_ctx.active) == (ctx.skill_mean, ctx.completed, ctx.active)

def test_serving_logs_and_never_exceeds_three_active(plan_db, library):
    eng = make_engine(plan_db)
    with transaction(eng) as s:  # the demo's weekly plans of the past eight weeks, all closed
        logged = set(s.scalars(sa.select(m.Recommendation.id).where(m.Recommendation.leader_id == "L0011")))
    first = serve(eng, library, "L0011", strategy="gap")
    assert 1 <= len(first) <= 3
    with transaction(eng) as s:
        rows = s.scalars(sa.select(m.Recommendation).where(m.Recommendation.leader_id == "L0011",
                                                           m.Recommendation.id.not_in(logged))).all()
        assert {r.module_id for r in rows} == {r.module_id for r in first}
        assert all(r.strategy == "gap" and 0 < r.propensity <= 1 and r.reason and r.context["leader_id"] == "L0011"
                   for r in rows)
    second = serve(eng, library, "L0011", strategy="gap")
    plan = current_plan(eng, library, "L0011")
    assert len(plan) <= 3 and len(first) + len(second) == len(plan)
    assert not ({r.module_id for r in second} & {r.module_id for r in first})
    completed = repo.completed_modules(eng, "L0011")
    assert not any(p.module_id in completed for p in plan)


def test_a_leaders_plan_is_theirs_alone(plan_db, library):
    eng = make_engine(plan_db)
    serve(eng, library, "L0012")
    assert current_plan(eng, library, "L0013") == []


def test_moment_pack_and_bad_input(plan_db, library):
    eng = make_engine(plan_db)
    pack = pack_for(eng, library, "L0014", "tough-performance-conversation")
    assert pack.checklist and pack.module is not None and pack.coaching_opener
    with pytest.raises(ValueError, match="unknown strategy"):
        serve(eng, library, "L0014", strategy="best")
    with pytest.raises(ValueError, match="unknown moment"):
        serve(eng, library, "L0014", moment="nope")
    with pytest.raises(repo.NotFound):
        serve(eng, library, "NOBODY")


def run(*args):
    return subprocess.run([sys.executable, "-m", "workbench.cli", *args], capture_output=True, text=True)


def test_cli_json_contract(plan_db):
    out = run("recommend", "--leader", "L0020", "--json", "--db", plan_db)
    assert out.returncode == 0, out.stderr
    items = json.loads(out.stdout)
    assert 1 <= len(items) <= 3
    for it in items:
        assert {"module_id", "title", "minutes", "competency", "reason", "strategy", "score", "propensity"} <= set(it)
        assert it["minutes"] <= 30 and 0 < it["propensity"] <= 1


@pytest.mark.parametrize("args,words", [
    (["--leader", "NOPE"], "no leader with id 'NOPE'"),
    (["--leader", "L0001", "--moment", "nope"], "unknown moment 'nope'"),
    (["--leader", "L0001", "--strategy", "best"], "unknown strategy 'best'"),
])
def test_cli_bad_input(plan_db, args, words):
    out = run("recommend", *args, "--db", plan_db)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0]
