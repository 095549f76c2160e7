"""The GDELT source: windows and halving, the 5-second interval, plain-text refusals, repaired JSON.

Requests go to an `httpx.MockTransport` handler that checks the path and parameters and raises
AssertionError on anything else; the module's clock and sleep are replaced, so waits are recorded
(and asserted), never slept. Fixtures follow the DOC 2.0 artlist format with fictional domains.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from collect.errors import ParseError, SourceHTTPError
from collect.http import make_client
from collect.sources import SOURCES, gdelt
from collect.sources.base import FetchContext
from collect.sources.gdelt import fetch, parse, search_query, translate
from monitor.query import parse_query

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "gdelt"
SEARCH = '("Sora" OR "سورا") (leak OR "PR-Puppets")'
UNTIL = datetime(2024, 11, 27, 12, tzinfo=UTC)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class Clock:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock()
    monkeypatch.setattr(gdelt, "_now_clock", fake)
    monkeypatch.setattr(gdelt, "_sleep", fake.sleep)
    monkeypatch.setattr(gdelt, "_last_request", {})
    yield fake


def context(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    since: datetime = UNTIL - timedelta(days=2),
    state: dict[str, Any] | None = None,
    client: httpx.Client | None = None,
    **overrides: Any,
) -> FetchContext:
    options: dict[str, Any] = {key: option.default for key, option in gdelt.OPTIONS.items()}
    options["base_url"] = None
    options.update(overrides)
    return FetchContext(
        client=client or httpx.Client(transport=httpx.MockTransport(handler)),
        search=SEARCH,
        options=options,
        since=since,
        until=UNTIL,
        state=state,
        env={},
    )


def artlist(count: int) -> bytes:
    articles = [
        {
            "url": f"https://wire.example/{index}",
            "url_mobile": "",
            "title": f"Sora leak {index}",
            "seendate": "20241126T120000Z",
            "socialimage": "",
            "domain": "wire.example",
            "language": "English",
            "sourcecountry": "United States",
        }
        for index in range(count)
    ]
    return json.dumps({"articles": articles}).encode()


def windows(requests: list[httpx.Request]) -> list[tuple[str, str]]:
    return [(request.url.params["startdatetime"], request.url.params["enddatetime"]) for request in requests]


# --- parse -------------------------------------------------------------------------------------


def test_articles_become_posts_with_url_ids_seendates_and_iso_languages() -> None:
    posts = parse(fixture("artlist_page.json"))
    first = posts[0]
    assert first.platform == "gdelt"
    assert first.native_id == first.url == "https://www.daily.example/tech/2024/11/26/sora-leak-artists"
    assert first.title == "Artists leak OpenAI 's Sora in protest over unpaid testing"
    assert first.created_at == datetime(2024, 11, 26, 17, 15, tzinfo=UTC)
    assert (first.author, first.text) == ("daily.example", "")
    assert first.raw["sourcecountry"] == "United States" and first.raw["language"] == "English"
    assert [post.language for post in posts] == ["en", "ar", "fr", "es", None]
    assert posts[1].raw["sourcecountry"] == "Egypt"


def test_an_article_without_url_or_readable_seendate_costs_only_itself(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="collect.sources.gdelt"):
        assert len(parse(fixture("artlist_page.json"))) == 5
    assert [record.getMessage() for record in caplog.records] == [
        "gdelt: skipping article 5: https://broken.example/no-date: seendate 'yesterday' is not YYYYMMDDTHHMMSSZ",
        "gdelt: skipping article 6: url None is not a web address",
    ]


def test_invalid_escapes_and_raw_control_characters_are_repaired() -> None:
    first, second = parse(fixture("artlist_invalid_escape.json"))
    assert first.title == "Sora 'PR puppets' letter: x quoted in full A"
    assert second.title == "سورا س مع علامة تبويب"


@pytest.mark.parametrize("body", [b"{}", b"", b'{"articles": []}'])
def test_no_results_are_no_posts(body: bytes) -> None:
    assert parse(body) == []


@pytest.mark.parametrize(
    "body",
    [
        fixture("rate_limited.txt"),
        fixture("phrase_too_short.txt"),
        fixture("truncated.json.partial"),
        b"[]",
        b'{"articles": {}}',
        b"<html><body>504 Gateway Time-out</body></html>",
    ],
)
def test_parse_rejects_what_is_not_an_artlist(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse(body)


# --- translate and the query parameter ---------------------------------------------------------


def test_translate_and_filters() -> None:
    assert translate(parse_query('("Sora" OR "سورا") AND (leak OR "PR-Puppets")')) == [SEARCH]
    assert search_query("sora", ["ar", "French"], ["EG"]) == (
        "sora (sourcelang:arabic OR sourcelang:french) sourcecountry:EG"
    )
    assert search_query("sora", ["en; DROP"], []) == "sora"
    assert SOURCES["gdelt"] is gdelt and gdelt.OPTIONS["interval"].minimum == 5.0


# --- fetch -------------------------------------------------------------------------------------


def test_the_walk_asks_day_windows_five_seconds_apart_and_saves_each_windows_end(clock: Clock) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        assert request.url.host == "api.gdeltproject.org" and request.url.path == "/api/v2/doc/doc"
        return httpx.Response(200, content=fixture("artlist_page.json"), headers={"Content-Type": "application/json"})

    pages = list(fetch(context(handler)))
    params = dict(seen[0].url.params)
    assert params == {
        "query": SEARCH,
        "mode": "artlist",
        "format": "json",
        "maxrecords": "250",
        "startdatetime": "20241125120000",
        "enddatetime": "20241126120000",
        "sort": "datedesc",
    }
    assert windows(seen) == [("20241125120000", "20241126120000"), ("20241126120000", "20241127120000")]
    assert clock.sleeps == [5.0]
    assert [page.state for page in pages] == [
        {"through": "2024-11-26T12:00:00+00:00"},
        {"through": "2024-11-27T12:00:00+00:00"},
    ]
    assert all(page.url == "https://api.gdeltproject.org/api/v2/doc/doc" for page in pages)


def test_the_interval_option_spaces_requests_further(clock: Clock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        clock.now += 2.0  # the request itself takes two seconds
        return httpx.Response(200, content=b"{}")

    list(fetch(context(handler, interval=12.0, window_hours=12)))
    assert clock.sleeps == [10.0, 10.0, 10.0]


def test_a_full_window_is_halved_until_it_fits() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        start = request.url.params["startdatetime"]
        return httpx.Response(200, content=artlist(250 if start == "20241126000000" and len(seen) == 1 else 3))

    pages = list(fetch(context(handler, since=datetime(2024, 11, 26, tzinfo=UTC), window_hours=12)))
    assert windows(seen) == [
        ("20241126000000", "20241126120000"),
        ("20241126000000", "20241126060000"),
        ("20241126060000", "20241126120000"),
        ("20241126120000", "20241127000000"),
        ("20241127000000", "20241127120000"),
    ]
    assert [page.state for page in pages][:2] == [
        {"through": "2024-11-26T06:00:00+00:00"},
        {"through": "2024-11-26T12:00:00+00:00"},
    ]


def test_a_window_full_at_the_smallest_width_is_read_as_far_as_it_goes(caplog: pytest.LogCaptureFixture) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=artlist(250))

    with caplog.at_level(logging.WARNING):
        pages = list(fetch(context(handler, since=UNTIL - timedelta(minutes=15), window_hours=0.25)))
    assert len(pages) == 1 and pages[0].state == {"through": "2024-11-27T12:00:00+00:00"}
    assert "only 250 can be read" in caplog.text


def test_the_walk_resumes_an_hour_before_the_saved_cursor() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"{}")

    list(fetch(context(handler, state={"through": "2024-11-27T09:00:00+00:00"})))
    assert windows(seen) == [("20241127080000", "20241127120000")]


def test_a_backfill_older_than_three_months_starts_where_gdelt_reaches() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"{}")

    list(fetch(context(handler, since=UNTIL - timedelta(days=400), window_hours=24 * 90)))
    assert windows(seen) == [("20240829120000", "20241127120000")]


@pytest.mark.parametrize("status", [429, 200])
def test_please_limit_requests_is_waited_out_longer_each_time(clock: Clock, status: int) -> None:
    answers = [fixture("rate_limited.txt")] * 2

    def handler(request: httpx.Request) -> httpx.Response:
        body = answers.pop() if answers else fixture("artlist_page.json")
        code = status if body == fixture("rate_limited.txt") else 200
        return httpx.Response(code, content=body, headers={"Content-Type": "text/plain"})

    pages = list(fetch(context(handler, since=UNTIL - timedelta(hours=24))))
    assert clock.sleeps == [10.0, 20.0]
    assert len(pages) == 1 and len(parse(pages[0].body)) == 5


def test_a_rate_limit_that_never_lifts_ends_the_source(clock: Clock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, content=fixture("rate_limited.txt"))

    with pytest.raises(SourceHTTPError, match="Please limit requests") as raised:
        list(fetch(context(handler)))
    assert raised.value.status_code == 429 and clock.sleeps == [10.0, 20.0, 40.0]


def test_the_shared_clients_429_is_also_waited_out(clock: Clock) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) <= 2:
            return httpx.Response(429, content=fixture("rate_limited.txt"))
        return httpx.Response(200, content=fixture("artlist_page.json"))

    client = make_client(transport=httpx.MockTransport(handler), sleep=lambda seconds: None, max_attempts=2)
    pages = list(fetch(context(handler, client=client, since=UNTIL - timedelta(hours=24))))
    assert clock.sleeps == [10.0] and len(pages) == 1


def test_a_plain_text_refusal_is_yielded_and_stops_the_search(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=fixture("phrase_too_short.txt"), headers={"Content-Type": "text/html"})

    with caplog.at_level(logging.WARNING):
        pages = list(fetch(context(handler)))
    assert len(seen) == 1 and len(pages) == 1 and pages[0].state is None
    assert "The specified phrase is too short." in caplog.text


def test_an_unreadable_window_keeps_every_later_window_unread() -> None:
    answers = [fixture("artlist_page.json"), fixture("truncated.json.partial")]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=answers.pop(0))  # a third request would fail on the empty list

    pages = list(fetch(context(handler, window_hours=12)))
    assert [page.state for page in pages] == [{"through": "2024-11-26T00:00:00+00:00"}, None]


def test_server_errors_end_the_source() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, content=b"Not Found")

    with pytest.raises(SourceHTTPError) as raised:
        list(fetch(context(handler)))
    assert raised.value.status_code == 404


def test_base_url_keeps_gdelts_path() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert str(request.url).startswith("http://127.0.0.1:8080/api/v2/doc/doc?query=")
        return httpx.Response(200, content=b"{}")

    assert len(list(fetch(context(handler, base_url="http://127.0.0.1:8080")))) == 2
