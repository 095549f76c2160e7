"""Narrative scores in the store: written by the analysis, read by spikes, exports and the dashboard.

Every post of a monitor has one score per narrative; `member` says whether it passed the threshold.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete, select

from store.analysis import monitor_post_ids
from store.schema import narrative_sets, post_narratives, posts
from store.timeutil import as_utc, utc_now

CHUNK = 800


@dataclass(frozen=True)
class NarrativePost:
    post_id: int
    score: float
    created_at: datetime
    url: str | None
    text: str  # the title (if any) and the text


def stored_fingerprint(conn: Connection, monitor: str) -> str | None:
    row = conn.execute(select(narrative_sets.c.fingerprint).where(narrative_sets.c.monitor == monitor)).first()
    return row.fingerprint if row else None


def forget_narratives(conn: Connection, monitor: str) -> None:
    """Drop every score of the monitor (its narratives changed, or it has none any more)."""
    conn.execute(delete(post_narratives).where(post_narratives.c.monitor == monitor))
    conn.execute(delete(narrative_sets).where(narrative_sets.c.monitor == monitor))


def record_definitions(conn: Connection, monitor: str, fingerprint: str, model: str, definitions: list[dict]) -> None:
    conn.execute(delete(narrative_sets).where(narrative_sets.c.monitor == monitor))
    conn.execute(
        narrative_sets.insert().values(
            monitor=monitor,
            fingerprint=fingerprint,
            model=model,
            definitions=json.dumps(definitions, ensure_ascii=False),
            scored_at=utc_now(),
        )
    )


def scored_post_ids(conn: Connection, monitor: str) -> set[int]:
    query = select(post_narratives.c.post_id).where(post_narratives.c.monitor == monitor).distinct()
    return set(conn.execute(query).scalars())


def save_scores(
    conn: Connection,
    monitor: str,
    post_ids: Sequence[int],
    names: Sequence[str],
    scores: np.ndarray,
    thresholds: Sequence[float],
) -> None:
    """Store `scores` (posts × narratives) and the memberships they imply."""
    rows = [
        {
            "monitor": monitor,
            "narrative": name,
            "post_id": int(pid),
            "score": round(float(scores[i, j]), 4),
            "member": bool(scores[i, j] >= thresholds[j]),
        }
        for i, pid in enumerate(post_ids)
        for j, name in enumerate(names)
    ]
    if rows:
        conn.execute(post_narratives.insert(), rows)


def memberships(conn: Connection, monitor: str) -> dict[int, tuple[str, ...]]:
    """post id → the narratives it belongs to (posts in none are left out)."""
    query = (
        select(post_narratives.c.post_id, post_narratives.c.narrative)
        .where(post_narratives.c.monitor == monitor, post_narratives.c.member.is_(True))
        .order_by(post_narratives.c.post_id, post_narratives.c.narrative)
    )
    found: dict[int, list[str]] = {}
    for row in conn.execute(query):
        found.setdefault(row.post_id, []).append(row.narrative)
    return {pid: tuple(names) for pid, names in found.items()}


def post_scores(conn: Connection, monitor: str, post_ids: Sequence[int]) -> dict[int, dict[str, tuple[float, bool]]]:
    """post id → narrative → (score, member), for the given posts."""
    found: dict[int, dict[str, tuple[float, bool]]] = {}
    ids = list(post_ids)
    for start in range(0, len(ids), CHUNK):
        query = select(post_narratives).where(
            post_narratives.c.monitor == monitor, post_narratives.c.post_id.in_(ids[start : start + CHUNK])
        )
        for row in conn.execute(query):
            found.setdefault(row.post_id, {})[row.narrative] = (row.score, bool(row.member))
    return found


def narrative_share(conn: Connection, monitor: str, freq: str = "D") -> pd.DataFrame:
    """Each narrative's share of the monitor's posts per period (`freq`: "D" days, "h" hours).

    Columns: period (UTC), narrative, posts (members), total (all posts that period), share.
    """
    totals_query = select(posts.c.id, posts.c.created_at).where(posts.c.id.in_(monitor_post_ids(monitor)))
    totals = pd.DataFrame(conn.execute(totals_query).all(), columns=["id", "created_at"])
    members_query = select(post_narratives.c.post_id, post_narratives.c.narrative).where(
        post_narratives.c.monitor == monitor, post_narratives.c.member.is_(True)
    )
    members = pd.DataFrame(conn.execute(members_query).all(), columns=["id", "narrative"])
    columns = ["period", "narrative", "posts", "total", "share"]
    if totals.empty or members.empty:
        return pd.DataFrame(columns=columns)
    totals["period"] = pd.to_datetime(totals["created_at"], utc=True).dt.floor(freq)
    per_period = totals.groupby("period").size().rename("total")
    counted = members.merge(totals[["id", "period"]], on="id").groupby(["period", "narrative"]).size().rename("posts")
    frame = counted.reset_index().join(per_period, on="period")
    frame["share"] = frame["posts"] / frame["total"]
    return frame[columns].sort_values(["period", "narrative"]).reset_index(drop=True)


def top_narrative_posts(conn: Connection, monitor: str, narrative: str, limit: int = 10) -> list[NarrativePost]:
    """The posts closest to a narrative, among its members, highest score first."""
    query = (
        select(
            post_narratives.c.post_id,
            post_narratives.c.score,
            posts.c.created_at,
            posts.c.url,
            posts.c.title,
            posts.c.text,
        )
        .join(posts, posts.c.id == post_narratives.c.post_id)
        .where(
            post_narratives.c.monitor == monitor,
            post_narratives.c.narrative == narrative,
            post_narratives.c.member.is_(True),
        )
        .order_by(post_narratives.c.score.desc(), post_narratives.c.post_id)
        .limit(limit)
    )
    return [
        NarrativePost(r.post_id, r.score, as_utc(r.created_at), r.url, "\n".join(filter(None, (r.title, r.text))))
        for r in conn.execute(query)
    ]
