"""Per-source health of a monitor's collection, computed from the run log, for `murmur status`.

A source's health in its latest run is one of:
- ``failed``: it stopped with an error (unreachable, an HTTP error, a broken walk);
- ``degraded``: it ran, but pages or items were lost, or it fetched nothing although it had pages
  and earlier runs fetched posts: its responses may have stopped matching the expected shape; the
  first reason (naming the offending field where the parser did) is in ``reason``;
- ``skipped``: it ran no search (each was held by another collector, or it had nothing to do);
- ``ok``: everything it was sent was read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from sqlalchemy import Connection, func, select

from store.analysis import monitor_post_ids
from store.schema import posts, runs
from store.timeutil import as_utc

_COUNTS = ("pages", "failed_pages", "fetched", "matched", "new", "updated", "skipped_items")


@dataclass(frozen=True)
class SourceHealth:
    source: str
    status: str  # ok, degraded, failed, skipped
    reason: str | None
    run_id: int
    started_at: datetime
    duration_s: float
    pages: int
    failed_pages: int
    fetched: int
    matched: int
    new: int
    updated: int
    skipped_items: int
    errors: list[str]
    last_ok_at: datetime | None  # when this source last finished a run with status ok


def source_health(conn: Connection, monitor: str, history: int = 20) -> list[SourceHealth]:
    """The health of every source in its latest live run of `monitor` (looking back `history` runs)."""
    rows = conn.execute(
        select(runs)
        .where(runs.c.monitor == monitor, runs.c.mode == "live", runs.c.status != "running")
        .order_by(runs.c.started_at.desc(), runs.c.id.desc())
        .limit(history)
    ).all()
    latest: dict[str, tuple] = {}
    earlier_fetched: dict[str, int] = {}
    last_ok: dict[str, datetime] = {}
    for row in rows:
        errors = json.loads(row.errors or "[]")
        for source, counts in json.loads(row.counts or "{}").items():
            if source not in latest:
                latest[source] = (row, counts, [e for e in errors if e.startswith(f"{source}:")])
            else:
                earlier_fetched[source] = earlier_fetched.get(source, 0) + int(counts.get("fetched", 0))
            if source not in last_ok and classify(counts)[0] == "ok":
                last_ok[source] = as_utc(row.finished_at or row.started_at)
    result = []
    for source, (row, counts, errors) in sorted(latest.items()):
        status, reason = classify(counts, earlier_fetched.get(source, 0))
        result.append(
            SourceHealth(
                source=source,
                status=status,
                reason=reason,
                run_id=row.id,
                started_at=as_utc(row.started_at),
                duration_s=float(counts.get("duration_s", 0.0)),
                errors=errors,
                last_ok_at=last_ok.get(source),
                **{name: int(counts.get(name, 0)) for name in _COUNTS},
            )
        )
    return result


def classify(counts: dict, earlier_fetched: int = 0) -> tuple[str, str | None]:
    """(status, reason) of one source's counts from one run (see the module docstring)."""
    if counts.get("error"):
        return "failed", str(counts["error"])
    pages = int(counts.get("pages", 0))
    if int(counts.get("failed_pages", 0)) or int(counts.get("skipped_items", 0)):
        lost = f"{counts.get('failed_pages', 0)} pages and {counts.get('skipped_items', 0)} items unreadable"
        shape = counts.get("shape_error")
        return "degraded", f"{lost}: {shape}" if shape else lost
    if pages and not int(counts.get("fetched", 0)) and earlier_fetched:
        return "degraded", f"{pages} pages held no posts although earlier runs fetched {earlier_fetched}"
    if not pages and not int(counts.get("searches", 1)):
        held = int(counts.get("held_elsewhere", 0))
        return "skipped", f"{held} searches held by another collector" if held else "nothing to search"
    return "ok", None


def collection_gaps(conn: Connection, monitor: str, longer_than: timedelta) -> list[tuple[datetime, datetime]]:
    """Stretches longer than `longer_than` with no live run of `monitor` finishing ok or partial:
    times when nothing was collected (the machine was off, cron stopped, every run failed)."""
    ends = [
        as_utc(moment)
        for moment in conn.execute(
            select(runs.c.finished_at)
            .where(runs.c.monitor == monitor, runs.c.mode == "live", runs.c.status.in_(("ok", "partial")))
            .order_by(runs.c.finished_at)
        ).scalars()
        if moment is not None
    ]
    return [(a, b) for a, b in pairwise(ends) if b - a > longer_than]


def empty_days(conn: Connection, monitor: str) -> list[datetime]:
    """Days between the monitor's first and last post with no post at all (UTC midnights)."""
    created = [
        as_utc(moment)
        for moment in conn.execute(
            select(posts.c.created_at).where(posts.c.id.in_(monitor_post_ids(monitor)))
        ).scalars()
    ]
    if not created:
        return []
    days = {moment.replace(hour=0, minute=0, second=0, microsecond=0) for moment in created}
    first, last = min(days), max(days)
    return [first + timedelta(days=i) for i in range((last - first).days + 1) if first + timedelta(days=i) not in days]


def post_counts(conn: Connection, monitor: str) -> dict[str, int]:
    """Stored posts of `monitor` per platform."""
    rows = conn.execute(
        select(posts.c.platform, func.count())
        .where(posts.c.id.in_(monitor_post_ids(monitor)))
        .group_by(posts.c.platform)
    ).all()
    return {platform: int(count) for platform, count in rows}
