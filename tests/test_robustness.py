"""Nothing a source sends stops collection, and every run row gets an end: the probes of issue 9.

Each test runs on SQLite and on PostgreSQL (the `engine` fixture).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, insert, select

from collect.plan import plan_sources
from collect.runner import collect_monitor
from collect.sources import hackernews
from monitor.config import load_monitor
from store.collection import HOST, get_cursor, save_posts, start_run
from store.post import MAX_ID_LENGTH, Post
from store.schema import cursors, posts, runs
from store.timeutil import utc_now
from tests.fake_hn import FakeAlgolia, hit
from tests.test_runner import MONITOR, NOW, START, client_for, corpus, stored_ids

SEARCH = '"Sora" leak'
FIRST_WINDOW = f"created_at_i>{int(START.timestamp())},created_at_i<={int((START + timedelta(days=4)).timestamp())}"
DAY = START + timedelta(days=6, hours=3)


def run(engine, write_monitor, api: FakeAlgolia, **kwargs):
    monitor = load_monitor(write_monitor(MONITOR))
    with client_for(api) as client:
        return collect_monitor(engine, monitor, plan_sources(monitor), client, now=NOW, **kwargs)


def cursor(engine):
    """Where Hacker News will resume the test search: the `until` of its saved state."""
    with engine.connect() as conn:
        (options_key,) = conn.execute(select(cursors.c.options_key).where(cursors.c.search == SEARCH)).one()
        state = get_cursor(conn, "sora-test", "hackernews", SEARCH, options_key)
    assert state is not None
    return datetime.fromisoformat(state["until"])


def test_lone_surrogates_and_nul_bytes_are_cleaned_and_the_cursor_moves(engine, write_monitor):
    poisoned = hit(42210001, DAY, "Sora leak \ud800 with a lone surrogate")
    poisoned["story_title"] = "Sora \udfff leak"  # lands in `raw`
    nul = hit(42210002, DAY + timedelta(minutes=1), "Sora leak with a NUL \x00 byte")
    api = FakeAlgolia([*corpus(), poisoned, nul])
    for _ in range(2):  # the second run is not stuck on the same page
        result = run(engine, write_monitor, api)
        assert result.status == "ok", result.errors
    assert cursor(engine) == NOW
    with engine.connect() as conn:
        stored = {r.native_id: r for r in conn.execute(select(posts))}
    assert stored["42210001"].text == "Sora leak \ufffd with a lone surrogate"
    assert "\ufffd" in json.loads(stored["42210001"].raw)["story_title"]
    assert stored["42210002"].text == "Sora leak with a NUL  byte"


def test_ids_that_are_too_long_or_not_ascii_digits_cost_their_hit_only(engine, write_monitor):
    long_string = hit(1, DAY, "Sora leak, a 300-digit id")
    long_string["objectID"] = "9" * 300
    long_number = hit(2, DAY, "Sora leak, a 300-digit numeric id")
    long_number["objectID"] = 10**299
    arabic_digits = hit(3, DAY, "Sora leak, an id in Arabic-Indic digits")
    arabic_digits["objectID"] = "٤٢٢١٠٠٠٣"
    huge_points = hit(42210004, DAY, "Sora leak with absurd points")
    huge_points["points"] = 10**40
    result = run(engine, write_monitor, FakeAlgolia([*corpus(), long_string, long_number, arabic_digits, huge_points]))
    assert result.status == "ok", result.errors
    tally = result.tallies["hackernews"]
    assert tally.skipped_items == 3 * tally.searches and "objectID" in tally.shape_error  # each search sees them
    assert stored_ids(engine) == {"42200001", "42200002", "42200005", "42210004"}
    with engine.connect() as conn:
        assert conn.execute(select(posts.c.likes).where(posts.c.native_id == "42210004")).scalar() is None


def test_the_post_boundary_bounds_ids_and_the_store_takes_the_longest(engine):
    longest = "7" * MAX_ID_LENGTH
    with pytest.raises(ValueError, match="printable id"):
        Post(platform="hackernews", native_id=longest + "7", text="x", created_at=NOW)
    with pytest.raises(ValueError, match="printable id"):
        Post(platform="hackernews", native_id="12\n34", text="x", created_at=NOW)
    post = Post(platform="hackernews", native_id=longest, text="x", created_at=NOW, reply_to="1" * 999, likes=2**40)
    assert post.reply_to is None and post.likes is None
    with engine.begin() as conn:
        save_posts(conn, [post], run_id=start_run(conn, "m", "live"), source="hackernews")
        assert conn.execute(select(posts.c.native_id)).scalar() == longest


def test_json_nested_100000_deep_is_a_recorded_page_not_a_traceback(engine, write_monitor):
    deep = b"[" * 100_000 + b"]" * 100_000
    nested_hits = b'{"hits": ' + b"[" * 100_000 + b"]" * 100_000 + b', "nbHits": 1, "nbPages": 1}'
    for body in (deep, nested_hits):
        result = run(engine, write_monitor, FakeAlgolia(corpus(), bodies={(FIRST_WINDOW, 0): body}))
        assert result.status == "partial"
        assert any("nested too deeply" in error for error in result.errors), result.errors
        assert {"42200001", "42200002"} <= stored_ids(engine)  # later windows still arrived


def test_any_exception_on_a_page_costs_that_page_and_never_blocks_later_runs(engine, write_monitor, monkeypatch):
    real_parse = hackernews.parse

    def parse(body):
        if b"42200005" in body:
            raise RuntimeError("boom")
        return real_parse(body)

    monkeypatch.setattr(hackernews, "parse", parse)
    result = run(engine, write_monitor, FakeAlgolia(corpus()))
    tally = result.tallies["hackernews"]
    assert result.status == "partial" and tally.failed_pages == tally.searches  # once per search
    assert any("RuntimeError: boom" in error for error in result.errors)
    assert {"42200001", "42200002"} <= stored_ids(engine)
    assert cursor(engine) == NOW  # recorded and passed: the next run is not stuck on it
    later = FakeAlgolia([*corpus(), hit(42300001, NOW + timedelta(minutes=30), "Sora leak news")])
    monitor = load_monitor(write_monitor(MONITOR))
    with client_for(later) as client:
        again = collect_monitor(engine, monitor, plan_sources(monitor), client, now=NOW + timedelta(hours=1))
    assert again.status == "ok" and "42300001" in stored_ids(engine)


def test_a_source_whose_walk_breaks_ends_failed_and_the_run_row_is_finished(engine, write_monitor):
    def broken(request: httpx.Request) -> httpx.Response:
        raise ValueError("a bug in the transport")

    monitor = load_monitor(write_monitor(MONITOR))
    from collect.http import make_client

    with make_client(transport=httpx.MockTransport(broken), sleep=lambda s: None) as client:
        result = collect_monitor(engine, monitor, plan_sources(monitor), client, now=NOW)
    assert result.status == "failed"
    with engine.connect() as conn:
        row = conn.execute(select(runs)).one()
    assert row.status == "failed" and row.finished_at is not None and "a bug in the transport" in row.errors


def test_an_interrupt_mid_run_still_finishes_the_run_row(engine, write_monitor):
    def progress(step: str, done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(engine, write_monitor, FakeAlgolia(corpus()), progress=progress)
    with engine.connect() as conn:
        row = conn.execute(select(runs)).one()
    assert row.status == "interrupted" and row.finished_at is not None


def test_a_stop_request_commits_the_page_in_hand_and_records_interrupted(engine, write_monitor):
    result = run(engine, write_monitor, FakeAlgolia(corpus()), stop=lambda: True)
    assert result.status == "interrupted" and result.tallies["hackernews"].pages == 1
    with engine.connect() as conn:
        assert conn.execute(select(runs.c.status)).scalar() == "interrupted"


def test_stale_running_rows_from_dead_processes_are_marked_interrupted(engine, write_monitor):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    long_ago = utc_now() - timedelta(hours=3)
    with engine.begin() as conn:
        rows = [
            {"host": HOST, "pid": dead_pid, "heartbeat_at": utc_now()},  # this host, process gone
            {"host": "collector-2.example", "pid": 1, "heartbeat_at": long_ago},  # silent for hours
            {"host": "collector-3.example", "pid": 1, "heartbeat_at": utc_now()},  # alive elsewhere
        ]
        for row in rows:
            conn.execute(
                insert(runs).values(
                    monitor="sora-test",
                    mode="live",
                    started_at=long_ago,
                    status="running",
                    counts="{}",
                    errors="[]",
                    **row,
                )
            )
    result = run(engine, write_monitor, FakeAlgolia(corpus()))
    with engine.connect() as conn:
        statuses = dict(conn.execute(select(runs.c.host, runs.c.status).where(runs.c.id != result.run_id)).all())
        assert conn.execute(select(func.count()).select_from(runs).where(runs.c.finished_at.is_(None))).scalar() == 1
    assert statuses == {HOST: "interrupted", "collector-2.example": "interrupted", "collector-3.example": "running"}


def test_demo_replay_honours_the_monitor_end(engine, write_monitor):
    from collect.runner import load_demo
    from tests.conftest import SORA_MONITOR

    text = SORA_MONITOR.read_text(encoding="utf-8")
    corpus_dir = SORA_MONITOR.parent.parent / "demo" / "sora-leak"
    monitor_text = text.replace("[sources", "end = 2024-11-26\n\n[sources", 1)
    monitor_text = monitor_text.replace('corpus = "../demo/sora-leak"', f'corpus = "{corpus_dir}"')
    monitor = load_monitor(write_monitor(monitor_text))
    assert load_demo(engine, monitor).status == "ok"
    with engine.connect() as conn:
        days = {as_date(d) for d in conn.execute(select(posts.c.created_at)).scalars()}
    assert max(days) == datetime(2024, 11, 26).date()  # the end day itself is included


def as_date(moment: datetime):
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).date()
