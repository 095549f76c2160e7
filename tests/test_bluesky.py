"""Bluesky searchPosts: recorded responses through the parser; sessions, paging and errors through a
MockTransport that answers like the XRPC service (createSession, refreshSession, ExpiredToken, 429)."""

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
from collect.sources import bluesky
from collect.sources.base import FetchContext, Page
from collect.sources.bluesky import fetch, parse, translate
from monitor.query import parse_query

FIXTURES = Path(__file__).parent / "fixtures" / "bluesky"
SINCE = datetime(2024, 11, 12, tzinfo=UTC)
UNTIL = datetime(2024, 11, 30, 6, 30, tzinfo=UTC)
ENV = {"MURMUR_BLUESKY_HANDLE": "murmur-research.bsky.social", "MURMUR_BLUESKY_APP_PASSWORD": "abcd-efgh-ijkl-mnop"}
SEARCH = "/xrpc/app.bsky.feed.searchPosts"
CREATE = "/xrpc/com.atproto.server.createSession"
REFRESH = "/xrpc/com.atproto.server.refreshSession"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(autouse=True)
def no_sessions_kept() -> Iterator[None]:
    bluesky._SESSIONS.clear()
    yield
    bluesky._SESSIONS.clear()


# --- parse -------------------------------------------------------------------------------------


def test_parse_reads_text_links_replies_quotes_and_media(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="collect.sources.bluesky"):
        posts = {post.native_id.rsplit("/", 1)[1]: post for post in parse(fixture("search_page1.json"))}
    assert set(posts) == {"3lbu5xqrxy22a", "3lbu5wzzkk22b", "3lbu5vvvvvv2c", "3lbu5ttttttt2d"}
    spanish = posts["3lbu5xqrxy22a"]
    assert spanish.native_id == "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3lbu5xqrxy22a"
    assert spanish.url == "https://bsky.app/profile/did:plc:ewvi7nxzyoun6zhxrhs64oiz/post/3lbu5xqrxy22a"
    # The shortened link is written out from its facet (byte offsets, after a multi-byte emoji).
    assert (
        spanish.text
        == "La filtración de Sora 🎬 por PR-Puppets: leer https://news.example/2024/11/26/sora-leak-artists"
    )
    assert spanish.language == "es" and (spanish.replies, spanish.reposts, spanish.likes) == (4, 9, 57)
    assert spanish.author == "did:plc:ewvi7nxzyoun6zhxrhs64oiz" and spanish.thread_id == spanish.native_id
    arabic = posts["3lbu5wzzkk22b"]
    assert arabic.language == "ar"
    assert arabic.reply_to == "at://did:plc:parentparentparentparent/app.bsky.feed.post/3lbu5bbbbbb2b"
    assert arabic.thread_id == "at://did:plc:rootrootrootrootrootroot/app.bsky.feed.post/3lbu5aaaaaa2a"
    quoting = posts["3lbu5vvvvvv2c"]
    assert quoting.quote_of == spanish.native_id
    assert quoting.text == "Why we leaked Sora\n\n[image: PR-Puppets open letter, page 1]"
    assert quoting.created_at == datetime(2024, 11, 26, 21, 40, tzinfo=UTC)  # -03:00 made UTC
    assert posts["3lbu5ttttttt2d"].text == "[link: Soraの流出 — アーティストの抗議]"
    assert "no post uri or author DID" in caplog.text and "unreadable createdAt" in caplog.text


def test_raw_keeps_the_post_view_but_not_the_author() -> None:
    for post in parse(fixture("search_page1.json")):
        assert "author" not in post.raw and "viewer" not in post.raw
        assert "lucia.bsky.social" not in json.dumps(post.raw)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (fixture("error_expired.json"), "ExpiredToken"),
        (fixture("truncated_page.json.partial"), "not a complete JSON document"),
        (b'{"feed": []}', "no 'posts' list"),
        (b"[]", "no 'posts' list"),
    ],
)
def test_parse_rejects_what_is_not_a_search_response(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse(body)


def test_translate_one_search_per_clause() -> None:
    query = parse_query('("Sora" OR سورا) AND (leak OR "PR Puppets") NOT "Sora Bay"')
    assert translate(query) == ['"Sora" leak', '"Sora" "PR Puppets"', "سورا leak", 'سورا "PR Puppets"']
    assert translate(parse_query('"-1" AND sora')) == ['"-1" sora']


# --- fetch -------------------------------------------------------------------------------------


class Xrpc:
    """Answers by path from queues of responses; records every request; fails on anything else."""

    def __init__(self, routes: dict[str, list[httpx.Response]]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.routes.get(request.url.path)
        if not queue:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        return queue.pop(0) if len(queue) > 1 else queue[0]

    def asked(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path]


def ok(name: str, **headers: str) -> httpx.Response:
    return httpx.Response(200, content=fixture(name), headers={"Content-Type": "application/json", **headers})


def error(status: int, name: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=fixture(name), headers={"Content-Type": "application/json", **headers})


def run(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    state: dict | None = None,
    sleep: Callable[[float], None] = lambda s: None,
    **options: Any,
) -> list[Page]:
    settings = {"lang": "", "limit": 100, "max_pages": 100, "window_days": 30.0, "base_url": None, **options}
    with make_client(transport=httpx.MockTransport(handler), sleep=sleep) as client:
        return list(fetch(FetchContext(client, '"Sora" leak', settings, SINCE, UNTIL, state, ENV)))


def test_a_walk_logs_in_once_pages_by_cursor_and_saves_until_at_the_end() -> None:
    api = Xrpc({CREATE: [ok("create_session.json")], SEARCH: [ok("search_page1.json"), ok("search_page2.json")]})
    pages = run(api, lang="es")
    assert [p.state for p in pages] == [None, {"until": UNTIL.isoformat()}]
    [login] = api.asked(CREATE)
    assert json.loads(login.content) == {
        "identifier": ENV["MURMUR_BLUESKY_HANDLE"],
        "password": ENV["MURMUR_BLUESKY_APP_PASSWORD"],
    }
    first, second = api.asked(SEARCH)
    assert dict(first.url.params) == {
        "q": '"Sora" leak',
        "sort": "latest",
        "since": "2024-11-12T00:00:00.000Z",
        "until": "2024-11-30T06:30:00.000Z",
        "limit": "100",
        "lang": "es",
    }
    assert second.url.params["cursor"] == "25"
    assert first.headers["Authorization"] == "Bearer ACCESS-1"
    assert all(ENV["MURMUR_BLUESKY_APP_PASSWORD"] not in str(p.url) for p in pages)


def test_a_backfill_is_cut_into_windows_oldest_first_each_saving_its_end() -> None:
    api = Xrpc({CREATE: [ok("create_session.json")], SEARCH: [ok("search_empty.json")]})
    pages = run(api, window_days=7.0)
    spans = [(r.url.params["since"], r.url.params["until"]) for r in api.asked(SEARCH)]
    assert spans == [
        ("2024-11-12T00:00:00.000Z", "2024-11-19T00:00:00.000Z"),
        ("2024-11-19T00:00:00.000Z", "2024-11-26T00:00:00.000Z"),
        ("2024-11-26T00:00:00.000Z", "2024-11-30T06:30:00.000Z"),
    ]
    assert [p.state for p in pages] == [
        {"until": "2024-11-19T00:00:00+00:00"},
        {"until": "2024-11-26T00:00:00+00:00"},
        {"until": UNTIL.isoformat()},
    ]


def test_an_unreadable_page_stops_the_later_windows_too() -> None:
    api = Xrpc(
        {CREATE: [ok("create_session.json")], SEARCH: [ok("search_empty.json"), ok("truncated_page.json.partial")]}
    )
    pages = run(api, window_days=7.0)
    assert [p.state for p in pages] == [{"until": "2024-11-19T00:00:00+00:00"}, None]
    assert len(api.asked(SEARCH)) == 2


def test_the_session_is_reused_by_the_next_run() -> None:
    api = Xrpc({CREATE: [ok("create_session.json")], SEARCH: [ok("search_empty.json")]})
    run(api)
    run(api)
    assert len(api.asked(CREATE)) == 1 and len(api.asked(SEARCH)) == 2


def test_an_expired_token_is_refreshed_not_logged_in_again() -> None:
    api = Xrpc(
        {
            CREATE: [ok("create_session.json")],
            REFRESH: [ok("refresh_session.json")],
            SEARCH: [error(400, "error_expired.json"), ok("search_empty.json")],
        }
    )
    run(api)
    [refresh] = api.asked(REFRESH)
    assert refresh.headers["Authorization"] == "Bearer REFRESH-1"
    assert [r.headers["Authorization"] for r in api.asked(SEARCH)] == ["Bearer ACCESS-1", "Bearer ACCESS-2"]
    assert len(api.asked(CREATE)) == 1


def test_a_refused_refresh_logs_in_again() -> None:
    api = Xrpc(
        {
            CREATE: [ok("create_session.json")],
            REFRESH: [error(400, "error_expired.json")],
            SEARCH: [error(400, "error_expired.json"), ok("search_empty.json")],
        }
    )
    run(api)
    assert len(api.asked(CREATE)) == 2


def test_a_refused_login_names_the_variables_but_never_the_password() -> None:
    api = Xrpc({CREATE: [error(401, "error_login.json")]})
    with pytest.raises(SourceHTTPError) as raised:
        run(api)
    message = str(raised.value)
    assert "MURMUR_BLUESKY_HANDLE" in message and "AuthenticationRequired: Invalid identifier or password" in message
    assert ENV["MURMUR_BLUESKY_APP_PASSWORD"] not in message


def test_a_429_waits_for_the_ratelimit_reset_then_goes_on() -> None:
    sleeps: list[float] = []
    api = Xrpc(
        {
            CREATE: [ok("create_session.json")],
            SEARCH: [
                error(
                    429,
                    "error_rate_limit.json",
                    **{
                        "RateLimit-Limit": "3000",
                        "RateLimit-Remaining": "0",
                        "RateLimit-Reset": "12",
                        "RateLimit-Policy": "3000;w=300",
                    },
                ),
                ok("search_empty.json"),
            ],
        }
    )
    pages = run(api, sleep=sleeps.append)
    assert 12.0 in sleeps and pages[-1].state == {"until": UNTIL.isoformat()}


def test_a_lasting_5xx_raises_and_a_bad_query_is_named() -> None:
    api = Xrpc({CREATE: [ok("create_session.json")], SEARCH: [httpx.Response(502, text="upstream error")]})
    with pytest.raises(SourceHTTPError) as raised:
        run(api)
    assert raised.value.status_code == 502
    api = Xrpc({CREATE: [ok("create_session.json")], SEARCH: [error(400, "error_bad_query.json")]})
    with pytest.raises(SourceHTTPError, match="InvalidRequest"):
        run(api)


def test_an_unreadable_page_ends_the_walk_without_state() -> None:
    api = Xrpc({CREATE: [ok("create_session.json")], SEARCH: [ok("truncated_page.json.partial")]})
    pages = run(api)
    assert [p.state for p in pages] == [None]


def test_a_later_run_resumes_an_hour_before_the_saved_until() -> None:
    api = Xrpc({CREATE: [ok("create_session.json")], SEARCH: [ok("search_empty.json")]})
    saved = UNTIL - timedelta(hours=5)
    run(api, state={"until": saved.isoformat()})
    assert api.asked(SEARCH)[0].url.params["since"] == "2024-11-30T00:30:00.000Z"


def test_max_pages_stops_the_walk_and_moves_the_cursor_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    api = Xrpc({CREATE: [ok("create_session.json")], SEARCH: [ok("search_page1.json")]})
    with caplog.at_level(logging.WARNING):
        pages = run(api, max_pages=1)
    assert [p.state for p in pages] == [{"until": UNTIL.isoformat()}]
    assert "stopped after 1 pages" in caplog.text


def test_base_url_keeps_the_xrpc_paths() -> None:
    api = Xrpc({CREATE: [ok("create_session.json")], SEARCH: [ok("search_empty.json")]})
    run(api, base_url="http://127.0.0.1:8080")
    assert [(r.url.host, r.url.port, r.url.path) for r in api.requests] == [
        ("127.0.0.1", 8080, CREATE),
        ("127.0.0.1", 8080, SEARCH),
    ]


def test_module_declares_the_seam() -> None:
    assert bluesky.REQUIRED_ENV == ("MURMUR_BLUESKY_HANDLE", "MURMUR_BLUESKY_APP_PASSWORD")
    assert set(bluesky.CURSOR_OPTIONS) <= set(bluesky.OPTIONS)
    assert "abcd" not in repr(bluesky.Session("abcd", "efgh"))
