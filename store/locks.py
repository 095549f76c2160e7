"""Locks between processes that share one store, released by the operating system or the server when
their holder dies, so a crashed or killed process never leaves a lock behind to be cleaned up.

PostgreSQL: session advisory locks (`pg_try_advisory_lock`) held on a connection of their own; the
server drops them when that connection ends, and TCP keepalives on it make a host that vanished
(power, network) count as ended within about a minute. SQLite: `flock` on a lock file beside the
database file; the kernel drops it when the process exits, however it exits. A SQLite file is only
ever shared by the processes of one machine, so a file lock is all it needs. An in-memory SQLite
database belongs to one process: nothing to lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

# A peer that stops answering loses its PostgreSQL locks after idle + interval × count seconds.
_KEEPALIVE = ("SET tcp_keepalives_idle = 20", "SET tcp_keepalives_interval = 5", "SET tcp_keepalives_count = 4")


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for a lock name (PostgreSQL advisory locks take a bigint)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def sqlite_lock_path(database: str, name: str) -> Path:
    """The lock file for `name` beside a SQLite database file."""
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return Path(f"{database}.locks") / f"{digest}.lock"


class Lock:
    """A held lock; `release()` (or leaving the `hold` block) frees it."""

    def __init__(self, release: Callable[[], None]) -> None:
        self._release = release
        self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            self._release()


def try_lock(engine: Engine, name: str) -> Lock | None:
    """Take the lock `name` without waiting; None when another live process holds it."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        return _try_advisory(engine, name)
    database = url.database
    if not database or database == ":memory:":
        return Lock(lambda: None)
    return _try_flock(sqlite_lock_path(database, name), blocking=False)


@contextmanager
def hold(engine: Engine, name: str) -> Iterator[None]:
    """Wait for the lock `name`, hold it for the block (for short critical sections like migrations)."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": lock_key(name)})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(name)})
                conn.commit()
        return
    database = url.database
    if not database or database == ":memory:":
        yield
        return
    lock = _try_flock(sqlite_lock_path(database, name), blocking=True)
    assert lock is not None
    try:
        yield
    finally:
        lock.release()


def _try_advisory(engine: Engine, name: str) -> Lock | None:
    conn = engine.connect()
    try:
        for statement in _KEEPALIVE:
            conn.execute(text(statement))
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_key(name)}).scalar()
        conn.commit()
    except BaseException:
        conn.close()
        raise
    if not got:
        conn.close()
        return None

    def release() -> None:
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(name)})
            conn.commit()
        finally:
            conn.close()

    return Lock(release)


def _try_flock(path: Path, *, blocking: bool) -> Lock | None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(descriptor)
        return None
    except BaseException:
        os.close(descriptor)
        raise

    def release() -> None:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)

    return Lock(release)
