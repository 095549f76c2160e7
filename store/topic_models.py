"""Topic models in the store: fits, durable topics with their centroids, each post's topic, lineage.

A topic's number is durable: a refit that finds the same conversation again gives it the same
number (analyze.lineage decides which), and `topic_events` records, with dates, when each topic was
born, continued, grew, merged into another, split from another or faded. Fits themselves are
pruned (the last `keep` per monitor); events are kept for good.

Vectors are read in bounded chunks by post id range, so a refit over a million posts never holds
them all, and the posts that arrived since the last fit are found without reading the others.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy import Connection, and_, delete, exists, func, select, update

from store.analysis import PostText, monitor_post_ids
from store.schema import (
    embeddings,
    post_analysis,
    post_topics,
    posts,
    topic_events,
    topic_language_means,
    topic_models,
    topics,
)
from store.timeutil import utc_now

OUTLIER = -1
_IN_CHUNK = 800  # ids per IN (…) clause: under SQLite's bound-parameter limit


@dataclass(frozen=True)
class TopicRecord:
    """One topic of a fit, under its durable number."""

    topic: int
    label: str
    keywords: list[tuple[str, float]]
    size: int
    representative: list[int]
    keywords_by_language: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    languages: dict[str, int] = field(default_factory=dict)
    centroid: np.ndarray | None = None
    min_similarity: float | None = None


@dataclass(frozen=True)
class TopicEvent:
    """What a refit found happened to a durable topic; `other` names the partner of a merge or split."""

    topic: int
    event: str  # born, continued, grew, merged_into, split_from, faded
    size: int
    label: str
    other: int | None = None


@dataclass(frozen=True)
class Centroids:
    """The saved centroids of a fit: what new posts are assigned by, without refitting."""

    topics: np.ndarray  # durable ids, int64
    vectors: np.ndarray  # (n, dim) float32 unit rows
    min_similarity: np.ndarray  # per topic
    language_means: dict[str, np.ndarray]


def latest_topic_model(conn: Connection, monitor: str) -> dict | None:
    row = conn.execute(
        select(topic_models)
        .where(topic_models.c.monitor == monitor)
        .order_by(topic_models.c.fitted_at.desc(), topic_models.c.id.desc())
        .limit(1)
    ).first()
    return dict(row._mapping) if row else None


def next_topic_id(conn: Connection, monitor: str) -> int:
    """A durable number no topic of this monitor has ever had (events outlive pruned fits)."""
    highest = [
        conn.execute(select(func.max(topic_events.c.topic)).where(topic_events.c.monitor == monitor)).scalar(),
        conn.execute(select(func.max(topic_events.c.other_topic)).where(topic_events.c.monitor == monitor)).scalar(),
        conn.execute(
            select(func.max(topics.c.topic))
            .join(topic_models, topic_models.c.id == topics.c.model_id)
            .where(topic_models.c.monitor == monitor)
        ).scalar(),
    ]
    return max([h for h in highest if h is not None], default=-1) + 1


def save_topic_model(
    conn: Connection,
    *,
    monitor: str,
    embedding_model: str,
    settings: dict,
    topic_records: Sequence[TopicRecord],
    assignments: Sequence[tuple[int, int, float | None]] = (),
    language_means: dict[str, np.ndarray] | None = None,
    events: Sequence[TopicEvent] = (),
    n_posts: int | None = None,
    fitted_at: datetime | None = None,
    keep: int = 3,
) -> int:
    """Store a fit: its topics (durable numbers), each post's topic, its events; keeps the last `keep` fits.

    Large fits pass `assignments` later, chunk by chunk, through `save_assignments`.
    """
    fitted_at = fitted_at or utc_now()
    key = conn.execute(
        topic_models.insert().values(
            monitor=monitor,
            fitted_at=fitted_at,
            embedding_model=embedding_model,
            n_posts=len(assignments) if n_posts is None else n_posts,
            n_topics=sum(1 for t in topic_records if t.topic >= 0),
            settings=json.dumps(settings, sort_keys=True),
            assigned_since=0,
            unfit_since=0,
        )
    ).inserted_primary_key
    if key is None:
        raise RuntimeError("the database returned no id for the new topic model")
    model_id = int(key[0])
    if topic_records:
        conn.execute(topics.insert(), [_topic_row(model_id, t) for t in topic_records])
    if language_means:
        conn.execute(
            topic_language_means.insert(),
            [
                {"model_id": model_id, "language": lang, "vector": _blob(v)}
                for lang, v in sorted(language_means.items())
            ],
        )
    if events:
        conn.execute(
            topic_events.insert(),
            [
                {
                    "monitor": monitor,
                    "at": fitted_at,
                    "model_id": model_id,
                    "topic": e.topic,
                    "event": e.event,
                    "other_topic": e.other,
                    "size": e.size,
                    "label": e.label,
                }
                for e in events
            ],
        )
    save_assignments(conn, model_id, assignments)
    _prune_topic_models(conn, monitor, keep)
    return model_id


def save_assignments(conn: Connection, model_id: int, assignments: Sequence[tuple[int, int, float | None]]) -> None:
    """Each post's topic under a fit: (post id, durable topic or -1, similarity to its centroid)."""
    for start in range(0, len(assignments), 20_000):
        conn.execute(
            post_topics.insert(),
            [
                {"model_id": model_id, "post_id": int(pid), "topic": int(t), "probability": p}
                for pid, t, p in assignments[start : start + 20_000]
            ],
        )


def count_incremental(conn: Connection, model_id: int, assigned: int, unfit: int) -> None:
    """Tally posts assigned from centroids since the fit, and how many of them fitted no topic."""
    conn.execute(
        update(topic_models)
        .where(topic_models.c.id == model_id)
        .values(assigned_since=topic_models.c.assigned_since + assigned, unfit_since=topic_models.c.unfit_since + unfit)
    )


def load_centroids(conn: Connection, model_id: int) -> Centroids:
    rows = conn.execute(
        select(topics.c.topic, topics.c.centroid, topics.c.min_similarity)
        .where(topics.c.model_id == model_id, topics.c.topic >= 0, topics.c.centroid.is_not(None))
        .order_by(topics.c.topic)
    ).all()
    means = {
        r.language: np.frombuffer(r.vector, dtype="<f4").astype(np.float32)
        for r in conn.execute(select(topic_language_means).where(topic_language_means.c.model_id == model_id))
    }
    if not rows:
        return Centroids(np.zeros(0, np.int64), np.zeros((0, 0), np.float32), np.zeros(0, np.float32), means)
    return Centroids(
        topics=np.array([r.topic for r in rows], dtype=np.int64),
        vectors=np.vstack([np.frombuffer(r.centroid, dtype="<f4") for r in rows]).astype(np.float32),
        min_similarity=np.array(
            [r.min_similarity if r.min_similarity is not None else -1.0 for r in rows], dtype=np.float32
        ),
        language_means=means,
    )


def previous_topics(conn: Connection, model_id: int) -> list[TopicRecord]:
    """The topics of a fit with their centroids (keywords left out: lineage needs numbers and vectors)."""
    rows = conn.execute(
        select(topics.c.topic, topics.c.label, topics.c.size, topics.c.centroid)
        .where(topics.c.model_id == model_id, topics.c.topic >= 0)
        .order_by(topics.c.topic)
    ).all()
    return [
        TopicRecord(
            r.topic,
            r.label,
            [],
            r.size,
            [],
            centroid=np.frombuffer(r.centroid, dtype="<f4").astype(np.float32) if r.centroid else None,
        )
        for r in rows
    ]


def model_assignments(conn: Connection, model_id: int) -> tuple[np.ndarray, np.ndarray]:
    """(post ids, topics) of a fit, sorted by post id: two integer columns, no text or vectors."""
    rows = conn.execute(
        select(post_topics.c.post_id, post_topics.c.topic)
        .where(post_topics.c.model_id == model_id)
        .order_by(post_topics.c.post_id)
    ).all()
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    table = np.array(rows, dtype=np.int64)
    return table[:, 0], table[:, 1]


def embedded_post_ids(conn: Connection, monitor: str, model: str) -> np.ndarray:
    """Ids of the monitor's posts that have a vector from `model`, sorted."""
    query = (
        select(embeddings.c.post_id)
        .where(embeddings.c.model == model, embeddings.c.post_id.in_(monitor_post_ids(monitor)))
        .order_by(embeddings.c.post_id)
    )
    return np.fromiter(conn.execute(query).scalars(), dtype=np.int64)


def iter_vectors(
    conn: Connection, model: str, post_ids: np.ndarray, chunk: int = 20_000
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(ids, vectors) for sorted `post_ids`, `chunk` at a time, read by id range (the primary key)."""
    for start in range(0, len(post_ids), chunk):
        wanted = post_ids[start : start + chunk]
        rows = conn.execute(
            select(embeddings.c.post_id, embeddings.c.vector)
            .where(embeddings.c.model == model, embeddings.c.post_id.between(int(wanted[0]), int(wanted[-1])))
            .order_by(embeddings.c.post_id)
        ).all()
        found = {r.post_id: r.vector for r in rows}
        ids = np.array([pid for pid in wanted.tolist() if pid in found], dtype=np.int64)
        if len(ids):
            yield ids, np.vstack([np.frombuffer(found[pid], dtype="<f4") for pid in ids.tolist()])


def texts_of(conn: Connection, post_ids: Sequence[int]) -> dict[int, PostText]:
    found: dict[int, PostText] = {}
    ids = [int(i) for i in post_ids]
    for start in range(0, len(ids), _IN_CHUNK):
        query = select(posts.c.id, posts.c.title, posts.c.text).where(posts.c.id.in_(ids[start : start + _IN_CHUNK]))
        found.update({r.id: PostText(r.id, r.title, r.text) for r in conn.execute(query)})
    return found


def posts_without_topic(
    conn: Connection, monitor: str, model: str, model_id: int
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Embedded posts the fit `model_id` has not placed yet: ids, vectors, languages. Old posts are not read."""
    query = (
        select(embeddings.c.post_id, embeddings.c.vector, post_analysis.c.language)
        .outerjoin(post_analysis, post_analysis.c.post_id == embeddings.c.post_id)
        .where(embeddings.c.model == model, embeddings.c.post_id.in_(monitor_post_ids(monitor)))
        .where(~exists().where(and_(post_topics.c.model_id == model_id, post_topics.c.post_id == embeddings.c.post_id)))
        .order_by(embeddings.c.post_id)
    )
    rows = conn.execute(query).all()
    if not rows:
        return np.zeros(0, np.int64), np.zeros((0, 0), np.float32), []
    return (
        np.array([r.post_id for r in rows], dtype=np.int64),
        np.vstack([np.frombuffer(r.vector, dtype="<f4") for r in rows]),
        [r.language or "und" for r in rows],
    )


def topic_events_of(conn: Connection, monitor: str) -> list[dict]:
    """The monitor's lineage, oldest first."""
    rows = conn.execute(
        select(topic_events).where(topic_events.c.monitor == monitor).order_by(topic_events.c.at, topic_events.c.id)
    ).all()
    return [dict(r._mapping) for r in rows]


def _topic_row(model_id: int, t: TopicRecord) -> dict:
    return {
        "model_id": model_id,
        "topic": t.topic,
        "label": t.label,
        "keywords": json.dumps(t.keywords, ensure_ascii=False),
        "size": t.size,
        "representative": json.dumps(t.representative),
        "keywords_by_language": json.dumps(t.keywords_by_language, ensure_ascii=False, sort_keys=True),
        "languages": json.dumps(t.languages, sort_keys=True),
        "centroid": _blob(t.centroid) if t.centroid is not None else None,
        "min_similarity": t.min_similarity,
    }


def _blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


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
        conn.execute(delete(topic_language_means).where(topic_language_means.c.model_id.in_(old)))
        conn.execute(delete(topics).where(topics.c.model_id.in_(old)))
        conn.execute(delete(topic_models).where(topic_models.c.id.in_(old)))
