"""Rows for `murmur export`: one per post of a monitor, with every analysis result the store holds.

Read in id-ordered chunks (keyset pagination), so a million-post export never holds the monitor in
memory. Authors appear only as the stored pseudonym. The analysis columns are read from the
analysis table as it is, so a new result (a new column there) reaches the export without a change
here; the topic comes from the monitor's latest topic model. `narratives` lists the narratives a
post belongs to and `narrative_scores` its similarity to each (both JSON); `analysis_run` names the
analysis run (its manifest id, see `murmur status`) whose results the row carries.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Connection, Float, Integer, and_, select

from store.analysis import monitor_post_ids
from store.manifests import recent_manifests
from store.narratives import post_scores
from store.schema import post_analysis, post_topics, posts, topics
from store.timeutil import as_utc
from store.topic_models import latest_topic_model

CHUNK = 2000

POST_COLUMNS = (
    "platform",
    "native_id",
    "url",
    "created_at",
    "author_hash",
    "title",
    "text",
    "likes",
    "reposts",
    "replies",
    "reply_to",
    "demo",
)
# Bookkeeping columns of the analysis table that say nothing about the post.
_NOT_EXPORTED = {"post_id", "analysed_at"}


@dataclass(frozen=True)
class ExportFilter:
    """Which posts to export: created in [since, until), in a language, from a source (platform)."""

    since: datetime | None = None
    until: datetime | None = None
    language: str | None = None
    source: str | None = None


def export_columns() -> dict[str, str]:
    """The export's columns in order (the post, each analysis result, the topic) → their kind:
    "int", "float", "bool" or "str" (times are ISO 8601 text), for typed formats like Parquet."""
    columns = [posts.c[name] for name in POST_COLUMNS]
    columns += [c for c in post_analysis.columns if c.name not in _NOT_EXPORTED]
    kinds = {column.name: _kind(column.type) for column in columns}
    return {
        **kinds,
        "topic_id": "int",
        "topic_label": "str",
        "narratives": "str",
        "narrative_scores": "str",
        "analysis_run": "int",
    }


def _kind(sql_type: object) -> str:
    if isinstance(sql_type, Boolean):
        return "bool"
    if isinstance(sql_type, Integer):
        return "int"
    return "float" if isinstance(sql_type, Float) else "str"


def export_rows(
    conn: Connection, monitor: str, where: ExportFilter, conditions: Sequence[ColumnElement[bool]] = ()
) -> Iterator[dict[str, Any]]:
    """Every post of the monitor that passes the filter, oldest id first, as plain dicts.

    `conditions` narrow further (the dashboard's filters, `store.queries.filter_conditions`): SQL on
    the posts, post_analysis and post_topics tables joined here.
    """
    model = latest_topic_model(conn, monitor)
    model_id = model["id"] if model else -1
    analysis = [c for c in post_analysis.columns if c.name not in _NOT_EXPORTED]
    query = (
        select(
            posts.c.id,
            *(posts.c[name] for name in POST_COLUMNS),
            *analysis,
            post_topics.c.topic.label("topic_id"),
            topics.c.label.label("topic_label"),
        )
        .outerjoin(post_analysis, post_analysis.c.post_id == posts.c.id)
        .outerjoin(post_topics, and_(post_topics.c.post_id == posts.c.id, post_topics.c.model_id == model_id))
        .outerjoin(topics, and_(topics.c.model_id == model_id, topics.c.topic == post_topics.c.topic))
        .where(posts.c.id.in_(monitor_post_ids(monitor)))
        .where(*conditions)
        .order_by(posts.c.id)
        .limit(CHUNK)
    )
    if where.since is not None:
        query = query.where(posts.c.created_at >= where.since)
    if where.until is not None:
        query = query.where(posts.c.created_at < where.until)
    if where.language is not None:
        query = query.where(post_analysis.c.language == where.language)
    if where.source is not None:
        query = query.where(posts.c.platform == where.source)
    analyses = recent_manifests(conn, monitor, kind="analyze", limit=1)
    analysis_run = analyses[0].id if analyses else None
    last_id = 0
    while True:
        rows = conn.execute(query.where(posts.c.id > last_id)).all()
        scores = post_scores(conn, monitor, [row.id for row in rows])
        for row in rows:
            record = dict(row._mapping)
            last_id = record.pop("id")
            record["created_at"] = as_utc(record["created_at"]).isoformat().replace("+00:00", "Z")
            record["demo"] = bool(record["demo"])
            mine = scores.get(last_id, {})
            record["narratives"] = json.dumps(
                sorted(name for name, (_, member) in mine.items() if member), ensure_ascii=False
            )
            record["narrative_scores"] = json.dumps(
                {name: score for name, (score, _) in sorted(mine.items())}, ensure_ascii=False
            )
            record["analysis_run"] = analysis_run
            yield record
        if len(rows) < CHUNK:
            return
