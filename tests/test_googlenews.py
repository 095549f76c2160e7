"""The Google News source: editions, date windows, conditional GET, and parsing its RSS search pages.

Requests go to an `httpx.MockTransport` handler that checks the path and parameters and raises
AssertionError on anything else. The fixtures follow Google News' RSS format with fictional
publishers on reserved .example domains.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from collect.errors import ParseError, SourceHTTPError
from collect.http import make_client
from collect.sources import SOURCES, googlenews
from collect.sources.base import FetchContext
from collect.sources.googlenews import edition_params, fetch, parse, split_publisher, translate
from monitor.query import parse_query

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "googlenews"
SEARCH = '("Sora" OR "سورا") (leak OR تسريب OR "PR-Puppets")'


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def context(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    since: datetime = datetime(2024, 11, 25, tzinfo=UTC),
    until: datetime = datetime(2024, 11, 27, 12, tzinfo=UTC),
    state: dict[str, Any] | None = None,
    client: httpx.Client | None = None,
    **overrides: Any,
) -> FetchContext:
    options: dict[str, Any] = {key: option.default for key, option in googlenews.OPTIONS.items()}
    options["base_url"] = None
    options.update(overrides)
    return FetchContext(
        client=client or httpx.Client(transport=httpx.MockTransport(handler)),
        search=SEARCH,
        options=options,
        since=since,
        until=until,
        state=state,
        env={},
    )


def rss(name: str, **headers: str) -> httpx.Response:
    return httpx.Response(200, content=fixture(name), headers={"Content-Type": "application/xml", **headers})


# --- parse -------------------------------------------------------------------------------------


def test_items_become_articles_with_the_publisher_split_from_the_title() -> None:
    posts = parse(fixture("search_en.rss"))
    first = posts[0]
    assert first.platform == "googlenews"
    assert first.native_id == "CBMiVkFVX3lxTE1zb3JhLWxlYWstZXhhbXBsZS1kYWlseQ"
    assert first.title == "Artists leak access to OpenAI's Sora video model in protest"
    assert first.author == "Example Daily"
    assert first.url == "https://news.google.com/rss/articles/CBMiVkFVX3lxTE1zb3JhLWxlYWstZXhhbXBsZS1kYWlseQ?oc=5"
    assert first.created_at == datetime(2024, 11, 26, 17, 4, tzinfo=UTC)
    assert first.language == "en"
    assert first.raw["publisher"] == "Example Daily" and first.raw["publisher_url"] == "https://daily.example"
    assert first.raw["title"] == "Artists leak access to OpenAI's Sora video model in protest - Example Daily"


def test_a_cluster_description_gives_related_headlines_not_text() -> None:
    first = parse(fixture("search_en.rss"))[0]
    assert first.text == ""
    assert first.raw["related"] == [
        "'PR-Puppets' explain why they opened Sora to everyone - The Courier Example",
        "OpenAI pauses Sora early access after leak - Tech News Example",
    ]


def test_a_dash_inside_the_headline_survives_and_a_missing_source_splits_at_the_last_dash() -> None:
    posts = {post.native_id: post for post in parse(fixture("search_en.rss"))}
    dashed = posts["CBMiQkFVX3lxTFNvcmEtZGFzaC10aXRsZQ"]
    assert (dashed.title, dashed.author) == (
        "Sora - the leak, explained & what it means for artists",
        "Arts & Machines Example",
    )
    unsourced = posts["CBMiQkFVX3lxTG5vLXNvdXJjZQ"]
    assert (unsourced.title, unsourced.author) == ("Sora leak: a timeline", "Wire Example")


def test_duplicates_are_dropped_and_a_missing_date_falls_back_to_the_feeds(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        posts = parse(fixture("search_en.rss"))
    ids = [post.native_id for post in posts]
    assert len(ids) == len(set(ids)) == 5
    undated = posts[-1]
    assert undated.created_at == datetime(2024, 11, 27, 9, 12, 44, tzinfo=UTC)
    assert undated.raw["date_from_feed"] is True
    assert "skipping entry 6: neither a guid/id nor a link" in caplog.text


def test_other_languages_keep_their_script_and_the_edition_language() -> None:
    arabic = parse(fixture("search_ar.rss"))
    assert [post.language for post in arabic] == ["ar", "ar"]
    assert arabic[1].title == "تسريب سورا: ماذا يريد الفنانون؟"
    assert arabic[1].author == "أخبار التقنية - مثال"  # the <source> name, dash and all
    (french,) = parse(fixture("search_fr.rss"))
    assert french.title == "Fuite de Sora : des artistes dénoncent le « art-washing » d’OpenAI"
    assert french.language == "fr"


def test_a_feed_cut_short_keeps_its_complete_items() -> None:
    assert [post.author for post in parse(fixture("truncated.rss.partial"))] == ["Example Daily", "The Courier Example"]


@pytest.mark.parametrize("body", [b"", fixture("sorry.html"), b'{"items": []}', b"\x00\xff"])
def test_parse_rejects_what_is_not_a_feed(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse(body)


def test_an_empty_search_has_no_articles() -> None:
    assert parse(fixture("empty.rss")) == []


@pytest.mark.parametrize(
    ("title", "publisher", "expected"),
    [
        ("Headline - Paper", "Paper", ("Headline", "Paper")),
        ("Headline - Other", "Paper", ("Headline - Other", "Paper")),
        ("A - B - C", None, ("A - B", "C")),
        ("No dash here", None, ("No dash here", None)),
        (" - Paper", "Paper", (" - Paper", "Paper")),
    ],
)
def test_split_publisher(title: str, publisher: str | None, expected: tuple[str, str | None]) -> None:
    assert split_publisher(title, publisher) == expected


# --- editions, translate -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edition", "params"),
    [
        ("en-US", {"hl": "en-US", "gl": "US", "ceid": "US:en"}),
        ("ar-EG", {"hl": "ar", "gl": "EG", "ceid": "EG:ar"}),
        ("fr-FR", {"hl": "fr", "gl": "FR", "ceid": "FR:fr"}),
        ("pt-BR", {"hl": "pt-BR", "gl": "BR", "ceid": "BR:pt-419"}),
        ("MX:es-419", {"hl": "es-419", "gl": "MX", "ceid": "MX:es-419"}),
        ("english", None),
        ("EG-ar", None),
    ],
)
def test_edition_params(edition: str, params: dict[str, str] | None) -> None:
    assert edition_params(edition) == params


def test_translate_uses_or_and_the_module_is_registered() -> None:
    query = parse_query('("Sora" OR "سورا") AND (leak OR "PR-Puppets") NOT bay')
    assert translate(query) == ['("Sora" OR "سورا") (leak OR "PR-Puppets")']
    assert SOURCES["googlenews"] is googlenews and googlenews.REQUIRED_ENV == ()


# --- fetch -------------------------------------------------------------------------------------


def test_each_edition_is_searched_with_its_parameters_and_an_open_window() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        assert request.url.host == "news.google.com" and request.url.path == "/rss/search"
        return rss(
            {"US:en": "search_en.rss", "EG:ar": "search_ar.rss", "FR:fr": "search_fr.rss"}[request.url.params["ceid"]],
            ETag=f'W/"{request.url.params["gl"]}-1"',
        )

    pages = list(fetch(context(handler, editions=["en-US", "ar-EG", "fr-FR"])))
    assert [dict(request.url.params) for request in seen] == [
        {"q": f"{SEARCH} after:2024-11-24", "hl": "en-US", "gl": "US", "ceid": "US:en"},
        {"q": f"{SEARCH} after:2024-11-24", "hl": "ar", "gl": "EG", "ceid": "EG:ar"},
        {"q": f"{SEARCH} after:2024-11-24", "hl": "fr", "gl": "FR", "ceid": "FR:fr"},
    ]
    assert [page.url for page in pages] == ["https://news.google.com/rss/search"] * 3
    assert [page.state is None for page in pages] == [True, True, False]
    assert pages[-1].state == {
        "editions": {
            edition: {"through": "2024-11-24", "q": f"{SEARCH} after:2024-11-24", "etag": f'W/"{country}-1"'}
            for edition, country in (("ar-EG", "EG"), ("en-US", "US"), ("fr-FR", "FR"))
        }
    }


def test_an_unchanged_result_costs_a_304_and_keeps_its_validators() -> None:
    state = {
        "editions": {
            "en-US": {
                "through": "2024-11-24",
                "q": f"{SEARCH} after:2024-11-24",
                "etag": 'W/"US-1"',
                "last_modified": "Wed, 27 Nov 2024 09:12:44 GMT",
            }
        }
    }
    sent: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers)
        return httpx.Response(304)

    assert list(fetch(context(handler, state=state))) == []
    assert sent[0]["If-None-Match"] == 'W/"US-1"'
    assert sent[0]["If-Modified-Since"] == "Wed, 27 Nov 2024 09:12:44 GMT"


def test_a_backfill_is_cut_into_settled_windows_that_are_read_once() -> None:
    queries: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        queries.append(request.url.params["q"].removeprefix(SEARCH + " "))
        return rss("empty.rss")

    since = datetime(2024, 11, 12, tzinfo=UTC)
    until = datetime(2025, 1, 20, tzinfo=UTC)
    pages = list(fetch(context(handler, since=since, until=until)))
    assert queries == ["after:2024-11-11 before:2024-12-11", "after:2024-12-11 before:2025-01-10", "after:2025-01-10"]
    state = pages[-1].state
    assert state is not None and state["editions"]["en-US"]["through"] == "2025-01-10"

    queries.clear()
    list(fetch(context(handler, since=since, until=datetime(2025, 2, 15, tzinfo=UTC), state=state)))
    assert queries == ["after:2025-01-10 before:2025-02-09", "after:2025-02-09"]


def test_a_bad_edition_is_skipped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["ceid"] == "FR:fr"
        return rss("search_fr.rss")

    with caplog.at_level(logging.WARNING):
        pages = list(fetch(context(handler, editions=["French", "fr-FR"])))
    assert len(pages) == 1 and "'French'" in caplog.text
    assert pages[0].state is not None and list(pages[0].state["editions"]) == ["fr-FR"]


def test_an_unreadable_page_keeps_its_editions_cursor_and_the_others_move() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["ceid"] == "US:en":
            return httpx.Response(200, content=fixture("sorry.html"), headers={"Content-Type": "text/html"})
        return rss("search_ar.rss")

    old = {"editions": {"en-US": {"through": "2024-11-24", "q": "old"}}}
    pages = list(fetch(context(handler, editions=["en-US", "ar-EG"], state=old)))
    assert [page.state is None for page in pages] == [True, False]
    state = pages[-1].state
    assert state is not None
    assert state["editions"]["en-US"] == {"through": "2024-11-24", "q": "old"}
    assert state["editions"]["ar-EG"]["through"] == "2024-11-24"


def test_googles_429_is_waited_for_then_reported() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(429, content=fixture("sorry.html"), headers={"Retry-After": "30"})

    waits: list[float] = []
    client = make_client(transport=httpx.MockTransport(handler), sleep=waits.append, max_attempts=3)
    with pytest.raises(SourceHTTPError) as raised:
        list(fetch(context(handler, client=client)))
    assert raised.value.status_code == 429 and waits == [30.0, 30.0] and len(calls) == 3


def test_base_url_keeps_googles_path() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert str(request.url).startswith("http://127.0.0.1:8080/rss/search?q=")
        return rss("empty.rss")

    assert len(list(fetch(context(handler, base_url="http://127.0.0.1:8080")))) == 1


def test_a_description_with_more_than_headlines_keeps_that_text() -> None:
    body = fixture("search_fr.rss").replace(
        b"&lt;/font&gt;</description>",
        b"&lt;/font&gt;&lt;p&gt;Un r\xc3\xa9sum\xc3\xa9 de la fuite.&lt;/p&gt;</description>",
    )
    (post,) = parse(body)
    assert post.text.endswith("Un résumé de la fuite.")
    assert post.raw["related"] == []
