"""Bluesky post search, `app.bsky.feed.searchPosts` (https://docs.bsky.app/docs/api/app-bsky-feed-search-posts).

Search needs a session since January 2025: `com.atproto.server.createSession` with a handle and an
app password from the environment. createSession is limited to about 30 calls per 5 minutes, so a
session is made once per process and kept; when its access token expires it is renewed with
`com.atproto.server.refreshSession`, and only a refused refresh makes a new session. Tokens live in
memory only, never in logs or the store.

With `sort=latest` results come newest first and `cursor` pages back in time. A backfill is cut
into time windows, oldest first; the cursor saved is `{"until": ISO instant}` once every page of
every window up to then has been read (a later run starts an hour before it, for late indexing).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from collect.errors import ParseError, SourceHTTPError
from collect.http import raise_for_status
from collect.sources.base import FetchContext, Option, Page, endpoint, resume_from
from collect.sources.bluesky_posts import MalformedRecord, post_from_record
from store.post import Post

if TYPE_CHECKING:
    from monitor.query import Query

logger = logging.getLogger(__name__)

NAME = "bluesky"

SERVICE = "https://bsky.social"
SEARCH_PATH = "/xrpc/app.bsky.feed.searchPosts"
CREATE_SESSION_PATH = "/xrpc/com.atproto.server.createSession"
REFRESH_SESSION_PATH = "/xrpc/com.atproto.server.refreshSession"

OPTIONS = {
    "lang": Option(str, "", "only posts in this language (ISO 639-1, e.g. 'es'); empty = every language"),
    "limit": Option(int, 100, "posts asked for per request", minimum=1, maximum=100),
    "max_pages": Option(int, 100, "most pages read per time window", minimum=1, maximum=10_000),
    "window_days": Option(float, 7.0, "length of the time windows a backfill is cut into", minimum=0.01, maximum=366),
}
ENV = {
    "MURMUR_BLUESKY_HANDLE": "the account's handle (e.g. murmur-research.bsky.social) or DID",
    "MURMUR_BLUESKY_APP_PASSWORD": "an app password made for Murmur (Settings → Privacy and security → App passwords)",
}
REQUIRED_ENV = ("MURMUR_BLUESKY_HANDLE", "MURMUR_BLUESKY_APP_PASSWORD")
CURSOR_OPTIONS = ("lang",)

# Re-read this much before a saved instant: posts reach the search index a little after they are made.
OVERLAP = timedelta(hours=1)

# Errors that mean the access token must be renewed (XRPC answers 400 ExpiredToken, some proxies 401).
_EXPIRED = frozenset({"ExpiredToken", "InvalidToken"})


# --- translate ---------------------------------------------------------------------------------


def translate(query: Query) -> list[str]:
    """One search per clause of the query: its included terms, phrases quoted (search ANDs them)."""
    searches: list[str] = []
    for clause in query.clauses():
        # A bare leading "-" would exclude the word, so such a term is quoted like a phrase.
        words = [
            '"' + term.text.replace('"', " ").strip() + '"'
            if term.phrase or " " in term.text or term.text.startswith("-")
            else term.text
            for term in clause.include
        ]
        search = " ".join(words)
        if search not in searches:
            searches.append(search)
    return searches


# --- sessions ----------------------------------------------------------------------------------


@dataclass
class Session:
    access_jwt: str
    refresh_jwt: str

    def __repr__(self) -> str:  # tokens are secrets
        return "Session(…)"


# (service URL, handle) → session: kept for the life of the process, so `--every` reuses it.
_SESSIONS: dict[tuple[str, str], Session] = {}


class _Sessions:
    """The session for one service and account: made, reused and refreshed as the server asks."""

    def __init__(self, client: httpx.Client, service: str, handle: str, password: str) -> None:
        self.client = client
        self.service = service
        self.key = (service, handle)
        self.handle = handle
        self.password = password

    def current(self) -> Session:
        return _SESSIONS.get(self.key) or self._create()

    def renew(self) -> Session:
        """A fresh access token: refreshSession, or a new session where the refresh is refused."""
        old = _SESSIONS.pop(self.key, None)
        if old is not None:
            response = self.client.post(
                self.service + REFRESH_SESSION_PATH, headers={"Authorization": f"Bearer {old.refresh_jwt}"}
            )
            if response.is_success:
                session = _session(response, "refreshSession")
                _SESSIONS[self.key] = session
                return session
            logger.info("bluesky: the session could not be refreshed (%s); logging in again", _xrpc_error(response))
        return self._create()

    def _create(self) -> Session:
        response = self.client.post(
            self.service + CREATE_SESSION_PATH, json={"identifier": self.handle, "password": self.password}
        )
        if response.status_code in (400, 401):
            raise SourceHTTPError(
                f"Bluesky refused the login of MURMUR_BLUESKY_HANDLE with MURMUR_BLUESKY_APP_PASSWORD ({_xrpc_error(response)})",
                response.status_code,
            )
        raise_for_status(response)
        session = _session(response, "createSession")
        _SESSIONS[self.key] = session
        return session


def _session(response: httpx.Response, method: str) -> Session:
    try:
        data = json.loads(response.content)
        return Session(access_jwt=str(data["accessJwt"]), refresh_jwt=str(data["refreshJwt"]))
    except (ValueError, KeyError, TypeError):
        raise SourceHTTPError(f"{method} answered without the tokens of a session", response.status_code) from None


def _xrpc_error(response: httpx.Response) -> str:
    """`error: message` of an XRPC error body ({"error": "...", "message": "..."}), never the request."""
    try:
        data = json.loads(response.content)
    except ValueError:
        return f"{response.status_code} {response.reason_phrase}"
    if not isinstance(data, dict):
        return f"{response.status_code} {response.reason_phrase}"
    parts = [str(data[key])[:200] for key in ("error", "message") if data.get(key)]
    return ": ".join(parts) or f"{response.status_code} {response.reason_phrase}"


# --- fetch -------------------------------------------------------------------------------------


def fetch(ctx: FetchContext) -> Iterator[Page]:
    """Pages of posts made after the cursor (or the monitor's start) up to `ctx.until`.

    The span is cut into `window_days` windows, oldest first, so a long backfill never pages
    deeper than one window and its progress is saved window by window: the last page of a window
    carries `{"until": window end}`. An unreadable page ends the fetch, and no later page carries a
    state, so the next run reads from the last complete window again.
    """
    service = endpoint(SERVICE, ctx.options.get("base_url")).rstrip("/")
    sessions = _Sessions(ctx.client, service, ctx.env["MURMUR_BLUESKY_HANDLE"], ctx.env["MURMUR_BLUESKY_APP_PASSWORD"])
    since = resume_from(ctx.state, ctx.since, OVERLAP)
    width = timedelta(days=float(ctx.options.get("window_days", OPTIONS["window_days"].default)))
    start = since
    while start < ctx.until:
        end = min(start + width, ctx.until)
        intact = yield from _window(ctx, sessions, service, start, end)
        if not intact:
            return
        start = end


def _window(
    ctx: FetchContext, sessions: _Sessions, service: str, start: datetime, end: datetime
) -> Generator[Page, None, bool]:
    """The pages of posts made in [start, end), newest first; False if a page was unreadable."""
    params: dict[str, str | int] = {
        "q": ctx.search,
        "sort": "latest",
        "since": _timestamp(start),
        "until": _timestamp(end),
        "limit": ctx.options.get("limit", OPTIONS["limit"].default),
    }
    if ctx.options.get("lang"):
        params["lang"] = ctx.options["lang"]
    max_pages: int = ctx.options.get("max_pages", OPTIONS["max_pages"].default)
    for number in range(max_pages):
        response = _search(ctx.client, sessions, service, params)
        try:
            envelope = _envelope(response.content)
        except ParseError as exc:
            logger.warning("bluesky: a search page is unreadable (%s); the cursor stays where it was", exc)
            yield Page(response.content, str(response.url))
            return False
        cursor = envelope.get("cursor")
        last = not envelope["posts"] or not isinstance(cursor, str) or not cursor
        if not last and number == max_pages - 1:
            logger.warning(
                "bluesky: %r: stopped after %d pages in the window from %s; its older posts are skipped "
                "(lower window_days or raise max_pages)",
                ctx.search,
                max_pages,
                f"{start:%Y-%m-%d %H:%M}",
            )
            last = True
        yield Page(response.content, str(response.url), {"until": end.isoformat()} if last else None)
        if last:
            return True
        params["cursor"] = str(cursor)
    return True


def _search(client: httpx.Client, sessions: _Sessions, service: str, params: dict[str, str | int]) -> httpx.Response:
    """One search request, renewing the session once if the server says its token expired."""
    session = sessions.current()
    for attempt in (1, 2):
        response = client.get(
            service + SEARCH_PATH, params=params, headers={"Authorization": f"Bearer {session.access_jwt}"}
        )
        if response.status_code in (400, 401) and attempt == 1 and _error_code(response) in _EXPIRED:
            session = sessions.renew()
            continue
        break
    if response.status_code in (401, 403):
        raise SourceHTTPError(f"searchPosts refused the session ({_xrpc_error(response)})", response.status_code)
    if response.status_code == 400:
        raise SourceHTTPError(f"searchPosts refused the search ({_xrpc_error(response)})", 400)
    raise_for_status(response)
    return response


def _error_code(response: httpx.Response) -> str | None:
    try:
        data = json.loads(response.content)
    except ValueError:
        return None
    return data.get("error") if isinstance(data, dict) else None



def _timestamp(moment: datetime) -> str:
    """An instant as the API's `datetime` format: UTC, milliseconds, 'Z'."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# --- parse -------------------------------------------------------------------------------------


def parse(body: bytes | str) -> list[Post]:
    """The posts of one searchPosts response; malformed post views are skipped with their reason."""
    posts = []
    for index, view in enumerate(_envelope(body)["posts"]):
        try:
            post = _post(view)
        except MalformedRecord as exc:
            logger.warning("bluesky: skipping post %d: %s", index, exc)
            continue
        if post is not None:
            posts.append(post)
    return posts


def _envelope(body: bytes | str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ParseError(f"not a complete JSON document ({exc})") from exc
    if isinstance(data, dict) and isinstance(data.get("error"), str) and "posts" not in data:
        raise ParseError(f"the service answered with an error: {data['error']}: {str(data.get('message'))[:200]}")
    if not isinstance(data, dict) or not isinstance(data.get("posts"), list):
        raise ParseError("no 'posts' list: not a searchPosts response")
    return data


def _post(view: Any) -> Post | None:
    if not isinstance(view, dict):
        raise MalformedRecord(f"expected an object, got {type(view).__name__}")
    uri = view.get("uri")
    author = view.get("author") if isinstance(view.get("author"), dict) else {}
    did = author.get("did") if isinstance(author, dict) else None
    if not isinstance(uri, str) or not isinstance(did, str) or not did.startswith("did:"):
        raise MalformedRecord(f"no post uri or author DID ({uri!r})")
    if not uri.startswith(f"at://{did}/"):
        raise MalformedRecord(f"{uri} is not a post of its author {did}")
    raw = {key: value for key, value in view.items() if key not in ("author", "viewer")}
    return post_from_record(uri, did, view.get("record"), counts=view, raw=raw)
