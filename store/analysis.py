"""What the analysis stage reads and writes: per-post results, embeddings and fitted topic models.

Everything is scoped to one monitor: its posts are the ones some run of that monitor found.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Connection, Select, and_, delete, exists, select

from store.schema import (
    embeddings,
    post_analysis,
    post_topics,
    posts,
    run_posts,
    runs,
    topic_models,
    topics,
)
from store.timeutil import utc_now


@dataclass(frozen=True)
class PostText:
    id: int
    title: str | None
    text: str


@dataclass(frozen=True)
class PostVerdict:
    """Language and sentiment for one post; `sentiment` None means the backend could not judge it."""

    post_id: int
    language: str
    language_score: float | None
    sentiment: str | None
    sentiment_score: float | None
    backend: str
    probabilities: tuple[float, float, float] | None = None  # negative, neutral, positive


@dataclass(frozen=True)
class TopicRecord:
    topic: int
    label: str
    keywords: list[tuple[str, float]]
    size: int
    representative: list[int]


def monitor_post_ids(monitor: str) -> Select:
    """The ids of every post some run of `monitor` found."""
    return (
        select(run_posts.c.post_id)
        .join(runs, runs.c.id == run_posts.c.run_id)
        .where(runs.c.monitor == monitor)
        .distinct()
    )


def posts_without_verdict(conn: Connection, monitor: str) -> list[PostText]:
    query = (
        select(posts.c.id, posts.c.title, posts.c.text)
        .where(posts.c.id.in_(monitor_post_ids(monitor)))
        .where(~exists().where(post_analysis.c.post_id == posts.c.id))
        .order_by(posts.c.id)
    )
    return [PostText(r.id, r.title, r.text) for r in conn.execute(query)]


def save_verdicts(conn: Connection, verdicts: Sequence[PostVerdict]) -> None:
    if not verdicts:
        return
    now = utc_now()
    conn.execute(
        post_analysis.insert(),
        [
            {
                "post_id": v.post_id,
                "language": v.language,
                "language_score": v.language_score,
                "sentiment": v.sentiment,
                "sentiment_score": v.sentiment_score,
                "sentiment_backend": v.backend,
                "sentiment_negative": v.probabilities[0] if v.probabilities else None,
                "sentiment_neutral": v.probabilities[1] if v.probabilities else None,
                "sentiment_positive": v.probabilities[2] if v.probabilities else None,
                "analysed_at": now,
            }
            for v in verdicts
        ],
    )


def posts_without_embedding(conn: Connection, monitor: str, model: str) -> list[PostText]:
    query = (
        select(posts.c.id, posts.c.title, posts.c.text)
        .where(posts.c.id.in_(monitor_post_ids(monitor)))
        .where(~exists().where(and_(embeddings.c.post_id == posts.c.id, embeddings.c.model == model)))
        .order_by(posts.c.id)
    )
    return [PostText(r.id, r.title, r.text) for r in conn.execute(query)]


def save_embeddings(conn: Connection, model: str, post_ids: Sequence[int], vectors: np.ndarray) -> None:
    if not len(post_ids):
        return
    vectors = np.asarray(vectors, dtype="<f4")
    conn.execute(
        embeddings.insert(),
        [
            {"post_id": pid, "model": model, "dim": int(vectors.shape[1]), "vector": vectors[i].tobytes()}
            for i, pid in enumerate(post_ids)
        ],
    )


def monitor_embeddings(conn: Connection, monitor: str, model: str) -> tuple[list[PostText], np.ndarray]:
    """Every embedded post of the monitor, in id order, with its vectors as one float32 matrix."""
    query = (
        select(posts.c.id, posts.c.title, posts.c.text, embeddings.c.dim, embeddings.c.vector)
        .join(embeddings, and_(embeddings.c.post_id == posts.c.id, embeddings.c.model == model))
        .where(posts.c.id.in_(monitor_post_ids(monitor)))
        .order_by(posts.c.id)
    )
    rows = conn.execute(query).all()
    texts = [PostText(r.id, r.title, r.text) for r in rows]
    if not rows:
        return texts, np.zeros((0, 0), dtype=np.float32)
    matrix = np.vstack([np.frombuffer(r.vector, dtype="<f4", count=r.dim) for r in rows])
    return texts, matrix


def languages_of(conn: Connection, post_ids: Sequence[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    ids = list(post_ids)
    for start in range(0, len(ids), 800):
        chunk = ids[start : start + 800]
        query = select(post_analysis.c.post_id, post_analysis.c.language).where(post_analysis.c.post_id.in_(chunk))
        found.update({r.post_id: r.language for r in conn.execute(query)})
    return found


def latest_topic_model(conn: Connection, monitor: str) -> dict | None:
    row = conn.execute(
        select(topic_models)
        .where(topic_models.c.monitor == monitor)
        .order_by(topic_models.c.fitted_at.desc(), topic_models.c.id.desc())
        .limit(1)
    ).first()
    return dict(row._mapping) if row else None


def save_topic_model(
    conn: Connection,
    *,
    monitor: str,
    embedding_model: str,
    settings: dict,
    topic_records: Sequence[TopicRecord],
    assignments: Sequence[tuple[int, int, float | None]],
    keep: int = 3,
) -> int:
    """Store a fitted model (topics and each post's topic); keeps the last `keep` fits per monitor."""
    model_id = int(
        conn.execute(
            topic_models.insert().values(
                monitor=monitor,
                fitted_at=utc_now(),
                embedding_model=embedding_model,
                n_posts=len(assignments),
                n_topics=sum(1 for t in topic_records if t.topic >= 0),
                settings=json.dumps(settings, sort_keys=True),
            )
        ).inserted_primary_key[0]
    )
    conn.execute(
        topics.insert(),
        [
            {
                "model_id": model_id,
                "topic": t.topic,
                "label": t.label,
                "keywords": json.dumps(t.keywords, ensure_ascii=False),
                "size": t.size,
                "representative": json.dumps(t.representative),
            }
            for t in topic_records
        ],
    )
    conn.execute(
        post_topics.insert(),
        [{"model_id": model_id, "post_id": pid, "topic": t, "probability": p} for pid, t, p in assignments],
    )
    _prune_topic_models(conn, monitor, keep)
    return model_id


def _prune_topic_models(conn: Connection, monitor: str, keep: int) -> None:
    old = (
        conn.execute(
            select(topic_models.c.id)
            .where(topic_models.c.monitor == monitor)
            .order_by(topic_models.c.fitted_at.desc(), topic_models.c.id.desc())
            .offset(keep)
        )
        .scalars()
        .all()
    )
    if old:
        conn.execute(delete(post_topics).where(post_topics.c.model_id.in_(old)))
        conn.execute(delete(topics).where(topics.c.model_id.in_(old)))
        conn.execute(delete(topic_models).where(topic_models.c.id.in_(old)))
