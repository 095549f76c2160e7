"""Real processes on one store: opening it together, writing together, signals, kill -9, and three
collectors sharing a monitor's work. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

from sqlalchemy import func, select

from store.db import open_store
from store.schema import posts, run_posts, runs
from tests.conftest import ROOT
from tests.fake_hn import FakeAlgolia, hit
from tests.loopback_hn import serve
from tests.test_runner import START

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

# Six searches for a source without OR (3 × 2 clauses), so three collectors have work to share.
SHARED_MONITOR = """
    name = "shared"
    query = '(sora OR openai OR "PR-Puppets") AND (leak OR protest)'
    start = 2024-11-20
    end = 2024-11-29
    [sources.hackernews]
    hits_per_page = 2
    window_days = 3
"""
WORDS = [("Sora", "leak"), ("OpenAI", "protest"), ("PR-Puppets", "leak"), ("Sora", "protest"), ("OpenAI", "leak")]


def shared_corpus(count: int = 40) -> list[dict]:
    return [
        hit(
            43000000 + i,
            START + timedelta(hours=5 * i + 1),
            f"{WORDS[i % 5][0]} {WORDS[i % 5][1]} story {i}",
            author=f"user{i % 7}",
        )
        for i in range(count)
    ]


def spawn(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def collector(base_url: str, monitor, db_url: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.collector_process", base_url, "--monitor", str(monitor), "--db", db_url, "-q"],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(process: subprocess.Popen, timeout: float = 240) -> tuple[int, str]:
    _, stderr = process.communicate(timeout=timeout)
    return process.returncode, stderr


def test_processes_opening_a_new_store_together_all_succeed(db_url):
    code = "import sys; from store.db import open_store; open_store(sys.argv[1]).dispose()"
    group = [spawn(code, db_url) for _ in range(6)]
    results = [finished(p, 120) for p in group]
    assert [rc for rc, _ in results] == [0] * 6, [err[-500:] for _, err in results]


WRITER = """
import random, sys
from datetime import datetime, timezone
from store.db import open_store
from store.collection import save_posts, start_run
from store.post import Post
engine = open_store(sys.argv[1])
seed = int(sys.argv[2])
with engine.begin() as conn:
    run = start_run(conn, "m", "live")
rng = random.Random(seed)
for batch in range(150):
    ids = rng.sample(range(400), 12)
    items = [Post(platform="hackernews", native_id=str(i), text=f"post {i} seen by {seed} in {batch % 3}",
                  created_at=datetime(2024, 11, 26, tzinfo=timezone.utc), author=f"a{i % 9}") for i in ids]
    with engine.begin() as conn:
        save_posts(conn, items, run_id=run, source="hackernews")
"""


def test_two_writers_at_once_never_fail(db_url):
    group = [spawn(WRITER, db_url, str(seed)) for seed in (1, 2)]
    results = [finished(p) for p in group]
    assert [rc for rc, _ in results] == [0, 0], [err[-800:] for _, err in results]
    engine = open_store(db_url)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(posts)).scalar_one()
        distinct = conn.execute(select(func.count(func.distinct(posts.c.native_id)))).scalar_one()
        hashes = conn.execute(select(func.count(func.distinct(posts.c.author_hash)))).scalar_one()
    engine.dispose()
    assert count == distinct > 300 and hashes == 9  # one key for both writers: one pseudonym per author


def test_sigterm_finishes_the_page_records_interrupted_and_exits_130(db_url, write_monitor):
    monitor = write_monitor(SHARED_MONITOR)
    with serve(FakeAlgolia(shared_corpus()), delay=0.4) as server:
        process = collector(server.url, monitor, db_url)
        engine = open_store(db_url)
        _wait_for_posts(engine, process)
        process.send_signal(signal.SIGTERM)
        server.delay = 0
        rc, stderr = finished(process)
        assert rc == 130, stderr[-800:]
        with engine.connect() as conn:
            row = conn.execute(select(runs)).one()
            stored = conn.execute(select(func.count()).select_from(posts)).scalar_one()
        assert row.status == "interrupted" and row.finished_at is not None and stored > 0
        # The next run completes the rest: nothing lost, nothing twice.
        rc, stderr = finished(collector(server.url, monitor, db_url))
        assert rc == 0, stderr[-800:]
    _assert_all_stored_once(engine)
    engine.dispose()


def test_kill_9_loses_and_duplicates_nothing_and_the_dead_run_is_marked(db_url, write_monitor):
    monitor = write_monitor(SHARED_MONITOR)
    with serve(FakeAlgolia(shared_corpus()), delay=0.3) as server:
        process = collector(server.url, monitor, db_url)
        engine = open_store(db_url)
        _wait_for_posts(engine, process)
        process.kill()
        process.wait()
        server.delay = 0
        rc, stderr = finished(collector(server.url, monitor, db_url))
        assert rc == 0, stderr[-800:]
    with engine.connect() as conn:
        statuses = sorted(conn.execute(select(runs.c.status)).scalars())
    assert statuses == ["interrupted", "ok"]
    _assert_all_stored_once(engine)
    engine.dispose()


def test_three_collectors_share_the_work_and_a_dead_one_releases_its_share(db_url, write_monitor):
    monitor = write_monitor(SHARED_MONITOR)
    with serve(FakeAlgolia(shared_corpus()), delay=0.05) as server:
        group = [collector(server.url, monitor, db_url) for _ in range(3)]
        victim = collector(server.url, monitor, db_url)
        engine = open_store(db_url)
        _wait_for_posts(engine, victim)
        victim.kill()  # dies holding a search
        victim.wait()
        results = [finished(p) for p in group]
        assert [rc for rc, _ in results] == [0, 0, 0], [err[-800:] for _, err in results]
        rc, stderr = finished(collector(server.url, monitor, db_url))  # picks up whatever the dead one held
        assert rc == 0, stderr[-800:]
    assert max(server.most_at_once.values()) == 1  # never two collectors on one search at once
    assert len(server.most_at_once) == 6
    _assert_all_stored_once(engine)
    engine.dispose()


def _wait_for_posts(engine, process: subprocess.Popen) -> None:
    """Until the collector has committed some posts (or has exited, which fails the test)."""
    for _ in range(600):
        assert process.poll() is None, process.communicate()[1][-800:]
        with engine.connect() as conn:
            if conn.execute(select(func.count()).select_from(posts)).scalar():
                return
        time.sleep(0.05)
    raise AssertionError("the collector stored nothing")


def _assert_all_stored_once(engine) -> None:
    expected = {str(h["objectID"]) for h in shared_corpus() if h["created_at_i"] < 1732838400 + 86400}
    with engine.connect() as conn:
        ids = list(conn.execute(select(posts.c.native_id)).scalars())
        links = conn.execute(select(run_posts.c.run_id, run_posts.c.post_id)).all()
    assert sorted(ids) == sorted(set(ids)) and set(ids) == expected
    assert len(links) == len(set(links))


def test_collection_analysis_and_dashboard_queries_share_one_store(db_url, write_monitor):
    from store.analysis import PostVerdict, posts_without_verdict, save_verdicts
    from store.queries import PostFilter, counts_over_time, facets, recent_runs

    monitor = write_monitor(SHARED_MONITOR)
    with serve(FakeAlgolia(shared_corpus()), delay=0.05) as server:
        process = collector(server.url, monitor, db_url)
        engine = open_store(db_url)
        rounds = 0
        while process.poll() is None or rounds == 0:
            with engine.begin() as conn:  # what `murmur analyze` writes, as new posts arrive
                pending = posts_without_verdict(conn, "shared")
                save_verdicts(conn, [PostVerdict(p.id, "en", 0.9, "neutral", 0.0, "test") for p in pending])
            with engine.connect() as conn:  # what the dashboard reads
                counts_over_time(conn, "shared", PostFilter(), hourly=False)
                facets(conn, "shared")
                recent_runs(conn, "shared")
            rounds += 1
            time.sleep(0.05)
        rc, stderr = finished(process)
    assert rc == 0, stderr[-800:]
    with engine.begin() as conn:
        pending = posts_without_verdict(conn, "shared")
        save_verdicts(conn, [PostVerdict(p.id, "en", 0.9, "neutral", 0.0, "test") for p in pending])
        frame = counts_over_time(conn, "shared", PostFilter(), hourly=False)
    assert frame["posts"].sum() == len(shared_corpus()) and set(frame["language"]) == {"en"}
    _assert_all_stored_once(engine)
    engine.dispose()
