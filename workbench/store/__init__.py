"""Persistence: SQLAlchemy models, engine and sessions, migrations, repositories, xAPI."""

from .db import connect, make_engine, migrate, transaction

__all__ = ["connect", "make_engine", "migrate", "transaction"]
