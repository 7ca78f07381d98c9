"""The store: migrations, transactions, concurrency. Each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing as mp
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.conftest import mark_submitted, stored_answers
from workbench.store import connect, make_engine, repo, transaction
from workbench.store import models as m


def _org(session, oid="o1"):
    session.add(m.Organization(id=oid, name="Org"))
    session.flush()
    session.add(m.Leader(id="L1", organization_id=oid, name="Ann", role_level="first-time", first_time=True))


def test_migrations_match_the_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), m.Base.metadata)
    assert diff == []
    assert set(sa.inspect(engine).get_table_names()) >= {t for t in m.Base.metadata.tables}


def test_migrate_is_idempotent(db_url):
    connect(db_url).dispose()
    eng = connect(db_url)  # second upgrade is a no-op
    from alembic.script import ScriptDirectory

    from workbench.store.db import _alembic_config

    head = ScriptDirectory.from_config(_alembic_config(eng)).get_current_head()
    assert head is not None and head >= "0004"
    with eng.connect() as c:
        assert c.exec_driver_sql("select version_num from alembic_version").scalar() == head


def test_failed_transaction_leaves_nothing(engine):
    with pytest.raises(sa.exc.IntegrityError):
        with transaction(engine) as s:
            _org(s)
            s.flush()
            s.add(m.Leader(id="L2", organization_id="missing-org", name="Bob", role_level="senior"))
    with transaction(engine) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(m.Organization)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(m.Leader)) == 0


def test_constraints_refuse_bad_rows(engine):
    with transaction(engine) as s:
        _org(s)
    with pytest.raises(sa.exc.IntegrityError):
        with transaction(engine) as s:
            s.add(m.Leader(id="L9", organization_id="o1", name="X", role_level="ceo"))
    with pytest.raises(sa.exc.IntegrityError):
        with transaction(engine) as s:
            s.add(m.Recommendation(id="r", leader_id="L1", module_id="x", strategy="gap", score=1.0,
                                   reason="r", propensity=0.0))


def test_draft_answers_survive_and_resume(engine):
    with transaction(engine) as s:
        _org(s)
    sid = repo.open_session(engine, "L1")
    repo.save_response(engine, sid, "del-01", 4, (1, 2, 3, 4, 5))
    repo.save_response(engine, sid, "del-01", 5, (1, 2, 3, 4, 5))  # changed answer
    repo.save_response(engine, sid, "del-02", 1, (1, 2, 3, 4, 5))
    # a new page (or kernel) asks again and gets the same draft with its answers
    assert repo.open_session(engine, "L1") == sid
    assert stored_answers(engine, sid) == {"del-01": 5, "del-02": 1}
    for bad in (0, 6, 2.5, "3", True):
        with pytest.raises(ValueError, match="outside its categories"):
            repo.save_response(engine, sid, "del-03", bad, (1, 2, 3, 4, 5))
    mark_submitted(engine, sid)
    with pytest.raises(ValueError, match="already submitted"):
        repo.save_response(engine, sid, "del-03", 3, (1, 2, 3, 4, 5))
    assert repo.open_session(engine, "L1") != sid  # submitted: a new form starts a new draft
    frame = repo.responses_frame(engine)
    assert sorted(frame.item_id) == ["del-01", "del-02"] and set(frame.rater_role) == {"self"}


def test_unknown_leader_is_a_clear_error(engine):
    with pytest.raises(repo.NotFound, match="no leader"):
        repo.open_session(engine, "nobody")
    with pytest.raises(repo.NotFound):
        repo.get_leader(engine, "nobody")


def test_timestamps_come_back_timezone_aware(engine):
    t = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    with transaction(engine) as s:
        _org(s)
        s.add(m.Cohort(id="c1", organization_id="o1", name="C", starts_on=t))
    with transaction(engine) as s:
        got = s.get(m.Cohort, "c1").starts_on
    assert got.replace(tzinfo=got.tzinfo or UTC) == t


# ------------------------------------------------------------------ concurrency
WRITERS, WRITES = 8, 40


def _writer(url: str, worker: int) -> None:
    eng = make_engine(url)
    for k in range(WRITES):
        with transaction(eng) as s:
            sess = m.AssessmentSession(id=f"s{worker}-{k}", leader_id="L1", rater_role="self")
            s.add(sess)
            s.flush()
            s.add(m.Response(session_id=sess.id, item_id=f"i{k}", value=worker % 5 + 1))
    eng.dispose()


def test_eight_processes_write_concurrently(db_url):
    eng = connect(db_url)
    with transaction(eng) as s:
        _org(s)
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(db_url, w)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=240)
    assert [p.exitcode for p in procs] == [0] * WRITERS
    with transaction(eng) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(m.AssessmentSession)) == WRITERS * WRITES
        assert s.scalar(sa.select(sa.func.count()).select_from(m.Response)) == WRITERS * WRITES
        ids = set(s.scalars(sa.select(m.AssessmentSession.id)))
    assert ids == {f"s{w}-{k}" for w in range(WRITERS) for k in range(WRITES)}


def test_sqlite_is_wal_with_foreign_keys(sqlite_url):
    eng = connect(sqlite_url)
    with eng.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
