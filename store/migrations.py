"""Schema versions: a new database is created at the current version; an older one is upgraded.

`schema.py` always describes the current schema, so a fresh database gets `metadata.create_all`
and is stamped with `CURRENT_VERSION` (the way Alembic stamps "head"). An existing database runs
each step in `STEPS` above its stored version, in order, in one transaction. To change the schema:
edit `schema.py`, append a step that brings version N-1 to N with plain DDL, and bump nothing else.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine, LargeBinary, inspect, text

from monitor.errors import MurmurError
from store.schema import metadata, settings, topic_events, topic_language_means

VERSION_KEY = "schema_version"



def _durable_topics(conn: Connection) -> None:
    """Topics keep an identity across refits: centroids, per-language keywords, lineage events."""
    blob = LargeBinary().compile(dialect=conn.dialect)
    for statement in (
        "ALTER TABLE topic_models ADD COLUMN assigned_since INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE topic_models ADD COLUMN unfit_since INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE topics ADD COLUMN keywords_by_language TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE topics ADD COLUMN languages TEXT NOT NULL DEFAULT '{}'",
        f"ALTER TABLE topics ADD COLUMN centroid {blob}",
        "ALTER TABLE topics ADD COLUMN min_similarity FLOAT",
    ):
        conn.execute(text(statement))
    topic_events.create(conn)
    topic_language_means.create(conn)


# Step N upgrades a database at version N-1 to version N. Version 1 is the first release.
STEPS: dict[int, Callable[[Connection], None]] = {2: _durable_topics}
CURRENT_VERSION = 1 + len(STEPS)


class SchemaTooNew(MurmurError):
    """The database was written by a newer Murmur; refusing to touch it protects the data."""


def stored_version(conn: Connection) -> int | None:
    """The schema version recorded in the database, or None for an empty database."""
    if not inspect(conn).has_table(settings.name):
        return None
    row = conn.execute(
        settings.select().where(settings.c.key == VERSION_KEY)
    ).first()
    return int(row.value) if row else None


def migrate(engine: Engine) -> int:
    """Create or upgrade the schema; returns the version the database is now at."""
    with engine.begin() as conn:
        version = stored_version(conn)
        if version is None:
            metadata.create_all(conn)
            _stamp(conn, CURRENT_VERSION, insert=True)
            return CURRENT_VERSION
        if version > CURRENT_VERSION:
            raise SchemaTooNew(
                f"the database is at schema version {version}, newer than this Murmur "
                f"({CURRENT_VERSION}); upgrade Murmur"
            )
        for step in range(version + 1, CURRENT_VERSION + 1):
            STEPS[step](conn)
        if version != CURRENT_VERSION:
            _stamp(conn, CURRENT_VERSION, insert=False)
        return CURRENT_VERSION


def _stamp(conn: Connection, version: int, *, insert: bool) -> None:
    if insert:
        conn.execute(settings.insert().values(key=VERSION_KEY, value=str(version)))
    else:
        conn.execute(
            text("UPDATE settings SET value = :v WHERE key = :k"), {"v": str(version), "k": VERSION_KEY}
        )
