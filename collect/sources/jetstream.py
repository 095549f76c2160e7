"""Bluesky in real time through Jetstream, the public JSON firehose (https://github.com/bluesky-social/jetstream).

`/subscribe?wantedCollections=app.bsky.feed.post&cursor=<µs>` streams every new, edited and deleted
post on the network as JSON commit events, replaying from `cursor` (microseconds since the epoch)
as far back as the instance keeps, about 36 hours. No account is needed. Nothing is searched on the
server: every event is matched locally against the monitor's query, and only matches are kept.

A run replays from its saved cursor (or from the monitor's start, at most the replay window ago)
and stops when it has caught up with the moment it started, or after `max_seconds` or
`max_events`, whichever comes first; the cursor saved is the time of the last event read. Posts are
stored as platform "bluesky" with their at:// URI, so a post also found by the `bluesky` search
source is one post. An edit updates the stored post. A delete's event has no text left to match,
so only the delete of a post this run matched is kept: it is logged, a post created and deleted
within one page is never stored, and one stored by an earlier page is deleted from the store. The
deletes of posts stored by earlier runs are not followed: keeping every delete on the network would
cost more than the posts themselves.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from collect.errors import ParseError, SourceUnavailable
from collect.sources.base import FetchContext, Option, Page, display_url, endpoint
from collect.sources.bluesky_posts import PLATFORM, POST_COLLECTION, MalformedRecord, post_from_record, post_uri
from monitor.query import parse_query
from store.post import Post

if TYPE_CHECKING:
    from monitor.query import Query

logger = logging.getLogger(__name__)

NAME = "jetstream"

SUBSCRIBE_URL = "wss://jetstream2.us-east.bsky.network/subscribe"

# How far back an instance replays; a cursor older than this leaves a gap that is logged.
REPLAY_WINDOW = timedelta(hours=36)

OPTIONS = {
    "max_seconds": Option(float, 60.0, "longest a run listens", minimum=1, maximum=86_400),
    "max_events": Option(int, 1_000_000, "most events a run reads", minimum=1, maximum=1_000_000_000),
    "batch_size": Option(int, 100, "matching posts per stored page", minimum=1, maximum=10_000),
}
ENV: dict[str, str] = {}  # the public instances need no account
REQUIRED_ENV: tuple[str, ...] = ()
CURSOR_OPTIONS: tuple[str, ...] = ()

_MICROSECONDS = 1_000_000


def translate(query: Query) -> list[str]:
    """The query itself: Jetstream cannot search, so every event is matched locally against it."""
    return [query.source]


# --- fetch -------------------------------------------------------------------------------------


def fetch(ctx: FetchContext) -> Iterator[Page]:
    """Pages of the matching post events (JSON lines), each with the cursor of the last event read."""
    query = parse_query(ctx.search)
    stop_at = _micros(ctx.until)
    cursor = _start_cursor(ctx)
    if cursor >= stop_at:
        return
    url = f"{endpoint(SUBSCRIBE_URL, ctx.options.get('base_url'))}?wantedCollections={POST_COLLECTION}&cursor={cursor}"
    max_seconds = float(ctx.options.get("max_seconds", OPTIONS["max_seconds"].default))
    max_events = int(ctx.options.get("max_events", OPTIONS["max_events"].default))
    batch_size = int(ctx.options.get("batch_size", OPTIONS["batch_size"].default))
    try:  # imported here so that the other sources run where `websockets` is not installed
        from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
        from websockets.sync.client import connect
    except ImportError:
        raise SourceUnavailable("Jetstream needs the websockets package (pip install websockets)") from None
    deadline = time.monotonic() + max_seconds
    try:
        socket = connect(url, open_timeout=20, close_timeout=5, max_size=2**22)
    except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
        raise SourceUnavailable(f"{display_url(url)} could not be reached ({type(exc).__name__}: {exc})") from exc
    batch: list[bytes] = []
    matched: set[str] = set()
    read = 0
    last = cursor
    with socket:
        while read < max_events:
            try:
                message = socket.recv(timeout=max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                logger.info("jetstream: listened %.0f s; stopping here", max_seconds)
                break
            except ConnectionClosed as exc:
                logger.warning("jetstream: the stream closed (%s); what was read is kept", exc)
                break
            read += 1
            data = message.encode("utf-8") if isinstance(message, str) else message
            event = _event(data)
            if event is None:
                continue
            moment = event["time_us"]
            last = max(last, moment)
            if _keep(event, query, matched):
                batch.append(data)
            if len(batch) >= batch_size:
                yield Page(b"\n".join(batch), display_url(url), {"cursor": last})
                batch = []
            if moment >= stop_at:
                break
    logger.info("jetstream: read %d events up to %s, %d matching posts", read, _utc(last), len(matched))
    yield Page(b"\n".join(batch), display_url(url), {"cursor": last})


def _start_cursor(ctx: FetchContext) -> int:
    """The saved cursor, or the monitor's start but no further back than the replay window."""
    window_start = _micros(ctx.until - REPLAY_WINDOW)
    saved = (ctx.state or {}).get("cursor")
    if isinstance(saved, int) and not isinstance(saved, bool) and saved > 0:
        if saved < window_start:
            logger.warning(
                "jetstream: the last run read up to %s, beyond the ~36 h replay window; posts in between are missed",
                _utc(saved),
            )
        return saved
    return max(_micros(ctx.since), window_start)


def _event(data: bytes) -> dict[str, Any] | None:
    try:
        event = json.loads(data)
    except ValueError:
        logger.warning("jetstream: skipping a message that is not JSON")
        return None
    if not isinstance(event, dict) or not isinstance(event.get("time_us"), int):
        logger.warning("jetstream: skipping a message without time_us")
        return None
    return event


def _keep(event: dict[str, Any], query: Query, matched: set[str]) -> bool:
    """Whether an event belongs in a page: a post matching the query, or the delete of one matched."""
    commit = event.get("commit")
    did = event.get("did")
    if event.get("kind") != "commit" or not isinstance(commit, dict) or not isinstance(did, str):
        return False
    if commit.get("collection") != POST_COLLECTION or not isinstance(commit.get("rkey"), str):
        return False
    uri = post_uri(did, commit["rkey"])
    if commit.get("operation") == "delete":
        if uri in matched:
            logger.info("jetstream: %s was deleted by its author", uri)
            return True
        return False
    record = commit.get("record")
    text = record.get("text") if isinstance(record, dict) else None
    if isinstance(text, str) and query.matches(text):
        matched.add(uri)
        return True
    return False


def _micros(moment: datetime) -> int:
    return int(moment.timestamp() * _MICROSECONDS)


def _utc(micros: int) -> str:
    return f"{datetime.fromtimestamp(micros / _MICROSECONDS, tz=UTC):%Y-%m-%d %H:%M:%S} UTC"


# --- parse -------------------------------------------------------------------------------------


def parse(body: bytes | str) -> list[Post]:
    """The posts of a page of Jetstream events (JSON lines): the last version of each post, none of a deleted one.

    An empty page (a run that matched nothing) has no posts; a line that is not an event is skipped
    with its reason, and a page with no readable line at all is not a Jetstream page.
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    lines = [line for line in text.splitlines() if line.strip()]
    posts: dict[str, Post] = {}
    readable = 0
    for number, line in enumerate(lines, 1):
        try:
            event = json.loads(line)
        except ValueError:
            logger.warning("jetstream: skipping line %d: not JSON", number)
            continue
        if not isinstance(event, dict) or "time_us" not in event:
            logger.warning("jetstream: skipping line %d: not a Jetstream event", number)
            continue
        readable += 1
        deleted = _deleted_uri(event)
        if deleted is not None:
            # Created and deleted within this page: never stored. Otherwise the store deletes its copy.
            if posts.pop(deleted, None) is None:
                posts[deleted] = _deletion(deleted, event)
            continue
        try:
            post = _post(event)
        except MalformedRecord as exc:
            logger.warning("jetstream: skipping line %d: %s", number, exc)
            continue
        if post is not None:
            posts[post.native_id] = post  # a later update of the same post wins
    if lines and not readable:
        raise ParseError("no line is a Jetstream event")
    return list(posts.values())


def _deletion(uri: str, event: dict[str, Any]) -> Post:
    """The record of a delete: no text, the event's time, `deleted` set so the store drops the post."""
    when = event["time_us"]
    moment = datetime.fromtimestamp(when / _MICROSECONDS, tz=UTC) if isinstance(when, int) else datetime.now(UTC)
    return Post(platform=PLATFORM, native_id=uri, text="", created_at=moment, deleted=True)


def _deleted_uri(event: dict[str, Any]) -> str | None:
    """The at:// URI of the post a delete event removes, or None for any other event."""
    commit = event.get("commit")
    did = event.get("did")
    if event.get("kind") != "commit" or not isinstance(commit, dict) or commit.get("operation") != "delete":
        return None
    if (
        commit.get("collection") != POST_COLLECTION
        or not isinstance(did, str)
        or not isinstance(commit.get("rkey"), str)
    ):
        return None
    return post_uri(did, commit["rkey"])


def _post(event: dict[str, Any]) -> Post | None:
    commit = event.get("commit")
    did = event.get("did")
    if event.get("kind") != "commit" or not isinstance(commit, dict) or commit.get("collection") != POST_COLLECTION:
        return None
    if not isinstance(did, str) or not did.startswith("did:") or not isinstance(commit.get("rkey"), str):
        raise MalformedRecord("a post commit without a DID or record key")
    if commit.get("operation") not in ("create", "update"):
        return None
    uri = post_uri(did, commit["rkey"])
    raw = {"time_us": event["time_us"], "commit": commit}
    return post_from_record(uri, did, commit.get("record"), raw=raw)
