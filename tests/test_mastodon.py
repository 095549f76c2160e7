"""Mastodon hashtag timelines: recorded statuses through the parser, and paging, cursors and refusals
per instance through a MockTransport that answers like Mastodon (Link headers, 401s, rate limits)."""

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
from collect.sources import mastodon
from collect.sources.base import FetchContext, Page
from collect.sources.mastodon import fetch, hashtag, parse, snowflake, translate
from monitor.query import parse_query

FIXTURES = Path(__file__).parent / "fixtures" / "mastodon"
SINCE = datetime(2024, 11, 12, tzinfo=UTC)
UNTIL = datetime(2024, 11, 30, tzinfo=UTC)
TAG = "/api/v1/timelines/tag/Sora"
FIRST = f"min_id={int(SINCE.timestamp() * 1000) << 16}"  # the snowflake id of the monitor's start


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# --- parse -------------------------------------------------------------------------------------


def test_parse_reads_statuses_boosts_warnings_media_and_quotes(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="collect.sources.mastodon"):
        posts = {post.author: post for post in parse(fixture("tag_page1.json"))}
    assert set(posts) == {
        "https://mastodon.social/@lucia_pinta",
        "https://piaille.example/@claire",  # the boosted status, not the booster
        "https://mastodon.social/@cw_poster",
        "https://mastodon.social/@photo_only",
        "https://mastodon.social/@arabic_user",
    }
    spanish = posts["https://mastodon.social/@lucia_pinta"]
    assert spanish.native_id == "https://mastodon.social/users/lucia_pinta/statuses/113546219440558001"
    assert (
        spanish.text == 'La filtración de #Sora por los artistas de PR-Puppets: "no somos vuestro departamento de I+D"'
    )
    assert spanish.language == "es" and (spanish.likes, spanish.reposts, spanish.replies) == (41, 12, 3)
    assert spanish.created_at == datetime(2024, 11, 26, 18, 40, 11, tzinfo=UTC)
    boosted = posts["https://piaille.example/@claire"]
    assert boosted.native_id == "https://piaille.example/users/claire/statuses/113356101000000001"
    assert boosted.language == "fr" and boosted.likes == 88 and boosted.raw["seen_as_boost"] is True
    warned = posts["https://mastodon.social/@cw_poster"]
    assert warned.title == "AI, labour dispute" and "Sora" in warned.searchable_text
    assert warned.raw["edited_at"] == "2024-11-26T18:35:02.000Z"
    media = posts["https://mastodon.social/@photo_only"]
    assert media.text == "[image: Screenshot: the leaked Sora access page, PR-Puppets banner]"
    arabic = posts["https://mastodon.social/@arabic_user"]
    assert arabic.text == "تسريب #سورا احتجاج الفنانين" and arabic.language == "ar"
    assert arabic.quote_of == "https://mastodon.social/users/quoted/statuses/113540000000000001"
    assert "no uri" in caplog.text  # the malformed status was skipped with its reason


def test_raw_never_carries_the_account_or_mentions() -> None:
    for post in parse(fixture("tag_page1.json")):
        dumped = json.dumps(post.raw)
        assert '"account"' not in dumped and '"mentions"' not in dumped
        assert "lucia_pinta" not in json.dumps({k: v for k, v in post.raw.items() if k not in ("uri", "url")})


def test_the_same_status_via_two_instances_has_one_native_id() -> None:
    [via_home] = [p for p in parse(fixture("tag_page1.json")) if p.language == "fr"]
    [via_other] = parse(fixture("other_instance_page.json"))
    assert via_home.native_id == via_other.native_id
    assert via_home.raw["id"] != via_other.raw["id"]  # the instances' local ids differ


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (fixture("error_401.json"), "requires an authenticated user"),
        (fixture("truncated_page.json.partial"), "not a complete JSON document"),
        (b'{"statuses": []}', "expected a JSON list"),
        (b"<html>502 Bad Gateway</html>", "not a complete JSON document"),
    ],
)
def test_parse_rejects_errors_and_what_is_not_a_timeline(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse(body)


def test_a_deleted_or_empty_status_and_odd_items_are_skipped() -> None:
    assert parse(b"[]") == []
    assert parse(json.dumps([None, 3, {"uri": "x", "created_at": "yesterday", "content": "<p>hi</p>"}])) == []
    statuses = json.loads(fixture("newer_page.json"))
    statuses[0].update(content="", media_attachments=[], spoiler_text="")
    assert parse(json.dumps(statuses)) == []


def test_translate_makes_one_hashtag_per_word() -> None:
    query = parse_query('("Sora" OR "سورا") AND (leak OR "PR-Puppets" OR "PR Puppets") NOT "Sora Bay"')
    assert translate(query) == ["#Sora #leak #PRPuppets #سورا"]
    assert hashtag("#Sora-Leak!") == "SoraLeak"


# --- fetch -------------------------------------------------------------------------------------


def link(host: str, tag: str, *, older: str | None = None, newer: str | None = None) -> str:
    parts = []
    if older:
        parts.append(f'<https://{host}/api/v1/timelines/tag/{tag}?max_id={older}>; rel="next"')
    if newer:
        parts.append(f'<https://{host}/api/v1/timelines/tag/{tag}?min_id={newer}>; rel="prev"')
    return ", ".join(parts)


Route = Callable[[httpx.Request], httpx.Response]


class Instances:
    """Answers (host, path, paging parameter) from a table, and `[]` when asked for what is newer than
    the newest status an instance served (as Mastodon does); anything else fails the test."""

    def __init__(self, routes: dict[tuple[str, str, str], httpx.Response | list[httpx.Response]]) -> None:
        self.routes = {key: value if isinstance(value, list) else [value] for key, value in routes.items()}
        self.requests: list[httpx.Request] = []
        self.caught_up: dict[str, set[str]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        params = request.url.params
        paging = next((f"{name}={params[name]}" for name in ("max_id", "min_id") if name in params), "")
        key = (request.url.host, request.url.path, paging)
        answers = self.routes.get(key)
        if not answers:
            if paging in self.caught_up.get(request.url.host, set()):
                return ok(b"[]")  # nothing is newer than the newest status this instance served
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        response = answers.pop(0) if len(answers) > 1 else answers[0]
        try:
            statuses = json.loads(response.read()) if response.status_code == 200 else None
        except ValueError:
            statuses = None
        if statuses and isinstance(statuses, list):
            newest = max((s["id"] for s in statuses if isinstance(s, dict) and "id" in s), key=lambda i: (len(i), i))
            self.caught_up.setdefault(request.url.host, set()).add(f"min_id={newest}")
        return response


def ok(body: bytes, link_header: str = "", **headers: str) -> httpx.Response:
    if link_header:
        headers["Link"] = link_header
    return httpx.Response(200, content=body, headers={"Content-Type": "application/json", **headers})


def run(
    handler: Route,
    *,
    state: dict | None = None,
    env: dict | None = None,
    sleep: Callable = lambda s: None,
    **options: Any,
) -> list[Page]:
    settings = {"instances": ["mastodon.social"], "tags": ["Sora"], "limit": 40, "max_pages": 50, "base_url": None}
    settings.update(options)
    with make_client(transport=httpx.MockTransport(handler), sleep=sleep) as client:
        return list(fetch(FetchContext(client, "#Sora", settings, SINCE, UNTIL, state, env or {})))


def test_a_first_run_reads_forward_from_the_monitor_start_saving_after_every_page() -> None:
    api = Instances(
        {
            ("mastodon.social", TAG, FIRST): ok(
                fixture("tag_page2.json"), link("mastodon.social", "Sora", newer="113546000000000010")
            ),
            ("mastodon.social", TAG, "min_id=113546000000000010"): ok(
                fixture("tag_page1.json"), link("mastodon.social", "Sora", newer="113546219440558007")
            ),
        }
    )
    pages = run(api)
    assert [p.state for p in pages] == [
        {"mastodon.social #sora": {"newest_id": "113546000000000010"}},
        {"mastodon.social #sora": {"newest_id": "113546219440558007"}},
        {"mastodon.social #sora": {"newest_id": "113546219440558007"}},  # the empty page: caught up
    ]
    first = api.requests[0].url
    assert first.params["min_id"] == str(int(SINCE.timestamp() * 1000) << 16) == snowflake(SINCE)
    assert first.params.get("limit") == "40" and first.params.get_list("any[]") == []
    assert "Authorization" not in api.requests[0].headers


def test_max_pages_ends_a_run_where_the_next_one_goes_on() -> None:
    api = Instances(
        {
            ("mastodon.social", TAG, FIRST): ok(
                fixture("tag_page2.json"), link("mastodon.social", "Sora", newer="113546000000000010")
            )
        }
    )
    pages = run(api, max_pages=1)
    assert [p.state for p in pages] == [{"mastodon.social #sora": {"newest_id": "113546000000000010"}}]
    assert len(api.requests) == 1


def test_a_later_run_walks_forward_from_the_saved_id_saving_after_every_page() -> None:
    api = Instances(
        {
            ("mastodon.social", TAG, "min_id=113546219440558007"): ok(
                fixture("newer_page.json"), link("mastodon.social", "Sora", newer="113547000000000020")
            ),
            ("mastodon.social", TAG, "min_id=113547000000000020"): ok(b"[]"),
        }
    )
    pages = run(api, state={"mastodon.social #sora": {"newest_id": "113546219440558007"}})
    assert [p.state for p in pages] == [
        {"mastodon.social #sora": {"newest_id": "113547000000000020"}},
        {"mastodon.social #sora": {"newest_id": "113547000000000020"}},
    ]


def test_a_feed_disabled_since_the_last_run_is_reported_too() -> None:
    api = Instances(
        {
            ("mastodon.social", TAG, "min_id=113546219440558007"): ok(b"[]"),
            ("mastodon.social", "/api/v2/instance", ""): ok(fixture("instance_disabled.json")),
        }
    )
    with pytest.raises(SourceHTTPError, match="hashtag feeds are disabled"):
        run(api, state={"mastodon.social #sora": {"newest_id": "113546219440558007"}})


def test_extra_hashtags_go_in_any_and_groups_of_five_are_walked_apart() -> None:
    api = Instances({("mastodon.social", f"/api/v1/timelines/tag/{t}", FIRST): ok(b"[]") for t in ("a", "f")})
    api.routes[("mastodon.social", "/api/v2/instance", "")] = [ok(fixture("instance_public.json"))]
    run(api, tags=["a", "b", "c", "d", "e", "f"])
    assert [r.url.params.get_list("any[]") for r in api.requests if "timelines" in r.url.path] == [
        ["b", "c", "d", "e"],
        [],
    ]


def test_a_token_from_the_environment_is_sent_to_its_own_instance_only() -> None:
    api = Instances(
        {
            ("mastodon.social", TAG, FIRST): ok(fixture("tag_page2.json")),
            ("piaille.example", TAG, FIRST): ok(fixture("other_instance_page.json")),
        }
    )
    run(
        api,
        instances=["mastodon.social", "https://Piaille.example/"],
        env={"MURMUR_MASTODON_TOKENS": "piaille.example=s3cret"},
    )
    assert {(r.url.host, r.headers.get("Authorization")) for r in api.requests} == {
        ("mastodon.social", None),
        ("piaille.example", "Bearer s3cret"),
    }


def test_401_and_a_disabled_feed_are_reported_per_instance_while_others_are_read() -> None:
    api = Instances(
        {
            ("locked.example", TAG, FIRST): httpx.Response(401, content=fixture("error_401.json")),
            ("quiet.example", TAG, FIRST): ok(b"[]"),
            ("quiet.example", "/api/v2/instance", ""): ok(fixture("instance_disabled.json")),
            ("mastodon.social", TAG, FIRST): ok(fixture("tag_page2.json")),
        }
    )
    pages: list[Page] = []
    with pytest.raises(SourceHTTPError) as error:
        for page in _iterate(api, instances=["locked.example", "quiet.example", "mastodon.social"]):
            pages.append(page)
    message = str(error.value)
    assert (
        "locked.example: hashtag timelines need a login here (401: This API requires an authenticated user)" in message
    )
    assert "MURMUR_MASTODON_TOKENS" in message
    assert "quiet.example: hashtag feeds are disabled on this instance" in message
    assert "mastodon.social" not in message
    assert pages[-1].state == {"mastodon.social #sora": {"newest_id": "113546000000000010"}}


def test_a_refused_token_is_named_as_such() -> None:
    api = Instances({("mastodon.social", TAG, FIRST): httpx.Response(401, content=fixture("error_token_invalid.json"))})
    with pytest.raises(SourceHTTPError, match="the token in MURMUR_MASTODON_TOKENS was refused"):
        run(api, env={"MURMUR_MASTODON_TOKENS": "mastodon.social=expired"})


def test_an_empty_public_feed_is_just_empty() -> None:
    api = Instances(
        {
            ("mastodon.social", TAG, FIRST): ok(b"[]"),
            ("mastodon.social", "/api/v2/instance", ""): ok(fixture("instance_public.json")),
        }
    )
    assert [p.state for p in run(api)] == [{"mastodon.social #sora": {"newest_id": snowflake(SINCE)}}]


def test_a_429_waits_for_the_iso_reset_then_goes_on() -> None:
    sleeps: list[float] = []
    limited = httpx.Response(
        429,
        content=fixture("error_429.json"),
        headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "Retry-After": "4"},
    )
    api = Instances({("mastodon.social", TAG, FIRST): [limited, ok(fixture("tag_page2.json"))]})
    pages = run(api, sleep=sleeps.append)
    assert sleeps[0] == 4.0 and pages[-1].state is not None


def test_a_lasting_5xx_on_one_instance_does_not_stop_the_others() -> None:
    api = Instances(
        {
            ("down.example", TAG, FIRST): httpx.Response(503, text="<html>maintenance</html>"),
            ("mastodon.social", TAG, FIRST): ok(fixture("tag_page2.json")),
        }
    )
    with pytest.raises(SourceHTTPError, match=r"down\.example answered 503"):
        list(_iterate(api, instances=["down.example", "mastodon.social"]))
    assert any(r.url.host == "mastodon.social" for r in api.requests)


def test_every_instance_unreachable_is_source_unavailable() -> None:
    def offline(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Name or service not known", request=request)

    with pytest.raises(SourceUnavailable, match="could not be reached"):
        run(offline, instances=["a.example", "b.example"])


def test_a_broken_page_is_handed_on_without_state_and_ends_that_walk() -> None:
    api = Instances(
        {
            ("mastodon.social", TAG, FIRST): ok(fixture("truncated_page.json.partial")),
            ("piaille.example", TAG, FIRST): ok(fixture("other_instance_page.json")),
        }
    )
    pages = run(api, instances=["mastodon.social", "piaille.example"])
    assert pages[0].state is None and pages[0].body == fixture("truncated_page.json.partial")
    assert pages[1].state == {"piaille.example #sora": {"newest_id": "113546150000000042"}}


def test_a_server_that_ignores_min_id_cannot_make_a_walk_loop(caplog: pytest.LogCaptureFixture) -> None:
    def stubborn(request: httpx.Request) -> httpx.Response:
        return ok(fixture("tag_page2.json"))

    with caplog.at_level(logging.WARNING):
        pages = run(stubborn, max_pages=50)
    assert len(pages) == 2 and "answered statuses older than min_id" in caplog.text


def test_base_url_keeps_the_mastodon_paths() -> None:
    seen: list[httpx.URL] = []

    def mirror(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return ok(fixture("tag_page2.json"))

    run(mirror, base_url="http://127.0.0.1:8080")
    assert {(u.host, u.port, u.path) for u in seen} == {("127.0.0.1", 8080, TAG)}


def _iterate(handler: Route, **options: Any):
    settings = {"instances": ["mastodon.social"], "tags": ["Sora"], "limit": 40, "max_pages": 50, "base_url": None}
    settings.update(options)
    client = make_client(transport=httpx.MockTransport(handler), sleep=lambda s: None)
    yield from fetch(FetchContext(client, "#Sora", settings, SINCE, UNTIL, None, {}))


def test_module_declares_the_seam() -> None:
    assert mastodon.NAME == "mastodon" and mastodon.REQUIRED_ENV == ()
    assert set(mastodon.CURSOR_OPTIONS) <= set(mastodon.OPTIONS)


def test_a_run_reports_the_refusing_instance_and_keeps_the_other(engine, write_monitor) -> None:
    from collect.plan import plan_sources
    from collect.runner import collect_monitor
    from monitor.config import load_monitor

    monitor = load_monitor(
        write_monitor(
            """
            name = "masto"
            query = '("Sora" OR "سورا") AND (leak OR تسريب OR "PR-Puppets" OR filtración OR fuite)'
            start = 2024-11-12
            [sources.mastodon]
            instances = ["locked.example", "mastodon.social"]
            tags = ["Sora"]
            """
        )
    )
    api = Instances(
        {
            ("locked.example", TAG, FIRST): httpx.Response(401, content=fixture("error_401.json")),
            ("mastodon.social", TAG, FIRST): ok(fixture("tag_page1.json")),
        }
    )
    with make_client(transport=httpx.MockTransport(api), sleep=lambda s: None) as client:
        result = collect_monitor(engine, monitor, plan_sources(monitor, {}), client, now=UNTIL)
    assert any(e.startswith("mastodon: locked.example: ") for e in result.errors)
    tally = result.tallies["mastodon"]
    assert tally.error is not None
    assert "locked.example: hashtag timelines need a login here" in tally.error and not tally.unreachable
    assert tally.new == 5
