"""A small analysed store for dashboard tests, written through the store's own functions.

The analysis results are set by hand (no models run), so the dashboard can be tested in seconds
and its assertions can name exact numbers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from store.analysis import PostVerdict, save_verdicts
from store.collection import finish_run, save_posts, start_run
from store.post import Post
from store.post_counts import refresh
from store.topic_models import TopicRecord, save_topic_model

MONITOR = "sora-leak"
DAY0 = datetime(2024, 11, 24, 8, 0, tzinfo=UTC)
HOSTILE = "<script>alert('x')</script> **not bold** [link](javascript:alert(1)) Sora leak"
# Bidirectional controls (right-to-left override, isolates) and HTML/markdown tricks: shown literally.
BIDI = "\u202eSora kael\u202c <img src=x onerror=alert(2)> # not a heading \u2067عربي\u2069 :red[not red]"
COPIED = "Boycott Sora now: the artists were never paid for their testing work!"
# The score stored with each hand-set sentiment label; a post left unjudged (None) has none.
SENTIMENT_SCORES: dict[str | None, float] = {"negative": -0.6, "neutral": 0.0, "positive": 0.7}

# (text, language, sentiment, topic, day offset)
POSTS = [
    ("Artists leaked Sora to protest unpaid testing", "en", "negative", 0, 2),
    ("The Sora leak shows artists were unpaid PR", "en", "negative", 0, 2),
    ("Unpaid labour is the real story of the Sora leak", "en", "neutral", 0, 2),
    ("تسريب سورا فضيحة للفنانين", "ar", None, 0, 2),
    ("Le leak de Sora : des artistes non payés", "fr", None, 0, 3),
    ("Sora leak clips look amazing, great physics", "en", "positive", 1, 2),
    ("The leaked Sora videos are 1080p and sharp", "en", "positive", 1, 3),
    ("Sora leak: hands still look wrong", "en", "negative", 1, 4),
    ("Die Sora-Leak Videos sind beeindruckend", "de", None, 1, 4),
    (HOSTILE, "en", "neutral", 0, 0),
    ("Sora Turbo launch pricing after the leak", "en", "neutral", -1, 5),
    (COPIED, "en", "negative", 0, 3),
    ("boycott  SORA now: the artists were never paid for their testing work!", "en", "negative", 0, 3),
    (BIDI, "en", None, -1, 4),
]
TOPICS = [
    TopicRecord(0, "unpaid, artists, labour", [("unpaid", 0.3), ("artists", 0.2), ("labour", 0.1)], 6, []),
    TopicRecord(1, "clips, physics, 1080p", [("clips", 0.3), ("physics", 0.2), ("1080p", 0.1)], 4, []),
    TopicRecord(-1, "Unassigned", [], 1, []),
]


def seed_store(engine: Engine, *, demo: bool = False) -> dict[str, int]:
    """Write POSTS, their verdicts and a topic model; returns native id → post id."""
    items = [
        Post(
            platform="hackernews",
            native_id=str(1000 + i),
            text=text,
            created_at=DAY0 + timedelta(days=day, hours=i),
            author=f"author{i % 4}",
            likes=3 * i,
            url=f"https://news.ycombinator.com/item?id={1000 + i}",
        )
        for i, (text, *_rest, day) in enumerate(POSTS)
    ]
    with engine.begin() as conn:
        run = start_run(conn, MONITOR, "demo" if demo else "live")
        save_posts(conn, items, run_id=run, source="hackernews", demo=demo)
        finish_run(conn, run, "ok", {"hackernews": {"new": len(items)}}, [])
    from sqlalchemy import select

    from store.schema import posts

    with engine.connect() as conn:
        ids: dict[str, int] = {r.native_id: r.id for r in conn.execute(select(posts.c.native_id, posts.c.id))}
    verdicts = [
        PostVerdict(
            ids[p.native_id],
            lang,
            0.9,
            sentiment,
            SENTIMENT_SCORES.get(sentiment),
            "vader",
        )
        for p, (_, lang, sentiment, _, _) in zip(items, POSTS, strict=True)
    ]
    topics = [
        TopicRecord(
            t.topic,
            t.label,
            t.keywords,
            t.size,
            [ids[p.native_id] for p, row in reversed(list(zip(items, POSTS, strict=True))) if row[3] == t.topic][:3],
        )
        for t in TOPICS
    ]
    with engine.begin() as conn:
        save_verdicts(conn, verdicts)
        save_topic_model(
            conn,
            monitor=MONITOR,
            embedding_model="sentence-transformers:all-MiniLM-L6-v2",
            settings={},
            topic_records=topics,
            assignments=[(ids[p.native_id], row[3], None) for p, row in zip(items, POSTS, strict=True)],
        )
    refresh(engine)  # as `murmur analyze` ends: the dashboard reads the post counts
    return ids
