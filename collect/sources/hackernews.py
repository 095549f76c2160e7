"""Hacker News stories and comments, through the Algolia HN Search API (https://hn.algolia.com/api).

`search_by_date` returns the newest items first and never more than 1000 hits for one query, however
many match. A backfill is therefore cut into time windows, and a window that matches more than can
be read is halved until each half fits. A window's end is a safe cursor (`{"until": ...}`) once all
of its pages have been read, and only if every earlier window was read too.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from collect.errors import ParseError
from collect.html_text import html_to_text
from collect.http import raise_for_status
from collect.sources.base import FetchContext, Option, Page, display_url, endpoint, resume_from
from store.post import Post

if TYPE_CHECKING:
    from monitor.query import Query

logger = logging.getLogger(__name__)

NAME = "hackernews"

SEARCH_URL = "https://hn.algolia.com/api/v1/search_by_date"
ITEM_URL = "https://news.ycombinator.com/item?id={}"

TAGS = ("story", "comment", "poll", "pollopt", "show_hn", "ask_hn", "job")

OPTIONS = {
    "tags": Option(list, ["story", "comment"],
                   "item types to search; any of them matches", choices=TAGS),
    "hits_per_page": Option(int, 100, "hits asked for per request", minimum=1, maximum=1000),
    "window_days": Option(float, 7.0, "length of the time windows a backfill is cut into",
                          minimum=0.01, maximum=366),
    "max_pages": Option(int, 50, "most pages read from one time window", minimum=1, maximum=1000),
}

ENV: dict[str, str] = {}  # the API is public
REQUIRED_ENV: tuple[str, ...] = ()
# Changing what is searched for starts a fresh cursor (a backfill); page sizes do not.
CURSOR_OPTIONS = ("tags",)

# Re-read this much before a cursor: items can reach the search index a little after they are posted.
OVERLAP = timedelta(hours=1)

# A page unreadable in this many runs is passed: it costs itself, never the search.
BROKEN_RUNS = 3

# The API serves at most this many hits per query, whatever nbHits says.
MAX_REACHABLE_HITS = 1000

# Search-UI copies of the hit's fields, including the author's handle: never kept in `raw`.
_IDENTIFYING_KEYS = frozenset({"author", "_highlightResult", "_snippetResult"})


# --- translate ---------------------------------------------------------------------------------


def translate(query: Query) -> list[str]:
    """One Algolia search string per clause of the query: its included terms, phrases quoted.

    Excluded terms are left out (the runner re-checks every post with the full query), so each
    string is at least as broad as its clause.
    """
    searches: list[str] = []
    for clause in query.clauses():
        search = " ".join(_algolia_term(term.text, term.phrase) for term in clause.include)
        if search not in searches:
            searches.append(search)
    return searches


def _algolia_term(text: str, phrase: bool) -> str:
    # A bare leading "-" would make Algolia exclude the word, so such a term is quoted too.
    if phrase or text.startswith("-"):
        return '"' + text.replace('"', " ").strip() + '"'
    return text


# --- fetch -------------------------------------------------------------------------------------


def search_params(
    search: str, start: int, end: int, *, tags: list[str], hits_per_page: int, page: int
) -> dict[str, str]:
    """Query parameters for one page of the items created in (start, end], epoch seconds."""
    params = {
        "query": search,
        "numericFilters": f"created_at_i>{start},created_at_i<={end}",
        "page": str(page),
        "hitsPerPage": str(hits_per_page),
    }
    if tags:
        params["tags"] = tags[0] if len(tags) == 1 else "(" + ",".join(tags) + ")"
    return params


def fetch(ctx: FetchContext) -> Iterator[Page]:
    """Pages of items created after the cursor (or the monitor's start) up to `ctx.until`, oldest first.

    The cursor is `{"until": ISO instant}`: everything created up to then has been read. A run
    re-reads `OVERLAP` before it, because items reach the index a little after they are posted.
    Non-2xx answers raise `SourceHTTPError`. An unreadable page is yielded for the runner to report
    and ends its window. The first `BROKEN_RUNS` times a page is unreadable, the cursor is held
    before it (the fault may pass: a cut connection, a server hiccup) and the state only counts the
    failure under `"broken"`; after that the page is passed, costing only itself, so a page that
    stays broken can never stop the search for good.
    """
    for moment in (ctx.since, ctx.until):
        if moment.tzinfo is None:
            raise ValueError(f"fetch needs timezone-aware datetimes, got {moment!r}")
    since = resume_from(ctx.state, ctx.since, OVERLAP)
    settings = {key: ctx.options.get(key, option.default) for key, option in OPTIONS.items()}
    walk = _Walk(ctx.client, ctx.search, settings, ctx.until, endpoint(SEARCH_URL, ctx.options.get("base_url")),
                 ctx.state)
    # Creation times are whole seconds: (since, until] holds the items of (⌊since⌋, ⌊until⌋].
    first, last = math.floor(since.timestamp()), math.floor(ctx.until.timestamp())
    width = max(1, round(walk.window_days * 86400))
    for start in range(first, last, width):
        yield from walk.window(start, min(start + width, last))



class _Walk:
    """One fetch's state: its settings and whether the cursor may still move."""

    def __init__(self, client: httpx.Client, search: str, options: Mapping[str, Any],
                 until: datetime, url: str, state: Mapping[str, Any] | None) -> None:
        self.client = client
        self.url = url
        self.search = search
        self.tags: list[str] = list(options["tags"])
        self.hits_per_page: int = options["hits_per_page"]
        self.max_pages: int = options["max_pages"]
        self.window_days: float = options["window_days"]
        self.until = until.astimezone(UTC)
        self.until_second = math.floor(until.timestamp())
        # More than this in one window and some hits could not be read: the window is halved.
        self.capacity = min(MAX_REACHABLE_HITS, self.hits_per_page * self.max_pages)
        self.intact = True
        # Where the cursor stands, and how many runs found each page ("start:end:page") unreadable.
        self.held: dict[str, Any] = {"until": state["until"]} if state and isinstance(state.get("until"), str) else {}
        broken = state.get("broken") if state else None
        self.broken: dict[str, int] = {
            key: count for key, count in (broken.items() if isinstance(broken, dict) else ())
            if isinstance(key, str) and isinstance(count, int)
        }

    def window(self, start: int, end: int) -> Iterator[Page]:
        """The pages of (start, end]; halves it first while it matches more than can be read."""
        body, url = self._get(start, end, 0)
        envelope = self._read(body, url)
        if envelope is None:
            yield self._broken(body, url, f"{start}:{end}:0", end)
            return
        if envelope["nbHits"] > self.capacity:
            if end - start > 1:
                middle = (start + end) // 2
                yield from self.window(start, middle)
                yield from self.window(middle, end)
                return
            logger.warning("hackernews: %d hits created in the one second up to %s; only the "
                           "first %d can be read", envelope["nbHits"], _utc(end), self.capacity)
        page = 0
        while True:
            last = (page + 1 >= min(envelope["nbPages"], self.max_pages) or not envelope["hits"])
            yield Page(body, url, self._state(end) if last else None)
            if last:
                return
            page += 1
            body, url = self._get(start, end, page)
            envelope = self._read(body, url)
            if envelope is None:
                yield self._broken(body, url, f"{start}:{end}:{page}", end)
                return

    def _get(self, start: int, end: int, page: int) -> tuple[bytes, str]:
        params = search_params(self.search, start, end, tags=self.tags,
                               hits_per_page=self.hits_per_page, page=page)
        response = self.client.get(self.url, params=params)
        raise_for_status(response)
        return response.content, str(response.url)

    def _read(self, body: bytes, url: str) -> dict[str, Any] | None:
        """The page's envelope, or None if the body is unreadable."""
        try:
            return _envelope(body)
        except ParseError as exc:
            logger.warning("hackernews: %s: %s; skipping the rest of this time window", display_url(url), exc)
            return None

    def _broken(self, body: bytes, url: str, key: str, end: int) -> Page:
        """An unreadable page: held back while it may still heal, then passed (see `fetch`)."""
        runs = self.broken.get(key, 0) + 1
        if runs > BROKEN_RUNS:
            logger.warning("hackernews: this page was unreadable in %d runs; passing it", BROKEN_RUNS)
            self.broken.pop(key, None)
            return Page(body, url, self._state(end))
        self.broken[key] = runs
        if self.intact:
            logger.warning("hackernews: the cursor stays before it (unreadable %d of %d runs)", runs, BROKEN_RUNS)
        self.intact = False
        return Page(body, url, {**self.held, "broken": dict(self.broken)})

    def _state(self, end: int) -> dict[str, Any] | None:
        if not self.intact:
            return None
        self.held = {"until": (self.until if end == self.until_second else _utc(end)).isoformat()}
        return {**self.held, "broken": dict(self.broken)} if self.broken else dict(self.held)


def _utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


# --- parse -------------------------------------------------------------------------------------


def parse(body: bytes | str) -> list[Post]:
    """The posts in one `search_by_date` response; deleted items and malformed hits are skipped."""
    posts = []
    for index, hit in enumerate(_envelope(body)["hits"]):
        try:
            post = _post(hit)
        except ValueError as exc:  # _MalformedHit, or a field the Post boundary refuses
            logger.warning("hackernews: skipping hit %d: %s", index, exc)
            continue
        if post is not None:
            posts.append(post)
    return posts


class _MalformedHit(ValueError):
    """One hit cannot become a post; it costs that hit, not the page."""


def _envelope(body: bytes | str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8
        raise ParseError(f"not a complete JSON document ({exc})") from exc
    except RecursionError:
        raise ParseError("JSON nested too deeply to read") from None
    if not isinstance(data, dict):
        raise ParseError(f"expected a JSON object, got {type(data).__name__}")
    if not isinstance(data.get("hits"), list):
        raise ParseError("no 'hits' list: not a search response")
    for key in ("nbHits", "nbPages"):
        if not _is_int(data.get(key)):
            raise ParseError(f"no integer {key!r}: not a search response")
    return data


def _post(hit: Any) -> Post | None:
    """The post for one hit, or None for a deleted item (no text and no title)."""
    if not isinstance(hit, dict):
        raise _MalformedHit(f"expected an object, got {type(hit).__name__}")
    native_id = _object_id(hit.get("objectID"))
    tags = [tag for tag in hit.get("_tags") or [] if isinstance(tag, str)]
    is_comment = "comment" in tags if tags else _text_field(hit, "comment_text") is not None
    html = _text_field(hit, "comment_text") or _text_field(hit, "story_text") or ""
    text = html_to_text(html)
    title = (_text_field(hit, "title") or "").strip() or None
    if not text and not title:
        return None
    story_id = hit.get("story_id")
    parent_id = hit.get("parent_id")
    thread_id: str | None
    if _is_int(story_id) or (isinstance(story_id, str) and story_id):
        thread_id = str(story_id)
    else:
        thread_id = None if is_comment else native_id  # a story is its own thread
    author = hit.get("author")
    return Post(
        platform=NAME,
        native_id=native_id,
        text=text,
        created_at=_created_at(hit),
        url=ITEM_URL.format(native_id),
        author=author if isinstance(author, str) and author else None,
        title=title,
        language=None,
        reply_to=str(parent_id) if is_comment and _is_int(parent_id) else None,
        thread_id=thread_id,
        likes=_count(hit.get("points")),
        reposts=None,
        replies=None if is_comment else _count(hit.get("num_comments")),
        raw=_raw(hit),
    )


_ITEM_NUMBER = re.compile(r"[1-9][0-9]{0,18}")  # ASCII digits only: str.isdigit() also takes "١٢" and "²"


def _object_id(value: Any) -> str:
    text = str(value) if _is_int(value) else value.strip() if isinstance(value, str) else ""
    if _ITEM_NUMBER.fullmatch(text):
        return text
    shown = repr(value)[:40] + ("…" if len(repr(value)) > 40 else "")
    raise _MalformedHit(f"objectID {shown} is not an item number")


def _created_at(hit: dict[str, Any]) -> datetime:
    epoch = hit.get("created_at_i")
    if isinstance(epoch, int | float) and not isinstance(epoch, bool):
        try:
            return datetime.fromtimestamp(epoch, tz=UTC)
        except (OverflowError, OSError, ValueError):
            pass
    text = hit.get("created_at")
    if isinstance(text, str):
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return moment.astimezone(UTC)
    raise _MalformedHit(
        f"item {hit.get('objectID')}: no usable created_at_i or created_at ({text!r})")


def _raw(hit: dict[str, Any]) -> dict[str, Any]:
    """The hit without the author's handle, which the store must only get pseudonymised."""
    raw = {key: value for key, value in hit.items() if key not in _IDENTIFYING_KEYS}
    if isinstance(raw.get("_tags"), list):
        raw["_tags"] = [tag for tag in raw["_tags"]
                        if not (isinstance(tag, str) and tag.startswith("author_"))]
    return raw


def _text_field(hit: dict[str, Any], key: str) -> str | None:
    value = hit.get(key)
    return value if isinstance(value, str) else None


def _count(value: Any) -> int | None:
    return value if _is_int(value) else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
