"""Reading RSS and Atom documents, and fetching them politely, for every source that serves feeds.

Google News, plain RSS/Atom feeds and Reddit's public search feeds all arrive as syndication XML.
`read_feed` turns one body into feedparser's result, or a `ParseError` when the body is no feed at
all (an HTML error page, JSON, nothing); a feed that breaks off halfway keeps the entries before
the break. `conditional_get` sends the validators a feed gave last time (`ETag`, `Last-Modified`),
so a feed that has not changed costs its server a 304 and us nothing. The entry-to-post helpers are
shared by the feed sources, so every feed's guid, title, body, link, language and date read alike.
"""

from __future__ import annotations

import calendar
import io
import logging
import time
import xml.sax
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import feedparser
import httpx

from collect.errors import ParseError
from collect.html_text import html_to_text
from collect.http import raise_for_status
from collect.sources.base import Page
from store.post import Post

__all__ = [
    "MalformedEntry",
    "conditional_get",
    "created_at",
    "entry_html",
    "entry_id",
    "entry_link",
    "entry_time",
    "entry_title",
    "feed_time",
    "language",
    "last_readable_carries_state",
    "read_feed",
    "validators",
]

logger = logging.getLogger(__name__)


def parse_entries(body: bytes | str, source: str, to_post: Callable[[Any, Any], Post | None]) -> list[Post]:
    """The posts of one feed document, each guid (or link) once; a bad entry costs itself (logged).

    `to_post(parsed_feed, entry)` makes one entry a post (None: nothing to keep), raising
    MalformedEntry for an entry it cannot read.
    """
    parsed = read_feed(body)
    posts: list[Post] = []
    seen: set[str] = set()
    for index, entry in enumerate(parsed.entries):
        try:
            post = to_post(parsed, entry)
        except MalformedEntry as exc:
            # Logged as the source's own (the runner counts a source's skipped items by its logger).
            logging.getLogger(f"collect.sources.{source}").warning("%s: skipping entry %d: %s", source, index, exc)
            continue
        if post is None:
            continue
        keys = {post.native_id} | ({post.url} if post.url else set())
        if keys & seen:
            continue
        seen |= keys
        posts.append(post)
    return posts


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
    if isinstance(parsed.get("bozo_exception"), xml.sax.SAXParseException) and parsed.entries:
        # The entry the fault fell in may be cut short (a guid or date missing): it is dropped.
        parsed["entries"] = parsed.entries[:-1]
        logger.warning(
            "feed is not well-formed (%s); keeping the %d complete entries read before the fault",
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


# --- entries to posts --------------------------------------------------------------------------


class MalformedEntry(ValueError):
    """One entry cannot become a post; it costs that entry, not the feed."""


def entry_id(entry: Any) -> str:
    """The entry's identity: its guid (RSS) or id (Atom), else its link."""
    for key in ("id", "link"):
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    raise MalformedEntry("neither a guid/id nor a link")


def entry_title(entry: Any) -> str | None:
    """The title as plain text (Atom allows HTML titles)."""
    title = entry.get("title")
    if not isinstance(title, str):
        return None
    detail = entry.get("title_detail") or {}
    if isinstance(detail, dict) and "html" in str(detail.get("type", "")):
        title = html_to_text(title)
    return " ".join(title.split()) or None


def entry_html(entry: Any) -> str:
    """The entry's body as delivered: Atom content or RSS content:encoded, else its summary/description."""
    content = entry.get("content")
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("value"), str) and part["value"].strip():
                return str(part["value"])
    summary = entry.get("summary")
    return summary if isinstance(summary, str) else ""


def entry_link(entry: Any) -> str | None:
    link = entry.get("link")
    return link.strip() if isinstance(link, str) and link.strip().startswith(("http://", "https://")) else None


def language(parsed: Any, entry: Any) -> str | None:
    """The primary language subtag the entry or its feed declares ("en-US" → "en"), lower case."""
    for tag in ((entry.get("title_detail") or {}).get("language"), parsed.get("feed", {}).get("language")):
        if isinstance(tag, str) and tag.strip():
            primary = tag.strip().replace("_", "-").split("-")[0].lower()
            if primary.isalpha() and 2 <= len(primary) <= 3:
                return primary
    return None


def created_at(parsed: Any, entry: Any) -> tuple[datetime, bool]:
    """When the entry was published, and whether that came from the feed's own date instead."""
    moment = entry_time(entry)
    if moment is not None:
        return moment, False
    fallback = feed_time(parsed)
    if fallback is not None:
        return fallback, True
    raise MalformedEntry("no date, and the feed has none either")


# --- handing pages to the runner ---------------------------------------------------------------


def last_readable_carries_state(
    pages: Iterable[tuple[Page, bool]], final_state: Callable[[], dict[str, Any]]
) -> Iterator[Page]:
    """The pages as they come, the last readable one held back to carry the walk's final state.

    Feed sources keep one cursor part per feed (or edition) and advance only the parts that were
    read, so the state is safe to save once every readable page is stored; an unreadable page
    (flagged False) leaves its part of the state where it was and carries none itself.
    """
    held: Page | None = None
    for page, readable in pages:
        if not readable:
            yield page
            continue
        if held is not None:
            yield held
        held = page
    if held is not None:
        yield Page(held.body, held.url, final_state())
