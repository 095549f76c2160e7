"""Synthetic posts with synthetic embeddings, stored the way the pipeline stores real ones.

Each conversation is a direction in a 32-dimensional space; its posts are that direction plus
noise, optionally plus a per-language offset (what multilingual embeddings add for "written in
Spanish"). Nothing here runs an embedding model, so topic tests take seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import numpy as np
from sqlalchemy import Engine

from store.analysis import PostVerdict, save_embeddings, save_verdicts
from store.collection import save_posts, start_run
from store.post import Post

DIM = 32
MODEL = "synthetic:test"
DAY0 = datetime(2024, 11, 26, tzinfo=UTC)
_native = count(1)


def directions(n: int, seed: int = 7) -> np.ndarray:
    """`n` random, nearly orthogonal unit directions."""
    vectors = np.random.default_rng(seed).normal(size=(n, DIM))
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def cluster(centre: np.ndarray, n: int, rng: np.random.Generator, noise: float = 0.08) -> np.ndarray:
    vectors = centre + rng.normal(scale=noise, size=(n, DIM))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def store_posts(
    engine: Engine, monitor: str, vectors: np.ndarray, words: list[str], languages: list[str], day: int = 0
) -> list[int]:
    """Posts (text = `words`), their language verdicts and vectors; returns their ids."""
    items = [
        Post(platform="hackernews", native_id=str(next(_native)), text=text, created_at=DAY0 + timedelta(days=day))
        for text in words
    ]
    with engine.begin() as conn:
        run = start_run(conn, monitor, "live")
        save_posts(conn, items, run_id=run, source="hackernews")
    from sqlalchemy import select

    from store.schema import posts

    with engine.connect() as conn:
        by_native: dict[str, int] = {r.native_id: r.id for r in conn.execute(select(posts.c.native_id, posts.c.id))}
    ids = [by_native[p.native_id] for p in items]
    with engine.begin() as conn:
        save_verdicts(
            conn, [PostVerdict(i, lang, 0.9, "neutral", 0.0, "test") for i, lang in zip(ids, languages, strict=True)]
        )
        save_embeddings(conn, MODEL, ids, vectors)
    return ids
