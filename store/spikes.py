"""What spike detection reads (each post with its slices) and writes (the spikes, and alerts sent).

Spikes are recomputed from all the monitor's posts by every analysis, so `save_spikes` replaces
the monitor's set; which spikes were announced lives in `spike_alerts`, which survives that.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, and_, delete, select

from store.analysis import monitor_post_ids
from store.schema import post_analysis, post_topics, posts, spike_alerts, spikes, topics
from store.timeutil import as_utc, utc_now
from store.topic_models import latest_topic_model

SNIPPET = 280


@dataclass(frozen=True)
class PostEvent:
    """One post as the spike detector sees it."""

    id: int
    created_at: datetime
    source: str
    language: str | None = None
    topic: str | None = None  # durable topic id or label, as text; None = no topic
    narratives: tuple[str, ...] = ()
    sentiment: float | None = None  # -1 … 1
    engagement: int = 0
    url: str | None = None
    snippet: str = ""


@dataclass
class Spike:
    series: str
    granularity: str
    start: datetime
    end: datetime
    posts: int
    baseline: float
    peak: int
    drivers: list[dict] = field(default_factory=list)
    top_posts: dict[str, list[dict]] = field(default_factory=dict)
    sentiment: dict[str, float | None] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, datetime]:
        """What identifies a spike across runs: a growing spike keeps its series, bins and start."""
        return (self.series, self.granularity, self.start)


@dataclass(frozen=True)
class StoredSpike:
    id: int
    monitor: str
    series: str
    granularity: str
    start: datetime
    end: datetime
    posts: int
    baseline: float
    peak: int
    drivers: list[dict]
    top_posts: dict[str, list[dict]]
    sentiment: dict[str, float | None]

    @property
    def key(self) -> tuple[str, str, datetime]:
        return (self.series, self.granularity, self.start)


def spike_events(
    conn: Connection, monitor: str, narratives: dict[int, tuple[str, ...]] | None = None
) -> tuple[list[PostEvent], dict[str, str]]:
    """Every post of the monitor as a PostEvent, and labels for its topics ("topic:3" → label).

    The events carry no text or link: reading every post's text on every run cost seconds at 100,000
    posts, and only a spike's few top posts need theirs (save_spikes adds them).

    Topics come from the monitor's latest topic model (the -1 "no topic" group is left out);
    `narratives` maps post id → the narratives it belongs to.
    """
    model = latest_topic_model(conn, monitor)
    model_id = model["id"] if model else -1
    query = (
        select(
            posts.c.id,
            posts.c.created_at,
            posts.c.platform,
            posts.c.likes,
            posts.c.reposts,
            posts.c.replies,
            post_analysis.c.language,
            post_analysis.c.sentiment_score,
            post_topics.c.topic,
        )
        .outerjoin(post_analysis, post_analysis.c.post_id == posts.c.id)
        .outerjoin(post_topics, and_(post_topics.c.post_id == posts.c.id, post_topics.c.model_id == model_id))
        .where(posts.c.id.in_(monitor_post_ids(monitor)))
        .order_by(posts.c.id)
    )
    narratives = narratives or {}
    events = [
        PostEvent(
            id=r.id,
            created_at=as_utc(r.created_at),
            source=r.platform,
            language=r.language,
            topic=str(r.topic) if r.topic is not None and r.topic >= 0 else None,
            narratives=narratives.get(r.id, ()),
            sentiment=r.sentiment_score,
            engagement=(r.likes or 0) + (r.reposts or 0) + (r.replies or 0),
        )
        for r in conn.execute(query)
    ]
    labels = {
        f"topic:{r.topic}": r.label
        for r in conn.execute(select(topics.c.topic, topics.c.label).where(topics.c.model_id == model_id))
    }
    return events, labels


def save_spikes(conn: Connection, monitor: str, found: Sequence[Spike]) -> None:
    """Replace the monitor's spikes with `found`, their top posts given their links and text."""
    conn.execute(delete(spikes).where(spikes.c.monitor == monitor))
    if not found:
        return
    cards = _post_cards(conn, {card["id"] for s in found for ranked in s.top_posts.values() for card in ranked})
    now = utc_now()
    conn.execute(
        spikes.insert(),
        [
            {
                "monitor": monitor,
                "series": s.series,
                "granularity": s.granularity,
                "start": s.start,
                "end": s.end,
                "posts": s.posts,
                "baseline": s.baseline,
                "peak": s.peak,
                "drivers": json.dumps(s.drivers, ensure_ascii=False),
                "top_posts": json.dumps(
                    {
                        by: [{**card, **cards.get(card["id"], {})} for card in ranked]
                        for by, ranked in s.top_posts.items()
                    },
                    ensure_ascii=False,
                ),
                "sentiment": json.dumps(s.sentiment),
                "detected_at": now,
            }
            for s in found
        ],
    )


def _post_cards(conn: Connection, post_ids: set[int]) -> dict[int, dict]:
    """Link and text snippet of each given post, for a spike's top-post cards."""
    query = select(posts.c.id, posts.c.url, posts.c.title, posts.c.text).where(posts.c.id.in_(sorted(post_ids)))
    return {
        r.id: {"url": r.url, "text": " ".join(((r.title or "") + " " + r.text).split())[:SNIPPET]}
        for r in conn.execute(query)
    }


def stored_spikes(conn: Connection, monitor: str, since: datetime | None = None) -> list[StoredSpike]:
    """The monitor's spikes ending after `since`, newest start first."""
    query = select(spikes).where(spikes.c.monitor == monitor)
    if since is not None:
        query = query.where(spikes.c.end > since)
    query = query.order_by(spikes.c.start.desc(), spikes.c.series, spikes.c.granularity)
    return [
        StoredSpike(
            id=r.id,
            monitor=r.monitor,
            series=r.series,
            granularity=r.granularity,
            start=as_utc(r.start),
            end=as_utc(r.end),
            posts=r.posts,
            baseline=r.baseline,
            peak=r.peak,
            drivers=json.loads(r.drivers),
            top_posts=json.loads(r.top_posts),
            sentiment=json.loads(r.sentiment),
        )
        for r in conn.execute(query)
    ]


def unannounced_spikes(conn: Connection, monitor: str) -> list[StoredSpike]:
    """The monitor's spikes no alert has been sent for yet, oldest first."""
    sent = {
        (r.series, r.granularity, as_utc(r.start))
        for r in conn.execute(select(spike_alerts).where(spike_alerts.c.monitor == monitor))
    }
    return [s for s in reversed(stored_spikes(conn, monitor)) if s.key not in sent]


def mark_announced(conn: Connection, spike: StoredSpike) -> None:
    conn.execute(
        spike_alerts.insert().values(
            monitor=spike.monitor,
            series=spike.series,
            granularity=spike.granularity,
            start=spike.start,
            sent_at=utc_now(),
        )
    )
