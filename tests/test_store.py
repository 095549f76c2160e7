"""The store: schema versions, upserts, pseudonymous authors, run links and cursors."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from monitor.errors import MurmurError
from store import collection
from store.collection import finish_run, get_cursor, save_posts, set_cursor, start_run
from store.db import StoreUnavailable, display_url, open_store
from store.migrations import CURRENT_VERSION, SchemaTooNew, stored_version
from store.post import Post
from store.schema import posts, run_posts, runs
from tests.store_versions import back_to_version_1

T0 = datetime(2024, 11, 26, 14, 0, tzinfo=UTC)


def make_post(native_id: str, author: str = "pixelweaver", text: str = "Sora leaked", **extra) -> Post:
    return Post(
        platform="hackernews",
        native_id=native_id,
        text=text,
        created_at=T0,
        author=author,
        raw={"objectID": native_id, "comment_text": text},
        **extra,
    )


def test_fresh_store_is_stamped_and_reopening_changes_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    engine = open_store(url)
    with engine.connect() as conn:
        assert stored_version(conn) == CURRENT_VERSION
    engine.dispose()
    engine = open_store(url)
    with engine.connect() as conn:
        assert stored_version(conn) == CURRENT_VERSION
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_a_store_from_a_newer_murmur_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'b.db'}"
    engine = open_store(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE settings SET value = '999' WHERE key = 'schema_version'"))
    engine.dispose()
    with pytest.raises(SchemaTooNew, match="999"):
        open_store(url)


def test_bad_database_urls_are_clear_errors_not_tracebacks():
    with pytest.raises(StoreUnavailable, match="not a database URL"):
        open_store("not a url")
    with pytest.raises(StoreUnavailable, match="no driver"):
        open_store("nosuchdb://localhost/x")
    assert issubclass(StoreUnavailable, MurmurError)


def test_display_url_hides_the_password():
    assert "s3cret" not in display_url("postgresql+psycopg://murmur:s3cret@db.example/murmur")


def test_save_posts_counts_new_and_updated_and_links_each_run(engine):
    with engine.begin() as conn:
        run1 = start_run(conn, "sora-leak", "live")
        first = save_posts(conn, [make_post("1"), make_post("2"), make_post("2")], run_id=run1, source="hackernews")
        run2 = start_run(conn, "sora-leak", "live")
        second = save_posts(
            conn, [make_post("2", text="Sora leaked, edited"), make_post("3")], run_id=run2, source="hackernews"
        )
    assert (first.new, first.updated) == (2, 0)
    assert (second.new, second.updated) == (1, 1)
    with engine.connect() as conn:
        stored = {r.native_id: r for r in conn.execute(select(posts))}
        links = conn.execute(select(run_posts.c.run_id, run_posts.c.post_id)).all()
    assert set(stored) == {"1", "2", "3"}
    assert stored["2"].text == "Sora leaked, edited"
    assert len(links) == 4  # run 1: posts 1, 2; run 2: posts 2, 3


def test_authors_are_pseudonymised_consistently_and_never_stored_in_clear(engine):
    with engine.begin() as conn:
        run = start_run(conn, "sora-leak", "live")
        save_posts(
            conn, [make_post("1"), make_post("2"), make_post("3", author="other")], run_id=run, source="hackernews"
        )
    with engine.connect() as conn:
        rows = {r.native_id: r for r in conn.execute(select(posts))}
    assert rows["1"].author_hash == rows["2"].author_hash != rows["3"].author_hash
    assert len(rows["1"].author_hash) == 32
    for row in rows.values():
        assert row.author_handle is None
        assert "pixelweaver" not in json.dumps(dict(row._mapping), default=str)


def test_handles_are_kept_only_when_the_monitor_opts_in(engine):
    with engine.begin() as conn:
        run = start_run(conn, "sora-leak", "live")
        save_posts(conn, [make_post("1")], run_id=run, source="hackernews", keep_handles=True)
    with engine.connect() as conn:
        assert conn.execute(select(posts.c.author_handle)).scalar() == "pixelweaver"


def test_pseudonyms_depend_on_the_key_kept_outside_the_database(tmp_path, monkeypatch):
    hashes = []
    for name, key in (("x.db", "k1" * 20), ("y.db", "k2" * 20), ("z.db", "k1" * 20)):
        monkeypatch.setenv("MURMUR_AUTHOR_KEY", key)
        engine = open_store(f"sqlite:///{tmp_path / name}")
        with engine.begin() as conn:
            run = start_run(conn, "m", "live")
            save_posts(conn, [make_post("1")], run_id=run, source="hackernews")
            hashes.append(conn.execute(select(posts.c.author_hash)).scalar())
            assert "k1k1" not in json.dumps([list(r) for r in conn.execute(text("SELECT * FROM settings"))])
        engine.dispose()
    assert hashes[0] != hashes[1] and hashes[0] == hashes[2]


def test_cursors_are_opaque_state_per_search_and_options_key(engine):
    with engine.begin() as conn:
        assert get_cursor(conn, "m", "mastodon", "#sora", "k1") is None
        set_cursor(conn, "m", "mastodon", "#sora", "k1", {"instances": {"a.example": {"min_id": "1"}}})
        set_cursor(conn, "m", "mastodon", "#sora", "k1", {"instances": {"a.example": {"min_id": "2"}}})
        assert get_cursor(conn, "m", "mastodon", "#sora", "k1") == {"instances": {"a.example": {"min_id": "2"}}}
        assert get_cursor(conn, "m", "mastodon", "#sora", "k2") is None  # other options: a fresh backfill
        assert get_cursor(conn, "m", "mastodon", "#other", "k1") is None


def test_run_log_records_status_counts_and_errors(engine):
    with engine.begin() as conn:
        run = start_run(conn, "m", "live")
        finish_run(conn, run, "partial", {"hackernews": {"new": 3}}, ["hackernews: page 2 truncated"])
        row = conn.execute(select(runs)).one()
    assert row.status == "partial" and row.finished_at is not None
    assert json.loads(row.counts) == {"hackernews": {"new": 3}}
    assert json.loads(row.errors) == ["hackernews: page 2 truncated"]


def test_dead_runs_are_marked_even_when_another_collector_commits_meanwhile(db_url, monkeypatch):
    """Another collector commits between the read of the running runs and the first update (here: while
    the first dead pid is checked). On SQLite that once failed at once with "database is locked"."""
    engine, other = open_store(db_url), open_store(db_url)
    with engine.begin() as conn:
        dead = [start_run(conn, "m", "live") for _ in range(2)]
        conn.execute(runs.update().values(pid=2**22 + 1))  # beyond the kernel's pid range: no such process

    checked: list[int] = []

    def another_collector_commits(pid: int) -> bool:
        if not checked:  # before this transaction writes: afterwards the other would wait for it
            with other.begin() as conn:
                start_run(conn, "m", "live")
        checked.append(pid)
        return False

    monkeypatch.setattr(collection, "_process_exists", another_collector_commits)
    with engine.begin() as conn:
        assert collection.interrupt_stale_runs(conn, "m") == dead
    with engine.connect() as conn:
        statuses: dict[int, str] = {r.id: r.status for r in conn.execute(select(runs.c.id, runs.c.status))}
    assert [statuses[run] for run in dead] == ["interrupted", "interrupted"] and len(statuses) == 3
    engine.dispose()
    other.dispose()


def test_post_requires_aware_time_and_an_id():
    with pytest.raises(ValueError, match="timezone"):
        Post(platform="hackernews", native_id="1", text="x", created_at=datetime(2024, 11, 26))
    with pytest.raises(ValueError, match="native id"):
        Post(platform="hackernews", native_id="", text="x", created_at=T0)


def test_an_older_store_is_upgraded_step_by_step(tmp_path, monkeypatch):
    from store import migrations

    url = f"sqlite:///{tmp_path / 'old.db'}"
    open_store(url).dispose()
    applied = []
    step = migrations.CURRENT_VERSION + 1

    def add_note_column(conn):
        applied.append(step)
        conn.execute(text("ALTER TABLE runs ADD COLUMN note TEXT"))

    monkeypatch.setitem(migrations.STEPS, step, add_note_column)
    monkeypatch.setattr(migrations, "CURRENT_VERSION", step)
    engine = open_store(url)
    with engine.connect() as conn:
        assert stored_version(conn) == step
        conn.execute(text("SELECT note FROM runs"))  # the step's column exists
    engine.dispose()
    open_store(url).dispose()
    assert applied == [step]  # a store already at the current version is left alone


def test_datetime_cursors_of_a_version_1_store_are_read_as_state(tmp_path):
    url = f"sqlite:///{tmp_path / 'v1.db'}"
    engine = open_store(url)
    with engine.begin() as conn:  # turn the fresh store back into a version 1 store with one cursor
        back_to_version_1(conn)
        conn.execute(
            text(
                "INSERT INTO cursors VALUES ('m', 'hackernews', 'sora leak', "
                "'2024-11-30 06:00:00.000000', '2024-11-30 06:00:01.000000')"
            )
        )
    engine.dispose()
    engine = open_store(url)
    with engine.begin() as conn:
        # Read under whatever key the current options hash to, until that key saves its own.
        assert get_cursor(conn, "m", "hackernews", "sora leak", "any-key") == {"until": "2024-11-30T06:00:00+00:00"}
        set_cursor(conn, "m", "hackernews", "sora leak", "any-key", {"until": "2024-12-01T00:00:00+00:00"})
        assert get_cursor(conn, "m", "hackernews", "sora leak", "other-key") is None  # the legacy row is gone
    engine.dispose()


def test_a_version_1_store_with_its_salt_in_the_database_upgrades_and_keeps_its_pseudonyms(db_url, author_key_file):
    from store.authors import LEGACY_SALT_KEY, pseudonymise

    engine = open_store(db_url)
    with engine.begin() as conn:  # back to what version 1 wrote
        back_to_version_1(conn)
        conn.execute(text("INSERT INTO settings (key, value) VALUES (:k, :v)"), {"k": LEGACY_SALT_KEY, "v": "cd" * 32})
    engine.dispose()
    engine = open_store(db_url)
    with engine.begin() as conn:
        assert stored_version(conn) == CURRENT_VERSION
        run = start_run(conn, "m", "live")
        save_posts(conn, [make_post("1")], run_id=run, source="hackernews")
        assert conn.execute(select(runs.c.host)).scalar()
        assert conn.execute(select(posts.c.author_hash)).scalar() == pseudonymise(
            bytes.fromhex("cd" * 32), "hackernews", "pixelweaver"
        )
    assert author_key_file.read_text().strip() == "cd" * 32
    engine.dispose()


def test_a_version_1_store_gains_the_sentiment_probability_columns_and_keeps_its_rows(tmp_path):
    url = f"sqlite:///{tmp_path / 'v1.db'}"
    engine = open_store(url)
    with engine.begin() as conn:  # turn the fresh store back into a version-1 one
        back_to_version_1(conn)
        conn.execute(
            text(
                "INSERT INTO posts (platform, native_id, text, created_at, collected_at, demo) "
                "VALUES ('hn', '1', 'x', '2024-11-26', '2024-11-26', 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO post_analysis (post_id, language, sentiment, sentiment_backend, analysed_at) "
                "VALUES (1, 'en', 'neutral', 'vader', '2024-11-26')"
            )
        )
    engine.dispose()
    engine = open_store(url)
    with engine.connect() as conn:
        assert stored_version(conn) == CURRENT_VERSION
        row = conn.execute(text("SELECT sentiment, sentiment_negative, sentiment_positive FROM post_analysis")).one()
    engine.dispose()
    assert tuple(row) == ("neutral", None, None)
