"""Near-duplicate posts by embedding similarity: the same message, lightly edited, from different authors.

Identical text is caught by folding (the dashboard's "same text" groups); a campaign that swaps a
word, adds a hashtag or changes punctuation is not. Two posts are near duplicates when their
embeddings' cosine is at least THRESHOLD (a high bar: paraphrases of one topic stay well below it),
their authors differ (posts under MIN_CHARS characters are left out), and they were written within
WINDOW of each other. A campaign posts in a burst: studies of coordinated posting look for the same
action within seconds to an hour or so, and three hours is generous. The window also bounds the cost:
each new post is compared with the posts of six hours, not the whole store (a wider window cost
seconds a run at 100,000 posts). Identical text at any distance is still the "same text" groups.
Incremental: only posts newer than the last search are compared, each with every post near it in time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import Engine

from analyze.text import model_text
from store.similar_posts import as_matrix, embedded_between, embedded_since, last_scan, save_pairs, texts_of

THRESHOLD = 0.95
MIN_CHARS = 30  # shorter posts ("wow", a bare link) say too little to be a copied message
WINDOW = timedelta(hours=3)
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
    by_time = matrix[order]  # one copy, so each block's candidates are a slice, not another copy
    fresh = order[new[order]]
    found: dict[tuple[int, int], float] = {}
    for start in range(0, len(fresh), BLOCK):
        block = fresh[start : start + BLOCK]
        low = np.searchsorted(sorted_times, times[block].min() - window_s, side="left")
        high = np.searchsorted(sorted_times, times[block].max() + window_s, side="right")
        candidates = order[low:high]
        scores = matrix[block] @ by_time[low:high].T
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
    """Compare the monitor's posts embedded since the last search with the posts near them in time; store
    the pairs. Returns pairs found. Only those posts' vectors are read, and the text only of posts in a
    pair (to leave out the short ones), so a run costs what its new posts cost, not the whole store."""
    with engine.connect() as conn:
        scan = last_scan(conn, monitor, model)
        restart = scan is None or scan.threshold != threshold
        since = 0 if restart or scan is None else scan.last_post_id
        fresh = embedded_since(conn, monitor, model, since)
        if not fresh:
            return 0
        spans = time_spans([created for _, created in fresh], WINDOW)
        ids, times, authors, vectors = embedded_between(conn, monitor, model, spans)
        pairs = similar_pairs(times, authors, as_matrix(vectors), ids > since, threshold=threshold)
        paired = {int(ids[k]) for pair in pairs for k in pair[:2]}
        long_enough = {
            pid for pid, (title, text) in texts_of(conn, paired).items() if len(model_text(title, text)) >= MIN_CHARS
        }
    kept = [(int(ids[a]), int(ids[b]), s) for a, b, s in pairs if ids[a] in long_enough and ids[b] in long_enough]
    with engine.begin() as conn:
        save_pairs(
            conn,
            monitor,
            model,
            kept,
            last_post_id=max(pid for pid, _ in fresh),
            threshold=threshold,
            restart=restart,
        )
    return len(kept)


def time_spans(times: Sequence[datetime], reach: timedelta) -> list[tuple[datetime, datetime]]:
    """The moments within `reach` of any of `times`, as few disjoint (start, end) spans, in order."""
    spans: list[tuple[datetime, datetime]] = []
    for moment in sorted(times):
        start, end = moment - reach, moment + reach
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
    return spans
