"""Reddit submissions and comments, through Reddit's OAuth API or, without credentials, its public feeds.

With `MURMUR_REDDIT_CLIENT_ID` and `MURMUR_REDDIT_CLIENT_SECRET` (a "script" or "web" app's id and
secret), Murmur asks `/api/v1/access_token` for an app-only token (`client_credentials` grant),
keeps it until shortly before it expires, and searches `oauth.reddit.com/search` (all of Reddit)
and `/r/<sub>/search` (`restrict_sr`) newest first, paging with `after`, `raw_json=1` so text
arrives unescaped. Reddit's API documents no comment search, so comments come from the documented
comment listing of each submission found (`/comments/<id>`, `sort=new`); a submission's thread is
re-read for `comment_days` after it was found, since its discussion goes on after it is posted.
"Load more comments" stubs are not expanded (each would cost a request); a thread's newest comments
come first.

Without credentials, the public search feeds (`www.reddit.com/search.rss`, `/r/<sub>/search.rss`)
are read instead: they carry no scores, comment counts or comments, which is said once in the log.

Reddit asks for a User-Agent of the form `<platform>:<app id>:<version> (by /u/<username>)` and
announces its limits in `X-Ratelimit-Used`, `-Remaining` and `-Reset`: when none remain, the walk
waits for the reset before its next request.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from collect.errors import ParseError, SourceHTTPError
from collect.html_text import html_to_text
from collect.http import raise_for_status
from collect.sources.base import FetchContext, Option, Page, display_url, endpoint
from collect.sources.boolean_search import or_searches
from collect.sources.syndication import entry_time, read_feed
from murmur import __version__
from store.post import Post

if TYPE_CHECKING:
    from monitor.query import Query

logger = logging.getLogger(__name__)

NAME = "reddit"

TOKEN_URL = "https://www.reddit.com/api/v1/access_token"
API = "https://oauth.reddit.com"
PUBLIC = "https://www.reddit.com"
SITE = "https://www.reddit.com"

ENV = {
    "MURMUR_REDDIT_CLIENT_ID": "your Reddit app's id (reddit.com/prefs/apps); without it the public feeds are read",
    "MURMUR_REDDIT_CLIENT_SECRET": "that app's secret",
}
REQUIRED_ENV: tuple[str, ...] = ()

TIME_FILTERS = ("auto", "hour", "day", "week", "month", "year", "all")

OPTIONS = {
    "subreddits": Option(list, [], "subreddits searched on their own (restrict_sr), names without r/"),
    "sitewide": Option(bool, True, "also search across all of Reddit"),
    "comments": Option(bool, True, "also read the comments of the submissions found (needs credentials)"),
    "time_filter": Option(
        str, "auto", "Reddit's t= filter; auto picks the narrowest that covers the walk", choices=TIME_FILTERS
    ),
    "max_pages": Option(int, 10, "most pages of 100 read per search and scope", minimum=1, maximum=100),
    "comment_limit": Option(int, 500, "comments asked for per submission", minimum=1, maximum=500),
    "comment_days": Option(
        float, 3.0, "days a submission's comments are re-read after it was posted", minimum=0, maximum=60
    ),
    "max_threads": Option(int, 50, "most submissions whose comments are read in one run", minimum=0, maximum=1000),
    "contact": Option(str, "", "your Reddit username, for the User-Agent Reddit asks for"),
}
CURSOR_OPTIONS = ("subreddits", "sitewide", "comments")

PAGE_LIMIT = 100
# Submissions seen this long before the last walk's newest are asked for again: Reddit's search index
# lags a little behind posting, and the store keeps each post once.
OVERLAP = timedelta(minutes=30)
# A token is replaced this long before Reddit says it expires.
TOKEN_MARGIN = 60.0
# Never wait longer than this for a rate-limit window to reset (Reddit's window is 10 minutes).
MAX_RESET_WAIT = 600.0

_UNKNOWN = float("inf")  # the creation time of an item that does not say
_GONE = frozenset({"[deleted]", "[removed]"})
_ID36 = re.compile(r"[0-9a-z]{1,13}")
_FULLNAME = re.compile(r"t[13]_[0-9a-z]{1,13}")
_SUBREDDIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{1,20}")
# The feeds wrap an entry's own markdown between these comments, followed by a footer ("submitted
# by /u/name to r/sub [link] [comments]"); a link post has only a thumbnail and the footer.
_TEXT_START, _TEXT_END, _FOOTER = "<!-- SC_OFF -->", "<!-- SC_ON -->", "submitted by"

# Tokens by (token endpoint, client id): (access token, epoch when it stops being used). A run reuses
# one token for every search; tests may clear this.
_TOKENS: dict[tuple[str, str], tuple[str, float]] = {}
_now = time.time
_sleep = time.sleep
_public_noted = False


# --- translate ---------------------------------------------------------------------------------


def translate(query: Query) -> list[str]:
    """Reddit search understands OR and parentheses: usually one search for the whole query."""
    return or_searches(query)


def user_agent(contact: str) -> str:
    """The User-Agent Reddit's API rules ask for: platform, app id, version and a username."""
    agent = f"python:org.murmur-monitor:{__version__}"
    return f"{agent} (by /u/{contact})" if contact else agent


# --- fetch -------------------------------------------------------------------------------------


def fetch(ctx: FetchContext) -> Iterator[Page]:
    """Pages of submissions (newest first, per scope) and then comment threads; state on the last page.

    The state remembers, per scope, the newest submission seen, and the recent submissions whose
    comments are still being followed. It is handed back only if every page was read.
    """
    walk = _Walk(ctx)
    held: Page | None = None
    for page in walk.pages():
        if held is not None:
            yield held
        held = page
    final = walk.final_state()
    if held is not None:
        yield Page(held.body, held.url, final)


class _Walk:
    """One fetch: credentials, headers, what has been seen, and whether the cursor may move."""

    def __init__(self, ctx: FetchContext) -> None:
        self.ctx = ctx
        self.options = ctx.options
        self.base_url: str | None = ctx.options.get("base_url")
        self.client_id = ctx.env.get("MURMUR_REDDIT_CLIENT_ID", "")
        self.secret = ctx.env.get("MURMUR_REDDIT_CLIENT_SECRET", "")
        self.oauth = bool(self.client_id and self.secret)
        self.headers = {"User-Agent": user_agent(str(ctx.options.get("contact", "")))}
        state = ctx.state if isinstance(ctx.state, dict) else {}
        newest = state.get("newest")
        self.newest: dict[str, float] = {
            scope: float(value)
            for scope, value in (newest.items() if isinstance(newest, dict) else ())
            if isinstance(value, (int, float)) and not isinstance(value, bool)
        }
        threads = state.get("threads")
        self.threads: dict[str, float] = {
            name: float(value)
            for name, value in (threads.items() if isinstance(threads, dict) else ())
            if isinstance(name, str) and _FULLNAME.fullmatch(name) and isinstance(value, (int, float))
        }
        self.intact = True

    # The walk -------------------------------------------------------------------------------

    def pages(self) -> Iterator[Page]:
        if not self.oauth:
            _note_public_mode()
        scopes = self._scopes()
        if not scopes:
            logger.warning("reddit: sitewide = false and no usable subreddits; nothing to search")
        for scope, path in scopes:
            yield from self._search(scope, path)
        if self.oauth and self.options.get("comments", True):
            yield from self._comment_threads()

    def final_state(self) -> dict[str, Any] | None:
        if not self.intact:
            return None
        return {"newest": dict(sorted(self.newest.items())), "threads": dict(sorted(self.threads.items()))}

    def _scopes(self) -> list[tuple[str, str]]:
        scopes = [("all", "/search")] if self.options.get("sitewide", True) else []
        for name in self.options.get("subreddits", []):
            sub = str(name).strip().removeprefix("/").removeprefix("r/")
            if not _SUBREDDIT.fullmatch(sub):
                logger.warning("reddit: %r is not a subreddit name (letters, digits, _; 2-21 long); skipped", name)
                continue
            scopes.append((f"r/{sub.lower()}", f"/r/{sub}/search"))
        return scopes

    def _search(self, scope: str, path: str) -> Iterator[Page]:
        since = self.ctx.since.timestamp()
        previous = self.newest.get(scope)
        stop = max(since, previous - OVERLAP.total_seconds()) if previous is not None else since
        params = {
            "q": self.ctx.search,
            "sort": "new",
            "t": self._time_filter(stop),
            "limit": str(PAGE_LIMIT),
            "raw_json": "1",
            "type": "link",
        }
        if scope != "all":
            params["restrict_sr"] = "1" if self.oauth else "on"
        newest = previous
        for _ in range(self.options.get("max_pages", 10)):
            url = endpoint(API + path, self.base_url) if self.oauth else endpoint(PUBLIC + path + ".rss", self.base_url)
            response = self._get(url, params)
            try:
                listing = _listing(response.content)
            except ParseError as exc:
                self._unreadable(response, exc)
                yield Page(response.content, display_url(str(response.url)))
                return
            yield Page(response.content, display_url(str(response.url)))
            created = [item.created for item in listing.items if item.kind == "t3" and item.created < _UNKNOWN]
            for item in listing.items:
                if item.kind == "t3" and stop < item.created < _UNKNOWN:
                    with contextlib.suppress(_MalformedItem):  # parse reports it
                        self._follow(item.name, item.created)
            if created:
                newest = max(newest if newest is not None else created[0], *created)
            # The listing is newest first: once it reaches what was seen before, the rest is old.
            if not listing.after or (created and min(created) <= stop) or not listing.items:
                break
            params["after"] = listing.after
        if newest is not None:
            self.newest[scope] = newest

    def _comment_threads(self) -> Iterator[Page]:
        horizon = self.ctx.until.timestamp() - self.options.get("comment_days", 3.0) * 86400
        self.threads = {name: created for name, created in self.threads.items() if created >= horizon}
        chosen = sorted(self.threads, key=lambda name: self.threads[name], reverse=True)
        for name in chosen[: self.options.get("max_threads", 50)]:
            url = endpoint(f"{API}/comments/{name.removeprefix('t3_')}", self.base_url)
            params = {"sort": "new", "limit": str(self.options.get("comment_limit", 500)), "raw_json": "1"}
            response = self._get(url, params, tolerate=(403, 404))
            if response.status_code in (403, 404):
                logger.warning(
                    "reddit: the comments of %s are gone or private (%d); no longer followed",
                    name,
                    response.status_code,
                )
                del self.threads[name]
                continue
            try:
                _listing(response.content)
            except ParseError as exc:
                self._unreadable(response, exc)
            yield Page(response.content, display_url(str(response.url)))

    def _follow(self, name: str, created: float) -> None:
        if self.oauth and self.options.get("comments", True):
            self.threads[name] = created

    def _time_filter(self, stop: float) -> str:
        chosen = str(self.options.get("time_filter", "auto"))
        if chosen != "auto":
            return chosen
        span = self.ctx.until.timestamp() - stop
        for name, seconds in (
            ("hour", 3600),
            ("day", 86400),
            ("week", 7 * 86400),
            ("month", 31 * 86400),
            ("year", 366 * 86400),
        ):
            if span <= seconds * 0.95:
                return name
        return "all"

    def _unreadable(self, response: httpx.Response, exc: ParseError) -> None:
        logger.warning(
            "reddit: %s: %s; the rest of this walk is skipped and the cursor stays where it was",
            display_url(str(response.url)),
            exc,
        )
        self.intact = False

    # Requests -------------------------------------------------------------------------------

    def _get(self, url: str, params: dict[str, str], tolerate: tuple[int, ...] = ()) -> httpx.Response:
        """GET through the shared client with the token; one fresh token if Reddit rejects the old one."""
        for attempt in (1, 2):
            headers = dict(self.headers)
            if self.oauth:
                headers["Authorization"] = f"bearer {self._token(renew=attempt == 2)}"
            response = self.ctx.client.get(url, params=params, headers=headers)
            _respect_rate_limit(response)
            if response.status_code == 401 and self.oauth and attempt == 1:
                continue
            break
        if response.status_code not in tolerate:
            raise_for_status(response)
        return response

    def _token(self, *, renew: bool) -> str:
        token_url = endpoint(TOKEN_URL, self.base_url)
        key = (token_url, self.client_id)
        cached = _TOKENS.get(key)
        if cached is not None and not renew and cached[1] > _now():
            return cached[0]
        _TOKENS.pop(key, None)
        response = self.ctx.client.post(
            token_url,
            data={"grant_type": "client_credentials"},
            auth=(self.client_id, self.secret),
            headers=self.headers,
        )
        _respect_rate_limit(response)
        if response.status_code in (400, 401, 403):
            raise SourceHTTPError(
                f"reddit refused an app-only token ({response.status_code} for {display_url(str(response.url))}): "
                "check MURMUR_REDDIT_CLIENT_ID and MURMUR_REDDIT_CLIENT_SECRET",
                response.status_code,
            )
        raise_for_status(response)
        try:
            answer = json.loads(response.content)
        except ValueError:
            answer = None
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            reason = answer.get("error") if isinstance(answer, dict) else "not JSON"
            raise SourceHTTPError(
                f"reddit answered {display_url(str(response.url))} without an access token "
                f"({reason}): check MURMUR_REDDIT_CLIENT_ID and MURMUR_REDDIT_CLIENT_SECRET",
                response.status_code,
            )
        lifetime = answer.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, (int, float)) and not isinstance(lifetime, bool) else 3600.0
        _TOKENS[key] = (token, _now() + max(0.0, seconds - TOKEN_MARGIN))
        return token


def _respect_rate_limit(response: httpx.Response) -> None:
    """Wait out the rest of the window when Reddit says no requests remain in it."""
    remaining = _number(response.headers.get("X-Ratelimit-Remaining"))
    reset = _number(response.headers.get("X-Ratelimit-Reset"))
    if remaining is None or reset is None or remaining >= 1 or reset <= 0:
        return
    wait = min(reset, MAX_RESET_WAIT)
    logger.info(
        "reddit: rate limit used up (%s requests); waiting %.0f s for it to reset",
        response.headers.get("X-Ratelimit-Used", "?"),
        wait,
    )
    _sleep(wait)


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _note_public_mode() -> None:
    global _public_noted
    if not _public_noted:
        _public_noted = True
        logger.warning(
            "reddit: MURMUR_REDDIT_CLIENT_ID / MURMUR_REDDIT_CLIENT_SECRET not set; reading the public "
            "search feeds, which carry no scores, comment counts or comments"
        )


# --- parse -------------------------------------------------------------------------------------


def parse(body: bytes | str) -> list[Post]:
    """The posts in one API listing (search or comment thread) or one public search feed.

    Removed and deleted comments are skipped; so is a submission with neither title nor text. A
    malformed item is skipped with a warning, not the page.
    """
    posts = []
    for item in _listing(body).items:
        try:
            post = item.post()
        except _MalformedItem as exc:
            logger.warning("reddit: skipping %s: %s", item.label, exc)
            continue
        if post is not None:
            posts.append(post)
    return posts


class _MalformedItem(ValueError):
    """One item cannot become a post; it costs that item, not the page."""


class _Item:
    """One thing of a listing (a submission or comment), or of a feed, before it becomes a post."""

    def __init__(self, kind: str, data: Any, label: str, feed: bool = False) -> None:
        self.kind = kind
        self.data = data
        self.label = label
        self.feed = feed

    @property
    def name(self) -> str:
        return _fullname(self.kind, self.data)

    @property
    def created(self) -> float:
        try:
            return _created(self.data, self.feed).timestamp()
        except _MalformedItem:
            return _UNKNOWN  # never what stops the walk

    def post(self) -> Post | None:
        if self.kind not in ("t1", "t3"):
            return None  # "more" stubs, and things that are not posts
        if not isinstance(self.data, dict):
            raise _MalformedItem(f"expected an object, got {type(self.data).__name__}")
        return _feed_post(self.data) if self.feed else _api_post(self.kind, self.data)


class _Listing:
    def __init__(self, items: list[_Item], after: str | None) -> None:
        self.items = items
        self.after = after


def _listing(body: bytes | str) -> _Listing:
    """The items of a JSON listing (or a comment thread's pair of listings), or of an Atom feed."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    if text.lstrip().startswith("<"):
        return _feed_listing(body)
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ParseError(f"not a complete JSON document ({exc})") from exc
    if isinstance(data, list) and data and all(_is_listing(part) for part in data):
        items: list[_Item] = []
        for part in data:
            _walk_children(part, items)
        return _Listing(items, None)
    if not _is_listing(data):
        raise ParseError(
            "not a Reddit Listing"
            + (f" ({data.get('message') or data.get('error')})" if isinstance(data, dict) else "")
        )
    items = []
    _walk_children(data, items)
    after = data["data"].get("after")
    return _Listing(items, after if isinstance(after, str) and after else None)


def _is_listing(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and value.get("kind") == "Listing"
        and isinstance(value.get("data"), dict)
        and isinstance(value["data"].get("children"), list)
    )


def _walk_children(listing: dict[str, Any], items: list[_Item]) -> None:
    """Depth first, so a comment's replies follow it; `replies` is "" or a nested Listing."""
    for index, child in enumerate(listing["data"]["children"]):
        if not isinstance(child, dict) or not isinstance(child.get("kind"), str):
            items.append(_Item("t?", child, f"child {index}"))
            continue
        data = child.get("data")
        label = f"{child['kind']} {data.get('id') if isinstance(data, dict) else index}"
        items.append(_Item(child["kind"], data, label))
        if isinstance(data, dict) and _is_listing(data.get("replies")):
            _walk_children(data["replies"], items)


def _api_post(kind: str, data: dict[str, Any]) -> Post | None:
    name = _fullname(kind, data)
    author = data.get("author")
    permalink = data.get("permalink")
    title: str | None = None
    reply_to = thread_id = None
    if kind == "t1":
        text = _kept_text(data.get("body"))
        if not text:
            return None  # a deleted or removed comment
        reply_to, thread_id = _fullname_or_none(data.get("parent_id")), _fullname_or_none(data.get("link_id"))
    else:
        text = _kept_text(data.get("selftext"))
        heading = data.get("title")
        title = heading.strip() if isinstance(heading, str) and heading.strip() else None
        if not text and not title:
            return None
        thread_id = name
    return Post(
        platform=NAME,
        native_id=name,
        text=text,
        created_at=_created(data, feed=False),
        url=SITE + permalink if isinstance(permalink, str) and permalink.startswith("/") else None,
        author=author if isinstance(author, str) and author and author not in _GONE else None,
        title=title,
        reply_to=reply_to,
        thread_id=thread_id,
        likes=_int(data.get("score")),
        replies=_int(data.get("num_comments")) if kind == "t3" else None,
        raw=_raw(data),
    )


def _kept_text(value: Any) -> str:
    """Markdown as written, kept as text; "" for the placeholders of deleted and removed items."""
    text = value.strip() if isinstance(value, str) else ""
    return "" if text in _GONE else text


def _fullname_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and _FULLNAME.fullmatch(value) else None


def _fullname(kind: str, data: Any) -> str:
    if not isinstance(data, dict):
        raise _MalformedItem("no data object")
    name = data.get("name")
    if isinstance(name, str) and _FULLNAME.fullmatch(name) and name.startswith(kind + "_"):
        return name
    native = data.get("id")
    if isinstance(native, str) and _ID36.fullmatch(native.strip().lower()):
        return f"{kind}_{native.strip().lower()}"
    raise _MalformedItem(f"neither name {name!r} nor id {native!r} is a Reddit id")


def _created(data: Any, feed: bool) -> datetime:
    if feed:
        moment = entry_time(data)
        if moment is None:
            raise _MalformedItem("no published or updated date")
        return moment
    epoch = data.get("created_utc") if isinstance(data, dict) else None
    if isinstance(epoch, (int, float)) and not isinstance(epoch, bool):
        try:
            return datetime.fromtimestamp(epoch, tz=UTC)
        except (OverflowError, OSError, ValueError):
            pass
    raise _MalformedItem(f"created_utc {epoch!r} is not a time")


# Keys that name or describe the author (flair, premium, cake day...), and nested replies, which
# become posts of their own: never kept in `raw`.
def _raw(data: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if not key.startswith("author") and key != "replies"}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# --- the public Atom feeds ---------------------------------------------------------------------


def _feed_listing(body: bytes | str) -> _Listing:
    parsed = read_feed(body)
    items = []
    for index, entry in enumerate(parsed.entries):
        native = entry.get("id")
        kind = native[:2] if isinstance(native, str) and _FULLNAME.fullmatch(native) else "t3"
        items.append(_Item(kind, entry, f"feed entry {index} ({native!r})", feed=True))
    last = items[-1].data.get("id") if items else None
    after = last if isinstance(last, str) and _FULLNAME.fullmatch(last) and len(items) >= PAGE_LIMIT else None
    return _Listing(items, after)


def _feed_text_html(html: str) -> str:
    """The HTML of the entry's own text, without the thumbnail and "submitted by" footer."""
    start, end = html.find(_TEXT_START), html.find(_TEXT_END)
    if 0 <= start < end:
        return html[start + len(_TEXT_START) : end]
    return "" if _FOOTER in html else html


def _feed_post(entry: Mapping[str, Any]) -> Post | None:
    native = entry.get("id")
    if not isinstance(native, str) or not _FULLNAME.fullmatch(native):
        raise _MalformedItem(f"id {native!r} is not a Reddit fullname")
    content = entry.get("content")
    html = content[0].get("value", "") if isinstance(content, list) and content else entry.get("summary", "")
    text = html_to_text(_feed_text_html(html if isinstance(html, str) else ""))
    if text in _GONE:
        text = ""
    title = entry.get("title")
    is_comment = native.startswith("t1_")
    title = title.strip() if isinstance(title, str) and title.strip() and not is_comment else None
    if not text and not (title and not is_comment):
        return None
    detail = entry.get("author_detail") or {}
    author = detail.get("name") if isinstance(detail, Mapping) else None
    author = author.strip().removeprefix("/u/") if isinstance(author, str) else None
    tags = entry.get("tags") or []
    subreddit = tags[0].get("term") if tags and isinstance(tags[0], Mapping) else None
    link = entry.get("link")
    return Post(
        platform=NAME,
        native_id=native,
        text=text,
        created_at=_created(entry, feed=True),
        url=link if isinstance(link, str) and link.startswith("http") else None,
        author=author if author and author not in _GONE else None,
        title=title,
        thread_id=native if not is_comment else None,
        raw={
            "id": native,
            "title": entry.get("title"),
            "link": link,
            "subreddit": subreddit,
            "published": entry.get("published"),
            "updated": entry.get("updated"),
            "from": "public feed",
        },
    )
