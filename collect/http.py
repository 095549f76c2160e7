"""The one place HTTP clients are made, so every source retries, waits and identifies itself alike.

Sources call `make_client()` once per run and only ever see finished responses: transient failures
(dropped connections, timeouts, 429 and 5xx answers) are retried here with exponential backoff, the
server's `Retry-After` or rate-limit reset is honoured, and what is still failing after the last
attempt becomes a `SourceUnavailable` or `SourceHTTPError` the runner knows how to report. Other
4xx answers come back as responses, because only the source knows whether e.g. a 404 matters;
`raise_for_status` turns them into a `SourceHTTPError` when it does.

Nothing here logs headers or query strings: API keys travel in both.
"""

from __future__ import annotations

import email.utils
import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from collect.errors import SourceHTTPError, SourceUnavailable

logger = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "Murmur/0.1 (open-source monitor of public discourse; non-commercial research)"

# Seconds between two requests to one host unless a source asks for more: HN's Algolia API
# allows 10,000 requests an hour, about 2.8 a second; half a second keeps us well inside.
POLITE_INTERVAL = 0.5

RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})

# Transport errors that are our own mistakes (a bad URL scheme, a malformed request): retrying
# cannot help, so they propagate unchanged, with their traceback, as bugs.
_NOT_RETRYABLE_ERRORS = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)

# A rate-limit reset above this is an epoch timestamp (GitHub style), below it a delay in seconds
# (IETF draft style): no server asks for a 30-year wait, and no epoch is before 2001.
_EPOCH_THRESHOLD = 1_000_000_000

_SECONDS = re.compile(r"\d+(\.\d+)?")


def make_client(
    *,
    transport: httpx.BaseTransport | None = None,
    user_agent: str = DEFAULT_USER_AGENT,
    timeout: float = 20.0,
    **retry: Any,
) -> httpx.Client:
    """An httpx client whose requests are retried, throttled and identified as Murmur's.

    `transport` is the inner transport (tests pass an `httpx.MockTransport`); `retry` holds
    `RetryTransport`'s settings (`max_attempts`, `backoff`, `max_wait`, `min_interval`, and the
    injectable `sleep`, `clock` and `wall_clock` that let tests run without waiting).
    """
    retrying = RetryTransport(transport if transport is not None else httpx.HTTPTransport(), **retry)
    return httpx.Client(
        transport=retrying,
        headers={"User-Agent": user_agent},
        timeout=httpx.Timeout(timeout),
        follow_redirects=True,
    )


class RetryTransport(httpx.BaseTransport):
    """Wraps a transport with retries, backoff, `Retry-After` and a per-host politeness throttle.

    `max_quota_wait` is the longest wait for a used-up rate limit to reset before the next request
    (Mastodon's window is 5 minutes). `min_interval` is the least number of seconds between two
    requests to the same host; `clock` (monotonic) times it, `wall_clock` (epoch seconds) reads
    HTTP-date, epoch and ISO 8601 reset headers.

    Response bodies are read inside the retry loop, so a connection that drops halfway through a
    body is retried like one that never connected. Meant for one thread at a time, like a run.
    """

    def __init__(
        self,
        inner: httpx.BaseTransport,
        *,
        max_attempts: int = 4,
        backoff: float = 0.5,
        max_wait: float = 60.0,
        max_quota_wait: float = 300.0,
        min_interval: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._inner = inner
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._max_wait = max_wait
        self._max_quota_wait = max_quota_wait
        self._min_interval = min_interval
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._last_request: dict[str, float] = {}
        self._quota_reset: dict[str, float] = {}  # host → clock() at which its used-up rate limit resets

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        where = _describe(request.url)
        attempt = 0
        while True:
            attempt += 1
            last = attempt == self._max_attempts
            self._throttle(host)
            try:
                response = _buffered(self._inner.handle_request(request))
            except _NOT_RETRYABLE_ERRORS:
                raise
            except httpx.TransportError as exc:
                if last:
                    raise SourceUnavailable(
                        f"{host} could not be reached ({type(exc).__name__}) after {self._max_attempts} attempts"
                    ) from exc
                self._pause(
                    self._backoff_delay(attempt), f"{request.method} {where} failed ({type(exc).__name__})", attempt
                )
                continue

            self._note_quota(host, response)
            status = response.status_code
            if status not in RETRYABLE_STATUSES:
                return response
            answered = f"{host} answered {status} {response.reason_phrase} for {request.url.path}"
            if last:
                raise SourceHTTPError(f"{answered} after {self._max_attempts} attempts", status)
            asked = self._requested_delay(response)
            if asked is not None and asked > self._max_wait:
                raise SourceHTTPError(
                    f"{answered} and asked to wait {asked:.0f} s, more than the {self._max_wait:g} s limit",
                    status,
                )
            if asked is not None:
                # This pause is the server's own word on when to come back: a used-up quota noted
                # from the same answer needs no second wait.
                self._quota_reset.pop(host, None)
            delay = asked if asked is not None else self._backoff_delay(attempt)
            self._pause(delay, f"{request.method} {where} answered {status}", attempt)

    def close(self) -> None:
        self._inner.close()

    def _throttle(self, host: str) -> None:
        """Wait for a used-up rate limit's reset, and until `min_interval` has passed since the last request."""
        reset = self._quota_reset.pop(host, None)
        if reset is not None:
            wait = reset - self._clock()
            if wait > 0:
                self._sleep(wait)
        if self._min_interval <= 0:
            return
        previous = self._last_request.get(host)
        if previous is not None:
            wait = previous + self._min_interval - self._clock()
            if wait > 0:
                self._sleep(wait)
        self._last_request[host] = self._clock()

    def _backoff_delay(self, attempt: int) -> float:
        return min(self._backoff * 2 ** (attempt - 1), self._max_wait)

    def _requested_delay(self, response: httpx.Response) -> float | None:
        """Seconds the server asked us to wait, from `Retry-After` or, on a 429, a reset header."""
        now = self._wall_clock()
        retry_after = response.headers.get("Retry-After")
        if retry_after is not None:
            return parse_retry_after(retry_after, now)
        if response.status_code == 429:
            return _reset_delay(response.headers, now)
        return None

    def _note_quota(self, host: str, response: httpx.Response) -> None:
        """Remember to wait for the reset when a response says no requests remain in the window.

        Mastodon (`X-RateLimit-*`), Reddit (`X-Ratelimit-*`) and Bluesky (`RateLimit-*`) all say how
        many requests remain; asking again before the reset would only earn a 429.
        """
        remaining = response.headers.get("X-RateLimit-Remaining") or response.headers.get("RateLimit-Remaining")
        if remaining is None:
            return
        try:
            left = float(remaining.strip())
        except ValueError:
            return
        if left >= 1:
            return
        delay = _reset_delay(response.headers, self._wall_clock())
        if delay is not None and 0 < delay <= self._max_quota_wait:
            logger.info("%s: rate limit used up; waiting %.0f s for its reset", host, delay)
            self._quota_reset[host] = self._clock() + delay

    def _pause(self, delay: float, what: str, attempt: int) -> None:
        logger.warning("%s; retrying in %.1f s (attempt %d of %d)", what, delay, attempt + 1, self._max_attempts)
        if delay > 0:
            self._sleep(delay)


def parse_retry_after(value: str, now: float) -> float | None:
    """Seconds to wait for a `Retry-After` value (delta-seconds or HTTP-date); None if unreadable.

    `now` is the current epoch time; a date in the past means no wait.
    """
    value = value.strip()
    if _SECONDS.fullmatch(value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def _reset_delay(headers: httpx.Headers, now: float) -> float | None:
    """Seconds until a rate limit resets, from `X-RateLimit-Reset` or `RateLimit-Reset`.

    The value is delta-seconds (IETF draft, Reddit), an epoch timestamp (Bluesky), or an ISO 8601
    instant (Mastodon); None when absent or unreadable.
    """
    for name in ("X-RateLimit-Reset", "RateLimit-Reset"):
        reset = headers.get(name)
        if reset is None:
            continue
        reset = reset.strip()
        if _SECONDS.fullmatch(reset):
            value = float(reset)
            return max(0.0, value - now) if value > _EPOCH_THRESHOLD else value
        try:
            when = datetime.fromisoformat(reset)
        except ValueError:
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, when.timestamp() - now)
    return None


def raise_for_status(response: httpx.Response) -> None:
    """Raise `SourceHTTPError` for a 4xx/5xx response, naming status, host and path (no query).

    The start of the body is quoted too: APIs explain a 400 there ("invalid numericFilters").
    `response` must have been read, as every response of a non-streaming `client.get` is.
    """
    if not response.is_error:
        return
    url = response.request.url
    message = f"{url.host} answered {response.status_code} {response.reason_phrase} for {url.path}"
    excerpt = " ".join(response.text.split())[:200]
    if excerpt:
        message += f": {excerpt}"
    raise SourceHTTPError(message, response.status_code)


def _describe(url: httpx.URL) -> str:
    """Host and path of a URL: enough to say what failed, without the query's credentials."""
    return f"{url.host}{url.path}"


def _buffered(response: httpx.Response) -> httpx.Response:
    """The same response with its (still encoded) body read into memory and the connection freed."""
    stream = response.stream
    assert isinstance(stream, httpx.SyncByteStream), "a sync transport returns sync streams"
    try:
        # The stream itself, not iter_raw(): responses built with content= are already "consumed".
        body = b"".join(stream)
    finally:
        response.close()
    return httpx.Response(
        response.status_code,
        headers=response.headers,
        stream=httpx.ByteStream(body),
        extensions=response.extensions,
    )
