"""The dashboard's queries (store.queries) and the schema step that serves them, on the seeded store."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import select, text

from store.db import open_store
from store.queries import PostFilter, copy_paste_groups, counts_over_time, facets, post_page, top_authors
from store.schema import posts
from tests.seed import COPIED, DAY0, MONITOR, POSTS, seed_store


def test_a_store_of_schema_5_gets_folded_search_text_and_the_dashboard_indexes(tmp_path):
    url = f"sqlite:///{tmp_path / 'v2.db'}"
    engine = open_store(url)
    seed_store(engine)
    with engine.begin() as conn:  # back to version 5: no search_text, no dashboard indexes
        for name in ("ix_posts_platform_created_at", "ix_posts_engagement", "ix_post_analysis_language"):
            conn.execute(text(f"DROP INDEX {name}"))
        conn.execute(text("ALTER TABLE posts DROP COLUMN search_text"))
        conn.execute(text("UPDATE settings SET value = '5' WHERE key = 'schema_version'"))
    engine.dispose()
    engine = open_store(url)
    with engine.connect() as conn:
        folded: dict[str, str] = {
            r.text: r.search_text for r in conn.execute(select(posts.c.text, posts.c.search_text))
        }
        indexes = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'")).scalars())
    assert folded[COPIED] == COPIED.lower()
    assert folded["تسريب سورا فضيحة للفنانين"] == "تسريب سورا فضيحه للفنانين"  # ta marbuta folded as the query folds it
    assert {"ix_posts_platform_created_at", "ix_posts_engagement", "ix_post_analysis_language"} <= indexes
    engine.dispose()


def test_counts_come_back_binned_by_hour_or_day(engine):
    seed_store(engine)
    with engine.connect() as conn:
        hourly = counts_over_time(
            conn, MONITOR, PostFilter(since=date(2024, 11, 26), until=date(2024, 11, 26)), hourly=True
        )
        daily = counts_over_time(conn, MONITOR, PostFilter(), hourly=False)
    on_day_2 = [i for i, row in enumerate(POSTS) if row[4] == 2]
    assert sorted(hourly["bin"].unique()) == [
        pd.Timestamp(DAY0, tz=None).tz_convert("UTC") + pd.Timedelta(days=2, hours=i) for i in on_day_2
    ]
    assert hourly["posts"].sum() == len(on_day_2)
    assert (daily["bin"] == daily["bin"].dt.floor("D")).all() and daily["posts"].sum() == len(POSTS)


def test_facets_offer_what_the_store_holds(engine):
    seed_store(engine)
    with engine.connect() as conn:
        offered = facets(conn, MONITOR)
        from_counts = facets(conn, MONITOR, counts_over_time(conn, MONITOR, PostFilter(), hourly=False))
    assert from_counts == offered
    assert offered["first"] == date(2024, 11, 24) and offered["last"] == date(2024, 11, 29)
    assert offered["sources"] == {"hackernews": len(POSTS)}
    assert offered["languages"]["en"] == sum(1 for row in POSTS if row[1] == "en")
    assert offered["topics"] == {0: "unpaid, artists, labour", 1: "clips, physics, 1080p"}


def test_posts_pages_authors_and_copied_text(engine):
    seed_store(engine)
    with engine.connect() as conn:
        newest = post_page(conn, MONITOR, PostFilter(), limit=3)
        engaged = post_page(conn, MONITOR, PostFilter(), sort="engagement", limit=3)
        second = post_page(conn, MONITOR, PostFilter(), sort="engagement", limit=3, offset=3)
        authors = top_authors(conn, MONITOR, PostFilter())
        groups = copy_paste_groups(conn, MONITOR, PostFilter(languages=("en",)))
        none_in_arabic = copy_paste_groups(conn, MONITOR, PostFilter(languages=("ar",)))
    assert list(newest["created_at"]) == sorted(newest["created_at"], reverse=True)
    assert list(engaged["engagement"]) == [3 * i for i in (13, 12, 11)] and second["engagement"].iloc[0] == 30
    assert authors["posts"].sum() == len(POSTS) and authors["author"].str.match(r"^author-[0-9a-f]{8}$").all()
    assert list(groups["authors"]) == [2] and none_in_arabic.empty
