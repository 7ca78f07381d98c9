"""Fixtures shared by the whole suite: the shipped library, databases, a demo organization."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from datetime import date
from pathlib import Path

import pytest

from workbench.apps.serving import free_port, wait_for_port  # noqa: F401 - shared with the e2e tests

REPO = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 11, 27)


@pytest.fixture(scope="session")
def library():
    from workbench.content import Library

    return Library.load(REPO / "content")


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'wb.db'}"


# ------------------------------------------------------------------ PostgreSQL
def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


@pytest.fixture(scope="session")
def postgres_server():
    """A throw-away PostgreSQL server on 127.0.0.1, started for this test session.

    ``make test`` installs Debian's postgresql package first. As root, the server runs as the
    ``postgres`` user (initdb refuses root). Yields a URL template with ``{db}``.
    """
    bindir = _pg_bin()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed: run scripts/system-deps.sh (make test does)")
        pytest.skip("PostgreSQL is not installed (make test installs it)")
    root = Path(tempfile.mkdtemp(prefix="wb-pg-"))
    port = free_port()
    as_root = os.geteuid() == 0
    pre = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(root, "postgres", "postgres")
    data, log = root / "data", root / "log"
    subprocess.run(pre + [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "wb"],
                   check=True, capture_output=True)
    subprocess.run(pre + [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o",
                          f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://wb@127.0.0.1:{port}/{{db}}"
    finally:
        subprocess.run(pre + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


_db_counter = iter(range(10_000))


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """A fresh, empty database on the session's PostgreSQL server."""
    import sqlalchemy as sa

    name = f"t{os.getpid()}_{next(_db_counter)}"
    admin = sa.create_engine(postgres_server.format(db="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return postgres_server.format(db=name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    """Each store test runs on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'wb.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def engine(db_url):
    from workbench.store import connect

    eng = connect(db_url)
    yield eng
    eng.dispose()


# --------------------------------------------------------------------- demo
@pytest.fixture(scope="session")
def demo_db(tmp_path_factory, library) -> str:
    """A demo organization built once per session (SQLite file); returns its URL."""
    from workbench.demo import build_demo
    from workbench.store import connect

    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    eng = connect(url)
    build_demo(eng, library, seed=7, as_of=AS_OF)
    eng.dispose()
    return url


@pytest.fixture
def demo_copy(demo_db, tmp_path) -> str:
    """A private, migrated copy of the session's demo database, for tests that write."""
    from workbench.store import connect

    dst = tmp_path / "demo-copy.db"
    shutil.copy(Path(demo_db.removeprefix("sqlite:///")), dst)
    url = f"sqlite:///{dst}"
    connect(url).dispose()
    return url


@pytest.fixture(scope="session")
def demo_engine(demo_db):
    from workbench.store import make_engine

    eng = make_engine(demo_db)
    yield eng
    eng.dispose()




def stored_answers(engine, session_id: str) -> dict[str, int]:
    """The answers stored for an assessment session (item id -> value), read straight from the table."""
    import sqlalchemy as sa

    from workbench.store import models as m
    from workbench.store.db import transaction

    with transaction(engine) as s:
        rows = s.execute(sa.select(m.Response.item_id, m.Response.value).where(m.Response.session_id == session_id))
        return {item_id: int(value) for item_id, value in rows}


def mark_submitted(engine, session_id: str, at=None) -> None:
    """Mark a session submitted in the table, without scoring (set-up for tests of what follows)."""
    from workbench.store import models as m
    from workbench.store.db import transaction

    with transaction(engine) as s:
        sess = s.get(m.AssessmentSession, session_id)
        sess.status, sess.submitted_at = "submitted", at or m.utcnow()
