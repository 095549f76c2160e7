"""Near-duplicate posts: the pairs analysis found (analyze.near_duplicates) and the groups they form.

A group is a connected set of pairs: A like B and B like C put A, B and C together. The dashboard's
Voices page lists the groups that several authors wrote, possible copy-paste campaigns.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, select

from store.analysis import monitor_post_ids
from store.dialect import insert_ignore, upsert
from store.filters import PostFilter, scoped, topic_model_id
from store.schema import embeddings, posts, similar_posts, similar_scans
from store.timeutil import as_utc, utc_now

GROUP_COLUMNS = ["text", "posts", "authors", "sources", "first", "last", "similarity", "post_ids"]


@dataclass(frozen=True)
class Scan:
    last_post_id: int
    threshold: float


def last_scan(conn: Connection, monitor: str, model: str) -> Scan | None:
    row = conn.execute(
        select(similar_scans.c.last_post_id, similar_scans.c.threshold).where(
            similar_scans.c.monitor == monitor, similar_scans.c.model == model
        )
    ).first()
    return Scan(int(row.last_post_id), float(row.threshold)) if row else None


def embedded_since(conn: Connection, monitor: str, model: str, since: int) -> list[tuple[int, datetime]]:
    """(id, written at) of the monitor's posts with an id above `since` that have a `model` vector."""
    query = (
        select(posts.c.id, posts.c.created_at)
        .join(embeddings, and_(embeddings.c.post_id == posts.c.id, embeddings.c.model == model))
        .where(posts.c.id > since, posts.c.id.in_(monitor_post_ids(monitor)))
    )
    return [(row.id, as_utc(row.created_at)) for row in conn.execute(query)]


def embedded_between(
    conn: Connection, monitor: str, model: str, spans: Sequence[tuple[datetime, datetime]]
) -> tuple[np.ndarray, np.ndarray, list[str | None], np.ndarray]:
    """The monitor's posts with a `model` vector written within any of `spans`: ids, times (epoch
    seconds), author pseudonyms and vectors, in id order."""
    rows: dict[int, Any] = {}
    for start, end in spans:
        query = (
            select(posts.c.id, posts.c.created_at, posts.c.author_hash, embeddings.c.dim, embeddings.c.vector)
            .join(embeddings, and_(embeddings.c.post_id == posts.c.id, embeddings.c.model == model))
            .where(posts.c.created_at >= start, posts.c.created_at <= end, posts.c.id.in_(monitor_post_ids(monitor)))
        )
        rows.update((row.id, row) for row in conn.execute(query))
    ordered = [rows[pid] for pid in sorted(rows)]
    ids = np.array([row.id for row in ordered], dtype=np.int64)
    times = np.array([as_utc(row.created_at).timestamp() for row in ordered])
    vectors = (
        np.vstack([np.frombuffer(row.vector, dtype="<f4", count=row.dim) for row in ordered])
        if ordered
        else np.zeros((0, 0), dtype=np.float32)
    )
    return ids, times, [row.author_hash for row in ordered], vectors


def texts_of(conn: Connection, post_ids: Collection[int]) -> dict[int, tuple[str | None, str]]:
    """(title, text) of the given posts."""
    found: dict[int, tuple[str | None, str]] = {}
    ids = sorted(post_ids)
    for start in range(0, len(ids), 800):
        query = select(posts.c.id, posts.c.title, posts.c.text).where(posts.c.id.in_(ids[start : start + 800]))
        found.update((row.id, (row.title, row.text)) for row in conn.execute(query))
    return found


def save_pairs(
    conn: Connection,
    monitor: str,
    model: str,
    pairs: Sequence[tuple[int, int, float]],
    *,
    last_post_id: int,
    threshold: float,
    restart: bool = False,
) -> None:
    """Store found pairs (post id, other id, cosine) and how far the search has come."""
    if restart:
        conn.execute(similar_posts.delete().where(similar_posts.c.monitor == monitor))
    rows = [
        {"monitor": monitor, "post_id": min(a, b), "other_id": max(a, b), "similarity": round(float(s), 4)}
        for a, b, s in pairs
    ]
    for start in range(0, len(rows), 2000):
        conn.execute(insert_ignore(conn, similar_posts), rows[start : start + 2000])
    statement = upsert(conn, similar_scans).values(
        monitor=monitor, model=model, last_post_id=last_post_id, threshold=threshold, scanned_at=utc_now()
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[similar_scans.c.monitor, similar_scans.c.model],
            set_={
                "last_post_id": statement.excluded.last_post_id,
                "threshold": statement.excluded.threshold,
                "scanned_at": statement.excluded.scanned_at,
            },
        )
    )


def near_duplicate_groups(
    conn: Connection, monitor: str, where: PostFilter, *, min_authors: int = 2, limit: int = 20
) -> pd.DataFrame:
    """Groups of near-identical posts (by embedding) within the filter, most authors first.

    Columns: text (the earliest post's title and text), posts, authors, sources, first, last, similarity (the
    lowest cosine inside the group), post_ids (tuple, oldest first).
    """
    query = select(similar_posts.c.post_id, similar_posts.c.other_id, similar_posts.c.similarity).where(
        similar_posts.c.monitor == monitor
    )
    pairs = conn.execute(query).all()  # few: near duplicates are rare, and only they are stored
    if pairs and where != PostFilter():
        passing = _passing(conn, monitor, where, {pid for p in pairs for pid in (p.post_id, p.other_id)})
        pairs = [p for p in pairs if p.post_id in passing and p.other_id in passing]
    if not pairs:
        return pd.DataFrame(columns=GROUP_COLUMNS)
    groups = _components([(p.post_id, p.other_id) for p in pairs])
    lowest: dict[int, float] = {}
    root_of = {pid: root for root, members in groups.items() for pid in members}
    for p in pairs:
        root = root_of[p.post_id]
        lowest[root] = min(lowest.get(root, 1.0), float(p.similarity))
    ids = sorted(root_of)
    details = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        query = select(
            posts.c.id, posts.c.created_at, posts.c.author_hash, posts.c.platform, posts.c.title, posts.c.text
        )
        details.update({row.id: row for row in conn.execute(query.where(posts.c.id.in_(chunk)))})
    records: list[dict[str, Any]] = []
    for root, members in groups.items():
        rows = sorted((details[pid] for pid in members if pid in details), key=lambda r: (as_utc(r.created_at), r.id))
        authors = {r.author_hash for r in rows if r.author_hash}
        if len(authors) < min_authors:
            continue
        records.append(
            {
                "text": " — ".join(part for part in (rows[0].title, rows[0].text) if part),
                "posts": len(rows),
                "authors": len(authors),
                "sources": len({r.platform for r in rows}),
                "first": as_utc(rows[0].created_at),
                "last": as_utc(rows[-1].created_at),
                "similarity": lowest[root],
                "post_ids": tuple(r.id for r in rows),
            }
        )
    records.sort(key=lambda r: (-r["authors"], -r["posts"], r["first"]))
    frame = pd.DataFrame(records[:limit], columns=GROUP_COLUMNS)
    frame["first"] = pd.to_datetime(frame["first"], utc=True)
    frame["last"] = pd.to_datetime(frame["last"], utc=True)
    return frame


def _passing(conn: Connection, monitor: str, where: PostFilter, ids: set[int]) -> set[int]:
    """Those of `ids` that pass the filter."""
    model_id = topic_model_id(conn, monitor)
    found: set[int] = set()
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        query = scoped(conn, monitor, where, select(posts.c.id), model_id)
        found.update(conn.execute(query.where(posts.c.id.in_(ordered[start : start + 500]))).scalars())
    return found


def _components(edges: Sequence[tuple[int, int]]) -> dict[int, list[int]]:
    """Connected components of the pairs, keyed by their smallest post id."""
    parent: dict[int, int] = {}

    def find(node: int) -> int:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for node in list(parent):
        groups.setdefault(find(node), []).append(node)
    return {root: sorted(members) for root, members in groups.items()}


def as_matrix(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (cosine by dot product), float32."""
    matrix = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)
