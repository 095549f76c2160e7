"""The Reddit source: app-only OAuth, search walks and comment threads, the public feeds, parsing.

Every request goes to an `httpx.MockTransport` handler that routes on the path and raises
AssertionError on anything it does not expect, so a wrong URL, parameter or header fails the test.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from collect.errors import ParseError, SourceHTTPError
from collect.http import make_client
from collect.sources import SOURCES, reddit
from collect.sources.base import FetchContext, Page
from collect.sources.reddit import fetch, parse, translate, user_agent
from monitor.query import parse_query

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reddit"
SINCE = datetime(2024, 11, 25, tzinfo=UTC)
UNTIL = datetime(2024, 11, 27, tzinfo=UTC)
ENV = {"MURMUR_REDDIT_CLIENT_ID": "app-id-123", "MURMUR_REDDIT_CLIENT_SECRET": "s3cret-value"}
T0 = 1732629600  # 2024-11-26T14:00:00Z


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(autouse=True)
def fresh_module_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """No token or "public mode" note carried between tests; sleeps recorded, not slept."""
    slept: list[float] = []
    monkeypatch.setattr(reddit, "_TOKENS", {})
    monkeypatch.setattr(reddit, "_public_noted", False)
    monkeypatch.setattr(reddit, "_sleep", slept.append)
    yield slept


def options(**overrides: Any) -> dict[str, Any]:
    values = {key: option.default for key, option in reddit.OPTIONS.items()}
    values["base_url"] = None
    values.update(overrides)
    return values


def context(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    env: dict[str, str] | None = None,
    state: dict[str, Any] | None = None,
    client: httpx.Client | None = None,
    **overrides: Any,
) -> FetchContext:
    return FetchContext(
        client=client or httpx.Client(transport=httpx.MockTransport(handler)),
        search='("Sora" OR "سورا") (leak OR "PR-Puppets")',
        options=options(**overrides),
        since=SINCE,
        until=UNTIL,
        state=state,
        env=ENV if env is None else env,
    )


def json_response(name: str, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status, content=fixture(name), headers={"Content-Type": "application/json", **(headers or {})}
    )


EMPTY_THREAD = json.dumps([json.loads(fixture("empty.json")), json.loads(fixture("empty.json"))]).encode()


class FakeReddit:
    """Routes the API's paths to recorded bodies and remembers every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.token_requests = 0
        self.search_after: dict[str | None, str] = {None: "search_page1.json", "t3_1h0a3ab": "search_page2.json"}
        self.overrides: dict[str, Callable[[httpx.Request], httpx.Response]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path in self.overrides:
            return self.overrides[path](request)
        if path == "/api/v1/access_token":
            assert request.method == "POST"
            self.token_requests += 1
            return json_response("token.json")
        assert request.headers["Authorization"].startswith("bearer eyJ")
        if path == "/search":
            return json_response(
                self.search_after[request.url.params.get("after")],
                headers={"X-Ratelimit-Used": "2", "X-Ratelimit-Remaining": "598.0", "X-Ratelimit-Reset": "412"},
            )
        if path == "/r/ArtistLounge/search":
            assert request.url.params["restrict_sr"] == "1"
            return json_response("subreddit_page.json")
        if path == "/comments/1h0b2c3":
            return json_response("comments_1h0b2c3.json")
        if path.startswith("/comments/"):
            return httpx.Response(200, content=EMPTY_THREAD)
        raise AssertionError(f"unexpected request {request.method} {request.url}")


def native_ids(pages: list[Page]) -> list[str]:
    return [post.native_id for page in pages for post in parse(page.body)]


# --- parse -------------------------------------------------------------------------------------


def test_submissions_become_posts_with_fullnames_permalinks_scores_and_markdown() -> None:
    posts = {post.native_id: post for post in parse(fixture("search_page1.json"))}
    assert list(posts) == ["t3_1h0b2c3", "t3_1h0a9zz", "t3_1h0a7k1", "t3_1h0a3ab"]
    post = posts["t3_1h0b2c3"]
    assert post.platform == "reddit"
    assert post.title == 'Artists leak access to Sora in protest: "PR-Puppets"'
    assert post.text.startswith("Someone put a front end to **Sora** on Hugging Face.\n\n> We are not")
    assert post.url == "https://www.reddit.com/r/OpenAI/comments/1h0b2c3/artists_leak_access_to_sora_in/"
    assert post.created_at == datetime(2024, 11, 26, 15, tzinfo=UTC)
    assert (post.likes, post.replies, post.thread_id, post.reply_to) == (1873, 412, "t3_1h0b2c3", None)
    assert post.author == "quiet_falcon_17"
    assert post.raw["subreddit"] == "OpenAI" and post.raw["num_crossposts"] == 3


def test_deleted_and_removed_submissions_keep_their_title_but_no_text_or_author() -> None:
    posts = {post.native_id: post for post in parse(fixture("search_page1.json"))}
    link = posts["t3_1h0a9zz"]  # a link post by a deleted account
    assert (link.text, link.author, link.title) == ("", None, "OpenAI's Sora video generator appears to have leaked")
    assert link.raw["url"].startswith("https://techcrunch.com/")
    removed = posts["t3_1h0a7k1"]
    assert removed.text == "" and removed.raw["removed_by_category"] == "moderator"
    assert "t3_1h0a6q0" not in posts  # deleted: neither title nor text


def test_an_odd_id_is_rebuilt_from_kind_and_id() -> None:
    posts = {post.native_id: post for post in parse(fixture("search_page1.json"))}
    assert (
        posts["t3_1h0a3ab"].url == "https://www.reddit.com/r/Futurology/comments/1h0a3ab/leaked_sora_clips_are_already/"
    )


def test_raw_never_holds_the_author() -> None:
    for name in ("search_page1.json", "comments_1h0b2c3.json", "public_search.rss"):
        for post in parse(fixture(name)):
            assert not [key for key in post.raw if key.startswith("author")]
            assert "replies" not in post.raw
            if post.author:
                assert post.author not in json.dumps(post.raw, ensure_ascii=False)


def test_malformed_items_are_skipped_with_a_warning_each(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="collect.sources.reddit"):
        parse(fixture("search_page1.json"))
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 2
    assert "'yesterday'" in warnings[0] and "'1H0A4??'" in warnings[1]


@pytest.mark.parametrize(
    "item",
    [
        "not an object",
        {"kind": "t3"},
        {"kind": "t3", "data": {"id": "abc", "title": "x", "created_utc": None}},
        {"kind": "t3", "data": {"id": "abc", "title": "x", "created_utc": True}},
        {"kind": "t3", "data": {"id": "../etc", "title": "x", "created_utc": T0}},
        {"kind": "t1", "data": {"name": "t3_abc", "body": "wrong kind prefix, no id", "created_utc": T0}},
        {"kind": "t3", "data": {"id": "abc", "title": "x", "created_utc": 1e20}},
    ],
)
def test_a_malformed_item_costs_only_itself(item: object) -> None:
    good = {
        "kind": "t1",
        "data": {
            "id": "ok1",
            "body": "fine",
            "created_utc": T0,
            "link_id": "t3_abc",
            "parent_id": "t3_abc",
            "permalink": "/r/x/comments/abc/t/ok1/",
        },
    }
    body = json.dumps({"kind": "Listing", "data": {"after": None, "children": [item, good]}})
    assert [post.native_id for post in parse(body)] == ["t1_ok1"]


def test_comment_threads_are_flattened_replies_and_all_and_gone_comments_skipped() -> None:
    posts = parse(fixture("comments_1h0b2c3.json"))
    assert [post.native_id for post in posts] == ["t3_1h0b2c3", "t1_lyz0001", "t1_lyz0002", "t1_lyz0005"]
    reply = posts[2]
    assert (reply.reply_to, reply.thread_id, reply.author, reply.title) == ("t1_lyz0001", "t3_1h0b2c3", None, None)
    assert posts[3].text == "Arabic coverage: تسريب سورا من قبل الفنانين"
    assert posts[1].url == "https://www.reddit.com/r/OpenAI/comments/1h0b2c3/sora_leak/lyz0001/"
    assert posts[1].likes == 120 and posts[1].replies is None


def test_the_public_feed_gives_text_without_markup_and_no_scores() -> None:
    posts = parse(fixture("public_search.rss"))
    assert [post.native_id for post in posts] == ["t3_1h0b2c3", "t3_1h0a9zz"]
    first = posts[0]
    assert first.text == (
        "Someone put a front end to Sora on Hugging Face.\n\nWe are not your PR puppets\n\n"
        "It was shut down after ~3 hours & <script> is just text."
    )
    assert (first.author, first.likes, first.replies) == ("quiet_falcon_17", None, None)
    assert first.raw["subreddit"] == "OpenAI"
    assert posts[1].author is None and posts[1].text == ""


def test_parse_accepts_text_as_well_as_bytes() -> None:
    assert parse(fixture("search_page1.json").decode()) == parse(fixture("search_page1.json"))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html><body><h1>502 Bad Gateway</h1></body></html>",
        fixture("forbidden.json"),
        fixture("search_page1.json")[:500],
        b"[]",
        b'{"kind": "Listing", "data": {"children": null}}',
    ],
)
def test_parse_rejects_what_is_not_a_listing(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse(body)


def test_an_empty_listing_has_no_posts() -> None:
    assert parse(fixture("empty.json")) == []


# --- translate and identity --------------------------------------------------------------------


def test_translate_keeps_the_or_groups_in_one_search() -> None:
    query = parse_query('("Sora" OR "سورا") AND (leak OR "PR-Puppets") NOT "Sora Bay"')
    assert translate(query) == ['("Sora" OR "سورا") (leak OR "PR-Puppets")']


def test_user_agent_follows_reddits_rule() -> None:
    assert user_agent("murmur_dev").startswith("python:org.murmur-monitor:")
    assert user_agent("murmur_dev").endswith(" (by /u/murmur_dev)")


def test_the_module_is_registered_and_declares_its_seam() -> None:
    assert SOURCES["reddit"] is reddit
    assert reddit.REQUIRED_ENV == () and set(reddit.ENV) == set(ENV)
    assert set(reddit.CURSOR_OPTIONS) <= set(reddit.OPTIONS)


# --- fetch with OAuth --------------------------------------------------------------------------


def test_fetch_walks_search_pages_and_subreddits_then_comment_threads() -> None:
    fake = FakeReddit()
    pages = list(fetch(context(fake, subreddits=["ArtistLounge"], contact="murmur_dev")))

    token, *api = fake.requests
    assert token.url == "https://www.reddit.com/api/v1/access_token"
    assert token.content == b"grant_type=client_credentials"
    assert token.headers["Authorization"] == "Basic " + base64.b64encode(b"app-id-123:s3cret-value").decode()
    assert all(request.headers["User-Agent"] == user_agent("murmur_dev") for request in fake.requests)
    first = api[0].url
    assert first.host == "oauth.reddit.com" and first.path == "/search"
    assert dict(first.params) == {
        "q": '("Sora" OR "سورا") (leak OR "PR-Puppets")',
        "sort": "new",
        "t": "week",
        "limit": "100",
        "raw_json": "1",
        "type": "link",
    }
    assert api[1].url.params["after"] == "t3_1h0a3ab"
    assert api[2].url.path == "/r/ArtistLounge/search"
    threads = [request.url.path for request in api[3:]]
    assert threads[0] == "/comments/1h0c001"  # newest first
    assert sorted(threads) == sorted(
        f"/comments/{id36}" for id36 in ("1h0b2c3", "1h0a9zz", "1h0a7k1", "1h0a6q0", "1h0a3ab", "1gzzz01", "1h0c001")
    )
    assert all(request.url.params["sort"] == "new" and request.url.params["limit"] == "500" for request in api[3:])

    assert [page.state is None for page in pages] == [True] * (len(pages) - 1) + [False]
    assert all("?" not in page.url for page in pages)
    state = pages[-1].state
    assert state is not None
    assert state["newest"] == {"all": T0 + 3600, "r/artistlounge": T0 + 7200}
    assert "t3_1gxold1" not in state["threads"] and state["threads"]["t3_1h0b2c3"] == T0 + 3600
    assert json.loads(json.dumps(state)) == state
    ids = native_ids(pages)
    assert "t1_lyz0005" in ids and "t3_1h0c001" in ids


def test_a_second_run_stops_where_the_first_left_off_and_reuses_the_token() -> None:
    fake = FakeReddit()
    first = list(fetch(context(fake, comments=False)))
    state = first[-1].state
    fake.requests.clear()
    second = list(fetch(context(fake, comments=False, state=state)))
    assert [request.url.path for request in fake.requests] == ["/search"]  # page 1 reaches the old newest
    assert fake.requests[0].url.params["t"] == "day"  # 9.5 hours back from UNTIL
    assert fake.token_requests == 1
    assert second[-1].state == state


def test_an_expired_token_is_renewed(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1_000_000.0]
    monkeypatch.setattr(reddit, "_now", lambda: clock[0])
    fake = FakeReddit()
    list(fetch(context(fake, comments=False)))
    clock[0] += 86400 - reddit.TOKEN_MARGIN - 1
    list(fetch(context(fake, comments=False)))
    assert fake.token_requests == 1
    clock[0] += 2
    list(fetch(context(fake, comments=False)))
    assert fake.token_requests == 2


def test_a_token_rejected_midway_is_replaced_once() -> None:
    fake = FakeReddit()
    rejected: list[str] = []

    def search(request: httpx.Request) -> httpx.Response:
        if not rejected:
            rejected.append(request.headers["Authorization"])
            return json_response("unauthorized.json", 401)
        return json_response("search_page2.json")

    fake.overrides["/search"] = search
    pages = list(fetch(context(fake, comments=False)))
    assert fake.token_requests == 2 and len(pages) == 1 and pages[0].state is not None


def test_refused_credentials_end_the_source_naming_the_variables_not_the_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeReddit()
    fake.overrides["/api/v1/access_token"] = lambda request: json_response("unauthorized.json", 401)
    with caplog.at_level(logging.DEBUG), pytest.raises(SourceHTTPError) as raised:
        list(fetch(context(fake)))
    assert raised.value.status_code == 401
    assert "MURMUR_REDDIT_CLIENT_ID" in str(raised.value)
    assert "s3cret-value" not in str(raised.value) and "s3cret-value" not in caplog.text


def test_a_token_answer_without_a_token_is_an_error() -> None:
    fake = FakeReddit()
    fake.overrides["/api/v1/access_token"] = lambda request: json_response("token_invalid_grant.json")
    with pytest.raises(SourceHTTPError, match="invalid_grant"):
        list(fetch(context(fake)))


def test_a_429_waits_for_the_reset_reddit_announces() -> None:
    fake = FakeReddit()
    answers = [
        json_response(
            "too_many_requests.json",
            429,
            {"X-Ratelimit-Used": "600", "X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "37"},
        )
    ]
    fake.overrides["/search"] = lambda request: answers.pop() if answers else json_response("search_page2.json")
    waits: list[float] = []
    client = make_client(transport=httpx.MockTransport(fake), sleep=waits.append, wall_clock=lambda: 1.7e9)
    pages = list(fetch(context(fake, client=client, comments=False)))
    assert waits == [37.0]
    assert native_ids(pages) == ["t3_1gzzz01", "t3_1gxold1"]


def test_a_used_up_window_is_waited_out_before_the_next_request(fresh_module_state: list[float]) -> None:
    fake = FakeReddit()
    fake.overrides["/search"] = lambda request: json_response(
        "search_page1.json" if "after" not in request.url.params else "search_page2.json",
        headers={"X-Ratelimit-Used": "600", "X-Ratelimit-Remaining": "0.0", "X-Ratelimit-Reset": "212"},
    )
    list(fetch(context(fake, comments=False)))
    assert fresh_module_state == [212.0, 212.0]


def test_an_unreadable_page_is_yielded_and_freezes_the_cursor() -> None:
    fake = FakeReddit()
    fake.overrides["/search"] = lambda request: httpx.Response(200, content=b"<html>upstream timeout</html>")
    pages = list(fetch(context(fake, subreddits=["ArtistLounge"], comments=False)))
    assert [page.url for page in pages] == [
        "https://oauth.reddit.com/search",
        "https://oauth.reddit.com/r/ArtistLounge/search",
    ]
    assert all(page.state is None for page in pages)


def test_a_server_error_after_retries_ends_the_source() -> None:
    fake = FakeReddit()
    fake.overrides["/search"] = lambda request: httpx.Response(500, content=b"<html>500</html>")
    client = make_client(transport=httpx.MockTransport(fake), sleep=lambda seconds: None, max_attempts=2)
    with pytest.raises(SourceHTTPError) as raised:
        list(fetch(context(fake, client=client)))
    assert raised.value.status_code == 500


def test_a_private_or_deleted_thread_is_dropped_and_the_rest_read(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeReddit()
    fake.overrides["/comments/1h0c001"] = lambda request: json_response("forbidden.json", 403)
    with caplog.at_level(logging.WARNING):
        pages = list(fetch(context(fake, subreddits=["ArtistLounge"])))
    state = pages[-1].state
    assert state is not None and "t3_1h0c001" not in state["threads"] and "t3_1h0b2c3" in state["threads"]
    assert "t3_1h0c001" in caplog.text


def test_threads_older_than_comment_days_are_no_longer_read() -> None:
    fake = FakeReddit()
    old = {"newest": {"all": T0 + 3600}, "threads": {"t3_1aaaaaa": T0 - 10 * 86400, "t3_1h0b2c3": T0 + 3600}}
    pages = list(fetch(context(fake, state=old, max_threads=1)))
    paths = [request.url.path for request in fake.requests if request.url.path.startswith("/comments/")]
    assert paths == ["/comments/1h0b2c3"]
    state = pages[-1].state
    assert state is not None and "t3_1aaaaaa" not in state["threads"]


def test_invalid_subreddit_names_are_skipped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeReddit()
    with caplog.at_level(logging.WARNING):
        list(fetch(context(fake, sitewide=False, subreddits=["r/ArtistLounge", "../admin"], comments=False)))
    assert [request.url.path for request in fake.requests[1:]] == ["/r/ArtistLounge/search"]
    assert "'../admin'" in caplog.text


def test_base_url_replaces_every_reddit_host() -> None:
    fake = FakeReddit()
    list(fetch(context(fake, base_url="http://127.0.0.1:8080", subreddits=["ArtistLounge"], max_threads=1)))
    assert {str(request.url.copy_with(query=None)).rsplit("/", 1)[0] for request in fake.requests} >= {
        "http://127.0.0.1:8080/api/v1",
        "http://127.0.0.1:8080",
        "http://127.0.0.1:8080/r/ArtistLounge",
    }
    assert all(request.url.host == "127.0.0.1" for request in fake.requests)


# --- fetch without credentials -----------------------------------------------------------------


def test_without_credentials_the_public_feeds_are_read_and_that_is_said_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        assert "Authorization" not in request.headers
        if request.url.path == "/r/OpenAI/search.rss":
            assert request.url.host == "www.reddit.com" and request.url.params["restrict_sr"] == "on"
            return httpx.Response(200, content=fixture("public_search.rss"))
        raise AssertionError(f"unexpected request {request.url}")

    with caplog.at_level(logging.WARNING, logger="collect.sources.reddit"):
        for _ in range(2):
            pages = list(fetch(context(handler, env={}, sitewide=False, subreddits=["OpenAI"])))
    assert len(seen) == 2
    assert [record.getMessage() for record in caplog.records].count(
        "reddit: MURMUR_REDDIT_CLIENT_ID / MURMUR_REDDIT_CLIENT_SECRET not set; reading the public search "
        "feeds, which carry no scores, comment counts or comments"
    ) == 1
    assert native_ids(pages) == ["t3_1h0b2c3", "t3_1h0a9zz"]
    assert pages[-1].state == {"newest": {"r/openai": T0 + 3600}, "threads": {}}


def test_nothing_to_search_is_a_warning_not_a_request(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeReddit()
    with caplog.at_level(logging.WARNING):
        assert list(fetch(context(fake, sitewide=False, subreddits=[], comments=False))) == []
    assert fake.requests == [] and "nothing to search" in caplog.text
