"""Read-only queries for the dashboard, returning pandas frames it can chart directly.

The dashboard never writes and never imports collect/ or analyze/; everything it shows comes
through these functions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, and_, func, select

from store.analysis import monitor_post_ids
from store.schema import post_analysis, post_topics, posts, runs, topics
from store.topic_models import latest_topic_model


def monitor_names(conn: Connection) -> list[str]:
    return list(conn.execute(select(runs.c.monitor).distinct().order_by(runs.c.monitor)).scalars())


def post_frame(conn: Connection, monitor: str) -> pd.DataFrame:
    """One row per post of the monitor: when, where, language, sentiment and topic (if analysed).

    Columns: id, platform, created_at (UTC), day, demo, language, sentiment, sentiment_score, topic.
    """
    model = latest_topic_model(conn, monitor)
    model_id = model["id"] if model else -1
    query = (
        select(
            posts.c.id,
            posts.c.platform,
            posts.c.created_at,
            posts.c.demo,
            post_analysis.c.language,
            post_analysis.c.sentiment,
            post_analysis.c.sentiment_score,
            post_topics.c.topic,
        )
        .outerjoin(post_analysis, post_analysis.c.post_id == posts.c.id)
        .outerjoin(post_topics, and_(post_topics.c.post_id == posts.c.id, post_topics.c.model_id == model_id))
        .where(posts.c.id.in_(monitor_post_ids(monitor)))
    )
    frame = pd.DataFrame(conn.execute(query).all(), columns=[
        "id", "platform", "created_at", "demo", "language", "sentiment", "sentiment_score", "topic"])
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    frame["day"] = frame["created_at"].dt.floor("D")
    frame["demo"] = frame["demo"].astype(bool)
    frame["language"] = frame["language"].fillna("pending")
    frame["sentiment"] = frame["sentiment"].fillna("unscored")
    frame["topic"] = frame["topic"].astype("Int64")
    return frame


def topic_frame(conn: Connection, monitor: str) -> pd.DataFrame:
    """The latest topic model's topics: topic, label, keywords (list of words), size, representative."""
    model = latest_topic_model(conn, monitor)
    columns = ["topic", "label", "keywords", "size", "representative"]
    if not model:
        return pd.DataFrame(columns=columns)
    rows = conn.execute(select(topics).where(topics.c.model_id == model["id"]).order_by(topics.c.topic)).all()
    return pd.DataFrame(
        [
            (r.topic, r.label, [w for w, _ in json.loads(r.keywords)], r.size, json.loads(r.representative))
            for r in rows
        ],
        columns=columns,
    )


def topic_model_info(conn: Connection, monitor: str) -> dict | None:
    """When the latest topic model was fitted, on how many posts, with which embeddings."""
    return latest_topic_model(conn, monitor)


def posts_by_id(conn: Connection, post_ids: Sequence[int]) -> pd.DataFrame:
    """Text and link of the given posts, in the order asked."""
    if not post_ids:
        return pd.DataFrame(columns=["id", "platform", "created_at", "url", "title", "text"])
    rows = conn.execute(
        select(posts.c.id, posts.c.platform, posts.c.created_at, posts.c.url, posts.c.title, posts.c.text)
        .where(posts.c.id.in_(list(post_ids)))
    ).all()
    frame = pd.DataFrame(rows, columns=["id", "platform", "created_at", "url", "title", "text"])
    order = {pid: i for i, pid in enumerate(post_ids)}
    return frame.sort_values("id", key=lambda ids: ids.map(order)).reset_index(drop=True)


def recent_runs(conn: Connection, monitor: str, limit: int = 10) -> pd.DataFrame:
    rows = conn.execute(
        select(runs).where(runs.c.monitor == monitor).order_by(runs.c.started_at.desc()).limit(limit)
    ).all()
    records = []
    for r in rows:
        counts = json.loads(r.counts or "{}")
        records.append(
            {
                "started": r.started_at,
                "finished": r.finished_at,
                "mode": r.mode,
                "status": r.status,
                "new posts": sum(c.get("new", 0) for c in counts.values()),
                "sources": ", ".join(sorted(counts)) or "—",
                "errors": len(json.loads(r.errors or "[]")),
            }
        )
    return pd.DataFrame(records, columns=["started", "finished", "mode", "status", "new posts", "sources", "errors"])


def last_collected(conn: Connection, monitor: str) -> datetime | None:
    return conn.execute(
        select(func.max(runs.c.finished_at)).where(runs.c.monitor == monitor)
    ).scalar()
