"""Near-duplicate posts by embedding similarity: the same message, lightly edited, from different authors.

Identical text is caught by folding (the dashboard's "same text" groups); a campaign that swaps a
word, adds a hashtag or changes punctuation is not. Two posts are near duplicates when their
embeddings' cosine is at least THRESHOLD (a high bar: paraphrases of one topic stay well below it),
their authors differ (posts under MIN_CHARS characters are left out), and they were written within
WINDOW of each other (a campaign posts in a burst; bounding the window keeps the search linear in
the posts rather than quadratic). Incremental: only posts newer than the last search are compared,
each with every post near it in time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import numpy as np
from sqlalchemy import Engine

from analyze.text import model_text
from store.analysis import monitor_embeddings
from store.similar_posts import as_matrix, last_scan, post_times_and_authors, save_pairs

THRESHOLD = 0.95
MIN_CHARS = 30  # shorter posts ("wow", a bare link) say too little to be a copied message
WINDOW = timedelta(hours=24)
BLOCK = 512


def similar_pairs(
    times: np.ndarray,
    authors: Sequence[str | None],
    matrix: np.ndarray,
    new: np.ndarray,
    *,
    threshold: float = THRESHOLD,
    window_s: float = WINDOW.total_seconds(),
) -> list[tuple[int, int, float]]:
    """(i, j, cosine) with i < j for rows at least `threshold` alike, by different known authors, within
    `window_s` seconds, where at least one of the two is `new`. `matrix` rows are unit length."""
    order = np.argsort(times, kind="stable")
    sorted_times = times[order]
    fresh = order[new[order]]
    found: dict[tuple[int, int], float] = {}
    for start in range(0, len(fresh), BLOCK):
        block = fresh[start : start + BLOCK]
        low = np.searchsorted(sorted_times, times[block].min() - window_s, side="left")
        high = np.searchsorted(sorted_times, times[block].max() + window_s, side="right")
        candidates = order[low:high]
        scores = matrix[block] @ matrix[candidates].T
        rows, cols = np.nonzero(scores >= threshold)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            a, b = int(block[r]), int(candidates[c])
            if a == b or abs(times[a] - times[b]) > window_s:
                continue
            if authors[a] is None or authors[b] is None or authors[a] == authors[b]:
                continue
            found[(min(a, b), max(a, b))] = float(scores[r, c])
    return [(a, b, s) for (a, b), s in sorted(found.items())]


def find_near_duplicates(engine: Engine, monitor: str, model: str, threshold: float = THRESHOLD) -> int:
    """Compare the monitor's posts embedded since the last search; store the pairs. Returns pairs found."""
    with engine.connect() as conn:
        scan = last_scan(conn, monitor, model)
        restart = scan is None or scan.threshold != threshold
        since = 0 if restart or scan is None else scan.last_post_id
        embedded, vectors = monitor_embeddings(conn, monitor, model)
        if not embedded or embedded[-1].id <= since:
            return 0
        known = post_times_and_authors(conn, monitor)
    ids = np.array([post.id for post in embedded])
    times = np.array([known[pid][0].timestamp() if pid in known else 0.0 for pid in ids.tolist()])
    authors = [
        known[post.id][1] if post.id in known and len(model_text(post.title, post.text)) >= MIN_CHARS else None
        for post in embedded
    ]
    pairs = similar_pairs(times, authors, as_matrix(vectors), ids > since, threshold=threshold)
    with engine.begin() as conn:
        save_pairs(
            conn,
            monitor,
            model,
            [(int(ids[a]), int(ids[b]), s) for a, b, s in pairs],
            last_post_id=int(ids.max()),
            threshold=threshold,
            restart=restart,
        )
    return len(pairs)
