"""The YouTube source: parsing recorded Data API responses, the search → videos → comments walk,
Google's JSON errors (quota, disabled comments, bad key), and keeping the key out of URLs and logs.
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
from collect.http import make_client
from collect.sources import SOURCES, youtube
from collect.sources.base import FetchContext, Page
from collect.sources.youtube import fetch, google_error, next_quota_reset, parse, translate
from monitor.query import parse_query

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "youtube"
KEY = "AIzaSyTESTKEY-do-not-log-0123456789abc"
SINCE = datetime(2024, 11, 20, tzinfo=UTC)
UNTIL = datetime(2024, 11, 29, tzinfo=UTC)
V1, V2, V3 = "Xq3v9Tn2LkA", "b-7_Kd0QwZe", "Lm4Rt8Yp0sU"
T1 = "UgzDE2tasfmrYLyNkGt4AaABAg"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# --- parse -------------------------------------------------------------------------------------


def test_parse_search_results_skips_channels_and_unescapes_titles() -> None:
    posts = parse(fixture("search_page1.json"))
    assert [p.native_id for p in posts] == [V1, V2]
    assert posts[0].title == 'Sora leak explained: what the "PR Puppets" artists did'
    assert posts[0].text.startswith("Artists with early access to OpenAI's Sora")
    assert posts[0].url == f"https://www.youtube.com/watch?v={V1}"
    assert posts[0].likes is None  # search results carry no statistics


def test_parse_videos_with_statistics_and_language() -> None:
    posts = parse(fixture("videos_page1.json")) + parse(fixture("videos_page2.json"))
    first, spanish, silent = posts
    assert (first.likes, first.replies, first.language) == (1920, 311, "en")
    assert first.created_at == datetime(2024, 11, 27, 18, 4, 11, tzinfo=UTC)
    assert first.author == "UCx1Fa9bQm2Lk7Tz0Pw3Rv8A" and first.thread_id == V1
    assert "\n\nChapters:" in first.text
    assert (spanish.likes, spanish.replies, spanish.language) == (None, 0, "es")  # likes hidden
    assert silent.language is None  # zxx: no linguistic content
    assert first.raw["statistics"]["viewCount"] == "48213"
    assert "channelId" not in first.raw["snippet"] and "channelTitle" not in first.raw["snippet"]


def test_parse_comment_threads_with_replies(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="collect.sources.youtube"):
        posts = parse(fixture("threads_page1.json"))
    top, reply = posts  # the deleted comment (no text) and the broken reply are left out
    assert (top.native_id, top.reply_to, top.thread_id, top.likes, top.replies) == (T1, V1, V1, 42, 2)
    assert top.text == "The artists said they were unpaid R&D. <b>Not</b> markup, just text."
    assert top.url == f"https://www.youtube.com/watch?v={V1}&lc={T1}"
    assert top.author == "UCa1b2c3d4e5f6g7h8i9j0kL"
    assert reply.native_id == T1 + ".A1b2C3d4E5fA1b2C3d4E5f" and reply.reply_to == T1
    assert "thread " + T1 in caplog.text and "None" in caplog.text
    for post in posts:
        assert not {"authorDisplayName", "authorChannelUrl", "authorChannelId"} & set(post.raw["snippet"])
        assert "tessellate" not in json.dumps(post.raw)


def test_a_comment_from_a_deleted_account_has_no_author() -> None:
    (post,) = parse(fixture("threads_page2.json"))
    assert post.author is None and post.text == "Wer hat das Frontend zuerst gesehen?"


@pytest.mark.parametrize(
    "item",
    [
        "not an object",
        {"kind": "youtube#video", "id": "has space", "snippet": {"publishedAt": "2024-11-27T00:00:00Z"}},
        {"kind": "youtube#video", "id": "abcdefghijk"},
        {"kind": "youtube#video", "id": "abcdefghijk", "snippet": {"publishedAt": "tomorrow"}},
    ],
)
def test_a_malformed_video_costs_only_itself(item: object) -> None:
    good = {
        "kind": "youtube#video",
        "id": "zzzzzzzzzzz",
        "snippet": {"publishedAt": "2024-11-27T00:00:00Z", "title": "Sora"},
    }
    body = json.dumps({"kind": "youtube#videoListResponse", "items": [item, good]})
    assert [p.native_id for p in parse(body)] == ["zzzzzzzzzzz"]


@pytest.mark.parametrize("name", ["error_quota_exceeded.json", "error_comments_disabled.json"])
def test_a_google_error_body_holds_no_posts(name: str) -> None:
    assert parse(fixture(name)) == []


@pytest.mark.parametrize(
    "body",
    [
        fixture("truncated.json.partial"),
        b"",
        b"[]",
        b'{"kind": "youtube#playlistListResponse", "items": []}',
        b'{"kind": "youtube#videoListResponse"}',
        b"<html>Error 502</html>",
    ],
)
def test_parse_rejects_what_is_not_a_listing(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse(body)


def test_google_error_reads_old_and_new_reasons() -> None:
    assert google_error(fixture("error_key_invalid.json")) == (
        400,
        "API key not valid. Please pass a valid API key.",
        {"badRequest", "API_KEY_INVALID"},
    )
    code, message, reasons = google_error(fixture("error_quota_exceeded.json"))
    assert (code, reasons) == (403, {"quotaExceeded"}) and "<a" not in message


def test_next_quota_reset_is_midnight_pacific() -> None:
    assert next_quota_reset(datetime(2024, 11, 28, 7, 30, tzinfo=UTC)) == datetime(2024, 11, 28, 8, tzinfo=UTC)
    assert next_quota_reset(datetime(2024, 11, 28, 8, 0, tzinfo=UTC)) == datetime(2024, 11, 29, 8, tzinfo=UTC)
    assert next_quota_reset(datetime(2024, 7, 1, 12, tzinfo=UTC)) == datetime(2024, 7, 2, 7, tzinfo=UTC)  # PDT


def test_translate_and_registration() -> None:
    query = parse_query('("Sora" OR سورا) AND (leak OR "PR Puppets") NOT "Sora Bay"')
    assert translate(query) == ['"Sora" leak', '"Sora" "PR Puppets"', "سورا leak", 'سورا "PR Puppets"']
    assert SOURCES["youtube"] is youtube and youtube.REQUIRED_ENV == ("MURMUR_YOUTUBE_API_KEY",)


# --- fetch -------------------------------------------------------------------------------------

Answer = bytes | httpx.Response | Exception


class GoogleAPI:
    """Routes (endpoint, pageToken or videoId) to answers; checks the key and fixed parameters."""

    def __init__(self, routes: dict[tuple[str, str], Answer]) -> None:
        self.routes = routes
        self.asked: list[tuple[str, str]] = []
        self.params: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        if params.pop("key", None) != KEY:
            raise AssertionError("request without the API key")
        name = request.url.path.rsplit("/", 1)[-1]
        fixed = {
            "search": {"part": "snippet", "type": "video", "order": "date", "maxResults": "50", "q": "sora"},
            "videos": {"part": "snippet,statistics", "maxResults": "50"},
            "commentThreads": {
                "part": "snippet,replies",
                "order": "time",
                "textFormat": "plainText",
                "maxResults": "100",
            },
        }.get(name)
        if fixed is None or not request.url.path.startswith("/youtube/v3/"):
            raise AssertionError(f"unexpected request to {request.url.path}")
        if any(params.get(k) != v for k, v in fixed.items()):
            raise AssertionError(f"unexpected parameters {params}")
        selector = params.get("id") if name == "videos" else params.get("videoId", "") + params.get("pageToken", "")
        key = (name, selector or "")
        self.asked.append(key)
        self.params.append(params)
        if key not in self.routes:
            raise AssertionError(f"unexpected request for {key}")
        answer = self.routes[key]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, content=answer, headers={"Content-Type": "application/json; charset=UTF-8"})


def error(status: int, name: str) -> httpx.Response:
    return httpx.Response(status, content=fixture(name), headers={"Content-Type": "application/json"})


def run(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    state: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    sleep: Callable[[float], None] = lambda s: None,
    **options: Any,
) -> list[Page]:
    settings = {
        "relevance_language": "",
        "comments": True,
        "max_search_pages": 10,
        "max_comment_pages": 5,
        "track_videos": 100,
        "base_url": None,
        **options,
    }
    with make_client(transport=httpx.MockTransport(handler), sleep=sleep) as client:
        ctx = FetchContext(
            client=client,
            search="sora",
            options=settings,
            since=SINCE,
            until=UNTIL,
            state=state,
            env={"MURMUR_YOUTUBE_API_KEY": KEY} if env is None else env,
        )
        return list(fetch(ctx))


FULL_WALK: dict[tuple[str, str], Answer] = {
    ("search", ""): fixture("search_page1.json"),
    ("videos", f"{V1},{V2}"): fixture("videos_page1.json"),
    ("search", "CAIQAA"): fixture("search_page2.json"),
    ("videos", V3): fixture("videos_page2.json"),
    ("commentThreads", V1): fixture("threads_page1.json"),
    ("commentThreads", V1 + "QURTSl9pMk5iT0xRZ0g"): fixture("threads_page2.json"),
    ("commentThreads", V2): error(403, "error_comments_disabled.json"),
    ("commentThreads", V3): error(404, "error_video_not_found.json"),
}


def test_a_full_walk_searches_reads_videos_then_comments(caplog: pytest.LogCaptureFixture) -> None:
    api = GoogleAPI(FULL_WALK)
    with caplog.at_level(logging.DEBUG):
        pages = run(api, relevance_language="es")
    assert api.asked == list(FULL_WALK)
    assert api.params[0]["publishedAfter"] == "2024-11-20T00:00:00Z"
    assert api.params[0]["publishedBefore"] == "2024-11-29T00:00:00Z"
    assert api.params[0]["relevanceLanguage"] == "es"
    posts = [post.native_id for page in pages for post in parse(page.body)]
    assert posts[:3] == [V1, V2, V3] and T1 in posts and len(posts) == 6
    states = [page.state for page in pages]
    assert states[0] is None and states[2] is None  # mid-search and mid-comments
    assert states[1] is not None and states[-1] is not None
    assert states[1]["searched_until"] == "2024-11-29T00:00:00+00:00"
    final = states[-1]
    assert final["videos"] == {
        V1: {"published": "2024-11-27T18:04:11+00:00", "comments": "2024-11-28T10:15:02+00:00"},
        V2: {"published": "2024-11-27T09:30:00+00:00", "comments": "disabled"},
    }  # V3 is gone and no longer tracked
    for page in pages:
        assert KEY not in page.url and "key=" not in page.url
    # httpx itself logs full URLs at INFO; Murmur's logging setup keeps it at WARNING.
    assert not [r for r in caplog.records if r.name != "httpx" and KEY in r.getMessage()]


def test_a_later_run_starts_from_the_state() -> None:
    state = {
        "searched_until": "2024-11-28T12:00:00+00:00",
        "videos": {
            V1: {"published": "2024-11-27T18:04:11+00:00", "comments": "2024-11-28T10:30:00+00:00"},
            V2: {"published": "2024-11-27T09:30:00+00:00", "comments": "disabled"},
        },
    }
    api = GoogleAPI(
        {("search", ""): fixture("search_empty.json"), ("commentThreads", V1): fixture("threads_page1.json")}
    )
    pages = run(api, state=state)
    assert pages[-1].state is not None
    assert api.params[0]["publishedAfter"] == "2024-11-28T11:00:00Z"  # an hour of overlap
    assert api.asked == [("search", ""), ("commentThreads", V1)]  # 09:00 < 09:30: no second page; V2 disabled
    assert pages[-1].state["videos"][V1]["comments"] == "2024-11-28T10:30:00+00:00"  # nothing newer


def test_quota_exceeded_pauses_the_source_until_midnight_pacific(caplog: pytest.LogCaptureFixture) -> None:
    api = GoogleAPI(
        {
            ("search", ""): fixture("search_page1.json"),
            ("videos", f"{V1},{V2}"): error(403, "error_quota_exceeded.json"),
        }
    )
    with caplog.at_level(logging.WARNING, logger="collect.sources.youtube"):
        pages = run(api)
    assert len(pages) == 1 and parse(pages[0].body) == []
    assert pages[0].state is not None
    paused = datetime.fromisoformat(pages[0].state["paused_until"])
    assert paused == next_quota_reset(datetime.now(UTC)) and paused > datetime.now(UTC)
    assert "quota is spent" in caplog.text
    assert "searched_until" not in pages[0].state  # the search did not finish

    idle = GoogleAPI({})
    assert run(idle, state=pages[0].state) == [] and idle.asked == []


def test_a_pause_that_has_passed_is_ignored() -> None:
    api = GoogleAPI({("search", ""): fixture("search_empty.json")})
    pages = run(api, state={"paused_until": "2024-01-01T08:00:00+00:00"}, comments=False)
    assert pages[0].state is not None
    assert len(pages) == 1 and "paused_until" in pages[0].state and api.asked == [("search", "")]


@pytest.mark.parametrize("name", ["error_key_invalid.json", "error_key_invalid_legacy.json"])
def test_an_invalid_key_is_a_clear_error_without_the_key(name: str) -> None:
    api = GoogleAPI({("search", ""): error(400, name)})
    with pytest.raises(SourceHTTPError, match="rejected the key in MURMUR_YOUTUBE_API_KEY") as raised:
        run(api)
    assert KEY not in str(raised.value) and raised.value.status_code == 400


def test_other_errors_name_the_reason() -> None:
    api = GoogleAPI({("search", ""): error(400, "error_invalid_page_token.json")})
    with pytest.raises(SourceHTTPError, match=r"/youtube/v3/search answered 400 \(invalidPageToken\)"):
        run(api)


def test_a_missing_key_is_an_error() -> None:
    with pytest.raises(SourceHTTPError, match="MURMUR_YOUTUBE_API_KEY is not set"):
        run(GoogleAPI({}), env={})


def test_rate_limits_are_waited_out() -> None:
    sleeps: list[float] = []
    answers = [
        httpx.Response(429, headers={"Retry-After": "2"}),
        httpx.Response(200, content=fixture("search_empty.json")),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/youtube/v3/search"
        return answers.pop(0)

    pages = run(handler, sleep=sleeps.append, comments=False)
    assert sleeps == [2.0] and len(pages) == 1 and not answers


def test_an_unreadable_comment_page_stops_the_state() -> None:
    state = {
        "searched_until": "2024-11-28T12:00:00+00:00",
        "videos": {
            V1: {"published": "2024-11-27T18:04:11+00:00", "comments": None},
            V3: {"published": "2024-11-26T22:00:00+00:00", "comments": None},
        },
    }
    api = GoogleAPI(
        {
            ("search", ""): fixture("search_empty.json"),
            ("commentThreads", V1): fixture("truncated.json.partial"),
            ("commentThreads", V3): fixture("threads_empty.json"),
        }
    )
    pages = run(api, state=state)
    assert [page.state is None for page in pages] == [False, True, True]
    assert pages[1].body == fixture("truncated.json.partial")


def test_base_url_keeps_the_api_paths() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.url.scheme}://{request.url.netloc.decode()}{request.url.path}")
        return httpx.Response(200, content=fixture("search_empty.json"))

    pages = run(handler, base_url="http://127.0.0.1:8080", comments=False)
    assert seen == ["http://127.0.0.1:8080/youtube/v3/search"]
    assert pages[0].url.startswith("http://127.0.0.1:8080/youtube/v3/search?") and KEY not in pages[0].url


def test_a_private_videos_forbidden_comments_cost_only_that_video() -> None:
    forbidden = {
        "error": {
            "code": 403,
            "message": "The comment thread could not be retrieved due to insufficient "
            "permissions. The request might not be properly authorized.",
            "errors": [
                {"message": "insufficient permissions", "domain": "youtube.commentThread", "reason": "forbidden"}
            ],
        }
    }
    state = {
        "searched_until": "2024-11-28T12:00:00+00:00",
        "videos": {
            V1: {"published": "2024-11-27T18:04:11+00:00", "comments": None},
            V3: {"published": "2024-11-26T22:00:00+00:00", "comments": None},
        },
    }
    api = GoogleAPI(
        {
            ("search", ""): fixture("search_empty.json"),
            ("commentThreads", V1): httpx.Response(403, json=forbidden),
            ("commentThreads", V3): fixture("threads_empty.json"),
        }
    )
    pages = run(api, state=state)
    assert pages[-1].state is not None
    assert pages[-1].state["videos"][V1]["comments"] == "disabled"
    assert len(api.asked) == 3
