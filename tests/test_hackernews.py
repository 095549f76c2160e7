"""The Hacker News source: translating queries, walking Algolia's windows and pages, parsing hits.

Every request goes to an `httpx.MockTransport` whose handler knows exactly which requests to expect
and raises AssertionError on any other, so a wrong URL, parameter or window fails the test.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from collect.errors import ParseError, SourceHTTPError, SourceUnavailable
from collect.http import DEFAULT_USER_AGENT, make_client
from collect.sources import hackernews
from collect.sources.base import FetchContext, Page
from collect.sources.hackernews import fetch, parse, search_params, translate
from monitor.query import Clause, Query, Term, parse_query

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "hackernews"

DAY = 86_400
S = 1_732_406_400  # 2024-11-24T00:00:00Z, start of the fixtures' window
E = S + 7 * DAY  # its end with the default window_days
M = (S + E) // 2  # where it is halved


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def record(post: Any) -> dict[str, Any]:
    """A post as the golden files write it: every field but `raw`, times in ISO 8601."""
    fields = dataclasses.asdict(post)
    del fields["raw"]
    fields["created_at"] = post.created_at.isoformat()
    return fields


# --- parse -------------------------------------------------------------------------------------


def test_parse_matches_golden_records() -> None:
    expected = json.loads(fixture("search_page.expected.json"))
    assert [record(post) for post in parse(fixture("search_page.json"))] == expected


def test_parse_accepts_text_as_well_as_bytes() -> None:
    body = fixture("search_page.json")
    assert parse(body.decode("utf-8")) == parse(body)


def test_raw_keeps_the_hit_but_not_the_author() -> None:
    posts = {post.native_id: post for post in parse(fixture("search_page.json"))}
    for post in posts.values():
        assert "author" not in post.raw and "_highlightResult" not in post.raw
        assert not [tag for tag in post.raw["_tags"] if tag.startswith("author_")]
        assert post.author is None or post.author not in json.dumps(post.raw)
    story = posts["42246300"].raw
    assert story["url"].startswith("https://techcrunch.com/2024/11/26/artists-appears-to-have")
    assert story["_tags"] == ["story", "story_42246300"]
    assert posts["42250110"].raw["children"] == [42250342, 42250561]


def test_malformed_and_deleted_hits_are_skipped_with_warnings_for_the_malformed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="collect.sources.hackernews"):
        ids = [post.native_id for post in parse(fixture("search_page.json"))]
    assert "42249402" not in ids  # deleted: no author, no text
    assert "42248999" not in ids  # created_at unreadable
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "objectID None" in warnings[0]
    assert "'yesterday'" in warnings[1]


@pytest.mark.parametrize(
    "hit",
    [
        "not an object",
        {"objectID": "abc", "comment_text": "x", "created_at_i": S},
        {"objectID": True, "comment_text": "x", "created_at_i": S},
        {"objectID": "1", "comment_text": "x", "created_at_i": None, "created_at": None},
        {"objectID": "1", "comment_text": "x", "created_at_i": 10**20},
    ],
)
def test_a_malformed_hit_costs_only_itself(hit: object) -> None:
    good = {"objectID": "2", "comment_text": "fine", "created_at_i": S, "_tags": ["comment"]}
    body = json.dumps({"hits": [hit, good], "nbHits": 2, "nbPages": 1})
    assert [post.native_id for post in parse(body)] == ["2"]


def test_nulls_everywhere_do_not_crash() -> None:
    hit = {
        key: None
        for key in (
            "author",
            "title",
            "url",
            "story_text",
            "comment_text",
            "points",
            "num_comments",
            "story_id",
            "parent_id",
            "children",
            "_tags",
            "story_title",
            "story_url",
            "updated_at",
            "_highlightResult",
        )
    }
    deleted = {**hit, "objectID": "3", "created_at_i": S}
    titled = {**hit, "objectID": "4", "created_at_i": S, "title": "Sora"}
    (post,) = parse(json.dumps({"hits": [deleted, titled], "nbHits": 2, "nbPages": 1}))
    assert (post.native_id, post.text, post.title, post.thread_id) == ("4", "", "Sora", "4")
    assert (post.author, post.likes, post.replies, post.reply_to) == (None, None, None, None)


@pytest.mark.parametrize(
    "body",
    [
        fixture("truncated_page.json.partial"),
        b"",
        b"<html><body>502 Bad Gateway</body></html>",
        b"\xff\xfe not utf-8 \xff",
        b"[]",
        b'{"message": "Invalid value for numericFilters", "status": 400}',
        b'{"hits": [], "nbPages": 0}',
    ],
)
def test_parse_rejects_what_is_not_a_search_response(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse(body)


def test_parse_empty_result() -> None:
    assert parse(fixture("empty.json")) == []


# --- translate ---------------------------------------------------------------------------------


def test_translate_one_search_per_clause_phrases_quoted_exclusions_left_out() -> None:
    query = parse_query('("Sora" OR سورا) AND (leak OR "PR Puppets") NOT "Sora Bay"')
    assert translate(query) == ['"Sora" leak', '"Sora" "PR Puppets"', "سورا leak", 'سورا "PR Puppets"']


def test_translate_deduplicates() -> None:
    @dataclass
    class Clauses:
        items: list[Clause]

        def clauses(self) -> list[Clause]:
            return self.items

    sora_leak = Clause(include=(Term("sora", False), Term("leak", False)), exclude=())
    also_not_bay = Clause(include=sora_leak.include, exclude=(Term("bay", False),))
    dash = Clause(include=(Term("-1", False),), exclude=())
    stand_in = cast(Query, Clauses([sora_leak, also_not_bay, dash]))  # translate reads only .clauses()
    assert translate(stand_in) == ["sora leak", '"-1"']


# --- fetch: the requests -----------------------------------------------------------------------


def test_search_params() -> None:
    assert search_params("sora leak", S, E, tags=["story", "comment"], hits_per_page=100, page=3) == {
        "query": "sora leak",
        "tags": "(story,comment)",
        "numericFilters": f"created_at_i>{S},created_at_i<={E}",
        "page": "3",
        "hitsPerPage": "100",
    }
    assert search_params("x", S, E, tags=["ask_hn"], hits_per_page=1, page=0)["tags"] == "ask_hn"
    assert "tags" not in search_params("x", S, E, tags=[], hits_per_page=1, page=0)


@dataclass(frozen=True)
class Asked:
    """What one request asked Algolia for."""

    start: int
    end: int
    page: int


def read_request(request: httpx.Request, *, search: str, tags: str, hits_per_page: int) -> Asked:
    """The window and page a request asks for; AssertionError for anything else about it."""
    url = request.url
    if (url.scheme, url.host, url.path) != ("https", "hn.algolia.com", "/api/v1/search_by_date"):
        raise AssertionError(f"unexpected request to {url}")
    params = dict(url.params)
    expected = {"query": search, "tags": tags, "hitsPerPage": str(hits_per_page)}
    if set(params) != {*expected, "numericFilters", "page"} or any(
        params[key] != value for key, value in expected.items()
    ):
        raise AssertionError(f"unexpected parameters {params}")
    if request.headers.get("User-Agent") != DEFAULT_USER_AGENT:
        raise AssertionError(f"unexpected User-Agent {request.headers.get('User-Agent')!r}")
    window = re.fullmatch(r"created_at_i>(\d+),created_at_i<=(\d+)", params["numericFilters"])
    if window is None or not params["page"].isdigit():
        raise AssertionError(f"unexpected numericFilters or page in {params}")
    return Asked(int(window[1]), int(window[2]), int(params["page"]))


Answer = bytes | httpx.Response | Exception


class Routes:
    """Answers each expected (window, page) from a table, in order where a list is given."""

    def __init__(
        self, routes: dict[Asked, Answer | list[Answer]], *, search: str = "sora", hits_per_page: int = 2
    ) -> None:
        self.routes = {key: list(value) if isinstance(value, list) else [value] for key, value in routes.items()}
        self.search = search
        self.hits_per_page = hits_per_page
        self.asked: list[Asked] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        asked = read_request(request, search=self.search, tags="(story,comment)", hits_per_page=self.hits_per_page)
        self.asked.append(asked)
        answers = self.routes.get(asked)
        if not answers:
            raise AssertionError(f"unexpected request for {asked}")
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, content=answer, headers={"Content-Type": "application/json"})


def no_sleep(seconds: float) -> None:
    raise AssertionError(f"unexpected wait of {seconds} s")


def run(
    handler: Callable[[httpx.Request], httpx.Response],
    since: datetime,
    until: datetime,
    *,
    sleep: Callable[[float], None] = no_sleep,
    search: str = "sora",
    **options: Any,
) -> list[Page]:
    options.setdefault("hits_per_page", 2)
    state = options.pop("state", None)
    with make_client(transport=httpx.MockTransport(handler), sleep=sleep) as client:
        return list(fetch(FetchContext(client, search, options, since, until, state, {})))


def checkpoints(pages: Iterable[Page]) -> list[datetime | None]:
    """The instant each page's state says everything up to has been read."""
    return [
        datetime.fromisoformat(page.state["until"]) if page.state and "until" in page.state else None for page in pages
    ]


# --- fetch: pages, windows, bisection ----------------------------------------------------------


def test_fetch_walks_the_pages_of_a_window_and_checkpoints_its_end() -> None:
    routes = Routes({Asked(S, E, 0): fixture("multipage_page0.json"), Asked(S, E, 1): fixture("multipage_page1.json")})
    pages = run(routes, utc(S), utc(E))
    assert routes.asked == [Asked(S, E, 0), Asked(S, E, 1)]
    assert checkpoints(pages) == [None, utc(E)]
    assert pages[0].body == fixture("multipage_page0.json")
    assert pages[1].url.startswith(hackernews.SEARCH_URL + "?")
    assert "page=1" in pages[1].url
    assert [p.native_id for page in pages for p in parse(page.body)] == ["42254410", "42251877", "42246300"]


def test_fetch_halves_a_window_with_more_hits_than_can_be_read() -> None:
    routes = Routes(
        {
            Asked(S, E, 0): fixture("window_overflow.json"),  # nbHits 2500
            Asked(S, M, 0): fixture("multipage_page0.json"),
            Asked(S, M, 1): fixture("multipage_page1.json"),
            Asked(M, E, 0): fixture("empty.json"),
        }
    )
    pages = run(routes, utc(S), utc(E))
    assert routes.asked == [Asked(S, E, 0), Asked(S, M, 0), Asked(S, M, 1), Asked(M, E, 0)]
    # The overflowing probe is not passed on: its hits are read again in the halves.
    assert [page.body for page in pages] == [
        fixture("multipage_page0.json"),
        fixture("multipage_page1.json"),
        fixture("empty.json"),
    ]
    assert checkpoints(pages) == [None, utc(M), utc(E)]


def test_fetch_cuts_a_long_range_into_windows_oldest_first() -> None:
    until = utc(S + 2 * DAY + DAY // 2) + timedelta(microseconds=750_000)
    last = S + 2 * DAY + DAY // 2
    windows = [(S, S + DAY), (S + DAY, S + 2 * DAY), (S + 2 * DAY, last)]
    routes = Routes({Asked(a, b, 0): fixture("empty.json") for a, b in windows})
    pages = run(routes, utc(S) + timedelta(microseconds=250_000), until, window_days=1)
    assert routes.asked == [Asked(a, b, 0) for a, b in windows]
    # The last checkpoint is `until` itself: created_at_i is whole seconds, so none was missed.
    assert checkpoints(pages) == [utc(S + DAY), utc(S + 2 * DAY), until]


def test_fetch_of_an_empty_range_asks_nothing() -> None:
    assert run(Routes({}), utc(S), utc(S)) == []
    assert run(Routes({}), utc(E), utc(S)) == []


def test_fetch_needs_timezone_aware_datetimes() -> None:
    with pytest.raises(ValueError):
        run(Routes({}), datetime(2024, 11, 24), utc(E))


def test_a_truncated_page_ends_its_window_holds_the_cursor_and_counts_the_failure() -> None:
    routes = Routes(
        {
            Asked(S, S + DAY, 0): fixture("multipage_page0.json"),
            Asked(S, S + DAY, 1): fixture("truncated_page.json.partial"),
            Asked(S + DAY, S + 2 * DAY, 0): fixture("empty.json"),
            Asked(S + 2 * DAY, S + 3 * DAY, 0): fixture("multipage_page0.json"),
            Asked(S + 2 * DAY, S + 3 * DAY, 1): fixture("multipage_page1.json"),
        }
    )
    pages = run(routes, utc(S), utc(S + 3 * DAY), window_days=1)
    assert len(routes.asked) == 5  # the later windows are still fetched
    assert pages[1].body == fixture("truncated_page.json.partial")  # for the runner to report
    assert checkpoints(pages) == [None] * 5
    assert pages[1].state == {"broken": {f"{S}:{S + DAY}:1": 1}}


def test_a_page_unreadable_in_three_runs_is_passed_and_costs_only_itself() -> None:
    routes = Routes(
        {
            Asked(S, S + DAY, 0): fixture("multipage_page0.json"),
            Asked(S, S + DAY, 1): fixture("truncated_page.json.partial"),
            Asked(S + DAY, S + 2 * DAY, 0): fixture("empty.json"),
        }
    )
    state = {"until": utc(S).isoformat(), "broken": {f"{S}:{S + DAY}:1": 2}}
    held = run(routes, utc(S), utc(S + 2 * DAY), window_days=1, state=state)
    assert held[1].state == {"until": utc(S).isoformat(), "broken": {f"{S}:{S + DAY}:1": 3}}
    assert checkpoints(held) == [None, utc(S), None]  # held: the third run it failed in
    passed = run(routes, utc(S), utc(S + 2 * DAY), window_days=1, state=held[1].state)
    assert checkpoints(passed) == [None, utc(S + DAY), utc(S + 2 * DAY)]
    assert passed[-1].state == {"until": utc(S + 2 * DAY).isoformat()}  # the count is gone with the page


def test_checkpoints_before_a_broken_page_stand() -> None:
    routes = Routes(
        {
            Asked(S, S + DAY, 0): fixture("empty.json"),
            Asked(S + DAY, S + 2 * DAY, 0): b'{"hits": [{"objectID": "1", "comm',
            Asked(S + 2 * DAY, S + 3 * DAY, 0): fixture("empty.json"),
        }
    )
    pages = run(routes, utc(S), utc(S + 3 * DAY), window_days=1)
    assert checkpoints(pages) == [utc(S + DAY), utc(S + DAY), None]  # the broken page holds it there


# --- fetch: HTTP failures ----------------------------------------------------------------------


def test_fetch_waits_out_a_429_then_goes_on() -> None:
    sleeps: list[float] = []
    routes = Routes({Asked(S, E, 0): [httpx.Response(429, headers={"Retry-After": "3"}), fixture("empty.json")]})
    pages = run(routes, utc(S), utc(E), sleep=sleeps.append)
    assert sleeps == [3.0]
    assert checkpoints(pages) == [utc(E)]


def test_fetch_survives_two_503s() -> None:
    sleeps: list[float] = []
    routes = Routes({Asked(S, E, 0): [httpx.Response(503), httpx.Response(503), fixture("empty.json")]})
    assert checkpoints(run(routes, utc(S), utc(E), sleep=sleeps.append)) == [utc(E)]
    assert sleeps == [0.5, 1.0]


def test_fetch_raises_source_http_error_for_a_lasting_503() -> None:
    routes = Routes({Asked(S, E, 0): httpx.Response(503)})
    with pytest.raises(SourceHTTPError) as error:
        run(routes, utc(S), utc(E), sleep=lambda seconds: None)
    assert error.value.status_code == 503
    assert len(routes.asked) == 4


def test_fetch_raises_source_http_error_for_a_4xx() -> None:
    routes = Routes({Asked(S, E, 0): httpx.Response(400, json={"message": "bad numericFilters"})})
    with pytest.raises(SourceHTTPError) as error:
        run(routes, utc(S), utc(E))
    assert error.value.status_code == 400
    assert "/api/v1/search_by_date" in str(error.value)
    assert len(routes.asked) == 1


def test_fetch_raises_source_unavailable_when_the_network_is_down() -> None:
    routes = Routes({Asked(S, E, 0): httpx.ConnectError("Name or service not known")})
    with pytest.raises(SourceUnavailable, match=r"hn\.algolia\.com could not be reached"):
        run(routes, utc(S), utc(E), sleep=lambda seconds: None)


# --- fetch against a simulated index -----------------------------------------------------------


class FakeIndex:
    """Algolia's search_by_date over in-memory items: newest first, at most 1000 hits readable."""

    def __init__(self, times: list[int], *, hits_per_page: int) -> None:
        self.items = [(time, str(40_000_000 + number)) for number, time in enumerate(times)]
        self.hits_per_page = hits_per_page
        self.asked: list[tuple[Asked, int]] = []  # with the window's nbHits

    def __call__(self, request: httpx.Request) -> httpx.Response:
        asked = read_request(request, search="openai", tags="(story,comment)", hits_per_page=self.hits_per_page)
        matching = sorted((item for item in self.items if asked.start < item[0] <= asked.end), reverse=True)
        self.asked.append((asked, len(matching)))
        readable = matching[: hackernews.MAX_REACHABLE_HITS]
        first = asked.page * self.hits_per_page
        hits = [
            {
                "_tags": ["comment", "author_someone", "story_1"],
                "author": "someone",
                "comment_text": "OpenAI",
                "created_at_i": time,
                "objectID": object_id,
                "created_at": utc(time).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "parent_id": 1,
                "story_id": 1,
            }
            for time, object_id in readable[first : first + self.hits_per_page]
        ]
        return httpx.Response(
            200,
            json={
                "hits": hits,
                "nbHits": len(matching),
                "page": asked.page,
                "nbPages": math.ceil(len(readable) / self.hits_per_page),
                "hitsPerPage": self.hits_per_page,
                "exhaustiveNbHits": True,
                "query": "openai",
                "params": request.url.query.decode(),
                "processingTimeMS": 1,
            },
        )


def read_all(pages: list[Page]) -> list[str]:
    return [post.native_id for page in pages for post in parse(page.body)]


def test_bisection_reads_every_item_exactly_once() -> None:
    index = FakeIndex([S + 1 + n * 241 for n in range(2500)], hits_per_page=100)
    pages = run(index, utc(S), utc(E), search="openai", hits_per_page=100)
    ids = read_all(pages)
    assert sorted(ids) == sorted(object_id for _, object_id in index.items)
    walked = [n for asked, n in index.asked if asked.page > 0]
    assert walked and max(walked) <= 1000
    marks = [mark for mark in checkpoints(pages) if mark is not None]
    assert marks == sorted(marks) and marks[-1] == utc(E)


def test_windows_are_halved_until_they_fit_max_pages() -> None:
    index = FakeIndex([S + 10, S + 20, S + 3 * DAY, S + 5 * DAY, S + 6 * DAY], hits_per_page=2)
    pages = run(index, utc(S), utc(E), search="openai", max_pages=2)
    assert sorted(read_all(pages)) == sorted(object_id for _, object_id in index.items)
    assert max(asked.page for asked, _ in index.asked) <= 1


def test_more_hits_in_one_second_than_can_be_read_are_read_as_far_as_possible(
    caplog: pytest.LogCaptureFixture,
) -> None:
    index = FakeIndex([S + 1000] * 1200, hits_per_page=1000)
    with caplog.at_level(logging.WARNING, logger="collect.sources.hackernews"):
        pages = run(index, utc(S), utc(E), search="openai", hits_per_page=1000)
    assert len(read_all(pages)) == 1000
    assert "1200 hits created in the one second" in caplog.text
    assert checkpoints(pages)[-1] == utc(E)  # the rest can never be read: the cursor moves on


# --- fetch: resuming and base_url --------------------------------------------------------------


def test_fetch_resumes_an_hour_before_the_saved_until() -> None:
    saved = utc(S + DAY)
    resume = S + DAY - 3600
    routes = Routes({Asked(resume, E, 0): fixture("empty.json")})
    pages = run(routes, utc(S), utc(E), state={"until": saved.isoformat()}, window_days=7)
    assert routes.asked == [Asked(resume, E, 0)]
    assert checkpoints(pages) == [utc(E)]


def test_fetch_never_resumes_before_the_monitor_start_and_ignores_an_unreadable_state() -> None:
    routes = Routes({Asked(S, E, 0): fixture("empty.json")})
    run(routes, utc(S), utc(E), state={"until": utc(S - DAY).isoformat()})
    run(routes, utc(S), utc(E), state={"until": "last tuesday"})
    assert routes.asked == [Asked(S, E, 0), Asked(S, E, 0)]


def test_fetch_asks_the_base_url_with_the_platform_path() -> None:
    seen: list[httpx.URL] = []

    def mirror(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, content=fixture("empty.json"))

    run(mirror, utc(S), utc(E), base_url="http://127.0.0.1:8080/mirror")
    assert [(u.scheme, u.host, u.port, u.path) for u in seen] == [
        ("http", "127.0.0.1", 8080, "/mirror/api/v1/search_by_date")
    ]
