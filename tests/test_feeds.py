"""The feeds source: any RSS or Atom feed read whole, conditionally, one failing feed costing only itself.

Requests go to an `httpx.MockTransport` handler that routes on the path and raises AssertionError on
anything else. The fixtures are fictional feeds on reserved .example domains.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from collect.errors import ParseError, SourceHTTPError
from collect.sources import SOURCES, feeds
from collect.sources.base import FetchContext
from collect.sources.feeds import fetch, parse, translate
from monitor.query import parse_query

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "feeds"
BLOG = "https://arts.example/feed/"
NEWS = "https://noticias.example/tecnologia/atom.xml"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def context(
    handler: Callable[[httpx.Request], httpx.Response], *, state: dict[str, Any] | None = None, **overrides: Any
) -> FetchContext:
    options: dict[str, Any] = {"urls": [BLOG, NEWS], "base_url": None}
    options.update(overrides)
    return FetchContext(
        client=httpx.Client(transport=httpx.MockTransport(handler)),
        search="*",
        options=options,
        since=datetime(2024, 11, 25, tzinfo=UTC),
        until=datetime(2024, 11, 28, tzinfo=UTC),
        state=state,
        env={},
    )


def serve(routes: dict[str, httpx.Response]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path not in routes:
            raise AssertionError(f"unexpected request {request.url}")
        return routes[request.url.path]

    return handler


# --- parse -------------------------------------------------------------------------------------


def test_rss_items_become_posts_with_html_turned_to_text() -> None:
    first, reading, untitled = parse(fixture("blog.rss"))
    assert first.platform == "feeds"
    assert first.native_id == "https://arts.example/?p=1042"
    assert first.title == "Why the Sora testers went public"
    assert first.text == (
        "Early-access artists say they were used as “PR puppets”.\n\nTheir letter lists three "
        "demands:\n\npay for testing\n\ncredit\n\nopen access"
    )
    assert first.author == "Mira Example"
    assert first.created_at == datetime(2024, 11, 26, 19, 15, tzinfo=UTC)
    assert (first.url, first.language) == ("https://arts.example/2024/11/26/sora-testers/", "en")
    assert [tag["term"] for tag in first.raw["tags"]] == ["AI", "Sora"]
    assert reading.text == "Links & notes on the leak, with markup escaped once."
    assert (untitled.title, untitled.url, untitled.text) == (None, None, "A note without a title about the leak.")


def test_a_repost_of_the_same_link_is_kept_once_and_an_empty_item_is_dropped() -> None:
    ids = [post.native_id for post in parse(fixture("blog.rss"))]
    assert "https://arts.example/?p=1043" not in ids  # same link as ?p=1042
    assert "https://arts.example/?p=1051" not in ids  # neither title nor text


def test_an_entry_without_id_or_link_costs_only_itself(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="collect.sources.feeds"):
        assert len(parse(fixture("blog.rss"))) == 3
    assert [record.getMessage() for record in caplog.records] == [
        "feeds: skipping entry 5: neither a guid/id nor a link"
    ]


def test_a_missing_date_falls_back_to_the_feeds_own() -> None:
    reading = parse(fixture("blog.rss"))[1]
    assert reading.created_at == datetime(2024, 11, 27, 12, tzinfo=UTC)
    assert reading.raw["date_from_feed"] is True


def test_atom_entries_html_titles_xhtml_content_and_the_feed_language() -> None:
    first, second = parse(fixture("noticias.atom"))
    assert first.title == "Filtración de Sora: artistas acusan a OpenAI"
    assert first.text == "Un grupo de artistas que probaba Sora publicó el acceso.\n\nOpenAI lo cerró en horas."
    assert first.created_at == datetime(2024, 11, 26, 21, tzinfo=UTC)
    assert (first.author, first.language) == ("Lucía Ejemplo", "es")
    assert second.created_at == datetime(2024, 11, 27, 10, tzinfo=UTC)


def test_raw_is_json_and_names_no_author() -> None:
    for name in ("blog.rss", "noticias.atom"):
        for post in parse(fixture(name)):
            dumped = json.dumps(post.raw, ensure_ascii=False)
            assert "author" not in post.raw and "lucia@" not in dumped
            if post.author:
                assert post.author not in dumped


@pytest.mark.parametrize("body", [b"", fixture("moved.html"), b'{"feed": []}', b"plain text"])
def test_parse_rejects_what_is_not_a_feed(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse(body)


def test_translate_reads_feeds_whole_and_the_module_is_registered() -> None:
    assert translate(parse_query("sora leak")) == ["*"]
    assert SOURCES["feeds"] is feeds and feeds.CURSOR_OPTIONS == ("urls",)


# --- fetch -------------------------------------------------------------------------------------


def test_each_feed_is_read_and_its_validators_kept() -> None:
    handler = serve(
        {
            "/feed/": httpx.Response(200, content=fixture("blog.rss"), headers={"ETag": '"blog-7"'}),
            "/tecnologia/atom.xml": httpx.Response(
                200, content=fixture("noticias.atom"), headers={"Last-Modified": "Wed, 27 Nov 2024 10:00:00 GMT"}
            ),
        }
    )
    pages = list(fetch(context(handler)))
    assert [page.url for page in pages] == [BLOG, NEWS]
    assert pages[0].state is None
    assert pages[1].state == {
        "feeds": {BLOG: {"etag": '"blog-7"'}, NEWS: {"last_modified": "Wed, 27 Nov 2024 10:00:00 GMT"}}
    }


def test_unchanged_feeds_answer_304_and_yield_nothing() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(304)

    state = {"feeds": {BLOG: {"etag": '"blog-7"'}, NEWS: {"last_modified": "Wed, 27 Nov 2024 10:00:00 GMT"}}}
    assert list(fetch(context(handler, state=state))) == []
    assert sent[0].headers["If-None-Match"] == '"blog-7"' and "If-Modified-Since" not in sent[0].headers
    assert sent[1].headers["If-Modified-Since"] == "Wed, 27 Nov 2024 10:00:00 GMT"


def test_a_gone_feed_is_reported_and_the_others_still_read(caplog: pytest.LogCaptureFixture) -> None:
    handler = serve(
        {
            "/feed/": httpx.Response(410, content=b"Gone"),
            "/tecnologia/atom.xml": httpx.Response(200, content=fixture("noticias.atom"), headers={"ETag": '"n1"'}),
        }
    )
    with caplog.at_level(logging.WARNING):
        pages = list(fetch(context(handler, state={"feeds": {BLOG: {"etag": '"old"'}}})))
    assert [page.url for page in pages] == [NEWS]
    assert pages[0].state == {"feeds": {BLOG: {"etag": '"old"'}, NEWS: {"etag": '"n1"'}}}
    assert "arts.example/feed/" in caplog.text and "410" in caplog.text


def test_when_every_feed_fails_the_source_fails() -> None:
    handler = serve({"/feed/": httpx.Response(404), "/tecnologia/atom.xml": httpx.Response(403)})
    with pytest.raises(SourceHTTPError) as raised:
        list(fetch(context(handler)))
    assert raised.value.status_code == 403


def test_a_feed_that_is_not_a_feed_is_yielded_without_moving_its_cursor() -> None:
    handler = serve(
        {
            "/feed/": httpx.Response(200, content=fixture("moved.html"), headers={"ETag": '"moved"'}),
            "/tecnologia/atom.xml": httpx.Response(200, content=fixture("noticias.atom")),
        }
    )
    pages = list(fetch(context(handler, state={"feeds": {BLOG: {"etag": '"old"'}}})))
    assert [(page.url, page.state is None) for page in pages] == [(BLOG, True), (NEWS, False)]
    state = pages[-1].state
    assert state is not None and state["feeds"][BLOG] == {"etag": '"old"'}


def test_no_urls_and_bad_urls_are_warnings_not_crashes(caplog: pytest.LogCaptureFixture) -> None:
    handler = serve({})
    with caplog.at_level(logging.WARNING):
        assert list(fetch(context(handler, urls=[]))) == []
        assert list(fetch(context(handler, urls=["ftp://arts.example/feed", "file:///etc/passwd"]))) == []
    assert "no urls configured" in caplog.text and "'file:///etc/passwd'" in caplog.text


def test_base_url_replaces_each_feeds_host() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, content=fixture("blog.rss"))

    list(fetch(context(handler, base_url="http://127.0.0.1:8080")))
    assert seen == ["http://127.0.0.1:8080/feed/", "http://127.0.0.1:8080/tecnologia/atom.xml"]
