"""Matching a refit's topics to the previous fit's, so a topic keeps its number as the discourse moves.

The method, in two signals:

1. **Shared posts.** Every post the previous fit placed is placed again by the new fit (fitted or
   assigned from the new centroids). For an old topic O and a new topic N, `w(O, N)` counts the
   posts of O that N now holds. O *flows into* N when that is at least `LINK_SHARE` of O's posts, or
   at least `LINK_SHARE` of N's posts that were already placed before: a merge takes most of each
   parent, a split gives each child a good part of the parent.
2. **Centroid similarity.** Shared posts can be coincidence between unrelated topics, so a link also
   needs the centroids to agree (cosine ≥ `LINK_MIN_SIMILARITY`). When an old topic shares no posts
   with the new fit at all (its posts were deleted or re-embedded), it still links to the most
   similar new centroid if that is as close as `CENTROID_MATCH`.

From the links, identities follow by mutual best match: N inherits O's number when O is N's
strongest parent and N is O's strongest child (strength = shared posts, then centroid similarity).
So each number goes to at most one new topic, and the rest is read off the links:

- inherited: *continued*, or *grew* when the topic is at least `GROWTH` times its old size;
- a new topic with no parent: *born* (a new number);
- a new topic whose parent's number went to a sibling: *split_from* that parent (a new number);
- an old topic whose number nobody inherited but that flows into a new topic: *merged_into* it;
- an old topic that flows nowhere: *faded*.

This beats BERTopic's own `merge_models` for the purpose: that one only compares topic embeddings,
so it cannot tell a merge or a split from a new topic, and it renumbers on every call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from store.topic_models import OUTLIER, TopicEvent

LINK_SHARE = 0.25
LINK_MIN_SIMILARITY = 0.3
CENTROID_MATCH = 0.85
GROWTH = 1.5


@dataclass(frozen=True)
class TopicSummary:
    """What lineage needs of a topic: its number (fit-local or durable), size, label and centroid."""

    topic: int
    size: int
    label: str
    centroid: np.ndarray | None


@dataclass(frozen=True)
class Lineage:
    numbers: dict[int, int]  # new fit-local topic → durable number (outliers stay -1)
    events: list[TopicEvent]


def match_topics(
    old: Sequence[TopicSummary],
    old_posts: tuple[np.ndarray, np.ndarray],
    new: Sequence[TopicSummary],
    new_posts: tuple[np.ndarray, np.ndarray],
    next_number: int,
) -> Lineage:
    """Durable numbers for the new fit's topics, and what happened to every old and new topic.

    `old_posts` and `new_posts` are (post ids, topics) pairs: the previous fit's placement, under
    durable numbers, and the new fit's, under its own numbers.
    """
    shared = _shared_posts(old_posts, new_posts)
    similarity = _similarity(old, new)
    old_index = {t.topic: i for i, t in enumerate(old)}
    new_index = {t.topic: j for j, t in enumerate(new)}
    old_placed = {t.topic: sum(c for (o, _), c in shared.items() if o == t.topic) for t in old}
    new_placed = {t.topic: sum(c for (_, n), c in shared.items() if n == t.topic) for t in new}

    links: dict[tuple[int, int], tuple[int, float]] = {}
    for (o, n), count in shared.items():
        if o not in old_index or n not in new_index:
            continue
        sim = similarity[old_index[o], new_index[n]]
        strong = count >= LINK_SHARE * old_placed[o] or count >= LINK_SHARE * new_placed[n]
        if strong and sim >= LINK_MIN_SIMILARITY:
            links[o, n] = (count, sim)
    for i, o in enumerate(old):
        if old_placed[o.topic] == 0 and len(new) and similarity.shape[1]:
            j = int(np.argmax(similarity[i]))
            if similarity[i, j] >= CENTROID_MATCH:
                links[o.topic, new[j].topic] = (0, float(similarity[i, j]))

    best_child = _strongest({o: [(n, s) for (oo, n), s in links.items() if oo == o] for o in old_index})
    best_parent = _strongest({n: [(o, s) for (o, nn), s in links.items() if nn == n] for n in new_index})

    numbers: dict[int, int] = {}
    events: list[TopicEvent] = []
    old_by_number = {t.topic: t for t in old}
    for t in new:
        parent = best_parent.get(t.topic)
        if parent is not None and best_child.get(parent) == t.topic:
            numbers[t.topic] = parent
            grew = t.size >= GROWTH * max(1, old_by_number[parent].size)
            events.append(TopicEvent(parent, "grew" if grew else "continued", t.size, t.label))
    for t in new:
        if t.topic in numbers:
            continue
        numbers[t.topic] = next_number
        next_number += 1
        parent = best_parent.get(t.topic)
        if parent is None:
            events.append(TopicEvent(numbers[t.topic], "born", t.size, t.label))
        else:
            events.append(TopicEvent(numbers[t.topic], "split_from", t.size, t.label, other=parent))
    inherited = set(numbers.values())
    for o in old:
        if o.topic in inherited:
            continue
        child = best_child.get(o.topic)
        if child is None:
            events.append(TopicEvent(o.topic, "faded", 0, o.label))
        else:
            events.append(TopicEvent(o.topic, "merged_into", 0, o.label, other=numbers[child]))
    numbers[OUTLIER] = OUTLIER
    return Lineage(numbers=numbers, events=events)


def _shared_posts(old_posts: tuple[np.ndarray, np.ndarray], new_posts: tuple[np.ndarray, np.ndarray]) -> dict:
    """{(old topic, new topic): posts in both}, over posts both fits placed in a real topic."""
    old_ids, old_topics = old_posts
    new_ids, new_topics = new_posts
    common, old_at, new_at = np.intersect1d(old_ids, new_ids, assume_unique=True, return_indices=True)
    if not len(common):
        return {}
    pairs = np.stack([old_topics[old_at], new_topics[new_at]], axis=1)
    pairs = pairs[(pairs[:, 0] != OUTLIER) & (pairs[:, 1] != OUTLIER)]
    keys, counts = np.unique(pairs, axis=0, return_counts=True)
    return {(int(o), int(n)): int(c) for (o, n), c in zip(keys, counts, strict=True)}


def _similarity(old: Sequence[TopicSummary], new: Sequence[TopicSummary]) -> np.ndarray:
    """Cosine similarity of centroids; a topic saved without a centroid counts as agreeing (1.0)."""
    matrix = np.ones((len(old), len(new)), dtype=np.float32)
    for i, o in enumerate(old):
        for j, n in enumerate(new):
            if o.centroid is not None and n.centroid is not None and len(o.centroid) == len(n.centroid):
                denominator = float(np.linalg.norm(o.centroid) * np.linalg.norm(n.centroid)) or 1.0
                matrix[i, j] = float(o.centroid @ n.centroid) / denominator
    return matrix


def _strongest(candidates: dict[int, list[tuple[int, tuple[int, float]]]]) -> dict[int, int]:
    """For each key, the partner with most shared posts, then highest similarity, then lowest number."""
    return {
        key: min(options, key=lambda option: (-option[1][0], -option[1][1], option[0]))[0]
        for key, options in candidates.items()
        if options
    }
