"""Data lifecycle and health: unchanged is not updated, demo flags, forget with tombstones, platform
deletions, retention, demo removal, the author key outside the database, per-source health."""

from __future__ import annotations

import json
import os
import stat
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from murmur import demo as demo_command
from murmur import forget as forget_command
from store.authors import LEGACY_SALT_KEY, AuthorKeyError, pseudonymise
from store.collection import finish_run, save_posts, start_run
from store.db import open_store
from store.health import classify, collection_gaps, empty_days, source_health
from store.lifecycle import apply_retention
from store.post import Post
from store.schema import post_analysis, posts, run_posts, runs, settings
from store.timeutil import utc_now
from tests.fake_hn import FakeAlgolia
from tests.test_runner import NOW, START, corpus

T = START + timedelta(days=5)


def post(native_id: str, author: str = "pixelweaver", text: str = "Sora leak", **extra) -> Post:
    return Post(
        platform="hackernews",
        native_id=native_id,
        text=text,
        created_at=T,
        author=author,
        url=f"https://news.ycombinator.com/item?id={native_id}",
        **extra,
    )


def save(engine, items, *, demo=False, mode="live"):
    with engine.begin() as conn:
        return save_posts(conn, items, run_id=start_run(conn, "sora-test", mode), source="hackernews", demo=demo)


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def test_unchanged_posts_are_not_updated_and_run_posts_grows_with_news_only(engine):
    first = save(engine, [post("1"), post("2")])
    second = save(engine, [post("1"), post("2")])
    assert (first.new, second.new, second.updated, second.unchanged) == (2, 0, 0, 2)
    assert count(engine, run_posts) == 2
    third = save(engine, [post("1", text="Sora leak (edited)"), post("2")])
    assert (third.updated, third.unchanged) == (1, 1) and count(engine, run_posts) == 3


def test_live_data_replaces_the_demo_flag_and_demo_never_flags_live(engine):
    save(engine, [post("1"), post("2")], demo=True, mode="demo")
    result = save(engine, [post("1")])
    assert result.updated == 1  # only the flag changed, and that counts
    save(engine, [post("3")])
    save(engine, [post("3")], demo=True, mode="demo")
    with engine.connect() as conn:
        flags = dict(conn.execute(select(posts.c.native_id, posts.c.demo)).all())
    assert {k: bool(v) for k, v in flags.items()} == {"1": False, "2": True, "3": False}


def test_demo_remove_purges_demo_posts_and_runs_and_keeps_live(engine, capsys):
    save(engine, [post("1"), post("2")], demo=True, mode="demo")
    save(engine, [post("1")])
    assert demo_command.main(["--remove", "--db", engine.url.render_as_string(hide_password=False)]) == 0
    assert "1 posts and 1 runs" in capsys.readouterr().out
    with engine.connect() as conn:
        assert list(conn.execute(select(posts.c.native_id)).scalars()) == ["1"]
        assert list(conn.execute(select(runs.c.mode)).scalars()) == ["live"]


def test_forget_an_author_deletes_their_posts_and_keeps_them_out(engine, capsys):
    save(engine, [post("1"), post("2"), post("3", author="someone_else")])
    url = engine.url.render_as_string(hide_password=False)
    assert forget_command.main(["--platform", "hackernews", "--author", "pixelweaver", "--db", url]) == 0
    assert "2 posts deleted" in capsys.readouterr().out
    result = save(engine, [post("1"), post("4"), post("5", author="someone_else")])
    assert result.refused == 2 and result.new == 1
    with engine.connect() as conn:
        assert set(conn.execute(select(posts.c.native_id)).scalars()) == {"3", "5"}
        assert "pixelweaver" not in json.dumps([list(r) for r in conn.execute(select(settings))], default=str)


def test_forget_a_post_by_url(engine, capsys):
    save(engine, [post("7"), post("8")])
    url = engine.url.render_as_string(hide_password=False)
    assert forget_command.main(["--url", "https://news.ycombinator.com/item?id=7", "--db", url]) == 0
    assert save(engine, [post("7")]).refused == 1
    with engine.connect() as conn:
        assert list(conn.execute(select(posts.c.native_id)).scalars()) == ["8"]
    from monitor.errors import MurmurError

    with pytest.raises(MurmurError, match="no stored post"):
        forget_command.main(["--url", "https://example.com/nothing", "--db", url])


def test_posts_the_platform_reports_deleted_are_deleted(engine):
    save(engine, [post("1"), post("2")])
    result = save(engine, [post("1", text="", deleted=True)])
    assert result.deleted == 1
    with engine.connect() as conn:
        assert list(conn.execute(select(posts.c.native_id)).scalars()) == ["2"]


def test_retention_deletes_old_posts_with_their_analysis(engine):
    save(engine, [post("old"), Post(platform="hackernews", native_id="new", text="Sora leak", created_at=utc_now())])
    with engine.begin() as conn:
        ids = dict(conn.execute(select(posts.c.native_id, posts.c.id)).all())
        conn.execute(
            insert(post_analysis),
            [
                {"post_id": pid, "language": "en", "sentiment_backend": "vader", "analysed_at": utc_now()}
                for pid in ids.values()
            ],
        )
        assert apply_retention(conn, "sora-test", days=30) == 1
    with engine.connect() as conn:
        assert list(conn.execute(select(posts.c.native_id)).scalars()) == ["new"]
        assert list(conn.execute(select(post_analysis.c.post_id)).scalars()) == [ids["new"]]


def test_retention_days_applies_at_each_run(engine, write_monitor):
    from tests.test_runner import MONITOR

    privacy = "[privacy]\n    retention_days = 8\n    [sources.hackernews]"
    monitor_text = MONITOR.replace("[sources.hackernews]", privacy)
    path = write_monitor(monitor_text)
    from collect.plan import plan_sources
    from collect.runner import collect_monitor
    from monitor.config import load_monitor
    from tests.test_runner import client_for

    monitor = load_monitor(path)
    assert monitor.retention_days == 8
    with client_for(FakeAlgolia(corpus())) as client:
        collect_monitor(engine, monitor, plan_sources(monitor), client, now=NOW)
    # Run "now" is 2024-11-30 but retention counts from the real clock: every 2024 post is older.
    assert count(engine, posts) == 0


def test_the_author_key_file_is_created_0600_and_checked(engine, author_key_file, monkeypatch):
    save(engine, [post("1")])
    assert stat.S_IMODE(author_key_file.stat().st_mode) == 0o600
    key = bytes.fromhex(author_key_file.read_text().strip())
    with engine.connect() as conn:
        assert conn.execute(select(posts.c.author_hash)).scalar() == pseudonymise(key, "hackernews", "pixelweaver")
    os.chmod(author_key_file, 0o644)
    other = open_store(engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("MURMUR_AUTHOR_KEY_FILE", str(author_key_file))  # a fresh cache entry is not needed:
    with pytest.raises(AuthorKeyError, match="chmod 600"):
        from store.authors import _configured_key

        _configured_key(adopt=None)
    os.chmod(author_key_file, 0o600)
    monkeypatch.setenv("MURMUR_AUTHOR_KEY", "short")
    with pytest.raises(AuthorKeyError, match="at least 32"):
        save(other, [post("2")])
    monkeypatch.setenv("MURMUR_AUTHOR_KEY", "x" * 40)  # a different key than the store was written with
    with pytest.raises(AuthorKeyError, match="different key"):
        save(other, [post("2")])
    other.dispose()


def test_an_old_store_s_salt_moves_into_the_key_file_and_pseudonyms_stay(engine, author_key_file):
    salt = "ab" * 32
    with engine.begin() as conn:
        conn.execute(insert(settings).values(key=LEGACY_SALT_KEY, value=salt))
    save(engine, [post("1")])
    assert author_key_file.read_text().strip() == salt
    with engine.connect() as conn:
        assert conn.execute(select(settings.c.value).where(settings.c.key == LEGACY_SALT_KEY)).scalar() is None
        assert conn.execute(select(posts.c.author_hash)).scalar() == pseudonymise(
            bytes.fromhex(salt), "hackernews", "pixelweaver"
        )


def test_source_health_ok_degraded_failed_skipped_and_gaps(engine):
    base: dict[str, object] = {"pages": 3, "fetched": 30, "matched": 10, "new": 4, "searches": 2, "duration_s": 1.5}
    plan: list[dict[str, dict[str, object]]] = [
        {"a": base, "b": base, "c": base, "d": base},
        {
            "a": base,
            "b": {**base, "failed_pages": 1, "shape_error": "no 'hits' list: not a search response"},
            "c": {**base, "error": "could not be reached"},
            "d": {"pages": 0, "searches": 0, "held_elsewhere": 2},
        },
    ]
    with engine.begin() as conn:
        for counts in plan:
            finish_run(conn, start_run(conn, "m", "live"), "partial", counts, ["b: page 2: no 'hits' list"])
    with engine.connect() as conn:
        health = {h.source: h for h in source_health(conn, "m")}
        assert collection_gaps(conn, "m", timedelta(hours=1)) == []
        assert len(collection_gaps(conn, "m", timedelta(0))) == 1
    assert {k: h.status for k, h in health.items()} == {"a": "ok", "b": "degraded", "c": "failed", "d": "skipped"}
    assert health["b"].reason is not None
    assert "'hits'" in health["b"].reason and health["b"].errors == ["b: page 2: no 'hits' list"]
    assert health["a"].pages == 3 and health["a"].duration_s == 1.5 and health["a"].last_ok_at is not None
    assert classify({"pages": 4, "fetched": 0, "searches": 1}, earlier_fetched=50)[0] == "degraded"


def test_empty_days_are_coverage_gaps(engine):
    items = [
        Post(platform="hackernews", native_id=str(i), text="Sora leak", created_at=T + timedelta(days=d))
        for i, d in enumerate((0, 1, 4))
    ]
    save(engine, items)
    with engine.connect() as conn:
        gaps = empty_days(conn, "sora-test")
    assert [g.date() for g in gaps] == [(T + timedelta(days=2)).date(), (T + timedelta(days=3)).date()]
