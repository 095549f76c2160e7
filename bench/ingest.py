"""Ingest speed: posts/s for Murmur's own path (parse, filter, store) beside sqlite-utils' `upsert_all`
and raw `sqlite3` `executemany` on the same hits, in the same run, and the PostgreSQL figure.

    python -m bench.ingest [N]        (default 100,000 hits, in pages of 1,000 as the API serves them)

The hits are Algolia HN comments written the way the API writes them (HTML text, tags, counts).
Every path starts from the same response bodies and parses their JSON; the baselines store each
hit as it comes, Murmur converts HTML to text, cleans and pseudonymises, filters through the
monitor's query and upserts. PostgreSQL: `MURMUR_BENCH_PG` (a URL to an empty database), else a
throwaway cluster is started from Debian's server binaries if installed. Anchor (issue 9): Murmur's
path at least 1.0x sqlite-utils.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from collect.runner import load_demo
from monitor.config import load_monitor
from store.db import open_store

PAGE = 1000
MONITOR = Path(__file__).resolve().parents[1] / "monitors" / "sora-leak.toml"
PHRASES = [
    "The <i>Sora</i> leak was a protest by the PR-Puppets artists.",
    "تسريب سورا كان متوقعا بعد أشهر من العمل غير المدفوع",
    'Sora leak: <a href="https://example.com/a">https://example.com/a</a> has the statement.',
    "I think the Sora leak shows how unpaid testing works.<p>Second paragraph here.",
    "Nothing about the topic at all, just a comment on video models.",
]


def hits(count: int) -> list[dict]:
    start = datetime(2024, 11, 20, tzinfo=UTC)
    result = []
    for i in range(count):
        when = start + timedelta(seconds=17 * i)
        result.append(
            {
                "_tags": ["comment", f"author_user{i % 5000}", "story_42200000"],
                "author": f"user{i % 5000}",
                "comment_text": f"{PHRASES[i % len(PHRASES)]} #{i}",
                "created_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "created_at_i": int(when.timestamp()),
                "objectID": str(43000000 + i),
                "parent_id": 42200000,
                "story_id": 42200000,
                "points": i % 50,
                "story_title": "OpenAI's Sora leaked by artists",
                "updated_at": "2024-12-01T00:00:00Z",
            }
        )
    return result


def bodies(all_hits: list[dict]) -> list[bytes]:
    return [
        json.dumps(
            {"hits": all_hits[i : i + PAGE], "nbHits": len(all_hits), "nbPages": 1, "page": 0, "hitsPerPage": PAGE}
        ).encode()
        for i in range(0, len(all_hits), PAGE)
    ]


def murmur_path(url: str, pages: list[bytes], folder: Path) -> tuple[float, int]:
    corpus = folder / f"corpus-{time.monotonic_ns()}" / "hackernews"
    corpus.mkdir(parents=True)
    for number, body in enumerate(pages):
        (corpus / f"page-{number:05d}.json").write_bytes(body)
    engine = open_store(url)
    monitor = load_monitor(MONITOR)
    started = time.perf_counter()
    result = load_demo(engine, monitor, corpus.parent)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed, result.tallies["hackernews"].new


def sqlite_utils_path(path: Path, pages: list[bytes]) -> float:
    import sqlite_utils

    db = sqlite_utils.Database(path)
    started = time.perf_counter()
    for body in pages:
        db.table("hits").upsert_all(json.loads(body)["hits"], pk="objectID", alter=True)
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def executemany_path(path: Path, pages: list[bytes]) -> float:
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE hits (objectID TEXT PRIMARY KEY, author TEXT, comment_text TEXT, "
        "created_at_i INTEGER, points INTEGER, raw TEXT)"
    )
    started = time.perf_counter()
    for body in pages:
        rows = [
            (h["objectID"], h["author"], h["comment_text"], h["created_at_i"], h["points"], json.dumps(h))
            for h in json.loads(body)["hits"]
        ]
        with conn:
            conn.executemany("INSERT OR REPLACE INTO hits VALUES (?, ?, ?, ?, ?, ?)", rows)
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def postgres_url() -> tuple[str | None, object]:
    """A PostgreSQL URL for the run and the cluster to stop afterwards (None when given by env)."""
    if os.environ.get("MURMUR_BENCH_PG"):
        return os.environ["MURMUR_BENCH_PG"], None
    try:
        from tests.pg import Cluster, server_binaries
    except ImportError:
        return None, None
    binaries = server_binaries()
    if binaries is None:
        return None, None
    cluster = Cluster(binaries)
    cluster.start()
    return cluster.create_database("murmur_bench"), cluster


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.ERROR)
    count = int(argv[0]) if argv else 100_000
    pages = bodies(hits(count))
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        os.environ.setdefault("MURMUR_AUTHOR_KEY_FILE", str(folder / "author.key"))
        baseline = count / sqlite_utils_path(folder / "utils.db", pages)
        raw = count / executemany_path(folder / "raw.db", pages)
        seconds, stored = murmur_path(f"sqlite:///{folder / 'murmur.db'}", pages, folder)
        ours = count / seconds
        print(f"ingest of {count:,} Algolia HN hits ({len(pages)} pages), posts/s (higher is better):")
        print(f"  sqlite3 executemany (store only)      {raw:>10,.0f}")
        print(f"  sqlite-utils upsert_all (store only)  {baseline:>10,.0f}")
        print(
            f"  Murmur parse+filter+store, SQLite     {ours:>10,.0f}  = {ours / baseline:.2f}x sqlite-utils "
            f"(anchor: >= 1.0x); {stored:,} posts matched the query and were stored"
        )
        url, cluster = postgres_url()
        if url is None:
            print("  Murmur on PostgreSQL                  (no server: set MURMUR_BENCH_PG or install postgresql)")
        else:
            try:
                seconds, _ = murmur_path(url, pages, folder)
                print(f"  Murmur parse+filter+store, PostgreSQL {count / seconds:>10,.0f}")
            finally:
                if cluster is not None:
                    cluster.stop()  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
