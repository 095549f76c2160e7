"""INSERT … ON CONFLICT for the two databases Murmur runs on, through SQLAlchemy's dialect inserts.

Every write that may meet a row another process wrote first goes through these, so concurrent
collectors, analyses and dashboards never fail on a unique constraint.
"""

from __future__ import annotations

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def upsert(conn: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT on `table` that accepts `.on_conflict_do_update` / `.on_conflict_do_nothing`."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"Murmur runs on SQLite and PostgreSQL, not {conn.dialect.name}")


def insert_ignore(conn: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT on `table` that leaves rows whose key already exists as they are."""
    return upsert(conn, table).on_conflict_do_nothing()
