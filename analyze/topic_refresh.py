"""Keeping a monitor's topics current: place new posts by the saved centroids, refit only when due.

Between refits a new post is compared with the latest fit's saved centroids (no BERTopic, no old
post read): it joins the most similar topic, or none when it fits none (analyze.topics.assign).
A refit happens when
- there is no fit yet, the embedding model changed, or the user asks (`--refit`);
- at least `REFIT_UNFIT_SHARE` of the posts placed since the last fit fitted no topic (a new
  conversation the old topics cannot hold);
- the corpus has grown `REFIT_GROWTH` times since the last fit.
A refit fits BERTopic on at most `max_fit_posts` posts (a random sample beyond that), places the
rest by the new centroids chunk by chunk (so a million posts fit in a few GB), and gives the topics
durable numbers by matching them to the previous fit (analyze.lineage), recording what happened.

Every post without a topic under the latest fit is placed at the start of the next run, so an
interrupted analysis leaves none behind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from sqlalchemy import Engine, func, select

from analyze.lineage import TopicSummary, match_topics
from analyze.text import model_text
from analyze.topics import TopicFit, assign, fit_topics
from store.analysis import languages_of, monitor_post_ids
from store.schema import embeddings
from store.topic_models import (
    OUTLIER,
    count_incremental,
    embedded_post_ids,
    iter_vectors,
    latest_topic_model,
    load_centroids,
    model_assignments,
    next_topic_id,
    posts_without_topic,
    previous_topics,
    save_assignments,
    save_topic_model,
    texts_of,
)

log = logging.getLogger(__name__)

REFIT_UNFIT_SHARE = 0.3
REFIT_MIN_PLACED = 30  # the unfit share means something only over this many new posts
REFIT_GROWTH = 2.0
MAX_FIT_POSTS = 20_000
CHUNK = 20_000

Progress = Callable[[str, int, int], None]


@dataclass
class TopicUpdate:
    placed: int = 0  # posts given a topic from saved centroids
    unfit: int = 0  # of those, posts that fitted no topic
    refit: str | None = None  # why a refit happened, None when none did
    topics: int = 0
    posts: int = 0


def update_topics(
    engine: Engine,
    monitor: str,
    embedding_name: str,
    *,
    min_topic_size: int = 0,
    stop_words: Sequence[str] = (),
    refit: bool = False,
    max_fit_posts: int = MAX_FIT_POSTS,
    progress: Progress = lambda step, done, total: None,
) -> TopicUpdate:
    update = TopicUpdate()
    with engine.connect() as conn:
        latest = latest_topic_model(conn, monitor)
    reason = _refit_reason(latest, embedding_name, refit)
    if reason is None and latest is not None:
        _place_new_posts(engine, monitor, embedding_name, latest["id"], update)
        with engine.connect() as conn:
            latest = latest_topic_model(conn, monitor)
            embedded = conn.execute(
                select(func.count())
                .select_from(embeddings)
                .where(embeddings.c.model == embedding_name, embeddings.c.post_id.in_(monitor_post_ids(monitor)))
            ).scalar_one()
        reason = _growth_reason(latest, embedded) if latest else None
    if reason is not None:
        log.info("refitting topics: %s", reason)
        update.refit = reason
        _refit(engine, monitor, embedding_name, min_topic_size, stop_words, max_fit_posts, progress, update)
    return update


def _refit_reason(latest: dict | None, embedding_name: str, requested: bool) -> str | None:
    if requested:
        return "requested"
    if latest is None:
        return "no topic model yet"
    if latest["embedding_model"] != embedding_name:
        return f"embedding model changed to {embedding_name}"
    return None


def _growth_reason(latest: dict, embedded: int) -> str | None:
    placed, unfit = latest["assigned_since"], latest["unfit_since"]
    if placed >= REFIT_MIN_PLACED and unfit >= REFIT_UNFIT_SHARE * placed:
        return f"{unfit} of {placed} new posts fit no topic"
    if embedded >= REFIT_GROWTH * max(1, latest["n_posts"]):
        return f"the corpus grew from {latest['n_posts']} to {embedded} posts"
    return None


def _place_new_posts(engine: Engine, monitor: str, name: str, model_id: int, update: TopicUpdate) -> None:
    with engine.connect() as conn:
        ids, vectors, languages = posts_without_topic(conn, monitor, name, model_id)
        if not len(ids):
            return
        centroids = load_centroids(conn, model_id)
    topics, similarity = assign(centroids, vectors, languages)
    unfit = int((topics == OUTLIER).sum())
    with engine.begin() as conn:
        save_assignments(conn, model_id, _rows(ids, topics, similarity))
        count_incremental(conn, model_id, len(ids), unfit)
    update.placed += len(ids)
    update.unfit += unfit


def _refit(engine, monitor, name, min_topic_size, stop_words, max_fit_posts, progress, update) -> None:
    progress("topics", 0, 1)
    with engine.connect() as conn:
        all_ids = embedded_post_ids(conn, monitor, name)
        sample = _sample(all_ids, max_fit_posts)
        ids, vectors = _read_all(iter_vectors(conn, name, sample))
        texts = texts_of(conn, ids.tolist())
        languages = languages_of(conn, ids.tolist())
    codes = [languages.get(int(i), "und") for i in ids]
    fit = fit_topics(
        ids.tolist(),
        [model_text(texts[int(i)].title, texts[int(i)].text) for i in ids],
        vectors,
        codes,
        min_topic_size=min_topic_size,
        extra_stop_words=stop_words,
    )
    del vectors
    if fit is None:
        progress("topics", 1, 1)
        return
    placed_ids, placed_topics, similarity = _place_the_rest(engine, name, fit, all_ids, sample)
    fit = _resized(fit, placed_topics)
    with engine.begin() as conn:
        previous = latest_topic_model(conn, monitor)
        old = previous_topics(conn, previous["id"]) if previous else []
        old_posts = model_assignments(conn, previous["id"]) if previous else (np.zeros(0, np.int64),) * 2
        lineage = match_topics(
            [TopicSummary(t.topic, t.size, t.label, t.centroid) for t in old],
            old_posts,
            [TopicSummary(t.topic, t.size, t.label, t.centroid) for t in fit.topics if t.topic != OUTLIER],
            (placed_ids, placed_topics),
            next_topic_id(conn, monitor),
        )
        durable = np.vectorize(lambda t: lineage.numbers.get(int(t), OUTLIER), otypes=[np.int64])
        save_topic_model(
            conn,
            monitor=monitor,
            embedding_model=name,
            settings={**fit.settings, "fitted_on": len(sample)},
            topic_records=[replace(t, topic=lineage.numbers.get(t.topic, OUTLIER)) for t in fit.topics],
            assignments=_rows(placed_ids, durable(placed_topics) if len(placed_topics) else placed_topics, similarity),
            language_means=fit.language_means,
            events=lineage.events,
            n_posts=len(placed_ids),
        )
    update.topics = sum(1 for t in fit.topics if t.topic != OUTLIER)
    update.posts = len(placed_ids)
    progress("topics", 1, 1)


def _sample(ids: np.ndarray, limit: int) -> np.ndarray:
    """All ids, or `limit` of them drawn at random (seeded, so a refit of the same store is repeatable)."""
    if len(ids) <= limit:
        return ids
    return np.sort(np.random.default_rng(42).choice(ids, size=limit, replace=False))


def _read_all(chunks) -> tuple[np.ndarray, np.ndarray]:
    parts = list(chunks)
    if not parts:
        return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
    return np.concatenate([p[0] for p in parts]), np.vstack([p[1] for p in parts])


def _place_the_rest(
    engine: Engine, name: str, fit: TopicFit, all_ids: np.ndarray, sample: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every post's fit-local topic and similarity: the sample as fitted, the others by the new centroids."""
    fitted = np.array([(pid, t) for pid, t, _ in fit.assignments], dtype=np.int64).reshape(-1, 2)
    ids, topics = [fitted[:, 0]], [fitted[:, 1]]
    similarity = [np.array([s if s is not None else 0.0 for _, _, s in fit.assignments], dtype=np.float32)]
    rest = np.setdiff1d(all_ids, sample, assume_unique=True)
    if len(rest):
        centroids = fit.centroids()
        with engine.connect() as conn:
            for chunk_ids, vectors in iter_vectors(conn, name, rest, CHUNK):
                languages = languages_of(conn, chunk_ids.tolist())
                chunk_topics, chunk_similarity = assign(
                    centroids, vectors, [languages.get(int(i), "und") for i in chunk_ids]
                )
                ids.append(chunk_ids)
                topics.append(chunk_topics)
                similarity.append(chunk_similarity)
    order_ids, order_topics, order_similarity = np.concatenate(ids), np.concatenate(topics), np.concatenate(similarity)
    order = np.argsort(order_ids)
    return order_ids[order], order_topics[order], order_similarity[order]


def _resized(fit: TopicFit, topics: np.ndarray) -> TopicFit:
    """Topic sizes over every placed post, not just the fitted sample."""
    values, counts = np.unique(topics, return_counts=True)
    sizes = dict(zip(values.tolist(), counts.tolist(), strict=True))
    return replace(fit, topics=[replace(t, size=int(sizes.get(t.topic, 0))) for t in fit.topics])


def _rows(ids: np.ndarray, topics: np.ndarray, similarity: np.ndarray) -> list[tuple[int, int, float | None]]:
    return [
        (pid, t, round(s, 4))
        for pid, t, s in zip(ids.tolist(), topics.tolist(), similarity.astype(float).tolist(), strict=True)
    ]
