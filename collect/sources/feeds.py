"""Any RSS or Atom feed: a publisher's, a blog's, a search engine's saved search.

A feed cannot be searched, so each configured URL is read whole and the runner keeps the entries
that match the monitor's query. Each feed is asked with the `ETag` and `Last-Modified` it gave last
time (kept in the opaque state), so an unchanged feed costs a 304 and nothing else. One feed that
is gone or broken is reported and skipped; the others are still read, and only the feeds that were
read move their part of the state.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from collect.errors import CollectError, ParseError
from collect.html_text import html_to_text
from collect.sources import syndication
from collect.sources.base import FetchContext, Option, Page, display_url, endpoint
from store.post import Post

if TYPE_CHECKING:
    from monitor.query import Query

logger = logging.getLogger(__name__)

NAME = "feeds"

ENV: dict[str, str] = {}
REQUIRED_ENV: tuple[str, ...] = ()

OPTIONS = {
    "urls": Option(list, [], "RSS or Atom feed URLs, read whole; the query picks the matching entries"),
}
CURSOR_OPTIONS = ("urls",)

EVERYTHING = "*"
"""The one search string: feeds are read whole, whatever the query."""


def translate(query: Query) -> list[str]:
    """A feed cannot be searched: one pass over every feed serves the whole query."""
    return [EVERYTHING]


# --- fetch -------------------------------------------------------------------------------------


def fetch(ctx: FetchContext) -> Iterator[Page]:
    """Each changed feed's body; the final state (validators per feed) on the last readable one.

    Raises the last error only if every configured feed failed, so the runner reports the source.
    """
    known = _known(ctx.state)
    urls = [str(url) for url in ctx.options.get("urls", [])]
    if not urls:
        logger.warning("feeds: no urls configured under [sources.feeds]; nothing to read")
        return
    attempted: list[str] = []
    failures: list[CollectError] = []

    def pages() -> Iterator[tuple[Page, bool]]:
        for url in urls:
            if not url.startswith(("http://", "https://")):
                logger.warning("feeds: %r is not an http(s) URL; skipped", url)
                continue
            target = endpoint(url, ctx.options.get("base_url"))
            attempted.append(url)
            try:
                response = syndication.conditional_get(ctx.client, target, known.get(url))
            except CollectError as exc:
                logger.warning("feeds: %s: %s; the other feeds are still read", display_url(target), exc)
                failures.append(exc)
                continue
            if response is None:
                continue  # 304: nothing new since the validators we sent
            page = Page(response.content, display_url(str(response.url)))
            try:
                syndication.read_feed(response.content)
            except ParseError as exc:
                logger.warning("feeds: %s: %s; its cursor stays where it was", page.url, exc)
                yield page, False
                continue
            known[url] = syndication.validators(response)
            yield page, True

    yield from syndication.last_readable_carries_state(pages(), lambda: {"feeds": dict(sorted(known.items()))})
    if failures and len(failures) == len(attempted):
        raise failures[-1]


def _known(state: dict[str, Any] | None) -> dict[str, dict[str, str]]:
    feeds = state.get("feeds") if isinstance(state, dict) else None
    if not isinstance(feeds, dict):
        return {}
    return {
        url: {key: value for key, value in kept.items() if isinstance(value, str)}
        for url, kept in feeds.items()
        if isinstance(url, str) and isinstance(kept, dict)
    }


# --- parse -------------------------------------------------------------------------------------

# Entry fields that name people: the author goes to `Post.author` (pseudonymised by the store) only.
_PERSONAL = frozenset({"author", "author_detail", "authors", "contributors", "publisher", "publisher_detail"})


def parse(body: bytes | str) -> list[Post]:
    """The entries of one RSS or Atom document, each guid (or link) once; a bad entry costs itself."""
    return syndication.parse_entries(body, NAME, _post)


def _post(parsed: Any, entry: Any) -> Post | None:
    native_id = syndication.entry_id(entry)
    title = syndication.entry_title(entry)
    text = html_to_text(syndication.entry_html(entry))
    if not text and not title:
        return None
    created, from_feed = syndication.created_at(parsed, entry)
    detail = entry.get("author_detail") or {}
    author = detail.get("name") if isinstance(detail, dict) and detail.get("name") else entry.get("author")
    return Post(
        platform=NAME,
        native_id=native_id,
        text=text,
        created_at=created,
        url=syndication.entry_link(entry),
        author=author.strip() if isinstance(author, str) and author.strip() else None,
        title=title,
        language=syndication.language(parsed, entry),
        raw=_raw(parsed, entry, from_feed),
    )


def _raw(parsed: Any, entry: Any, date_from_feed: bool) -> dict[str, Any]:
    """The entry's own fields (JSON-safe, without the people it names) and the feed it came from."""
    raw = {
        key: value
        for key, value in entry.items()
        if key not in _PERSONAL and not key.endswith("_parsed") and _json_safe(value)
    }
    raw["feed_title"] = parsed.get("feed", {}).get("title")
    if date_from_feed:
        raw["date_from_feed"] = True
    return raw


def _json_safe(value: Any) -> bool:
    if value is None or isinstance(value, (str, int, float, bool)):
        return True
    if isinstance(value, dict):
        return all(isinstance(key, str) and _json_safe(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_json_safe(item) for item in value)
    return False
