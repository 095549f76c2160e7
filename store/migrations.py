"""Schema versions: a new database is created at the current version; an older one is upgraded.

`schema.py` always describes the current schema, so a fresh database gets `metadata.create_all`
and is stamped with `CURRENT_VERSION` (the way Alembic stamps "head"). An existing database runs
each step in `STEPS` above its stored version, in order, in one transaction. To change the schema:
edit `schema.py`, append a step that brings version N-1 to N with plain DDL, and bump nothing else.

Creating and upgrading happen under a lock (a PostgreSQL advisory lock, a file lock beside a SQLite
file), so processes that open a new or old store at the same moment take turns: the first creates
or upgrades, the others find it done.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, Engine, LargeBinary, bindparam, inspect, select, text, update
from sqlalchemy.schema import CreateIndex

from monitor.errors import MurmurError
from monitor.normalize import normalize
from store import count_triggers
from store.locks import hold
from store.schema import (
    cursors,
    manifests,
    metadata,
    narrative_sets,
    post_analysis,
    post_counts_daily,
    post_counts_hourly,
    post_counts_stale,
    post_counts_state,
    post_narratives,
    post_topics,
    posts,
    settings,
    similar_posts,
    similar_scans,
    spike_alerts,
    spikes,
    tombstones,
    topic_events,
    topic_language_means,
)
from store.timeutil import as_utc

VERSION_KEY = "schema_version"
SCHEMA_LOCK = "murmur:schema"


def _runs_owner_and_tombstones(conn: Connection) -> None:
    """Runs say which host and process run them and when they last showed life (so a
    dead run can be told from a slow one); tombstones keep forgotten authors and posts out."""
    for column, kind in (("host", "VARCHAR(255)"), ("pid", "INTEGER"), ("heartbeat_at", "TIMESTAMP WITH TIME ZONE")):
        conn.execute(text(f"ALTER TABLE runs ADD COLUMN {column} {kind}"))
    tombstones.create(conn)


def _sentiment_probabilities(conn: Connection) -> None:
    """Sentiment classifiers store the probability of each class."""
    for column in ("sentiment_negative", "sentiment_neutral", "sentiment_positive"):
        conn.execute(text(f"ALTER TABLE post_analysis ADD COLUMN {column} FLOAT"))


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
def _cursor_state(conn: Connection) -> None:
    """Cursors become opaque JSON state keyed also by an options hash (issue 8).

    A saved instant becomes `{"until": ISO instant}`, the state Hacker News (the only source that
    had cursors) now reads, under the legacy key "" that `get_cursor` falls back to.
    """
    old = conn.execute(text("SELECT monitor, source, search, value, updated_at FROM cursors")).all()
    conn.execute(text("DROP TABLE cursors"))
    cursors.create(conn)
    rows = [
        {
            "monitor": row.monitor,
            "source": row.source,
            "search": row.search,
            "options_key": "",
            "state": json.dumps({"until": _instant(row.value).isoformat()}),
            "updated_at": _instant(row.updated_at),
        }
        for row in old
    ]
    if rows:
        conn.execute(cursors.insert(), rows)


def _instant(value: datetime | str) -> datetime:
    """A stored timestamp as aware UTC: SQLite hands back text, PostgreSQL a datetime."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return as_utc(moment)


def _spike_tables(conn: Connection) -> None:
    """Spikes and the alerts sent for them (issue 10): new tables only."""
    spikes.create(conn, checkfirst=True)
    spike_alerts.create(conn, checkfirst=True)


def _manifest_table(conn: Connection) -> None:
    """Run manifests for collection and analysis runs (issue 10): a new table only."""
    manifests.create(conn, checkfirst=True)


def _narrative_tables(conn: Connection) -> None:
    """Narrative scores and the definitions they were computed with (issue 10): new tables only."""
    post_narratives.create(conn, checkfirst=True)
    narrative_sets.create(conn, checkfirst=True)


def _dashboard_indexes(conn: Connection) -> None:
    """The dashboard aggregates in SQL (issue 11): a searchable folded text and the indexes its filters use.

    `posts.search_text` is filled for the posts already stored, in id order and in chunks.
    """
    if "search_text" not in {column["name"] for column in inspect(conn).get_columns(posts.name)}:
        conn.execute(text("ALTER TABLE posts ADD COLUMN search_text TEXT"))
    last_id = 0
    while True:
        rows = conn.execute(
            select(posts.c.id, posts.c.title, posts.c.text).where(posts.c.id > last_id).order_by(posts.c.id).limit(2000)
        ).all()
        if not rows:
            break
        conn.execute(
            update(posts).where(posts.c.id == bindparam("_id")).values(search_text=bindparam("folded")),
            [{"_id": r.id, "folded": normalize(f"{r.title}\n{r.text}" if r.title else r.text)} for r in rows],
        )
        last_id = rows[-1].id
    for index in _DASHBOARD_INDEXES:
        conn.execute(CreateIndex(index, if_not_exists=True))  # an inspector misses expression indexes


_DASHBOARD_INDEXES = [
    index
    for table in (posts, post_analysis, post_topics)
    for index in table.indexes
    if index.name
    in {
        "ix_posts_platform_created_at",
        "ix_posts_engagement",
        "ix_posts_author_hash",
        "ix_post_analysis_language",
        "ix_post_analysis_analysed_at",
        "ix_post_topics_model_topic",
    }
]


def _post_counts(conn: Connection) -> None:
    """Post counts per hour for the dashboard (issue 11): new tables and the triggers that mark stale hours.

    The counts start empty; the next `murmur analyze` counts every monitor (until then the dashboard
    counts the posts, as before).
    """
    for table in (post_counts_hourly, post_counts_daily, post_counts_stale, post_counts_state):
        table.create(conn, checkfirst=True)
    count_triggers.install(conn)


def _similar_posts(conn: Connection) -> None:
    """Near-duplicate posts found by embedding similarity (issue 11): new tables only."""
    similar_posts.create(conn, checkfirst=True)
    similar_scans.create(conn, checkfirst=True)


STEPS: dict[int, Callable[[Connection], None]] = {
    2: _cursor_state,
    3: _runs_owner_and_tombstones,
    4: _sentiment_probabilities,
    5: _durable_topics,
    6: _spike_tables,
    7: _manifest_table,
    8: _narrative_tables,
    9: _dashboard_indexes,
    10: _post_counts,
    11: _similar_posts,
}
CURRENT_VERSION = 1 + len(STEPS)


class SchemaTooNew(MurmurError):
    """The database was written by a newer Murmur; refusing to touch it protects the data."""


def stored_version(conn: Connection) -> int | None:
    """The schema version recorded in the database, or None for an empty database."""
    if not inspect(conn).has_table(settings.name):
        return None
    row = conn.execute(settings.select().where(settings.c.key == VERSION_KEY)).first()
    return int(row.value) if row else None


def migrate(engine: Engine) -> int:
    """Create or upgrade the schema; returns the version the database is now at."""
    with engine.connect() as conn:  # the common case, a store already current, takes no lock
        version = stored_version(conn)
    if version == CURRENT_VERSION:
        return version
    with hold(engine, SCHEMA_LOCK), engine.begin() as conn:
        return _migrate(conn)


def _migrate(conn: Connection) -> int:
    version = stored_version(conn)
    if version is None:
        metadata.create_all(conn)
        count_triggers.install(conn)
        _stamp(conn, CURRENT_VERSION, insert=True)
        return CURRENT_VERSION
    if version > CURRENT_VERSION:
        raise SchemaTooNew(
            f"the database is at schema version {version}, newer than this Murmur ({CURRENT_VERSION}); upgrade Murmur"
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
        conn.execute(text("UPDATE settings SET value = :v WHERE key = :k"), {"v": str(version), "k": VERSION_KEY})
