"""Run manifests in the store: written once at the end of each collection or analysis run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from store.schema import manifests
from store.timeutil import as_utc


@dataclass(frozen=True)
class StoredManifest:
    id: int
    monitor: str
    kind: str
    run_id: int | None
    started_at: datetime
    finished_at: datetime
    manifest: dict[str, Any]

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


def save_manifest(
    conn: Connection,
    *,
    monitor: str,
    kind: str,
    started_at: datetime,
    finished_at: datetime,
    manifest: dict[str, Any],
    run_id: int | None = None,
) -> None:
    conn.execute(
        manifests.insert().values(
            monitor=monitor,
            kind=kind,
            run_id=run_id,
            started_at=started_at,
            finished_at=finished_at,
            manifest=json.dumps(manifest, ensure_ascii=False, sort_keys=True, default=str),
        )
    )


def recent_manifests(
    conn: Connection, monitor: str | None = None, kind: str | None = None, limit: int = 5
) -> list[StoredManifest]:
    """The latest manifests, newest first, of one monitor and kind (or all)."""
    query = select(manifests).order_by(manifests.c.finished_at.desc(), manifests.c.id.desc()).limit(limit)
    if monitor is not None:
        query = query.where(manifests.c.monitor == monitor)
    if kind is not None:
        query = query.where(manifests.c.kind == kind)
    return [_stored(row) for row in conn.execute(query)]


def run_manifests(conn: Connection, run_ids: list[int]) -> dict[int, StoredManifest]:
    """The manifest of each collection run in `run_ids` that has one."""
    if not run_ids:
        return {}
    query = select(manifests).where(manifests.c.kind == "collect", manifests.c.run_id.in_(run_ids))
    return {row.run_id: _stored(row) for row in conn.execute(query)}


def _stored(row: Any) -> StoredManifest:
    return StoredManifest(
        id=row.id,
        monitor=row.monitor,
        kind=row.kind,
        run_id=row.run_id,
        started_at=as_utc(row.started_at),
        finished_at=as_utc(row.finished_at),
        manifest=json.loads(row.manifest),
    )
