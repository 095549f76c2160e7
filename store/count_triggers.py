"""Database triggers that mark an hour's post counts stale whenever what they count changes.

Whatever writes (collection, analysis, a refit, `murmur forget`, retention, a purge of the demo
data, or a future code path), the database itself notes the UTC hour of every post that was added,
deleted or moved, of every post whose analysis, topic or run links changed: `post_counts_stale`
then says exactly which hours `post_counts_hourly` may miscount, and `store.post_counts` counts those
from the posts until it recounts them. SQLite gets row triggers (one stale row per hour, kept
unique by the trigger); PostgreSQL gets statement triggers over transition tables (one row per hour
and statement, without taking a lock a concurrent writer could wait on).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

STALE = "post_counts_stale"
# The tables whose rows hang off a post and change what it is counted as (analysis, topic, monitor).
LINKED = ("post_analysis", "post_topics", "run_posts")
_PG_HOUR = "to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')"


def sqlite_hour(column: str) -> str:
    """A stored SQLite timestamp ("2024-11-26 08:15:00.000000", UTC) cut to its hour key."""
    return f"substr({column}, 1, 13)"


def postgresql_hour(column: str) -> str:
    return _PG_HOUR.format(column=column)


def install(conn: Connection) -> None:
    """Create the triggers (replacing any of the same name) on this connection's database."""
    for statement in _postgresql() if conn.dialect.name == "postgresql" else _sqlite():
        conn.execute(text(statement))


def remove(conn: Connection) -> None:
    """Drop the triggers (an older schema had none)."""
    if conn.dialect.name == "postgresql":
        for table, name, _ in _pg_triggers():
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
        for function in ("post_counts_mark_posts", "post_counts_mark_moved", "post_counts_mark_linked"):
            conn.execute(text(f"DROP FUNCTION IF EXISTS {function}()"))
        return
    for name, _ in _sqlite_triggers():
        conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))


def _sqlite_mark(hour: str) -> str:
    return (
        f"INSERT INTO {STALE} (hour) SELECT h FROM (SELECT {hour} AS h) "
        f"WHERE h IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {STALE} WHERE hour = h);"
    )


def _sqlite_triggers() -> list[tuple[str, str]]:
    """(name, CREATE TRIGGER statement) for SQLite."""
    triggers = [
        ("post_counts_posts_insert", f"AFTER INSERT ON posts BEGIN {_sqlite_mark(sqlite_hour('NEW.created_at'))} END"),
        ("post_counts_posts_delete", f"AFTER DELETE ON posts BEGIN {_sqlite_mark(sqlite_hour('OLD.created_at'))} END"),
        (
            "post_counts_posts_update",
            "AFTER UPDATE OF created_at, platform ON posts "
            "WHEN OLD.created_at IS NOT NEW.created_at OR OLD.platform IS NOT NEW.platform BEGIN "
            f"{_sqlite_mark(sqlite_hour('OLD.created_at'))} {_sqlite_mark(sqlite_hour('NEW.created_at'))} END",
        ),
    ]
    for table in LINKED:
        for event, rows in (("INSERT", ("NEW",)), ("DELETE", ("OLD",)), ("UPDATE", ("OLD", "NEW"))):
            marks = " ".join(
                _sqlite_mark(f"(SELECT {sqlite_hour('created_at')} FROM posts WHERE id = {row}.post_id)")
                for row in rows
            )
            triggers.append((f"post_counts_{table}_{event.lower()}", f"AFTER {event} ON {table} BEGIN {marks} END"))
    return triggers


def _sqlite() -> list[str]:
    return [f"CREATE TRIGGER IF NOT EXISTS {name} {body}" for name, body in _sqlite_triggers()]


def _pg_triggers() -> list[tuple[str, str, str]]:
    """(table, trigger name, the rest of its CREATE TRIGGER statement) for PostgreSQL."""
    triggers = [
        ("posts", "post_counts_posts_insert", "AFTER INSERT ON posts REFERENCING NEW TABLE AS changed"),
        ("posts", "post_counts_posts_delete", "AFTER DELETE ON posts REFERENCING OLD TABLE AS changed"),
    ]
    statement = "FOR EACH STATEMENT EXECUTE FUNCTION"
    found = [(table, name, f"{rest} {statement} post_counts_mark_posts()") for table, name, rest in triggers]
    found.append(
        (
            "posts",
            "post_counts_posts_update",
            f"AFTER UPDATE ON posts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
            f"{statement} post_counts_mark_moved()",
        )
    )
    for table in LINKED:
        for event, side in (("INSERT", "NEW"), ("DELETE", "OLD"), ("UPDATE", "NEW")):
            found.append(
                (
                    table,
                    f"post_counts_{table}_{event.lower()}",
                    f"AFTER {event} ON {table} REFERENCING {side} TABLE AS changed "
                    f"{statement} post_counts_mark_linked()",
                )
            )
    return found


def _pg_function(name: str, hours: str) -> str:
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"INSERT INTO {STALE} (hour) SELECT DISTINCT h FROM ({hours}) AS found (h) WHERE h IS NOT NULL; "
        "RETURN NULL; END $$"
    )


def _postgresql() -> list[str]:
    moved = (
        "old_rows.id = new_rows.id AND (old_rows.created_at IS DISTINCT FROM new_rows.created_at "
        "OR old_rows.platform IS DISTINCT FROM new_rows.platform)"
    )
    statements = [
        _pg_function("post_counts_mark_posts", f"SELECT {postgresql_hour('created_at')} FROM changed"),
        _pg_function(
            "post_counts_mark_moved",
            f"SELECT {postgresql_hour('old_rows.created_at')} FROM old_rows JOIN new_rows ON {moved} "
            f"UNION SELECT {postgresql_hour('new_rows.created_at')} FROM old_rows JOIN new_rows ON {moved}",
        ),
        _pg_function(
            "post_counts_mark_linked",
            f"SELECT {postgresql_hour('posts.created_at')} FROM changed JOIN posts ON posts.id = changed.post_id",
        ),
    ]
    for table, name, rest in _pg_triggers():
        statements.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        statements.append(f"CREATE TRIGGER {name} {rest}")
    return statements
