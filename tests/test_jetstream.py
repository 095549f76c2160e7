"""Jetstream against a loopback websocket server replaying recorded events, and its parser."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from collect.errors import ParseError, SourceUnavailable
from collect.http import make_client
from collect.plan import plan_sources
from collect.runner import collect_monitor
from collect.sources import bluesky, jetstream
from collect.sources.base import FetchContext, Page
from collect.sources.jetstream import fetch, parse, translate
from monitor.config import load_monitor
from monitor.query import parse_query
from store.collection import save_posts, start_run
from store.schema import posts
from tests.fake_jetstream import EVENTS, FakeJetstream

QUERY = '("Sora" OR "سورا") AND (leak OR تسريب OR "PR-Puppets")'
T0 = 1_732_646_400_000_000  # the recorded events' first time_us, 2024-11-26T18:40:00Z
START = datetime(2024, 11, 12, tzinfo=UTC)
LATER = datetime(2024, 11, 27, tzinfo=UTC)  # after every recorded event: a run reads them all
SPANISH = "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3lbu5xqrxy22a"
ARABIC = "at://did:plc:4u6wxnmnlsqcdgrbcgyqbkbd/app.bsky.feed.post/3lbu5wzzkk22b"


def at(micros: int) -> datetime:
    return datetime.fromtimestamp(micros / 1_000_000, tz=UTC)


def run(server: FakeJetstream, *, until: datetime = LATER, state: dict | None = None, **options: Any) -> list[Page]:
    settings = {"max_seconds": 30.0, "max_events": 1_000_000, "batch_size": 100, "base_url": server.url, **options}
    with make_client(transport=httpx.MockTransport(_no_http)) as client:
        return list(fetch(FetchContext(client, QUERY, settings, START, until, state, {})))


def _no_http(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"Jetstream makes no HTTP requests: {request.url}")


# --- parse -------------------------------------------------------------------------------------


def test_parse_reads_creates_and_updates_and_skips_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="collect.sources.jetstream"):
        parsed = parse(EVENTS.read_bytes())
    found = {post.native_id: post for post in parsed if not post.deleted}
    # The Arabic post was deleted later in the same stream: it is not stored at all. A delete of a post
    # not in the page is a deletion record, so the store drops a copy an earlier page stored.
    assert set(found) == {SPANISH, "at://did:plc:cats/app.bsky.feed.post/3lbu5catcat2a"}
    assert [(p.native_id, p.text) for p in parsed if p.deleted] == [
        ("at://did:plc:other/app.bsky.feed.post/3lbu5unrelat2", "")]
    assert ARABIC in {p.native_id for p in parse(EVENTS.read_text(encoding="utf-8").split("\n", 6)[4])}
    spanish = found[SPANISH]
    assert spanish.platform == "bluesky" and spanish.text == "La filtración de Sora por PR-Puppets (editado)"
    assert spanish.url == "https://bsky.app/profile/did:plc:ewvi7nxzyoun6zhxrhs64oiz/post/3lbu5xqrxy22a"
    assert spanish.language == "es" and spanish.author == "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
    assert "did" not in spanish.raw
    assert "no createdAt" in caplog.text


def test_parse_of_an_empty_page_and_of_what_is_not_jetstream() -> None:
    assert parse(b"") == []
    with pytest.raises(ParseError, match="no line is a Jetstream event"):
        parse(b"<html>502</html>\n")
    with pytest.raises(ParseError):
        parse(json.dumps({"posts": []}))


def test_translate_hands_the_query_itself_on() -> None:
    assert translate(parse_query(QUERY)) == [QUERY]


# --- fetch over a loopback websocket -----------------------------------------------------------


def test_a_run_replays_from_the_window_start_and_keeps_only_matches_and_their_deletes() -> None:
    with FakeJetstream() as server:
        pages = run(server)
    [(path, query)] = server.requests
    assert path == "/subscribe" and query["wantedCollections"] == ["app.bsky.feed.post"]
    # The monitor started long ago: replay from 36 h before `until`, as far as Jetstream keeps.
    assert int(query["cursor"][0]) == int((LATER - timedelta(hours=36)).timestamp() * 1_000_000)
    [page] = pages
    lines = [json.loads(line) for line in page.body.splitlines()]
    kept = [(e["commit"]["rkey"], e["commit"]["operation"]) for e in lines]
    assert kept == [
        ("3lbu5xqrxy22a", "create"),
        ("3lbu5wzzkk22b", "create"),
        ("3lbu5xqrxy22a", "update"),
        ("3lbu5wzzkk22b", "delete"),  # the delete of a post this run matched
        ("3lbu5badbad2a", "create"),  # matches; its missing date is the parser's to report
    ]
    assert page.state == {"cursor": T0 + 10}
    assert "?" not in page.url


def test_a_run_resumes_from_its_cursor_and_stops_when_caught_up() -> None:
    with FakeJetstream() as server:
        pages = run(server, state={"cursor": T0 + 4}, until=at(T0 + 6))
    assert server.requests[0][1]["cursor"] == [str(T0 + 4)]
    assert pages[-1].state == {"cursor": T0 + 6}  # the event at `until` ends the run
    assert [p.native_id for p in parse(b"\n".join(p.body for p in pages))] == [ARABIC, SPANISH]


def test_max_events_bounds_a_run_and_batches_carry_their_own_cursor() -> None:
    with FakeJetstream() as server:
        pages = run(server, max_events=5, batch_size=1)
    assert [p.state for p in pages] == [{"cursor": T0 + 1}, {"cursor": T0 + 5}, {"cursor": T0 + 5}]
    assert pages[-1].body == b""


def test_an_unreachable_jetstream_is_source_unavailable() -> None:
    with FakeJetstream() as server:
        url = server.url
    with make_client() as client, pytest.raises(SourceUnavailable, match="could not be reached"):
        settings = {"max_seconds": 5.0, "max_events": 10, "batch_size": 10, "base_url": url}
        list(fetch(FetchContext(client, QUERY, settings, START, LATER, None, {})))


def test_garbage_on_the_stream_is_skipped() -> None:
    lines = ["not json", '{"kind": "commit"}', *EVENTS.read_text(encoding="utf-8").splitlines()[:1]]
    with FakeJetstream(lines) as server:
        [page] = run(server)
    assert [p.native_id for p in parse(page.body)] == [SPANISH]


# --- through the runner: one post, whichever Bluesky source found it ---------------------------


MONITOR = f"""
    name = "jet"
    query = '{QUERY}'
    start = 2024-11-12
    [sources.jetstream]
    max_seconds = 30
    base_url = "{{url}}"
"""


def test_jetstream_and_search_store_one_post_for_one_bluesky_post(engine, write_monitor) -> None:
    with FakeJetstream() as server:
        monitor = load_monitor(write_monitor(MONITOR.replace("{url}", server.url)))
        with make_client(transport=httpx.MockTransport(_no_http)) as client:
            result = collect_monitor(engine, monitor, plan_sources(monitor, {}), client, now=LATER)
    assert result.status == "ok", result.errors  # the record without a date costs only itself
    assert result.tallies["jetstream"].new == 1  # the Arabic post was deleted before it was stored
    searched = bluesky.parse((EVENTS.parent.parent / "bluesky" / "search_page1.json").read_bytes())
    with engine.begin() as conn:
        saved = save_posts(conn, searched, run_id=start_run(conn, "jet", "live"), source="bluesky")
        rows = conn.execute(select(posts.c.native_id, posts.c.platform).where(posts.c.native_id == SPANISH)).all()
    assert saved.updated == 1 and rows == [(SPANISH, "bluesky")]  # the Spanish post was already there


def test_module_declares_the_seam() -> None:
    assert jetstream.NAME == "jetstream" and jetstream.REQUIRED_ENV == () and jetstream.CURSOR_OPTIONS == ()
