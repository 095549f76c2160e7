"""What the analysis stage reads and writes: per-post results and embeddings (topic models: store.topic_models).

Everything is scoped to one monitor: its posts are the ones some run of that monitor found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Connection, Select, and_, exists, select

from store.dialect import insert_ignore
from store.schema import (
    embeddings,
    post_analysis,
    posts,
    run_posts,
    runs,
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
        insert_ignore(conn, post_analysis),  # two analyses at once: the first verdict stands
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
        insert_ignore(conn, embeddings),  # a vector already stored for (post, model) stays
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


def vectors_of(conn: Connection, model: str, post_ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) of those of `post_ids` embedded with `model`, in id order: only these rows are read."""
    ids = sorted({int(i) for i in post_ids})
    found: dict[int, np.ndarray] = {}
    for start in range(0, len(ids), 800):
        query = select(embeddings.c.post_id, embeddings.c.dim, embeddings.c.vector).where(
            embeddings.c.model == model, embeddings.c.post_id.in_(ids[start : start + 800])
        )
        found.update({r.post_id: np.frombuffer(r.vector, dtype="<f4", count=r.dim) for r in conn.execute(query)})
    if not found:
        return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
    kept = [i for i in ids if i in found]
    return np.array(kept, dtype=np.int64), np.vstack([found[i] for i in kept])


def languages_of(conn: Connection, post_ids: Sequence[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    ids = list(post_ids)
    for start in range(0, len(ids), 800):
        chunk = ids[start : start + 800]
        query = select(post_analysis.c.post_id, post_analysis.c.language).where(post_analysis.c.post_id.in_(chunk))
        found.update({r.post_id: r.language for r in conn.execute(query)})
    return found
