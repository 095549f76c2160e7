"""Deleting data on purpose: retention, forgetting a person or a post (with a tombstone that keeps
it from coming back), and purging the bundled demo data.

Deleting a post deletes its analysis, embeddings, topic assignments and run links with it (the
foreign keys cascade). A tombstone keeps only what is needed to refuse the post again: the
platform and the author's pseudonym or the post's native id.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, select

from store.analysis import monitor_post_ids
from store.authors import author_key, pseudonymise
from store.dialect import insert_ignore
from store.schema import posts, runs, tombstones
from store.timeutil import utc_now

_CHUNK = 400


def delete_posts(conn: Connection, post_ids: Sequence[int]) -> int:
    """Delete posts by id, with everything derived from them; returns how many."""
    ids = list(post_ids)
    for start in range(0, len(ids), _CHUNK):
        conn.execute(delete(posts).where(posts.c.id.in_(ids[start : start + _CHUNK])))
    return len(ids)


def apply_retention(conn: Connection, monitor: str, days: int, now: datetime | None = None) -> int:
    """Delete the monitor's posts created more than `days` days ago; returns how many."""
    cutoff = (now or utc_now()) - timedelta(days=days)
    old = conn.execute(
        select(posts.c.id).where(posts.c.id.in_(monitor_post_ids(monitor)), posts.c.created_at < cutoff)
    ).scalars()
    return delete_posts(conn, list(old))


def forget_author(conn: Connection, platform: str, handle: str) -> int:
    """Delete every post of this author on this platform and tombstone the author; returns how many."""
    pseudonym = pseudonymise(author_key(conn), platform, handle)
    assert pseudonym is not None
    _tombstone(conn, platform, "author", pseudonym)
    ids = conn.execute(
        select(posts.c.id).where(posts.c.platform == platform, posts.c.author_hash == pseudonym)
    ).scalars()
    return delete_posts(conn, list(ids))


def forget_post(conn: Connection, platform: str, native_id: str) -> int:
    """Delete one post and tombstone it; returns how many posts were deleted (0 or 1)."""
    _tombstone(conn, platform, "post", native_id)
    ids = conn.execute(select(posts.c.id).where(posts.c.platform == platform, posts.c.native_id == native_id)).scalars()
    return delete_posts(conn, list(ids))


def post_for_url(conn: Connection, url: str) -> tuple[str, str] | None:
    """(platform, native id) of the stored post with this URL (ignoring a trailing slash or fragment)."""
    wanted = re.sub(r"#.*$", "", url.strip()).rstrip("/")
    for candidate in (wanted, wanted + "/"):
        row = conn.execute(select(posts.c.platform, posts.c.native_id).where(posts.c.url == candidate)).first()
        if row:
            return row.platform, row.native_id
    return None


def remove_demo(conn: Connection) -> tuple[int, int]:
    """Delete the demo posts and the demo runs; returns (posts, runs) deleted. Live data is untouched:
    a post that live collection also found is no longer flagged demo."""
    ids = list(conn.execute(select(posts.c.id).where(posts.c.demo.is_(True))).scalars())
    deleted = delete_posts(conn, ids)
    demo_runs = conn.execute(delete(runs).where(runs.c.mode == "demo"))
    return deleted, demo_runs.rowcount


def _tombstone(conn: Connection, platform: str, kind: str, value: str) -> None:
    conn.execute(
        insert_ignore(conn, tombstones), [{"platform": platform, "kind": kind, "value": value, "created_at": utc_now()}]
    )
