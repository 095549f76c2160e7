"""Collection runs end to end against a fake Algolia API: filtering, cursors, failures, demo."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from collect import cli
from collect.http import make_client
from collect.plan import plan_sources
from collect.runner import collect_monitor, load_demo
from collect.sources.base import cursor_key
from collect.sources.hackernews import OVERLAP
from monitor.config import load_monitor
from store.collection import get_cursor
from store.schema import posts, run_posts, runs
from tests.conftest import SORA_MONITOR
from tests.fake_hn import FakeAlgolia, hit

START = datetime(2024, 11, 20, tzinfo=UTC)
NOW = datetime(2024, 11, 30, tzinfo=UTC)

MONITOR = """
    name = "sora-test"
    query = '("Sora" OR "سورا") AND (leak OR تسريب OR "PR-Puppets") NOT "Sora Bay"'
    start = 2024-11-20
    [sources.hackernews]
    hits_per_page = 2
    window_days = 4
"""


def corpus() -> list[dict]:
    day = START + timedelta(days=6, hours=9, minutes=13)
    return [
        hit(42200001, day, "The Sora leak was a protest by the <i>PR-Puppets</i>."),
        hit(42200002, day + timedelta(minutes=7), "تسريب سورا كان متوقعا", author="layla_r"),
        hit(42200003, day + timedelta(minutes=9), "Sora is impressive, no drama here."),  # no leak term
        hit(42200004, day + timedelta(minutes=12), "A pipe leak flooded the Sora Bay hotel."),  # excluded
        hit(42200005, day - timedelta(days=4), "Early Sora leak rumours"),
        hit(42200006, START - timedelta(days=2), "Sora leak before the start date"),  # before start
    ]


def client_for(api: FakeAlgolia) -> httpx.Client:
    return make_client(transport=api.transport(), sleep=lambda s: None)


def hn_key(monitor) -> str:
    return cursor_key(plan_sources(monitor)[0].options, ("tags",), monitor.start)


def stored_ids(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(posts.c.native_id)).scalars())


def test_a_run_keeps_only_posts_matching_the_query_and_logs_counts(engine, write_monitor):
    monitor = load_monitor(write_monitor(MONITOR))
    api = FakeAlgolia(corpus())
    with client_for(api) as client:
        result = collect_monitor(engine, monitor, plan_sources(monitor), client, now=NOW)
    assert result.status == "ok", result.errors
    assert stored_ids(engine) == {"42200001", "42200002", "42200005"}
    tally = result.tallies["hackernews"]
    assert tally.new == 3 and tally.failed_pages == 0
    assert tally.fetched > tally.matched  # the fake API ignores the query; the local filter did the work
    with engine.connect() as conn:
        run = conn.execute(select(runs)).one()
        assert run.status == "ok" and run.mode == "live"
        assert json.loads(run.counts)["hackernews"]["new"] == 3
        assert conn.execute(select(func.count()).select_from(run_posts)).scalar() == 3
        assert get_cursor(conn, "sora-test", "hackernews", '"Sora" leak', hn_key(monitor)) == {"until": NOW.isoformat()}


def test_the_next_run_resumes_from_the_cursor_with_a_small_overlap(engine, write_monitor):
    monitor = load_monitor(write_monitor(MONITOR))
    plans = plan_sources(monitor)
    with client_for(FakeAlgolia(corpus())) as client:
        collect_monitor(engine, monitor, plans, client, now=NOW)
    later = NOW + timedelta(hours=5)
    fresh = [*corpus(), hit(42300001, NOW + timedelta(hours=2), "Sora leak: OpenAI responds")]
    api = FakeAlgolia(fresh)
    with client_for(api) as client:
        result = collect_monitor(engine, monitor, plans, client, now=later)
    low = int((NOW - OVERLAP).timestamp())
    assert all(f.startswith(f"created_at_i>{low},") for f in api.filters_asked())
    assert result.tallies["hackernews"].new == 1
    assert "42300001" in stored_ids(engine)


def test_a_broken_page_is_skipped_the_rest_kept_and_the_cursor_held_back(engine, write_monitor):
    monitor = load_monitor(write_monitor(MONITOR))
    first_window = f"created_at_i>{int(START.timestamp())},created_at_i<={int((START + timedelta(days=4)).timestamp())}"
    api = FakeAlgolia(corpus(), broken_pages={(first_window, 0)})
    with client_for(api) as client:
        result = collect_monitor(engine, monitor, plan_sources(monitor), client, now=NOW)
    assert result.status == "partial"
    assert result.tallies["hackernews"].failed_pages >= 1
    assert any("hackernews" in e and "search_by_date" in e for e in result.errors)
    # The later window still arrived; the early post in the broken window did not.
    assert {"42200001", "42200002"} <= stored_ids(engine)
    assert "42200005" not in stored_ids(engine)
    with engine.connect() as conn:
        state = get_cursor(conn, "sora-test", "hackernews", '"Sora" leak', hn_key(monitor))
    assert state is not None and "until" not in state and list(state["broken"].values()) == [1]


def test_an_unreachable_source_is_reported_not_raised(engine, write_monitor):
    monitor = load_monitor(write_monitor(MONITOR))

    def offline(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("name resolution failed", request=request)

    with make_client(transport=httpx.MockTransport(offline), sleep=lambda s: None) as client:
        result = collect_monitor(engine, monitor, plan_sources(monitor), client, now=NOW)
    assert result.unreachable and result.status == "failed"
    assert result.tallies["hackernews"].error is not None
    assert "could not be reached" in result.tallies["hackernews"].error


def test_the_demo_corpus_loads_through_the_real_parser(engine):
    monitor = load_monitor(SORA_MONITOR)
    result = load_demo(engine, monitor)
    assert result.status == "ok", result.errors[:3]
    assert set(result.tallies) >= {"hackernews", "mastodon", "bluesky", "jetstream", "googlenews", "gdelt"}
    assert all(tally.matched >= 20 for tally in result.tallies.values())
    assert sum(tally.matched for tally in result.tallies.values()) >= 1500
    tally = result.tallies["hackernews"]
    assert tally.fetched > tally.matched  # Sora Bay and no-leak posts are filtered out
    with engine.connect() as conn:
        rows = conn.execute(select(posts.c.created_at, posts.c.demo, posts.c.raw)).all()
        languages = conn.execute(select(posts.c.platform, posts.c.platform_language)).all()
    # Mastodon and Bluesky carry most of the non-English posts (HN says no language: it has none).
    social = [language for platform, language in languages if platform in ("mastodon", "bluesky")]
    assert sum(1 for language in social if language != "en") > 0.6 * len(social)
    assert all(r.demo for r in rows)
    days = {r.created_at.date() for r in rows}
    assert min(days) <= datetime(2024, 11, 14).date() and max(days) >= datetime(2024, 12, 8).date()
    busiest = max(days, key=lambda d: sum(1 for r in rows if r.created_at.date() == d))
    assert busiest in {datetime(2024, 11, 26).date(), datetime(2024, 11, 27).date()}
    assert not any('"author"' in r.raw for r in rows)


def test_collect_cli_falls_back_to_the_demo_when_offline(tmp_path, monkeypatch):
    def offline(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("offline", request=request)

    monkeypatch.setattr(
        cli, "make_client", lambda **_: make_client(transport=httpx.MockTransport(offline), sleep=lambda s: None)
    )
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert cli.main(["--monitor", str(SORA_MONITOR), "--db", url, "--demo-if-offline", "-q"]) == 0
    assert cli.main(["--monitor", str(SORA_MONITOR), "--db", url, "-q"]) == 3


@pytest.mark.parametrize(("text", "seconds"), [("30m", 1800), ("6h", 21600), ("1d", 86400), ("90s", 90)])
def test_schedule_intervals(text, seconds):
    assert cli.interval(text) == seconds


@pytest.mark.parametrize("text", ["10s", "soon", "5"])
def test_bad_schedule_intervals_are_refused(text):
    with pytest.raises(Exception, match="expected"):
        cli.interval(text)


def test_every_keeps_collecting_until_interrupted(tmp_path, monkeypatch, write_monitor):
    api = FakeAlgolia(corpus())
    monkeypatch.setattr(cli, "make_client", lambda **_: make_client(transport=api.transport(), sleep=lambda s: None))
    pauses = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(cli.time, "sleep", sleep)
    url = f"sqlite:///{tmp_path / 'every.db'}"
    with pytest.raises(KeyboardInterrupt):
        cli.main(["--monitor", str(write_monitor(MONITOR)), "--db", url, "--every", "30m", "-q"])
    assert len(pauses) == 2 and all(1700 < p <= 1800 for p in pauses)
    from store.db import open_store

    engine = open_store(url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(runs)).scalar() == 2
    engine.dispose()
