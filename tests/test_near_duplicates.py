"""Near-duplicate posts by embedding similarity: found in analysis, stored, grouped, shown on the Voices page."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from sqlalchemy import select

from analyze.near_duplicates import THRESHOLD, WINDOW, find_near_duplicates, similar_pairs, time_spans
from store.analysis import save_embeddings
from store.collection import finish_run, save_posts, start_run
from store.filters import PostFilter
from store.lifecycle import forget_post
from store.post import Post
from store.queries import near_duplicate_groups
from store.schema import posts, similar_posts
from tests.seed import COPIED, DAY0, MONITOR, POSTS, seed_store

MODEL = "test-embeddings"
DIM = 16


def unit(vector: np.ndarray) -> np.ndarray:
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def test_pairs_need_a_high_cosine_different_authors_and_nearby_times():
    rng = np.random.default_rng(3)
    base = rng.normal(size=DIM)
    nudged = unit(base + 0.05 * rng.normal(size=DIM))  # a word swapped: cosine ~0.99
    other = unit(rng.normal(size=DIM))
    matrix = np.vstack([unit(base), nudged, unit(base), unit(base), other])
    hour = 3600.0
    times = np.array([0.0, 2 * hour, 3 * hour, WINDOW.total_seconds() + 10 * hour, hour])
    authors = ["a", "b", "a", "c", None]
    pairs = similar_pairs(times, authors, matrix, np.ones(5, dtype=bool))
    assert [(a, b) for a, b, _ in pairs] == [(0, 1), (1, 2)]  # 0-2 same author; 3 too late; 4 unlike
    assert all(s >= THRESHOLD for *_, s in pairs)
    only_old = similar_pairs(times, authors, matrix, np.array([False, False, False, False, True]))
    assert only_old == []  # nothing new: nothing compared


def embed_seeded(engine, vectors: dict[str, np.ndarray]) -> dict[str, int]:
    """Give every seeded post an embedding: the given texts their vectors, the rest random ones."""
    rng = np.random.default_rng(11)
    with engine.connect() as conn:
        ids = dict(conn.execute(select(posts.c.text, posts.c.id)).all())
    order = sorted(ids, key=ids.__getitem__)
    matrix = np.vstack([vectors.get(text, unit(rng.normal(size=DIM))) for text in order])
    with engine.begin() as conn:
        save_embeddings(conn, MODEL, [ids[t] for t in order], matrix)
    return ids


def test_analysis_stores_groups_that_follow_filters_forgetting_and_new_posts(engine):
    seed_store(engine)
    rng = np.random.default_rng(5)
    campaign = rng.normal(size=DIM)
    edited = POSTS[12][0]  # another author than COPIED's, an hour later
    ids = embed_seeded(engine, {COPIED: unit(campaign), edited: unit(campaign + 0.04 * rng.normal(size=DIM))})
    assert find_near_duplicates(engine, MONITOR, MODEL) == 1
    assert find_near_duplicates(engine, MONITOR, MODEL) == 0  # nothing new since
    with engine.connect() as conn:
        groups = near_duplicate_groups(conn, MONITOR, PostFilter())
        in_arabic = near_duplicate_groups(conn, MONITOR, PostFilter(languages=("ar",)))
    assert len(groups) == 1 and groups.at[0, "authors"] == 2 and groups.at[0, "posts"] == 2
    assert (
        set(groups.at[0, "post_ids"]) == {ids[COPIED], ids[edited]} and groups.at[0, "text"] == COPIED
    )  # the earliest post speaks for its group
    assert groups.at[0, "similarity"] >= THRESHOLD and in_arabic.empty

    # A third author posts the same message a little later: it joins the group on the next analysis.
    late = Post(
        platform="mastodon",
        native_id="late-1",
        text="Boycott Sora!! the artists were never paid for testing",
        created_at=DAY0 + timedelta(days=3, hours=14),
        author="someone-else",
    )
    with engine.begin() as conn:
        run = start_run(conn, MONITOR, "live")
        save_posts(conn, [late], run_id=run, source="mastodon")
        finish_run(conn, run, "ok", {"mastodon": {"new": 1}}, [])
        late_id = conn.execute(select(posts.c.id).where(posts.c.native_id == "late-1")).scalar_one()
        save_embeddings(conn, MODEL, [late_id], unit(campaign + 0.03 * rng.normal(size=DIM))[None, :])
    assert find_near_duplicates(engine, MONITOR, MODEL) == 2
    with engine.connect() as conn:
        groups = near_duplicate_groups(conn, MONITOR, PostFilter())
    assert groups.at[0, "authors"] == 3 and groups.at[0, "sources"] == 2

    # Forgetting a post removes it from every pair.
    with engine.begin() as conn:
        forget_post(conn, "mastodon", "late-1")
    with engine.connect() as conn:
        left = conn.execute(select(similar_posts.c.post_id, similar_posts.c.other_id)).all()
        assert near_duplicate_groups(conn, MONITOR, PostFilter()).at[0, "authors"] == 2
    assert all(late_id not in pair for pair in left) and len(left) == 1


def test_the_search_reads_only_the_times_near_new_posts():
    hour = timedelta(hours=1)
    spans = time_spans([DAY0 + 60 * hour, DAY0, DAY0 + hour], WINDOW)
    assert spans == [(DAY0 - WINDOW, DAY0 + hour + WINDOW), (DAY0 + 60 * hour - WINDOW, DAY0 + 60 * hour + WINDOW)]
