"""`python -m collect` end to end over real sockets: a loopback server stands in for the platform,
reached through each source's `base_url`, with the command run in its own process."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from store.db import open_store
from store.schema import cursors, posts
from tests.conftest import FIXTURES, ROOT
from tests.fake_hn import FakeAlgolia, hit
from tests.loopback import LoopbackServer

START_ID = str(int(datetime(2024, 11, 12, tzinfo=UTC).timestamp() * 1000) << 16)  # Mastodon's id of that instant
QUERY = '("Sora" OR "سورا") AND (leak OR تسريب OR "PR-Puppets" OR filtración OR fuite)'


def collect(monitor: Path, db: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MASTODON_", "BLUESKY_"))}
    return subprocess.run(
        [sys.executable, "-m", "collect", "--monitor", str(monitor), "--db", db],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_hacker_news_over_loopback(tmp_path: Path, write_monitor) -> None:
    day = datetime(2024, 11, 26, 14, tzinfo=UTC)
    api = FakeAlgolia(
        [
            hit(42200001, day, "The Sora leak was a protest by the <i>PR-Puppets</i>."),
            hit(42200002, day + timedelta(minutes=5), "تسريب سورا كان متوقعا", author="layla_r"),
            hit(42200003, day + timedelta(minutes=9), "Sora is impressive, no drama here."),
        ]
    )
    with LoopbackServer(api.handle) as server:
        monitor = write_monitor(
            f"""
            name = "loopback-hn"
            query = '("Sora" OR "سورا") AND (leak OR تسريب)'
            start = 2024-11-20
            [sources.hackernews]
            window_days = 366
            base_url = "{server.url}"
            """
        )
        db = f"sqlite:///{tmp_path / 'hn.db'}"
        done = collect(monitor, db)
    assert done.returncode == 0, done.stderr
    assert server.failures == []
    assert {r.url.path for r in server.requests} == {"/api/v1/search_by_date"}
    engine = open_store(db)
    with engine.connect() as conn:
        assert set(conn.execute(select(posts.c.native_id)).scalars()) == {"42200001", "42200002"}
        assert conn.execute(select(cursors.c.source)).scalars().all() == ["hackernews"] * 4  # one per search
    engine.dispose()


def mastodon_instance(request: httpx.Request) -> httpx.Response:
    """#Sora read forward from the monitor's start, linked the way Mastodon links pages, on any instance."""
    if request.url.path != "/api/v1/timelines/tag/Sora":
        raise AssertionError(f"unexpected request {request.url}")
    newer_than = request.url.params.get("min_id")
    pages = {
        START_ID: ("tag_page2.json", "113546000000000010"),
        "113546000000000010": ("tag_page1.json", "113546219440558007"),
    }
    if newer_than == "113546219440558007":
        return httpx.Response(200, json=[])
    if newer_than not in pages:
        raise AssertionError(f"unexpected min_id {newer_than}")
    name, newest = pages[newer_than]
    link = f'<https://mastodon.example{request.url.path}?min_id={newest}>; rel="prev"'
    body = (FIXTURES / "mastodon" / name).read_bytes()
    return httpx.Response(200, content=body, headers={"Content-Type": "application/json", "Link": link})


def test_mastodon_over_loopback_reads_two_instances_and_keeps_one_copy_of_each_status(
    tmp_path: Path, write_monitor
) -> None:
    with LoopbackServer(mastodon_instance) as server:
        monitor = write_monitor(
            f"""
            name = "loopback-mastodon"
            query = '{QUERY}'
            start = 2024-11-12
            [sources.mastodon]
            instances = ["mastodon.example", "piaille.example"]
            tags = ["Sora"]
            base_url = "{server.url}"
            """
        )
        db = f"sqlite:///{tmp_path / 'mastodon.db'}"
        done = collect(monitor, db)
    assert done.returncode == 0, done.stderr
    assert server.failures == []
    assert len(server.requests) == 6  # two pages and the empty "nothing newer" from each instance
    engine = open_store(db)
    with engine.connect() as conn:
        stored = conn.execute(select(posts.c.native_id, posts.c.platform_language)).all()
        [state] = conn.execute(select(cursors.c.state)).scalars().all()
    engine.dispose()
    assert sorted(str(language) for _, language in stored) == ["None", "ar", "en", "en", "es", "fr"]
    assert len({native_id for native_id, _ in stored}) == len(stored)
    assert '"mastodon.example #sora"' in state and '"piaille.example #sora"' in state
