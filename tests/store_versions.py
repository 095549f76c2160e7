"""Turning a fresh store back into what an older Murmur wrote, to test the upgrade path."""

from __future__ import annotations

from sqlalchemy import Connection, text

from store import count_triggers


def back_to_version_1(conn: Connection) -> None:
    """Undo every migration step on a fresh store: the schema version 1 wrote, stamped version 1."""
    count_triggers.remove(conn)
    for table in (
        "similar_posts",
        "similar_scans",
        "post_counts_hourly",
        "post_counts_daily",
        "post_counts_stale",
        "post_counts_state",
    ):
        conn.execute(text(f"DROP TABLE {table}"))
    conn.execute(text("DROP TABLE cursors"))
    conn.execute(
        text(
            "CREATE TABLE cursors (monitor VARCHAR(128) NOT NULL, source VARCHAR(32) NOT NULL, "
            "search VARCHAR(1024) NOT NULL, value TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL, "
            "PRIMARY KEY (monitor, source, search))"
        )
    )
    for table in ("tombstones", "topic_events", "topic_language_means"):
        conn.execute(text(f"DROP TABLE {table}"))
    for table, columns in (
        ("runs", ("host", "pid", "heartbeat_at")),
        ("post_analysis", ("sentiment_negative", "sentiment_neutral", "sentiment_positive")),
        ("topics", ("keywords_by_language", "languages", "centroid", "min_similarity")),
        ("topic_models", ("assigned_since", "unfit_since")),
    ):
        for column in columns:
            conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
    conn.execute(text("UPDATE settings SET value = '1' WHERE key = 'schema_version'"))
