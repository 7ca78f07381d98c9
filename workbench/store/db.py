"""Engine, sessions and schema migration.

The database is chosen by ``WORKBENCH_DB`` (any SQLAlchemy URL); without it, a SQLite file
``.workbench/workbench.db`` under the working directory. SQLite runs in WAL mode with
foreign keys on, and every transaction begins ``IMMEDIATE`` so concurrent writers queue on
the busy timeout instead of failing on a lock upgrade.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 60_000


def default_url() -> str:
    env = os.environ.get("WORKBENCH_DB")
    if env:
        return env
    path = Path.cwd() / ".workbench" / "workbench.db"
    return f"sqlite:///{path}"


def make_engine(url: str | None = None, **kwargs) -> Engine:
    """An engine for ``url`` (default :func:`default_url`), with SQLite set up for safety."""
    url = url or default_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised via every test
        dbapi_conn.isolation_level = None  # let SQLAlchemy's BEGIN below drive transactions
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # pragma: no cover
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session whose work commits together at the end, or not at all on any error."""
    with session_factory(engine)() as session, session.begin():
        yield session


#: What a repository function reads from or writes to: an engine (the function opens its own
#: transaction) or the session of a transaction already open (the function joins it).
Bind = Engine | Session


@contextmanager
def joined(bind: Bind) -> Iterator[Session]:
    """The session to work in: ``bind`` itself when it is a session (the caller's transaction, which
    the caller commits), otherwise a new :func:`transaction` on the engine.

    Repository functions use it so that a service can compose several of them in one transaction::

        with transaction(engine) as s:
            leader = repo.get_leader(s, leader_id)
            estimates = repo.latest_estimates(s, leader_id)
    """
    if isinstance(bind, Session):
        yield bind
    else:
        with transaction(bind) as session:
            yield session


def _alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with Alembic (creates it on an empty database)."""
    from alembic import command

    command.upgrade(_alembic_config(engine), revision)


def connect(url: str | None = None, *, upgrade: bool = True) -> Engine:
    """The usual entry point: an engine on ``url`` with the schema migrated to head."""
    engine = make_engine(url)
    if upgrade:
        migrate(engine)
    return engine
