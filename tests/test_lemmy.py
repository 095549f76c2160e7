"""The Lemmy source: parsing recorded search responses, paging per instance, errors and rate limits.

Requests go to an `httpx.MockTransport` whose handler routes on host, path and parameters and raises
AssertionError on anything it was not told to expect.
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

from collect.errors import ParseError, SourceHTTPError, SourceUnavailable
from collect.http import make_client
from collect.sources import SOURCES, lemmy
from collect.sources.base import FetchContext, Page
from collect.sources.lemmy import fetch, parse, translate
from monitor.query import parse_query

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "lemmy"
SINCE = datetime(2024, 11, 20, tzinfo=UTC)
UNTIL = datetime(2024, 11, 30, tzinfo=UTC)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# --- parse -------------------------------------------------------------------------------------


def test_parse_posts(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="collect.sources.lemmy"):
        posts = parse(fixture("search_posts.json"))
    assert [p.native_id for p in posts] == [
        "https://lemmy.world/post/22150001",
        "https://lemmy.ml/post/23001234",  # host lower-cased, trailing space dropped
        "https://lemmy.world/post/22149800",
    ]
    first, link_only, old_style = posts
    assert first.platform == "lemmy" and first.title == "Artists leak Sora access in protest"
    assert first.text.startswith("A group calling itself **PR Puppets**")  # markdown is text
    assert first.url == first.native_id == first.thread_id
    assert (first.likes, first.replies, first.reposts) == (57, 14, None)
    assert first.author == "https://lemmy.world/u/pixelwren"
    assert first.created_at == datetime(2024, 11, 26, 16, 2, 11, 402137, tzinfo=UTC)
    assert (link_only.text, link_only.title) == ("", "Fuite de Sora : des artistes protestent")
    assert old_style.created_at == datetime(2024, 11, 26, 14, 5, 9, 771203, tzinfo=UTC)
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2  # deleted and removed posts are skipped silently
    assert "ap_id None" in warnings[0] and "'yesterday'" in warnings[1]


def test_raw_keeps_the_view_but_not_the_author() -> None:
    for post in parse(fixture("search_posts.json")) + parse(fixture("search_comments.json")):
        assert "creator" not in post.raw and "creator_id" not in json.dumps(post.raw)
        assert "pixelwren" not in json.dumps(post.raw) and "quietfern" not in json.dumps(post.raw)
    post = parse(fixture("search_posts.json"))[0]
    assert post.raw["post"]["url"] == "https://example.org/sora-leak-story"
    assert post.raw["counts"]["upvotes"] == 59


def test_parse_comments() -> None:
    comments = parse(fixture("search_comments.json"))
    assert [c.native_id for c in comments] == [
        "https://lemmy.ml/comment/9900002",
        "https://lemmy.world/comment/13300001",
    ]
    nested, top = comments
    assert top.reply_to == top.thread_id == "https://lemmy.world/post/22150001"
    assert nested.reply_to is None and nested.thread_id == "https://lemmy.world/post/22150001"
    assert (top.likes, top.replies, top.title) == (21, 1, None)
    assert top.text.endswith("`sora` is still invite-only.")


def test_one_post_seen_through_two_instances_is_one_post() -> None:
    (via_world,) = [p for p in parse(fixture("search_posts.json")) if p.native_id.endswith("22150001")]
    (via_ml,) = parse(fixture("search_posts_other_instance.json"))
    assert via_ml.native_id == via_world.native_id
    assert via_ml.raw["post"]["id"] != via_world.raw["post"]["id"]


@pytest.mark.parametrize(
    "view",
    [
        "not an object",
        {"post": "nope"},
        {"post": {"ap_id": "ftp://lemmy.world/post/1", "name": "sora", "published": "2024-11-26T10:00:00Z"}},
        {"post": {"ap_id": 12, "name": "sora", "published": "2024-11-26T10:00:00Z"}},
        {"post": {"ap_id": "https://lemmy.world/post/1", "name": "sora", "published": None}},
    ],
)
def test_a_malformed_item_costs_only_itself(view: object) -> None:
    good = {
        "post": {"ap_id": "https://lemmy.world/post/2", "name": "Sora", "published": "2024-11-26T10:00:00Z"},
        "counts": None,
        "creator": None,
    }
    body = json.dumps({"posts": [view, good], "comments": []})
    (post,) = parse(body)
    assert (post.native_id, post.likes, post.author) == ("https://lemmy.world/post/2", None, None)


@pytest.mark.parametrize(
    "body",
    [
        fixture("truncated.json.partial"),
        fixture("couldnt_find_object.json"),
        fixture("rate_limit_error.json"),
        b"<html>502 Bad Gateway</html>",
        b"[]",
        b'{"posts": {}}',
        b'{"type_": "Posts"}',
    ],
)
def test_parse_rejects_what_is_not_a_search_response(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse(body)


def test_the_source_is_registered() -> None:
    assert SOURCES["lemmy"] is lemmy
    assert lemmy.CURSOR_OPTIONS == ("instances", "types") and lemmy.REQUIRED_ENV == ()


# --- translate ---------------------------------------------------------------------------------


def test_translate_searches_one_term_per_clause() -> None:
    query = parse_query('("Sora" OR سورا) AND (leak OR "PR Puppets") NOT "Sora Bay"')
    assert translate(query) == ["Sora", "سورا"]


# --- fetch -------------------------------------------------------------------------------------

Answer = bytes | httpx.Response | Exception


class Instances:
    """Answers (host, type_, page) from a table; anything else is a failed test."""

    def __init__(self, routes: dict[tuple[str, str, int], Answer | list[Answer]], *, limit: int = 2) -> None:
        self.routes = {k: v if isinstance(v, list) else [v] for k, v in routes.items()}
        self.limit = limit
        self.asked: list[tuple[str, str, int]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != "/api/v3/search":
            raise AssertionError(f"unexpected request to {request.url}")
        params = dict(request.url.params)
        expected = {"q": "sora", "sort": "New", "listing_type": "All", "limit": str(self.limit)}
        if any(params.get(k) != v for k, v in expected.items()) or set(params) != {*expected, "type_", "page"}:
            raise AssertionError(f"unexpected parameters {params}")
        key = (request.url.host, params["type_"], int(params["page"]))
        self.asked.append(key)
        answers = self.routes.get(key)
        if not answers:
            raise AssertionError(f"unexpected request for {key}")
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, content=answer, headers={"Content-Type": "application/json"})


def run(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    state: dict[str, Any] | None = None,
    since: datetime = SINCE,
    sleep: Callable[[float], None] | None = None,
    **options: Any,
) -> list[Page]:
    settings = {
        "instances": ["lemmy.world"],
        "types": ["Posts"],
        "limit": 2,
        "max_pages": 20,
        "base_url": None,
        **options,
    }
    retry: dict[str, Any] = {"sleep": sleep} if sleep else {"sleep": lambda s: None}
    with make_client(transport=httpx.MockTransport(handler), **retry) as client:
        ctx = FetchContext(
            client=client, search="sora", options=settings, since=since, until=UNTIL, state=state, env={}
        )
        return list(fetch(ctx))


def test_fetch_pages_back_to_the_monitor_start_and_records_the_newest() -> None:
    api = Instances(
        {("lemmy.world", "Posts", 1): fixture("page1.json"), ("lemmy.world", "Posts", 2): fixture("page2.json")}
    )
    pages = run(api, since=utc("2024-11-27T12:00:00+00:00"))
    assert api.asked == [("lemmy.world", "Posts", 1), ("lemmy.world", "Posts", 2)]
    assert [p.state for p in pages] == [None, {"newest": {"lemmy.world Posts": "2024-11-28T12:00:00+00:00"}}]
    assert pages[0].url.startswith("https://lemmy.world/api/v3/search?")


def test_fetch_stops_an_hour_before_the_newest_item_of_the_last_run() -> None:
    api = Instances(
        {("lemmy.world", "Posts", 1): fixture("page1.json"), ("lemmy.world", "Posts", 2): fixture("page2.json")}
    )
    state = {"newest": {"lemmy.world Posts": "2024-11-28T11:30:00+00:00"}}
    pages = run(api, state=state)
    assert len(api.asked) == 2  # page 2 holds 10:00, before 10:30
    assert pages[-1].state == {"newest": {"lemmy.world Posts": "2024-11-28T12:00:00+00:00"}}


def test_fetch_walks_to_a_short_page_and_keeps_other_streams_in_the_state() -> None:
    api = Instances(
        {
            ("lemmy.world", "Posts", 1): fixture("page1.json"),
            ("lemmy.world", "Posts", 2): fixture("page2.json"),
            ("lemmy.world", "Posts", 3): fixture("page3.json"),
            ("lemmy.world", "Comments", 1): fixture("empty_comments.json"),
        }
    )
    state = {"newest": {"lemmy.ml Posts": "2024-11-01T00:00:00+00:00", "broken": "not a time"}}
    pages = run(api, state=state, since=datetime(2024, 11, 1, tzinfo=UTC), types=["Posts", "Comments"])
    assert len(pages) == 4
    assert pages[-1].state == {
        "newest": {"lemmy.ml Posts": "2024-11-01T00:00:00+00:00", "lemmy.world Posts": "2024-11-28T12:00:00+00:00"}
    }


def test_max_pages_bounds_a_stream(caplog: pytest.LogCaptureFixture) -> None:
    api = Instances({("lemmy.world", "Posts", 1): fixture("page1.json")})
    with caplog.at_level(logging.WARNING, logger="collect.sources.lemmy"):
        pages = run(api, since=datetime(2024, 11, 1, tzinfo=UTC), max_pages=1)
    assert pages[0].state is not None and "raise max_pages" in caplog.text


def test_several_instances_are_searched_and_deduplicated_by_ap_id() -> None:
    api = Instances(
        {
            ("lemmy.world", "Posts", 1): fixture("search_posts.json"),
            ("lemmy.ml", "Posts", 1): fixture("search_posts_other_instance.json"),
        },
        limit=50,
    )
    pages = run(api, instances=["lemmy.world", "https://lemmy.ml/"], limit=50)
    ids = [post.native_id for page in pages for post in parse(page.body)]
    assert len(ids) == 4 and len(set(ids)) == 3
    assert pages[-1].state is not None
    assert set(pages[-1].state["newest"]) == {"lemmy.world Posts", "lemmy.ml Posts"}


def test_a_rate_limited_instance_costs_only_itself() -> None:
    api = Instances(
        {
            ("lemmy.world", "Posts", 1): httpx.Response(400, content=fixture("rate_limit_error.json")),
            ("lemmy.ml", "Posts", 1): fixture("search_posts_other_instance.json"),
        },
        limit=50,
    )
    pages: list[Page] = []
    with pytest.raises(SourceHTTPError, match="rate_limit_error") as error:
        pages.extend(_collect(api, instances=["lemmy.world", "lemmy.ml"], limit=50))
    assert error.value.status_code == 429
    assert len(pages) == 1 and pages[0].state == {"newest": {"lemmy.ml Posts": "2024-11-26T16:02:11.402137+00:00"}}


def _collect(handler: Instances, **options: Any) -> Any:
    """fetch's pages as they come, so a test sees the pages yielded before an error."""
    settings = {
        "instances": ["lemmy.world"],
        "types": ["Posts"],
        "limit": 2,
        "max_pages": 20,
        "base_url": None,
        **options,
    }
    with make_client(transport=httpx.MockTransport(handler), sleep=lambda s: None) as client:
        yield from fetch(
            FetchContext(client=client, search="sora", options=settings, since=SINCE, until=UNTIL, state=None, env={})
        )


def test_a_429_is_waited_out() -> None:
    sleeps: list[float] = []
    api = Instances(
        {("lemmy.world", "Posts", 1): [httpx.Response(429, headers={"Retry-After": "7"}), fixture("empty_posts.json")]}
    )
    pages = run(api, sleep=sleeps.append)
    assert sleeps == [7.0] and len(pages) == 1


def test_an_error_status_is_raised_after_the_other_instances() -> None:
    api = Instances(
        {
            ("lemmy.world", "Posts", 1): httpx.Response(404, content=fixture("couldnt_find_object.json")),
            ("lemmy.ml", "Posts", 1): fixture("empty_posts.json"),
        }
    )
    with pytest.raises(SourceHTTPError, match="couldnt_find_object") as error:
        run(api, instances=["lemmy.world", "lemmy.ml"])
    assert error.value.status_code == 404 and len(api.asked) == 2


def test_unreachable_instances_raise_source_unavailable() -> None:
    api = Instances(
        {
            ("lemmy.world", "Posts", 1): httpx.ConnectError("no route"),
            ("lemmy.ml", "Posts", 1): httpx.ConnectError("no route"),
        }
    )
    with pytest.raises(SourceUnavailable, match=r"lemmy\.world could not be reached"):
        run(api, instances=["lemmy.world", "lemmy.ml"])


def test_an_unreadable_page_is_yielded_and_no_later_page_carries_state() -> None:
    api = Instances(
        {
            ("lemmy.world", "Posts", 1): fixture("truncated.json.partial"),
            ("lemmy.world", "Comments", 1): fixture("empty_comments.json"),
        }
    )
    pages = run(api, types=["Posts", "Comments"])
    assert pages[0].body == fixture("truncated.json.partial")
    assert [p.state for p in pages] == [None, None]


def test_base_url_replaces_the_instance_host() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.url.scheme}://{request.url.netloc.decode()}{request.url.path}")
        return httpx.Response(200, content=fixture("empty_posts.json"))

    run(handler, base_url="http://127.0.0.1:8080")
    assert seen == ["http://127.0.0.1:8080/api/v3/search"]
