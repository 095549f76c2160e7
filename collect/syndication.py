"""Reading RSS and Atom documents, and fetching them politely, for every source that serves feeds.

Google News, plain RSS/Atom feeds and Reddit's public search feeds all arrive as syndication XML.
`read_feed` turns one body into feedparser's result, or a `ParseError` when the body is no feed at
all (an HTML error page, JSON, nothing); a feed that breaks off halfway keeps the entries before
the break. `conditional_get` sends the validators a feed gave last time (`ETag`, `Last-Modified`),
so a feed that has not changed costs its server a 304 and us nothing.
"""

from __future__ import annotations

import calendar
import io
import logging
import time
from datetime import UTC, datetime
from typing import Any

import feedparser
import httpx

from collect.errors import ParseError
from collect.http import raise_for_status

__all__ = ["conditional_get", "entry_time", "feed_time", "read_feed", "validators"]

logger = logging.getLogger(__name__)


def read_feed(body: bytes | str) -> Any:
    """feedparser's view of one RSS or Atom document; ParseError if the body is not a feed.

    The body is always handed over as a stream: given a string, feedparser would treat a URL or a
    file name as something to open.
    """
    data = body.encode("utf-8") if isinstance(body, str) else body
    parsed = feedparser.parse(io.BytesIO(data))
    if not parsed.get("version"):
        reason = parsed.get("bozo_exception") or "no RSS or Atom root element"
        raise ParseError(f"not an RSS or Atom feed ({reason})")
    if parsed.get("bozo"):
        logger.warning(
            "feed is not well-formed (%s); keeping the %d entries read before the fault",
            parsed.get("bozo_exception"),
            len(parsed.entries),
        )
    return parsed


def entry_time(entry: Any) -> datetime | None:
    """When an entry was published (or else last updated), in UTC; None if it says neither."""
    return _struct_time(entry.get("published_parsed")) or _struct_time(entry.get("updated_parsed"))


def feed_time(parsed: Any) -> datetime | None:
    """The feed's own date (RSS pubDate or lastBuildDate, Atom updated), for entries without one."""
    feed = parsed.get("feed", {})
    return _struct_time(feed.get("published_parsed")) or _struct_time(feed.get("updated_parsed"))


def _struct_time(value: Any) -> datetime | None:
    # feedparser normalises every date it can read to a UTC struct_time.
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def validators(response: httpx.Response) -> dict[str, str]:
    """The response's cache validators, as kept in a source's opaque state for the next request."""
    kept = {}
    for header, key in (("ETag", "etag"), ("Last-Modified", "last_modified")):
        value = response.headers.get(header)
        if value:
            kept[key] = value
    return kept


def conditional_get(
    client: httpx.Client,
    url: str,
    known: dict[str, Any] | None,
    *,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response | None:
    """GET `url`, sending the validators in `known`; None when the server answers 304 Not Modified.

    Error statuses raise `SourceHTTPError` (after the shared client's retries).
    """
    sent = dict(headers or {})
    if known:
        if isinstance(known.get("etag"), str):
            sent["If-None-Match"] = known["etag"]
        if isinstance(known.get("last_modified"), str):
            sent["If-Modified-Since"] = known["last_modified"]
    response = client.get(url, params=params, headers=sent)
    if response.status_code == 304:
        return None
    raise_for_status(response)
    return response
