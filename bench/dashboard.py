"""The dashboard at a million posts: first render and a filter change, timed with AppTest, and memory.

`python -m bench.dashboard [N]` builds a SQLite store of N posts (default 1,000,000) with analysis
results (language, sentiment, a topic model of 20 topics) by bulk insert, then drives dashboard.py
with Streamlit's AppTest: the first render on a cold cache, a filter change (one language), a
date range of two days (hourly bins), the same view again (cached) and every page. Before that it
times the post-count recount `murmur analyze` ends with. Each line prints wall and CPU seconds, the
load average and peak memory. Anchors (issue 11): first render ≤ 2 s and a filter change ≤ 0.5 s on
2 cores; the pandas dashboard it replaced took 23.9 s, 2.8 s and 1 GB.

`BENCH_DASHBOARD_DB=FILE` keeps the SQLite store between runs; `BENCH_DASHBOARD_URL=postgresql+psycopg://…`
builds into (or reuses) an empty PostgreSQL database instead.
"""

from __future__ import annotations

import os
import random
import resource
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sqlalchemy import Engine


ROOT = Path(__file__).resolve().parents[1]
MONITOR = "sora-leak"
SOURCES = ["hackernews", "mastodon", "bluesky", "reddit", "googlenews", "gdelt"]
LANGUAGES = ["en"] * 10 + ["ar"] * 3 + ["fr", "fr", "de", "es", "ja", "pt", "it"]
SENTIMENTS = ["negative", "neutral", "positive"]
WORDS = [
    "sora",
    "leak",
    "artists",
    "unpaid",
    "testers",
    "openai",
    "video",
    "model",
    "physics",
    "clips",
    "access",
    "protest",
    "labour",
    "pr",
    "puppets",
]
START = datetime(2024, 11, 1, tzinfo=timezone.utc)
DAYS = 40
CHUNK = 50_000


def build(url: str, n: int) -> None:
    """Schema and small tables through the store; posts and their analysis in bulk (sqlite3's
    executemany in large transactions, or PostgreSQL's COPY), as fast as each database takes them."""
    from store.db import open_store
    from store.schema import runs, topic_models, topics

    rng = random.Random(11)
    engine = open_store(url)
    started = datetime.now(timezone.utc)
    with engine.begin() as conn:  # the small tables through the store's schema (its defaults included)
        conn.execute(
            runs.insert().values(
                id=1, monitor=MONITOR, mode="live", started_at=started, finished_at=started, status="ok"
            )
        )
        conn.execute(
            topic_models.insert().values(
                id=1, monitor=MONITOR, fitted_at=started, embedding_model="bench", n_posts=n, n_topics=20
            )
        )
        conn.execute(
            topics.insert(),
            [
                {
                    "model_id": 1,
                    "topic": t,
                    "label": f"topic {t} " + ", ".join(rng.sample(WORDS, 3)),
                    "keywords": '[["sora", 0.1]]',
                    "size": 0,
                    "representative": "[1, 2, 3]",
                }
                for t in range(-1, 20)
            ],
        )
    if engine.dialect.name == "postgresql":
        _copy_into_postgresql(engine, n, rng)
    else:
        engine.dispose()
        _insert_into_sqlite(str(engine.url.database), n, rng)
    engine.dispose()


def _chunks(n: int, rng: random.Random, suffix: str) -> Iterator[tuple[list, list, list, list]]:
    """Posts, run links, verdicts and topic assignments, CHUNK posts at a time; `suffix` ends each timestamp."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f") + suffix
    for start in range(0, n, CHUNK):
        posts, links, verdicts, assignments = [], [], [], []
        for pid in range(start + 1, min(n, start + CHUNK) + 1):
            # Volume rises to a peak around day 22, like a leak
            day = min(DAYS - 1, max(0, int(rng.gauss(22, 6))))
            moment = START + timedelta(days=day, seconds=rng.randrange(86_400))
            created = moment.strftime("%Y-%m-%d %H:%M:%S.%f") + suffix
            text = " ".join(rng.choices(WORDS, k=12))
            posts.append(
                (
                    pid,
                    rng.choice(SOURCES),
                    str(pid),
                    f"https://example.org/{pid}",
                    f"{rng.randrange(50_000):032x}",
                    text,
                    created,
                    now,
                    rng.randrange(200),
                    text,
                )
            )
            links.append((1, pid, "bench"))
            language = rng.choice(LANGUAGES)
            sentiment = rng.choice(SENTIMENTS) if language == "en" else None
            verdicts.append((pid, language, 0.9, sentiment, 0.0 if sentiment else None, "bench", now))
            assignments.append((1, pid, rng.randrange(-1, 20), None))
        yield posts, links, verdicts, assignments


POST_COLUMNS = "id, platform, native_id, url, author_hash, text, created_at, collected_at, likes, search_text"
VERDICT_COLUMNS = "post_id, language, language_score, sentiment, sentiment_score, sentiment_backend, analysed_at"


def _insert_into_sqlite(path: str, n: int, rng: random.Random) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    for posts, links, verdicts, assignments in _chunks(n, rng, ""):
        db.executemany(f"INSERT INTO posts ({POST_COLUMNS}, demo) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)", posts)
        db.executemany("INSERT INTO run_posts (run_id, post_id, source) VALUES (?, ?, ?)", links)
        db.executemany(f"INSERT INTO post_analysis ({VERDICT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", verdicts)
        db.executemany(
            "INSERT INTO post_topics (model_id, post_id, topic, probability) VALUES (?, ?, ?, ?)", assignments
        )
        db.commit()
    db.execute("ANALYZE")
    db.commit()
    db.close()


def _copy_into_postgresql(engine: Engine, n: int, rng: random.Random) -> None:
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        for posts, links, verdicts, assignments in _chunks(n, rng, "+00"):
            for table, columns, rows in (
                ("posts", f"{POST_COLUMNS}, demo", [(*row, False) for row in posts]),
                ("run_posts", "run_id, post_id, source", links),
                ("post_analysis", VERDICT_COLUMNS, verdicts),
                ("post_topics", "model_id, post_id, topic, probability", assignments),
            ):
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            connection.commit()
        cursor.execute("SELECT setval(pg_get_serial_sequence('posts', 'id'), (SELECT max(id) FROM posts))")
        cursor.execute("ANALYZE")
        connection.commit()
    finally:
        connection.close()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time of this process and its children (the dashboard runs in this process under AppTest)."""
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    )


def timed(label: str, action: Callable[[], object]) -> tuple[float, float]:
    """Run `action`; print and return its wall and CPU seconds, with the load average and peak memory."""
    started, cpu = time.perf_counter(), cpu_seconds()
    result = action()
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    exception = getattr(result, "exception", None)
    assert not exception, exception
    print(
        f"{label:<34} wall {seconds:6.2f} s   CPU {cpu:6.2f} s   load {os.getloadavg()[0]:4.1f}   "
        f"peak RSS {rss_mb():,.0f} MB",
        flush=True,
    )
    return seconds, cpu


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else 1_000_000
    sys.path.insert(0, str(ROOT))
    from streamlit.components.v2.component_manager import BidiComponentManager
    from streamlit.testing.v1 import AppTest

    from store.db import display_url, open_store
    from store.post_counts import refresh

    with tempfile.TemporaryDirectory() as folder:
        url = (
            os.environ.get("BENCH_DASHBOARD_URL")
            or f"sqlite:///{os.environ.get('BENCH_DASHBOARD_DB') or Path(folder) / 'bench.db'}"
        )
        started = time.perf_counter()
        if _holds_posts(url):  # BENCH_DASHBOARD_DB / BENCH_DASHBOARD_URL keep a built store between runs
            print(f"store reused: {display_url(url)}", flush=True)
        else:
            build(url, n)
            print(
                f"store of {n:,} posts with analysis built in {time.perf_counter() - started:.0f} s "
                f"({display_url(url)})",
                flush=True,
            )
        os.environ["MURMUR_DB"] = url
        engine = open_store(os.environ["MURMUR_DB"])
        # What `murmur analyze` does last: count the posts per hour (all of them the first time), then
        # again with nothing changed (what an analysis with no new posts pays).
        timed("post counts: recount (analyze)", lambda: refresh(engine))
        timed("post counts: nothing to recount", lambda: refresh(engine))
        engine.dispose()
        import altair  # noqa: F401 - a served dashboard has its libraries loaded before anyone visits
        import pandas  # noqa: F401

        from dashboard_pages import charts, view  # noqa: F401

        print(f"before the dashboard: peak RSS {rss_mb():,.0f} MB")
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=300)
        # `streamlit run` scans the installed packages for components once, when the server starts;
        # AppTest does it on its first run. Done here first, so the first render times the page alone.
        components = BidiComponentManager()
        timed(
            "server start: component scan",
            lambda: components.discover_and_register_components(start_file_watching=False),
        )
        at._bidi_component_manager = components
        first, first_cpu = timed("first render (cold cache)", at.run)
        language = next(w for w in at.sidebar.multiselect if w.label == "Languages")
        change, change_cpu = timed("filter change (language = ar)", language.set_value(["ar"]).run)
        dates = next(w for w in at.sidebar.date_input if w.label == "Dates (UTC)")
        timed(
            "date range of 2 days (hourly)",
            dates.set_value((START.date() + timedelta(days=21), START.date() + timedelta(days=22))).run,
        )
        timed("same view again (cached)", at.run)
        for page, title in PAGES:
            timed(f"{title} page", at.switch_page(f"dashboard_pages/{page}.py").run)
        print(
            f"anchors: first render {first:.2f} s wall / {first_cpu:.2f} s CPU (target ≤ 2 s, was 23.9 s); "
            f"filter change {change:.2f} s wall / {change_cpu:.2f} s CPU (target ≤ 0.5 s, was 2.8 s); "
            f"peak RSS {rss_mb():,.0f} MB (was ~1 GB); load average {os.getloadavg()[0]:.1f} on "
            f"{os.cpu_count()} cores"
        )
    return 0


# Every page after the filter change and the two-day range (those filters stay set).
PAGES = [
    ("topics", "Topics"),
    ("narratives", "Narratives"),
    ("posts", "Posts"),
    ("voices", "Voices"),
    ("health", "Collection health"),
    ("export", "Export"),
    ("overview", "Overview"),
]


def _holds_posts(url: str) -> bool:
    from sqlalchemy import func, select

    from store.db import open_store
    from store.schema import posts

    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return False
    engine = open_store(url)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(select(func.count()).select_from(posts)).scalar())
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
