"""Read-only queries for the dashboard, returning pandas frames it can chart directly.

The dashboard never writes and never imports collect/ or analyze/; everything it shows comes
through these functions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, and_, case, func, select

from store.analysis import monitor_post_ids
from store.health import classify
from store.schema import post_analysis, post_topics, posts, runs, topic_events, topics
from store.timeutil import as_utc
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
    """The latest topic model's topics: topic (durable number), label, keywords (list of words), size,
    representative (post ids across languages), keywords_by_language ({language: [words]}),
    languages ({language: posts})."""
    model = latest_topic_model(conn, monitor)
    columns = ["topic", "label", "keywords", "size", "representative", "keywords_by_language", "languages"]
    if not model:
        return pd.DataFrame(columns=columns)
    rows = conn.execute(select(topics).where(topics.c.model_id == model["id"]).order_by(topics.c.topic)).all()
    return pd.DataFrame(
        [
            (r.topic, r.label, [w for w, _ in json.loads(r.keywords)], r.size, json.loads(r.representative),
             {lang: [w for w, _ in words] for lang, words in json.loads(r.keywords_by_language).items()},
             json.loads(r.languages))
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


def topic_sentiment_by_day(conn: Connection, monitor: str) -> pd.DataFrame:
    """Sentiment per topic per day under the latest topic model, aggregated in SQL.

    Columns: day (UTC date), topic (durable number, -1 = no topic), posts, scored, mean_score
    (mean of scored posts, -1 … 1), negative, neutral, positive (post counts).
    """
    columns = ["day", "topic", "posts", "scored", "mean_score", "negative", "neutral", "positive"]
    model = latest_topic_model(conn, monitor)
    if not model:
        return pd.DataFrame(columns=columns)
    day = func.date(posts.c.created_at).label("day")
    query = (
        select(
            day,
            post_topics.c.topic,
            func.count().label("posts"),
            func.count(post_analysis.c.sentiment_score).label("scored"),
            func.avg(post_analysis.c.sentiment_score).label("mean_score"),
            *(func.sum(case((post_analysis.c.sentiment == label, 1), else_=0)).label(label)
              for label in ("negative", "neutral", "positive")),
        )
        .select_from(post_topics)
        .join(posts, posts.c.id == post_topics.c.post_id)
        .outerjoin(post_analysis, post_analysis.c.post_id == post_topics.c.post_id)
        .where(post_topics.c.model_id == model["id"])
        .group_by(day, post_topics.c.topic)
        .order_by(day, post_topics.c.topic)
    )
    frame = pd.DataFrame(conn.execute(query).all(), columns=columns)
    frame["day"] = pd.to_datetime(frame["day"], utc=True)
    return frame


def topic_sources_and_languages(conn: Connection, monitor: str) -> pd.DataFrame:
    """Posts per topic, platform and language under the latest topic model, counted in SQL.

    Columns: topic (durable number, -1 = no topic), platform, language ("pending" if not analysed), posts.
    """
    columns = ["topic", "platform", "language", "posts"]
    model = latest_topic_model(conn, monitor)
    if not model:
        return pd.DataFrame(columns=columns)
    language = func.coalesce(post_analysis.c.language, "pending").label("language")
    query = (
        select(post_topics.c.topic, posts.c.platform, language, func.count().label("posts"))
        .select_from(post_topics)
        .join(posts, posts.c.id == post_topics.c.post_id)
        .outerjoin(post_analysis, post_analysis.c.post_id == post_topics.c.post_id)
        .where(post_topics.c.model_id == model["id"])
        .group_by(post_topics.c.topic, posts.c.platform, language)
        .order_by(post_topics.c.topic, posts.c.platform, language)
    )
    return pd.DataFrame(conn.execute(query).all(), columns=columns)


def topic_lineage(conn: Connection, monitor: str) -> pd.DataFrame:
    """Every topic's history, oldest first: at, topic, event, other_topic, size, label.

    Events: born, continued, grew, merged_into (other_topic absorbed it), split_from (other_topic
    was its parent), faded.
    """
    columns = ["at", "topic", "event", "other_topic", "size", "label"]
    rows = conn.execute(
        select(*(topic_events.c[c] for c in columns))
        .where(topic_events.c.monitor == monitor)
        .order_by(topic_events.c.at, topic_events.c.id)
    ).all()
    frame = pd.DataFrame(rows, columns=columns)
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    frame["other_topic"] = frame["other_topic"].astype("Int64")
    return frame


@dataclass(frozen=True)
class SourceRun:
    """One source's part in one run, with its health as `store.health.classify` judges it."""

    source: str
    health: str
    pages: int
    failed_pages: int
    fetched: int
    matched: int
    new: int
    updated: int
    error: str | None


@dataclass(frozen=True)
class RunSummary:
    id: int
    monitor: str
    mode: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    sources: list[SourceRun]
    errors: list[str]

    @property
    def seconds(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None


def run_summaries(conn: Connection, monitor: str | None = None, limit: int = 10) -> list[RunSummary]:
    """The newest runs (of one monitor, or of all), each with its per-source health."""
    query = select(runs).order_by(runs.c.started_at.desc(), runs.c.id.desc()).limit(limit)
    if monitor is not None:
        query = query.where(runs.c.monitor == monitor)
    return [
        RunSummary(
            id=r.id, monitor=r.monitor, mode=r.mode, status=r.status,
            started_at=as_utc(r.started_at), finished_at=as_utc(r.finished_at) if r.finished_at else None,
            sources=[_source_run(name, tally) for name, tally in sorted(json.loads(r.counts or "{}").items())],
            errors=json.loads(r.errors or "[]"),
        )
        for r in conn.execute(query)
    ]


def _source_run(source: str, tally: dict) -> SourceRun:
    return SourceRun(
        source=source, health=classify(tally)[0],
        **{key: int(tally.get(key) or 0) for key in ("pages", "failed_pages", "fetched", "matched", "new", "updated")},
        error=tally.get("error"),
    )
