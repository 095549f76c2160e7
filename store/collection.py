"""What a collection run writes: posts (upserted), the run log, which run found which post, cursors."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, select, tuple_, update

from monitor.normalize import normalize
from store.authors import author_salt, pseudonymise
from store.post import Post
from store.schema import cursors, posts, run_posts, runs
from store.timeutil import as_utc, utc_now

# Fields a platform may change after first collection (edits, growing engagement).
_MUTABLE = ("url", "title", "text", "search_text", "likes", "reposts", "replies", "raw")


@dataclass(frozen=True)
class SaveResult:
    new: int
    updated: int


def start_run(conn: Connection, monitor: str, mode: str) -> int:
    """Record the start of a run; `mode` is "live" or "demo"."""
    result = conn.execute(
        runs.insert().values(
            monitor=monitor, mode=mode, started_at=utc_now(), status="running", counts="{}", errors="[]"
        )
    )
    return int(result.inserted_primary_key[0])


def finish_run(conn: Connection, run_id: int, status: str, counts: dict, errors: Sequence[str]) -> None:
    conn.execute(
        update(runs)
        .where(runs.c.id == run_id)
        .values(
            finished_at=utc_now(),
            status=status,
            counts=json.dumps(counts, sort_keys=True),
            errors=json.dumps(list(errors), ensure_ascii=False),
        )
    )


def save_posts(
    conn: Connection,
    batch: Iterable[Post],
    *,
    run_id: int,
    source: str,
    keep_handles: bool = False,
    demo: bool = False,
) -> SaveResult:
    """Insert new posts, refresh known ones, and link all of them to the run.

    Authors are pseudonymised here, the one place posts enter the store; the handle is kept only
    when `keep_handles` is set by the monitor.
    """
    unique = {(p.platform, p.native_id): p for p in batch}
    if not unique:
        return SaveResult(0, 0)
    salt = author_salt(conn)
    now = utc_now()
    existing = _ids_for(conn, unique.keys())
    rows = [_row(post, salt, keep_handles, demo, now) for post in unique.values()]
    new_rows = [r for r in rows if (r["platform"], r["native_id"]) not in existing]
    old_rows = [r for r in rows if (r["platform"], r["native_id"]) in existing]
    if new_rows:
        conn.execute(posts.insert(), new_rows)
    if old_rows:
        conn.execute(
            update(posts)
            .where(posts.c.id == bindparam("_id"))
            .values({name: bindparam(name) for name in (*_MUTABLE, "collected_at")}),
            [
                {"_id": existing[(r["platform"], r["native_id"])], **{k: r[k] for k in (*_MUTABLE, "collected_at")}}
                for r in old_rows
            ],
        )
    ids = _ids_for(conn, unique.keys())
    linked = _linked(conn, run_id, ids.values())
    links = [{"run_id": run_id, "post_id": pid, "source": source} for pid in ids.values() if pid not in linked]
    if links:
        conn.execute(run_posts.insert(), links)
    return SaveResult(new=len(new_rows), updated=len(old_rows))


# The key of cursors saved before keys included the options' hash (store migration 2).
LEGACY_KEY = ""


def get_cursor(conn: Connection, monitor: str, source: str, search: str, key: str) -> dict | None:
    """The source's saved state for this search and options key, or None for a fresh start.

    A cursor saved before keys had an options hash is read as this key's until one is saved.
    """
    rows = conn.execute(
        select(cursors.c.options_key, cursors.c.state).where(
            cursors.c.monitor == monitor,
            cursors.c.source == source,
            cursors.c.search == search,
            cursors.c.options_key.in_([key, LEGACY_KEY]),
        )
    ).all()
    found = {row.options_key: row.state for row in rows}
    value = found.get(key, found.get(LEGACY_KEY))
    if value is None:
        return None
    state = json.loads(value)
    return state if isinstance(state, dict) else None


def set_cursor(conn: Connection, monitor: str, source: str, search: str, key: str, state: dict) -> None:
    """Save a source's state for this search and options key (replacing a legacy cursor, if any).

    The state is opaque here: the source that wrote it decides how to resume from it.
    """
    where = (cursors.c.monitor == monitor, cursors.c.source == source, cursors.c.search == search)
    conn.execute(delete(cursors).where(*where, cursors.c.options_key.in_([key, LEGACY_KEY])))
    conn.execute(
        cursors.insert().values(
            monitor=monitor,
            source=source,
            search=search,
            options_key=key,
            state=json.dumps(state, ensure_ascii=False, sort_keys=True),
            updated_at=utc_now(),
        )
    )


def _row(post: Post, salt: bytes, keep_handles: bool, demo: bool, now: datetime) -> dict:
    return {
        "platform": post.platform,
        "native_id": post.native_id,
        "url": post.url,
        "author_hash": pseudonymise(salt, post.platform, post.author),
        "author_handle": post.author if keep_handles else None,
        "title": post.title,
        "text": post.text,
        "platform_language": post.language,
        "created_at": as_utc(post.created_at),
        "collected_at": now,
        "reply_to": post.reply_to,
        "quote_of": post.quote_of,
        "thread_id": post.thread_id,
        "likes": post.likes,
        "reposts": post.reposts,
        "replies": post.replies,
        "raw": json.dumps(post.raw, ensure_ascii=False, sort_keys=True),
        "demo": demo,
        "search_text": normalize(post.searchable_text),
    }


def _ids_for(conn: Connection, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    keys = list(keys)
    found: dict[tuple[str, str], int] = {}
    for start in range(0, len(keys), 400):  # stay under every backend's bound-parameter limit
        chunk = keys[start : start + 400]
        query = select(posts.c.platform, posts.c.native_id, posts.c.id).where(
            tuple_(posts.c.platform, posts.c.native_id).in_(chunk)
        )
        found.update({(row.platform, row.native_id): row.id for row in conn.execute(query)})
    return found


def _linked(conn: Connection, run_id: int, post_ids: Iterable[int]) -> set[int]:
    ids = list(post_ids)
    linked: set[int] = set()
    for start in range(0, len(ids), 800):
        chunk = ids[start : start + 800]
        query = select(run_posts.c.post_id).where(run_posts.c.run_id == run_id, run_posts.c.post_id.in_(chunk))
        linked.update(conn.execute(query).scalars())
    return linked
