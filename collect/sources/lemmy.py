"""Lemmy posts and comments, through the search API of several instances (`/api/v3/search`).

Lemmy is federated: every instance holds copies of posts from the others, under its own local ids.
A post is therefore identified by its `ap_id`, the canonical ActivityPub URI given by the instance
it was written on, so one post seen through two instances is one post.

Lemmy's search is a case-insensitive substring match (`%word%`, with the words in the order given),
so each clause of the query is searched by one of its terms, which is broader than the clause; the
runner re-checks every post against the full query. Results are read newest first (`sort=New`),
and each (instance, type) stream stops paging at the newest item it saw last time, less an hour for
posts that federate late.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from collect.errors import CollectError, ParseError, SourceHTTPError, SourceUnavailable
from collect.http import raise_for_status
from collect.sources.base import FetchContext, Option, Page, endpoint
from store.post import Post

if TYPE_CHECKING:
    from monitor.query import Query

logger = logging.getLogger(__name__)

NAME = "lemmy"

SEARCH_PATH = "/api/v3/search"
TYPES = ("Posts", "Comments")

OPTIONS = {
    "instances": Option(
        list,
        ["lemmy.world", "lemmy.ml"],
        "instances to search (host names or https:// URLs); results are merged by ap_id",
    ),
    "types": Option(list, list(TYPES), "what to search for", choices=TYPES),
    "limit": Option(int, 50, "items asked for per page", minimum=1, maximum=50),
    "max_pages": Option(int, 20, "most pages read from one instance and type per run", minimum=1, maximum=1000),
}

ENV: dict[str, str] = {}
REQUIRED_ENV: tuple[str, ...] = ()
CURSOR_OPTIONS = ("instances", "types")

# Posts reach other instances late (federation queues); paging stops this long before the newest
# item already seen, so a late arrival is still read on the next run.
OVERLAP = timedelta(hours=1)

# The fields of a view that describe its author or the viewer; never kept in `raw`.
_IDENTIFYING_KEYS = frozenset({"creator", "creator_id"})


# --- translate ---------------------------------------------------------------------------------


def translate(query: Query) -> list[str]:
    """The first included term of each clause, once each: broader than the clause, as Lemmy needs.

    Lemmy matches `%a%b%` for "a b", a substring search with the words in order; searching a whole
    clause would miss posts that have its words in another order.
    """
    searches: list[str] = []
    for clause in query.clauses():
        term = clause.include[0].text.strip()
        if term and term not in searches:
            searches.append(term)
    return searches


# --- fetch -------------------------------------------------------------------------------------


def fetch(ctx: FetchContext) -> Iterator[Page]:
    """Pages of posts and comments per instance and type, newest first, back to the last run's newest.

    The state is `{"newest": {"<instance> <type>": ISO time}}`. A stream's entry moves only when the
    stream was read to its end; a page that cannot be read is yielded for the runner to report, and
    no later page carries state. An instance that fails (unreachable, an error status, Lemmy's
    `rate_limit_error`) costs only its own streams: the others are read, then the failures are raised
    together so the run records them.
    """
    newest = _newest_from_state(ctx.state)
    walk = _Walk(ctx, newest)
    failures: list[CollectError] = []
    for instance in ctx.options["instances"]:
        base = _instance_url(instance)
        try:
            for type_ in ctx.options["types"]:
                yield from walk.stream(base, type_)
        except (SourceHTTPError, SourceUnavailable) as error:
            logger.warning("lemmy: %s: %s; its other results wait for the next run", _host(base), error)
            failures.append(error)
    if failures:
        message = "; ".join(str(error) for error in failures)
        if all(isinstance(error, SourceUnavailable) for error in failures):
            raise SourceUnavailable(message)
        status = next(e.status_code for e in failures if isinstance(e, SourceHTTPError))
        raise SourceHTTPError(message, status)


class _Walk:
    """One fetch: the streams' newest times so far, and whether the state may still move."""

    def __init__(self, ctx: FetchContext, newest: dict[str, datetime]) -> None:
        self.ctx = ctx
        self.newest = newest
        self.intact = True

    def stream(self, base: str, type_: str) -> Iterator[Page]:
        """The pages of one (instance, type) search, newest first, until what was seen last time."""
        key = f"{_host(base)} {type_}"
        previous = self.newest.get(key)
        floor = max(self.ctx.since, previous - OVERLAP) if previous else self.ctx.since
        limit: int = self.ctx.options["limit"]
        max_pages: int = self.ctx.options["max_pages"]
        seen: datetime | None = None
        for page in range(1, max_pages + 1):
            body, url = self._get(base, type_, page, limit)
            try:
                items = _envelope(body).get(type_.lower())
            except ParseError as exc:
                logger.warning("lemmy: %s: %s; the rest of this search waits for the next run", url, exc)
                self.intact = False
                yield Page(body, url)
                return
            times = [t for t in (_published_or_none(item) for item in items or []) if t is not None]
            if times:
                seen = max([*times, seen] if seen else times)
            done = not items or len(items) < limit or min(times, default=floor) < floor
            if not done and page == max_pages:
                logger.warning(
                    "lemmy: %s: %d pages read and older %s remain; raise max_pages to read them",
                    url,
                    max_pages,
                    type_.lower(),
                )
                done = True
            if done:
                if seen is not None:
                    self.newest[key] = max(seen, previous) if previous else seen
                yield Page(body, url, state=self._state())
                return
            yield Page(body, url)

    def _get(self, base: str, type_: str, page: int, limit: int) -> tuple[bytes, str]:
        url = endpoint(base + SEARCH_PATH, self.ctx.options.get("base_url"))
        params = {
            "q": self.ctx.search,
            "type_": type_,
            "sort": "New",
            "listing_type": "All",
            "page": str(page),
            "limit": str(limit),
        }
        response = self.ctx.client.get(url, params=params)
        if response.status_code == 400 and _lemmy_error(response.content) == "rate_limit_error":
            # Lemmy before 0.19.4 answers a rate limit with 400 and this body instead of a 429.
            raise SourceHTTPError(f"{response.url.host} rate-limited the search (rate_limit_error)", 429)
        raise_for_status(response)
        return response.content, str(response.url)

    def _state(self) -> dict[str, Any] | None:
        if not self.intact:
            return None
        return {"newest": {key: moment.isoformat() for key, moment in sorted(self.newest.items())}}


def _newest_from_state(state: dict[str, Any] | None) -> dict[str, datetime]:
    """The per-stream newest times of a saved state; anything unreadable there is forgotten."""
    newest: dict[str, datetime] = {}
    entries = state.get("newest") if isinstance(state, dict) else None
    if isinstance(entries, dict):
        for key, value in entries.items():
            moment = _timestamp(value) if isinstance(value, str) else None
            if moment is not None:
                newest[str(key)] = moment
    return newest


def _instance_url(instance: str) -> str:
    """`https://host` for a host name, or the given http(s) URL without a trailing slash."""
    instance = instance.strip().rstrip("/")
    return instance if instance.startswith(("https://", "http://")) else f"https://{instance}"


def _host(base: str) -> str:
    return urlsplit(base).netloc.lower()


def _lemmy_error(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, str) else None


# --- parse -------------------------------------------------------------------------------------


def parse(body: bytes | str) -> list[Post]:
    """The posts and comments in one search response; deleted, removed and malformed items skipped."""
    data = _envelope(body)
    posts: list[Post] = []
    for kind in ("posts", "comments"):
        for index, view in enumerate(data.get(kind) or []):
            try:
                post = _post_view(view) if kind == "posts" else _comment_view(view)
            except _MalformedItem as exc:
                logger.warning("lemmy: skipping %s %d: %s", kind[:-1], index, exc)
                continue
            if post is not None:
                posts.append(post)
    return posts


class _MalformedItem(ValueError):
    """One item cannot become a post; it costs that item, not the page."""


def _envelope(body: bytes | str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ParseError(f"not a complete JSON document ({exc})") from exc
    if not isinstance(data, dict):
        raise ParseError(f"expected a JSON object, got {type(data).__name__}")
    if "error" in data and "posts" not in data and "comments" not in data:
        raise ParseError(f"Lemmy answered an error: {data['error']!r}")
    lists = [key for key in ("posts", "comments") if key in data]
    if not lists or any(not isinstance(data[key], list) for key in lists):
        raise ParseError("no 'posts' or 'comments' list: not a search response")
    return data


@dataclass(frozen=True)
class _Common:
    """What posts and comments share: the item, its canonical id and time, its author."""

    item: dict[str, Any]
    ap_id: str
    created_at: datetime
    author: str | None


def _common(view: Any, key: str) -> _Common | None:
    """The shared fields of a post or comment view; None if the item is deleted or removed."""
    if not isinstance(view, dict) or not isinstance(view.get(key), dict):
        raise _MalformedItem(f"expected a view with a {key!r} object")
    item = view[key]
    ap_id = canonical_ap_id(item.get("ap_id"))
    if item.get("deleted") is True or item.get("removed") is True:
        return None
    published = item.get("published")
    created_at = _timestamp(published) if isinstance(published, str) else None
    if created_at is None:
        raise _MalformedItem(f"{ap_id}: published {published!r} is not an ISO 8601 time")
    creator = view.get("creator")
    author = None
    if isinstance(creator, dict):
        actor = creator.get("actor_id")
        author = actor if isinstance(actor, str) and actor else None
    return _Common(item, ap_id, created_at, author)


def _post_view(view: Any) -> Post | None:
    common = _common(view, "post")
    if common is None:
        return None
    post = common.item
    title = _text(post.get("name")).strip() or None
    text = _text(post.get("body")).strip()
    if not title and not text:
        return None
    counts = view.get("counts") if isinstance(view.get("counts"), dict) else {}
    return Post(
        platform=NAME,
        native_id=common.ap_id,
        text=text,
        created_at=common.created_at,
        url=common.ap_id,
        author=common.author,
        title=title,
        thread_id=common.ap_id,
        likes=_count(counts.get("score")),
        replies=_count(counts.get("comments")),
        raw=_raw(view),
    )


def _comment_view(view: Any) -> Post | None:
    common = _common(view, "comment")
    if common is None:
        return None
    text = _text(common.item.get("content")).strip()
    if not text:
        return None
    parent = view.get("post") if isinstance(view.get("post"), dict) else {}
    try:
        thread: str | None = canonical_ap_id(parent.get("ap_id"))
    except _MalformedItem:
        thread = None
    # `path` is "0.<top-level id>.<reply id>…" in the instance's local ids: only a top-level
    # comment's parent (the post) has a canonical id here.
    path = common.item.get("path")
    top_level = isinstance(path, str) and path.count(".") == 1
    counts = view.get("counts") if isinstance(view.get("counts"), dict) else {}
    return Post(
        platform=NAME,
        native_id=common.ap_id,
        text=text,
        created_at=common.created_at,
        url=common.ap_id,
        author=common.author,
        reply_to=thread if top_level else None,
        thread_id=thread,
        likes=_count(counts.get("score")),
        replies=_count(counts.get("child_count")),
        raw=_raw(view),
    )


def canonical_ap_id(value: Any) -> str:
    """The ActivityPub id as one spelling: scheme and host lower-cased, no fragment or trailing space."""
    if not isinstance(value, str):
        raise _MalformedItem(f"ap_id {value!r} is not a URI")
    parts = urlsplit(value.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise _MalformedItem(f"ap_id {value!r} is not an http(s) URI")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, ""))


def _timestamp(text: str) -> datetime | None:
    """A Lemmy time: 0.19 writes a Z, older versions write none and mean UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _published_or_none(view: Any) -> datetime | None:
    """A view's publication time for paging decisions; None where the item is malformed."""
    if not isinstance(view, dict):
        return None
    item = view.get("comment") or view.get("post")
    published = item.get("published") if isinstance(item, dict) else None
    return _timestamp(published) if isinstance(published, str) else None


def _raw(view: dict[str, Any]) -> dict[str, Any]:
    """The view without its author (the store gets the author only pseudonymised)."""
    raw: dict[str, Any] = {}
    for key, value in view.items():
        if key in _IDENTIFYING_KEYS or key.startswith("creator_"):
            continue
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in _IDENTIFYING_KEYS}
        raw[key] = value
    return raw


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
