"""The shared client: retries, waits, throttling and error mapping, all on a fake clock, offline."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from collect.errors import SourceHTTPError, SourceUnavailable
from collect.http import DEFAULT_USER_AGENT, make_client, parse_retry_after, raise_for_status

URL = "https://hn.algolia.com/api/v1/search_by_date"
WALL_START = 1_732_629_791.0  # 2024-11-26T14:03:11Z


class FakeTime:
    """sleep, a monotonic clock and a wall clock that only move when something sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.wall = WALL_START
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        self.wall += seconds

    def clock(self) -> float:
        return self.now

    def wall_clock(self) -> float:
        return self.wall


Outcome = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class Script:
    """A MockTransport handler giving request n outcome n (then `forever`); others fail the test."""

    def __init__(self, *outcomes: Outcome, forever: Outcome | None = None) -> None:
        self.outcomes = list(outcomes)
        self.forever = forever
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.outcomes:
            outcome = self.outcomes.pop(0)
        elif self.forever is not None:
            outcome = self.forever
        else:
            raise AssertionError(f"unexpected request #{len(self.requests)}: {request.url}")
        if isinstance(outcome, Exception):
            raise outcome
        if isinstance(outcome, httpx.Response):
            return outcome
        return outcome(request)


def client_for(script: Script, clock: FakeTime, **settings: Any) -> httpx.Client:
    """A retrying client on the fake clock; `settings` go to RetryTransport (max_wait, backoff, min_interval)."""
    return make_client(
        transport=httpx.MockTransport(script),
        sleep=clock.sleep,
        clock=clock.clock,
        wall_clock=clock.wall_clock,
        **settings,
    )


def ok(request: httpx.Request | None = None) -> httpx.Response:
    return httpx.Response(200, json={"hits": []})


def status(code: int, **headers: str) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(code, headers=headers, text="busy")


def connect_error(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno -3] Temporary failure in name resolution", request=request)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def test_user_agent_is_murmur_s_and_says_why(fake_time: FakeTime) -> None:
    script = Script(ok())
    client_for(script, fake_time).get(URL)
    agent = script.requests[0].headers["User-Agent"]
    assert agent == DEFAULT_USER_AGENT
    assert agent.startswith("Murmur/") and "research" in agent


def test_429_waits_for_retry_after_seconds(fake_time: FakeTime) -> None:
    script = Script(status(429, **{"Retry-After": "7"}), ok())
    response = client_for(script, fake_time).get(URL)
    assert response.status_code == 200
    assert fake_time.sleeps == [7.0]
    assert len(script.requests) == 2


def test_retry_after_as_http_date(fake_time: FakeTime) -> None:
    when = format_datetime(datetime.fromtimestamp(WALL_START + 30, UTC), usegmt=True)
    script = Script(status(503, **{"Retry-After": when}), ok())
    client_for(script, fake_time).get(URL)
    assert fake_time.sleeps == [30.0]


def test_retry_after_in_the_past_retries_at_once(fake_time: FakeTime) -> None:
    script = Script(status(503, **{"Retry-After": "Tue, 26 Nov 2024 14:00:00 GMT"}), ok())
    assert client_for(script, fake_time).get(URL).status_code == 200
    assert fake_time.sleeps == []


def test_retry_after_beyond_max_wait_gives_up_without_waiting(fake_time: FakeTime) -> None:
    script = Script(status(429, **{"Retry-After": "3600"}))
    with pytest.raises(SourceHTTPError) as error:
        client_for(script, fake_time, max_wait=60.0).get(URL)
    assert error.value.status_code == 429
    assert "3600 s" in str(error.value)
    assert fake_time.sleeps == [] and len(script.requests) == 1


@pytest.mark.parametrize(
    ("header", "value", "expected"),
    [
        ("X-RateLimit-Reset", str(int(WALL_START) + 12), 12.0),  # epoch seconds
        ("RateLimit-Reset", "5", 5.0),  # delta seconds
        ("X-RateLimit-Reset", "2024-11-26T14:03:20.000000Z", 9.0),  # Mastodon: an ISO 8601 instant
    ],
)
def test_429_without_retry_after_honours_rate_limit_reset(
    fake_time: FakeTime, header: str, value: str, expected: float
) -> None:
    script = Script(status(429, **{header: value}), ok())
    client_for(script, fake_time).get(URL)
    assert fake_time.sleeps == [expected]


def test_a_used_up_rate_limit_waits_for_its_reset_before_the_next_request(fake_time: FakeTime) -> None:
    used_up = {
        "X-RateLimit-Limit": "300",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "2024-11-26T14:07:11.000000Z",
    }
    script = Script(lambda request: httpx.Response(200, headers=used_up, json=[]), ok())
    client = client_for(script, fake_time)
    client.get(URL)
    assert fake_time.sleeps == []  # nothing to wait for until another request is made
    client.get(URL)
    assert fake_time.sleeps == [240.0]  # Mastodon's window is 5 minutes: worth waiting for


def test_remaining_requests_or_an_unreadable_quota_cost_no_wait(fake_time: FakeTime) -> None:
    script = Script(
        lambda request: httpx.Response(200, headers={"RateLimit-Remaining": "2999", "RateLimit-Reset": "1732629900"}),
        lambda request: httpx.Response(200, headers={"RateLimit-Remaining": "none", "RateLimit-Reset": "soon"}),
        lambda request: httpx.Response(200, headers={"RateLimit-Remaining": "0", "RateLimit-Reset": "soon"}),
        ok(),
    )
    client = client_for(script, fake_time)
    for _ in range(4):
        client.get(URL)
    assert fake_time.sleeps == []


def test_503_twice_then_success_backs_off_exponentially(fake_time: FakeTime) -> None:
    script = Script(status(503), status(503), ok())
    assert client_for(script, fake_time, backoff=0.5).get(URL).status_code == 200
    assert fake_time.sleeps == [0.5, 1.0]


def test_503_forever_becomes_source_http_error(fake_time: FakeTime) -> None:
    script = Script(forever=status(503))
    with pytest.raises(SourceHTTPError) as error:
        client_for(script, fake_time).get(URL, params={"query": "sora"})
    assert error.value.status_code == 503
    assert str(error.value) == (
        "hn.algolia.com answered 503 Service Unavailable for /api/v1/search_by_date after 4 attempts"
    )
    assert len(script.requests) == 4
    assert fake_time.sleeps == [0.5, 1.0, 2.0]


def test_backoff_is_capped_at_max_wait(fake_time: FakeTime) -> None:
    script = Script(forever=status(502))
    with pytest.raises(SourceHTTPError):
        client_for(script, fake_time, backoff=10.0, max_wait=15.0).get(URL)
    assert fake_time.sleeps == [10.0, 15.0, 15.0]


def test_connect_error_forever_becomes_source_unavailable(fake_time: FakeTime) -> None:
    script = Script(forever=connect_error)
    with pytest.raises(SourceUnavailable) as error:
        client_for(script, fake_time).get(URL)
    assert str(error.value) == "hn.algolia.com could not be reached (ConnectError) after 4 attempts"
    assert isinstance(error.value.__cause__, httpx.ConnectError)
    assert len(script.requests) == 4


def test_timeout_then_success(fake_time: FakeTime) -> None:
    script = Script(httpx.ReadTimeout("timed out"), ok())
    assert client_for(script, fake_time).get(URL).status_code == 200
    assert fake_time.sleeps == [0.5]


class _DroppingStream(httpx.SyncByteStream):
    """A body whose connection drops after the first chunk."""

    def __iter__(self) -> Iterator[bytes]:
        yield b'{"hits": ['
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")


def test_body_dropped_midway_is_retried(fake_time: FakeTime) -> None:
    script = Script(httpx.Response(200, stream=_DroppingStream()), ok())
    response = client_for(script, fake_time).get(URL)
    assert response.json() == {"hits": []}
    assert len(script.requests) == 2


def test_our_own_mistakes_are_not_retried(fake_time: FakeTime) -> None:
    script = Script(httpx.UnsupportedProtocol("Request URL has an unsupported protocol"))
    with pytest.raises(httpx.UnsupportedProtocol):
        client_for(script, fake_time).get(URL)
    assert len(script.requests) == 1


def test_other_4xx_come_back_as_responses_and_raise_for_status_names_them(
    fake_time: FakeTime,
) -> None:
    script = Script(httpx.Response(400, json={"message": "invalid numericFilters", "status": 400}))
    response = client_for(script, fake_time).get(URL, params={"query": "sora", "key": "SECRET"})
    assert response.status_code == 400 and len(script.requests) == 1
    with pytest.raises(SourceHTTPError) as error:
        raise_for_status(response)
    message = str(error.value)
    assert error.value.status_code == 400
    assert message.startswith("hn.algolia.com answered 400 Bad Request for /api/v1/search_by_date")
    assert "invalid numericFilters" in message
    assert "SECRET" not in message


def test_raise_for_status_lets_success_through(fake_time: FakeTime) -> None:
    raise_for_status(client_for(Script(ok()), fake_time).get(URL))


def test_min_interval_spaces_requests_to_the_same_host(fake_time: FakeTime) -> None:
    script = Script(forever=ok)
    client = client_for(script, fake_time, min_interval=2.0)
    client.get(URL)
    client.get(URL)
    client.get(URL)
    assert fake_time.sleeps == [2.0, 2.0]
    fake_time.now += 0.5  # time passes elsewhere: only the rest is waited
    client.get(URL)
    assert fake_time.sleeps == [2.0, 2.0, 1.5]
    client.get("https://www.reddit.com/search.json")  # another host is not held up
    assert fake_time.sleeps == [2.0, 2.0, 1.5]


def test_retries_are_logged_without_query_or_headers(fake_time: FakeTime, caplog: pytest.LogCaptureFixture) -> None:
    script = Script(status(503), ok())
    with caplog.at_level(logging.WARNING, logger="collect.http"):
        client_for(script, fake_time).get(URL, params={"api_key": "SECRET"}, headers={"Authorization": "Bearer TOKEN"})
    (record,) = [r for r in caplog.records if r.name == "collect.http"]
    assert record.levelno == logging.WARNING
    assert "hn.algolia.com/api/v1/search_by_date" in record.getMessage()
    assert "SECRET" not in caplog.text and "TOKEN" not in caplog.text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 2.5 ", 2.5),
        ("Tue, 26 Nov 2024 14:04:11 GMT", 60.0),
        ("Tue, 26 Nov 2024 14:00:00 GMT", 0.0),
        ("soon", None),
        ("-5", None),
    ],
)
def test_parse_retry_after(value: str, expected: float | None) -> None:
    assert parse_retry_after(value, WALL_START) == expected


def test_max_attempts_must_allow_one_request() -> None:
    with pytest.raises(ValueError):
        make_client(max_attempts=0)
