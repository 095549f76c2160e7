"""The dashboard's post counts (store.post_counts) always equal the same sums over the posts themselves.

Every aggregate the dashboard reads from the counts is compared with the one grouped from the posts,
on SQLite and PostgreSQL, through the life of a store: collection (posts not analysed yet count as
"pending" / "unscored"), analysis, a topic refit, `murmur forget`, a second monitor; each time both
before the counts are refreshed (stale hours read from the posts) and after.
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import product

import pandas as pd
import pytest
from sqlalchemy import func, select

from store import post_counts, queries
from store.analysis import PostVerdict, save_verdicts
from store.collection import finish_run, save_posts, start_run
from store.filters import PENDING, UNSCORED, PostFilter
from store.lifecycle import forget_author, forget_post
from store.post import Post
from store.schema import post_counts_hourly, post_counts_stale, posts
from store.topic_models import TopicRecord, latest_topic_model, save_assignments, save_topic_model
from tests.seed import DAY0, MONITOR, seed_store

SHAPES = [
    ("bin", "source", "language", "sentiment"),  # the Overview
    (),  # totals
    ("bin", "topic"),  # topics over time
    ("topic", "source", "language", "sentiment"),  # the topic table and its breakdowns
]
FILTERS = [
    PostFilter(),
    PostFilter(since=date(2024, 11, 26), until=date(2024, 11, 27)),
    PostFilter(until=date(2024, 11, 26)),
    PostFilter(languages=("en", PENDING)),
    PostFilter(sentiments=("negative", UNSCORED)),
    PostFilter(sources=("mastodon",)),
    PostFilter(topics=(0,)),
    PostFilter(since=date(2024, 11, 27), languages=("ar", "fr"), topics=(1, 0)),
]


def normalised(frame: pd.DataFrame, by: tuple[str, ...]) -> list[tuple]:
    """Rows as sorted tuples, without empty groups, topic None and NaN alike."""
    rows = []
    for record in frame.to_dict("records"):
        if int(record["posts"]) == 0:
            continue
        key = tuple(
            None if pd.isna(record[name]) else (int(record[name]) if name == "topic" else record[name]) for name in by
        )
        rows.append((*key, int(record["posts"])))
    return sorted(rows, key=repr)


def assert_counts_match_posts(engine, monitor: str = MONITOR, *, topics_counted: bool = True) -> int:
    """Every shape × filter × bin size read from the counts equals the posts' own; returns how many compared."""
    compared = 0
    with engine.connect() as conn:
        for by, where, hourly in product(SHAPES, FILTERS, (True, False)):
            counted = post_counts.from_counts(conn, monitor, where, by, hourly=hourly)
            uses_topic = "topic" in by or bool(where.topics)
            if uses_topic and not topics_counted:
                assert counted is None, (by, where)  # after a refit: topics come from the posts until recounted
                continue
            assert counted is not None, (by, where, hourly)
            expected = post_counts.from_posts(conn, monitor, where, by, hourly=hourly)
            assert normalised(counted, by) == normalised(expected, by), (by, where, hourly)
            compared += 1
    return compared


def stale_hours(engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count(func.distinct(post_counts_stale.c.hour)))).scalar() or 0)


def collect(engine, monitor: str, items: list[Post], source: str) -> None:
    with engine.begin() as conn:
        run = start_run(conn, monitor, "live")
        save_posts(conn, items, run_id=run, source=source)
        finish_run(conn, run, "ok", {source: {"new": len(items)}}, [])


def new_posts(count: int, platform: str = "mastodon", first: int = 0) -> list[Post]:
    return [
        Post(
            platform=platform,
            native_id=f"n{first + i}",
            text=f"Sora leak thoughts number {first + i}",
            created_at=DAY0 + timedelta(days=2 + i % 4, hours=i % 7, minutes=i),
            author=f"voice{i % 5}",
            url=f"https://mastodon.example/@v/{first + i}",
        )
        for i in range(count)
    ]


def ids_of(engine, platform: str) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(select(posts.c.id).where(posts.c.platform == platform).order_by(posts.c.id)).scalars())


def test_counts_equal_the_posts_through_collect_analyze_refit_and_forget(engine):
    collect(engine, MONITOR, new_posts(3, platform="bluesky"), "bluesky")
    with engine.connect() as conn:  # never counted yet: every reader goes to the posts
        assert post_counts.from_counts(conn, MONITOR, PostFilter(), ("bin",), hourly=False) is None
    assert post_counts.refresh(engine).monitors == [MONITOR] and stale_hours(engine) == 0
    seed_store(engine)  # ends with a recount, as `murmur analyze` does
    assert stale_hours(engine) == 0
    assert assert_counts_match_posts(engine) == len(SHAPES) * len(FILTERS) * 2

    # Collection before analysis: the new posts count at once, as pending and unscored.
    collect(engine, MONITOR, new_posts(12), "mastodon")
    assert stale_hours(engine) > 0
    assert_counts_match_posts(engine)
    with engine.connect() as conn:
        languages = queries.counts_over_time(conn, MONITOR, PostFilter(), hourly=False)
    assert int(languages.loc[languages["language"] == PENDING, "posts"].sum()) == 3 + 12
    post_counts.refresh(engine)
    assert stale_hours(engine) == 0
    assert_counts_match_posts(engine)

    # Analysis: verdicts and topics for the new posts (assigned to the saved model).
    fresh = ids_of(engine, "mastodon")
    with engine.begin() as conn:
        save_verdicts(
            conn,
            [
                PostVerdict(pid, ["en", "ar", "fr"][i % 3], 0.9, ["negative", None, "positive"][i % 3], 0.1, "vader")
                for i, pid in enumerate(fresh[:8])
            ],
        )
        model = latest_topic_model(conn, MONITOR)
        assert model is not None
        save_assignments(conn, int(model["id"]), [(pid, i % 2, 0.5) for i, pid in enumerate(fresh[:6])])
    assert_counts_match_posts(engine)
    post_counts.refresh(engine)
    assert_counts_match_posts(engine)

    # A refit: every post may change topic; topics read from the posts until the counts follow the new model.
    with engine.connect() as conn:
        every = list(conn.execute(select(posts.c.id).order_by(posts.c.id)).scalars())
    with engine.begin() as conn:
        save_topic_model(
            conn,
            monitor=MONITOR,
            embedding_model="test",
            settings={},
            topic_records=[TopicRecord(0, "zero", [], 1, []), TopicRecord(2, "two", [], 1, [])],
            assignments=[(pid, [0, 2, -1][pid % 3], None) for pid in every],
        )
    assert_counts_match_posts(engine, topics_counted=False)
    assert post_counts.refresh(engine).monitors == [MONITOR]
    assert_counts_match_posts(engine)

    # Forgetting an author and a post deletes their posts: the counts drop them before and after a recount.
    with engine.begin() as conn:
        assert forget_author(conn, "mastodon", "voice1") > 0
        assert forget_post(conn, "hackernews", "1003") == 1
    assert_counts_match_posts(engine)
    post_counts.refresh(engine)
    assert_counts_match_posts(engine)
    with engine.connect() as conn:
        total = queries.post_count(conn, MONITOR, PostFilter())
        assert total == conn.execute(select(func.count()).select_from(posts)).scalar()


def test_each_monitor_counts_only_the_posts_its_runs_found(engine):
    seed_store(engine)
    collect(engine, "other", new_posts(6, platform="bluesky"), "bluesky")
    post_counts.refresh(engine)
    assert_counts_match_posts(engine, MONITOR)
    assert_counts_match_posts(engine, "other")
    with engine.connect() as conn:
        assert queries.post_count(conn, "other", PostFilter()) == 6
        assert set(conn.execute(select(post_counts_hourly.c.monitor).distinct()).scalars()) == {MONITOR, "other"}
    # The second monitor finds posts the first already had, and more: both stay exact.
    collect(engine, "other", new_posts(3, platform="mastodon", first=100), "mastodon")
    collect(engine, MONITOR, new_posts(3, platform="mastodon", first=100), "mastodon")
    assert_counts_match_posts(engine, MONITOR)
    assert_counts_match_posts(engine, "other")
    post_counts.refresh(engine)
    assert_counts_match_posts(engine, "other")


@pytest.mark.parametrize("stale_limit", [0])
def test_too_many_stale_hours_are_read_from_the_posts(engine, monkeypatch, stale_limit):
    seed_store(engine)
    post_counts.refresh(engine)
    collect(engine, MONITOR, new_posts(4), "mastodon")
    monkeypatch.setattr(post_counts, "MAX_STALE_HOURS", stale_limit)
    with engine.connect() as conn:
        assert post_counts.from_counts(conn, MONITOR, PostFilter(), ("bin",), hourly=True) is None
        grouped = post_counts.grouped(conn, MONITOR, PostFilter(), ("bin",), hourly=True)
    assert int(grouped["posts"].sum()) == 14 + 4


def test_a_store_of_schema_9_gains_the_counts_and_their_triggers(db_url):
    from sqlalchemy import text

    from store import count_triggers
    from store.db import open_store

    engine = open_store(db_url)
    seed_store(engine)
    with engine.begin() as conn:  # back to version 9: no counts, no triggers, no near-duplicate tables
        count_triggers.remove(conn)
        for table in ("post_counts_hourly", "post_counts_daily", "post_counts_stale", "post_counts_state"):
            conn.execute(text(f"DROP TABLE {table}"))
        conn.execute(text("DROP TABLE similar_posts"))
        conn.execute(text("DROP TABLE similar_scans"))
        conn.execute(text("UPDATE settings SET value = '9' WHERE key = 'schema_version'"))
    engine.dispose()
    engine = open_store(db_url)  # steps 10 and 11: tables and triggers, the counts still empty
    with engine.connect() as conn:
        assert post_counts.from_counts(conn, MONITOR, PostFilter(), ("bin",), hourly=False) is None
    collect(engine, MONITOR, new_posts(2), "mastodon")
    assert stale_hours(engine) == 2  # the triggers mark what collection adds
    assert post_counts.refresh(engine).monitors == [MONITOR]
    assert_counts_match_posts(engine)
    engine.dispose()
