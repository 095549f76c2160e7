"""What a collection run writes: posts (upserted), the run log, which run found which post, cursors.

Every write is an upsert (INSERT … ON CONFLICT), so any number of collectors may write to one store
at once. A post that comes back unchanged is not written again and not linked to the run again:
`run_posts` links a post to the run that first found it and to each run that saw it changed (and
to the first run of any other monitor that finds it), so it grows with news, not with polling.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, delete, not_, or_, select, tuple_, update

from monitor.normalize import normalize
from store.authors import author_key, pseudonymise
from store.dialect import insert_ignore, upsert
from store.post import Post, clean_text
from store.schema import cursors, posts, run_posts, runs, tombstones
from store.timeutil import as_utc, utc_now

# Fields a platform may change after first collection (edits, growing engagement).
_MUTABLE = ("url", "title", "text", "search_text", "likes", "reposts", "replies", "raw")
# A `running` run on another host whose heartbeat is older than this is taken to be dead.
STALE_AFTER = timedelta(minutes=30)
HOST = socket.gethostname()[:255]
_CHUNK = 400  # rows per statement: under every backend's bound-parameter limit


@dataclass(frozen=True)
class SaveResult:
    new: int
    updated: int
    unchanged: int = 0
    deleted: int = 0
    refused: int = 0  # tombstoned: forgotten authors or posts


def start_run(conn: Connection, monitor: str, mode: str) -> int:
    """Record the start of a run; `mode` is "live" or "demo"."""
    now = utc_now()
    result = conn.execute(
        runs.insert().values(
            monitor=monitor,
            mode=mode,
            started_at=now,
            status="running",
            counts="{}",
            errors="[]",
            host=HOST,
            pid=os.getpid(),
            heartbeat_at=now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None  # an INSERT of one row always has its key
    return int(key[0])


def heartbeat(conn: Connection, run_id: int) -> None:
    """Show that the run is alive (called with each page it commits)."""
    conn.execute(update(runs).where(runs.c.id == run_id).values(heartbeat_at=utc_now()))


def finish_run(conn: Connection, run_id: int, status: str, counts: dict, errors: Sequence[str]) -> None:
    now = utc_now()
    conn.execute(
        update(runs)
        .where(runs.c.id == run_id)
        .values(
            finished_at=now,
            heartbeat_at=now,
            status=status,
            counts=json.dumps(counts, sort_keys=True),
            errors=json.dumps(list(errors), ensure_ascii=False),
        )
    )


def interrupt_stale_runs(conn: Connection, monitor: str | None = None) -> list[int]:
    """Mark `running` runs whose process is gone as `interrupted`; returns their ids.

    A run on this host is dead when its process no longer exists; a run on another host when it
    has not shown life for STALE_AFTER. The rows are read in full before any is updated: on SQLite
    an update while the select is still open would upgrade a read snapshot to a write, which fails
    at once with "database is locked" (no busy wait) whenever another collector has committed since.
    """
    query = select(runs.c.id, runs.c.host, runs.c.pid, runs.c.heartbeat_at, runs.c.started_at).where(
        runs.c.status == "running"
    )
    if monitor is not None:
        query = query.where(runs.c.monitor == monitor)
    now = utc_now()
    stale = []
    for row in conn.execute(query).all():
        last_sign = as_utc(row.heartbeat_at or row.started_at)
        if row.host == HOST and row.pid is not None:
            dead = row.pid != os.getpid() and not _process_exists(row.pid)
        else:
            dead = now - last_sign > STALE_AFTER
        if dead:
            stale.append(row.id)
            conn.execute(
                update(runs)
                .where(runs.c.id == row.id, runs.c.status == "running")
                .values(
                    status="interrupted",
                    finished_at=last_sign,
                    errors=json.dumps(["the collecting process died; what it committed is kept"]),
                )
            )
    return stale


def save_posts(
    conn: Connection,
    batch: Iterable[Post],
    *,
    run_id: int,
    source: str,
    keep_handles: bool = False,
    demo: bool = False,
) -> SaveResult:
    """Insert new posts, refresh changed ones, delete those the platform deleted, link news to the run.

    Authors are pseudonymised here, the one place posts enter the store; the handle is kept only
    when `keep_handles` is set by the monitor. Tombstoned authors and posts are refused. Live data
    clears the demo flag of a post it meets; demo data never flags a live post.
    """
    unique = {(p.platform, p.native_id): p for p in batch}
    gone = [key for key, post in unique.items() if post.deleted]
    deleted = _delete_posts(conn, gone) if gone else 0
    if not (live := [post for post in unique.values() if not post.deleted]):
        return SaveResult(0, 0, deleted=deleted)
    key = author_key(conn)
    now = utc_now()
    rows = _without_tombstoned(conn, [_row(post, key, keep_handles, demo, now) for post in live])
    refused = len(live) - len(rows)
    rows.sort(key=lambda r: (r["platform"], r["native_id"]))  # one lock order for all writers: no deadlock
    keys = [(r["platform"], r["native_id"]) for r in rows]
    existing = _ids_for(conn, keys)
    touched: dict[tuple[str, str], int] = {}
    insert = upsert(conn, posts)
    excluded = insert.excluded
    changed = or_(
        *(posts.c[name].is_distinct_from(excluded[name]) for name in _MUTABLE),
        and_(posts.c.demo, not_(excluded.demo)),
    )
    statement = insert.on_conflict_do_update(
        index_elements=[posts.c.platform, posts.c.native_id],
        set_={
            **{name: excluded[name] for name in (*_MUTABLE, "collected_at")},
            "demo": and_(posts.c.demo, excluded.demo),
        },
        where=changed,
    ).returning(posts.c.id, posts.c.platform, posts.c.native_id)
    for start in range(0, len(rows), _CHUNK):
        for row in conn.execute(statement, rows[start : start + _CHUNK]):
            touched[(row.platform, row.native_id)] = row.id
    unchanged = [k for k in keys if k not in touched]
    known_unchanged = [existing[k] for k in unchanged if k in existing]
    link_ids = list(touched.values()) + _unlinked_for_monitor(conn, run_id, known_unchanged)
    if link_ids:
        conn.execute(
            insert_ignore(conn, run_posts), [{"run_id": run_id, "post_id": pid, "source": source} for pid in link_ids]
        )
    new = sum(1 for k in touched if k not in existing)
    return SaveResult(new=new, updated=len(touched) - new, unchanged=len(unchanged), deleted=deleted, refused=refused)


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

    The state is opaque here: the source that wrote it decides how to resume from it. An upsert, so
    two writers of one cursor never collide.
    """
    where = (cursors.c.monitor == monitor, cursors.c.source == source, cursors.c.search == search)
    conn.execute(delete(cursors).where(*where, cursors.c.options_key == LEGACY_KEY))
    statement = upsert(conn, cursors).values(
        monitor=monitor,
        source=source,
        search=search,
        options_key=key,
        state=json.dumps(state, ensure_ascii=False, sort_keys=True),
        updated_at=utc_now(),
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[cursors.c.monitor, cursors.c.source, cursors.c.search, cursors.c.options_key],
            set_={"state": statement.excluded.state, "updated_at": statement.excluded.updated_at},
        )
    )


def _row(post: Post, key: bytes, keep_handles: bool, demo: bool, now: datetime) -> dict:
    return {
        "platform": post.platform,
        "native_id": post.native_id,
        "url": post.url,
        "author_hash": pseudonymise(key, post.platform, post.author),
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
        # json.dumps escapes NUL; a lone surrogate in a raw value would still reach the database.
        "raw": clean_text(json.dumps(post.raw, ensure_ascii=False, sort_keys=True, default=str)),
        "demo": demo,
        "search_text": normalize(post.searchable_text),
    }


def _without_tombstoned(conn: Connection, rows: list[dict]) -> list[dict]:
    platforms = {r["platform"] for r in rows}
    stones = {
        (row.platform, row.kind, row.value)
        for row in conn.execute(
            select(tombstones.c.platform, tombstones.c.kind, tombstones.c.value).where(
                tombstones.c.platform.in_(platforms)
            )
        )
    }
    if not stones:
        return rows
    return [
        r
        for r in rows
        if (r["platform"], "post", r["native_id"]) not in stones
        and (r["platform"], "author", r["author_hash"]) not in stones
    ]


def _delete_posts(conn: Connection, keys: list[tuple[str, str]]) -> int:
    ids = list(_ids_for(conn, keys).values())
    for start in range(0, len(ids), _CHUNK):
        conn.execute(delete(posts).where(posts.c.id.in_(ids[start : start + _CHUNK])))
    return len(ids)


def _unlinked_for_monitor(conn: Connection, run_id: int, values: list[int]) -> list[int]:
    """Those of the unchanged posts `values` no run of this run's monitor has linked yet (another
    monitor found them first)."""
    if not values:
        return []
    monitor = select(runs.c.monitor).where(runs.c.id == run_id).scalar_subquery()
    linked: set[int] = set()
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        linked.update(
            conn.execute(
                select(run_posts.c.post_id)
                .join(runs, runs.c.id == run_posts.c.run_id)
                .where(runs.c.monitor == monitor, run_posts.c.post_id.in_(chunk))
            ).scalars()
        )
    return [pid for pid in values if pid not in linked]


def _ids_for(conn: Connection, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    keys = list(keys)
    found: dict[tuple[str, str], int] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        query = select(posts.c.platform, posts.c.native_id, posts.c.id).where(
            tuple_(posts.c.platform, posts.c.native_id).in_(chunk)
        )
        found.update({(row.platform, row.native_id): row.id for row in conn.execute(query)})
    return found


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
