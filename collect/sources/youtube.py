"""YouTube videos and their comments, through the YouTube Data API v3 (an API key from the environment).

A run searches for videos published since the last search (`search.list`, `order=date`), reads their
full snippets and statistics (`videos.list`, 50 ids a call), then the newest comment threads of the
videos it tracks (`commentThreads.list`, `order=time`, replies included), each back to the newest
comment seen last time.

The API is metered (10,000 units a day by default; a search costs 100, the other calls 1). When the
quota is spent the API answers 403 `quotaExceeded`: the source stops cleanly and its state records a
pause until the quota resets, at midnight Pacific time, so later runs do not spend requests on it.

The key travels as the `key` query parameter, so page URLs are kept without it and failures name
only host and path; the key never reaches a log line or the store.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx

from collect.errors import ParseError, SourceHTTPError
from collect.sources.base import FetchContext, Option, Page, endpoint
from store.post import Post

if TYPE_CHECKING:
    from monitor.query import Query

logger = logging.getLogger(__name__)

NAME = "youtube"

SEARCH_URL = "https://www.googleapis.com/youtube/v3/search"
VIDEOS_URL = "https://www.googleapis.com/youtube/v3/videos"
COMMENT_THREADS_URL = "https://www.googleapis.com/youtube/v3/commentThreads"
WATCH_URL = "https://www.youtube.com/watch?v={}"

KEY_ENV = "MURMUR_YOUTUBE_API_KEY"
ENV = {KEY_ENV: "a YouTube Data API v3 key (Google Cloud console → APIs & Services → Credentials)"}
REQUIRED_ENV = (KEY_ENV,)

OPTIONS = {
    "relevance_language": Option(str, "", "ISO 639-1 code YouTube should prefer results in ('' for any)"),
    "comments": Option(bool, True, "also read the comment threads of the videos found"),
    "max_search_pages": Option(
        int, 10, "most search pages (50 videos, 100 quota units each) per run", minimum=1, maximum=100
    ),
    "max_comment_pages": Option(
        int, 5, "most comment pages (100 threads each) per video per run", minimum=1, maximum=100
    ),
    "track_videos": Option(
        int, 100, "how many of the newest videos found keep having their comments read", minimum=0, maximum=5000
    ),
}
CURSOR_OPTIONS = ("relevance_language",)

# Videos and comments reach the search index and the thread listing a little late.
OVERLAP = timedelta(hours=1)

QUOTA_TIMEZONE = ZoneInfo("America/Los_Angeles")

# Identifiers YouTube uses: 11-character video ids, comment ids, and reply ids "<thread>.<reply>".
_ID = re.compile(r"[A-Za-z0-9_\-.]+")

# Snippet fields naming the author (or the uploader) of an item: never kept in `raw`.
_IDENTIFYING_KEYS = frozenset(
    {"authorDisplayName", "authorProfileImageUrl", "authorChannelUrl", "authorChannelId", "channelId", "channelTitle"}
)

# commentThreads errors that concern one video: its comments are off (or private: "forbidden"), or it is gone.
_VIDEO_REASONS = frozenset({"commentsDisabled", "forbidden", "videoNotFound"})

# Error reasons meaning the key itself is wrong or not allowed to call the API.
_KEY_REASONS = frozenset(
    {
        "keyInvalid",
        "keyExpired",
        "API_KEY_INVALID",
        "API_KEY_EXPIRED",
        "accessNotConfigured",
        "SERVICE_DISABLED",
        "ipRefererBlocked",
        "API_KEY_SERVICE_BLOCKED",
        "API_KEY_HTTP_REFERRER_BLOCKED",
    }
)


# --- translate ---------------------------------------------------------------------------------


def translate(query: Query) -> list[str]:
    """One search per clause of the query: its included terms, phrases quoted.

    Exclusions are left to the local re-check; each search is at least as broad as its clause.
    """
    searches: list[str] = []
    for clause in query.clauses():
        words = [
            '"' + t.text.replace('"', " ").strip() + '"' if t.phrase or t.text.startswith("-") else t.text
            for t in clause.include
        ]
        search = " ".join(words)
        if search not in searches:
            searches.append(search)
    return searches


# --- fetch -------------------------------------------------------------------------------------


def fetch(ctx: FetchContext) -> Iterator[Page]:
    """Pages of new videos, then of new comments on the tracked videos.

    The state is `{"searched_until": ISO, "videos": {id: {"published": ISO, "comments": ISO | None |
    "disabled"}}, "paused_until": ISO}`. It moves with each completed part of the walk (the search,
    then each video's comments); after an unreadable page no later page carries state.
    """
    key = ctx.env.get(KEY_ENV)
    if not key:
        raise SourceHTTPError(f"youtube: {KEY_ENV} is not set", 401)
    state = _State.load(ctx.state)
    now = _now()
    if state.paused_until is not None and now < state.paused_until:
        logger.warning(
            "youtube: the daily quota was spent; paused until %s", f"{state.paused_until:%Y-%m-%d %H:%M} UTC"
        )
        return
    walk = _Walk(ctx, key, state)
    try:
        yield from walk.search()
        if ctx.options["comments"]:
            for video_id in state.tracked(ctx.options["track_videos"]):
                yield from walk.comments(video_id)
    except _QuotaExceeded as spent:
        state.paused_until = next_quota_reset(now)
        logger.warning(
            "youtube: the daily quota is spent; this source pauses until %s", f"{state.paused_until:%Y-%m-%d %H:%M} UTC"
        )
        yield Page(spent.body, spent.url, state=walk.snapshot())


class _QuotaExceeded(Exception):
    """The API answered quotaExceeded: nothing more can be asked today."""

    def __init__(self, body: bytes, url: str) -> None:
        super().__init__("quotaExceeded")
        self.body = body
        self.url = url


class _State:
    """The cursor: how far the search has been read, the tracked videos, the quota pause."""

    def __init__(self) -> None:
        self.searched_until: datetime | None = None
        self.paused_until: datetime | None = None
        self.videos: dict[str, dict[str, str | None]] = {}

    @classmethod
    def load(cls, saved: dict[str, Any] | None) -> _State:
        state = cls()
        if not isinstance(saved, dict):
            return state
        state.searched_until = _time_or_none(saved.get("searched_until"))
        state.paused_until = _time_or_none(saved.get("paused_until"))
        videos = saved.get("videos")
        if isinstance(videos, dict):
            for video_id, entry in videos.items():
                if isinstance(entry, dict) and _time_or_none(entry.get("published")) is not None:
                    comments = entry.get("comments")
                    state.videos[str(video_id)] = {
                        "published": entry["published"],
                        "comments": comments if isinstance(comments, str) else None,
                    }
        return state

    def tracked(self, limit: int) -> list[str]:
        """The newest `limit` videos whose comments can be read, newest first."""
        ordered = sorted(self.videos, key=lambda v: str(self.videos[v]["published"]), reverse=True)
        return [v for v in ordered[:limit] if self.videos[v]["comments"] != "disabled"]

    def forget_all_but(self, limit: int) -> None:
        ordered = sorted(self.videos, key=lambda v: str(self.videos[v]["published"]), reverse=True)
        for video_id in ordered[limit:]:
            del self.videos[video_id]

    def dump(self) -> dict[str, Any]:
        saved: dict[str, Any] = {"videos": {v: dict(entry) for v, entry in sorted(self.videos.items())}}
        if self.searched_until is not None:
            saved["searched_until"] = self.searched_until.isoformat()
        if self.paused_until is not None:
            saved["paused_until"] = self.paused_until.isoformat()
        return saved


class _Walk:
    """One fetch's requests, and whether the state may still move."""

    def __init__(self, ctx: FetchContext, key: str, state: _State) -> None:
        self.ctx = ctx
        self.key = key
        self.state = state
        self.intact = True

    def snapshot(self) -> dict[str, Any] | None:
        return self.state.dump() if self.intact else None

    def search(self) -> Iterator[Page]:
        """The videos published since the last search, as `videos.list` pages (snippet + statistics)."""
        after = self.ctx.since
        if self.state.searched_until is not None:
            after = max(after, self.state.searched_until - OVERLAP)
        params = {
            "part": "snippet",
            "type": "video",
            "q": self.ctx.search,
            "order": "date",
            "maxResults": "50",
            "publishedAfter": _rfc3339(after),
            "publishedBefore": _rfc3339(self.ctx.until),
        }
        if self.ctx.options["relevance_language"]:
            params["relevanceLanguage"] = self.ctx.options["relevance_language"]
        token: str | None = None
        for number in range(self.ctx.options["max_search_pages"]):
            body, url = self._get(SEARCH_URL, {**params, **({"pageToken": token} if token else {})})
            try:
                listing = _envelope(body, "youtube#searchListResponse")
            except ParseError as exc:
                yield self._unreadable(body, url, exc)
                return
            ids = [item["id"]["videoId"] for item in listing["items"] if _search_video_id(item) is not None]
            token = listing.get("nextPageToken") if isinstance(listing.get("nextPageToken"), str) else None
            last = token is None or number + 1 == self.ctx.options["max_search_pages"]
            if token is not None and last:
                logger.warning("youtube: %d search pages read and more remain; raise max_search_pages", number + 1)
            page = self._videos(ids, body, url)
            if not self.intact:
                yield page
                return
            for post in _posts_or_empty(page.body):
                if post.native_id == post.thread_id:  # a video, not a comment
                    entry = self.state.videos.setdefault(post.native_id, {"published": None, "comments": None})
                    entry["published"] = post.created_at.isoformat()
            if last:
                self.state.searched_until = self.ctx.until
                self.state.forget_all_but(self.ctx.options["track_videos"])
                yield Page(page.body, page.url, state=self.snapshot())
                return
            yield page

    def _videos(self, ids: list[str], search_body: bytes, search_url: str) -> Page:
        """The `videos.list` page for a search page's ids (the search page itself when it has none)."""
        if not ids:
            return Page(search_body, search_url)
        body, url = self._get(VIDEOS_URL, {"part": "snippet,statistics", "id": ",".join(ids), "maxResults": "50"})
        try:
            _envelope(body, "youtube#videoListResponse")
        except ParseError as exc:
            return self._unreadable(body, url, exc)
        return Page(body, url)

    def comments(self, video_id: str) -> Iterator[Page]:
        """A video's comment threads, newest first, back to the newest comment seen last time."""
        entry = self.state.videos[video_id]
        seen = _time_or_none(entry["comments"])
        floor = max(self.ctx.since, seen - OVERLAP) if seen else self.ctx.since
        params = {
            "part": "snippet,replies",
            "videoId": video_id,
            "order": "time",
            "textFormat": "plainText",
            "maxResults": "100",
        }
        token: str | None = None
        newest = seen
        for number in range(self.ctx.options["max_comment_pages"]):
            try:
                body, url = self._get(COMMENT_THREADS_URL, {**params, **({"pageToken": token} if token else {})})
            except _ItemGone as gone:
                self._gone(video_id, gone)
                yield Page(gone.body, gone.url, state=self.snapshot())
                return
            try:
                listing = _envelope(body, "youtube#commentThreadListResponse")
            except ParseError as exc:
                yield self._unreadable(body, url, exc)
                return
            times = [t for t in (_thread_time(item) for item in listing["items"]) if t is not None]
            if times:
                newest = max(times) if newest is None else max(newest, *times)
            token = listing.get("nextPageToken") if isinstance(listing.get("nextPageToken"), str) else None
            done = token is None or not times or min(times) < floor
            if not done and number + 1 == self.ctx.options["max_comment_pages"]:
                logger.warning("youtube: video %s: %d comment pages read and older ones remain", video_id, number + 1)
                done = True
            if done:
                entry["comments"] = newest.isoformat() if newest else None
                yield Page(body, url, state=self.snapshot())
                return
            yield Page(body, url)

    def _gone(self, video_id: str, gone: _ItemGone) -> None:
        if gone.reason != "videoNotFound":
            logger.info("youtube: the comments of video %s cannot be read (%s)", video_id, gone.reason)
            self.state.videos[video_id]["comments"] = "disabled"
        else:
            logger.info("youtube: video %s is gone (%s); no longer tracked", video_id, gone.reason)
            del self.state.videos[video_id]

    def _unreadable(self, body: bytes, url: str, exc: ParseError) -> Page:
        logger.warning("youtube: %s: %s; the cursor stays where it was", url, exc)
        self.intact = False
        return Page(body, url)

    def _get(self, url: str, params: dict[str, str]) -> tuple[bytes, str]:
        """One API call; the URL returned is without the key. Errors become exceptions (see _fail)."""
        response = self.ctx.client.get(
            endpoint(url, self.ctx.options.get("base_url")), params={**params, "key": self.key}
        )
        shown = str(response.url.copy_remove_param("key"))
        if response.is_error:
            _fail(response, shown)
        return response.content, shown


class _ItemGone(Exception):
    """The video's comments cannot be read (disabled, or the video is gone): costs only that video."""

    def __init__(self, reason: str, body: bytes, url: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.body = body
        self.url = url


def _fail(response: httpx.Response, shown: str) -> None:
    """Raise what a Google error answer means: quota, a lost video, a bad key, or another error."""
    code, message, reasons = google_error(response.content)
    where = f"{response.url.host}{response.url.path}"
    if "quotaExceeded" in reasons or "dailyLimitExceeded" in reasons:
        raise _QuotaExceeded(response.content, shown)
    lost = reasons & _VIDEO_REASONS
    if response.url.path.endswith("/commentThreads") and lost:
        raise _ItemGone(sorted(lost)[0], response.content, shown)
    if reasons & _KEY_REASONS:
        raise SourceHTTPError(
            f"YouTube rejected the key in {KEY_ENV} ({', '.join(sorted(reasons & _KEY_REASONS))}): {message}",
            response.status_code,
        )
    detail = f" ({', '.join(sorted(reasons))})" if reasons else ""
    raise SourceHTTPError(
        f"{where} answered {response.status_code}{detail}: {message or response.reason_phrase}",
        code or response.status_code,
    )


def google_error(body: bytes | str) -> tuple[int | None, str, set[str]]:
    """The code, message and reasons of a Google JSON error body (old `errors[]` and new `details[]`)."""
    try:
        data = json.loads(body)
    except ValueError:
        text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
        return None, " ".join(text[:200].split()), set()
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return None, "", set()
    reasons: set[str] = set()
    for item in [*(error.get("errors") or []), *(error.get("details") or [])]:
        if isinstance(item, dict) and isinstance(item.get("reason"), str):
            reasons.add(item["reason"])
    code = error.get("code") if isinstance(error.get("code"), int) else None
    message = error.get("message")
    return code, re.sub(r"<[^>]+>", "", message) if isinstance(message, str) else "", reasons


def next_quota_reset(now: datetime) -> datetime:
    """The next midnight in Pacific time after `now`, in UTC: when YouTube's daily quota resets."""
    local = now.astimezone(QUOTA_TIMEZONE)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=QUOTA_TIMEZONE)
    return midnight.astimezone(UTC)


def _now() -> datetime:
    return datetime.now(UTC)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _thread_time(item: Any) -> datetime | None:
    try:
        return _time_or_none(item["snippet"]["topLevelComment"]["snippet"]["publishedAt"])
    except (KeyError, TypeError):
        return None


def _posts_or_empty(body: bytes) -> list[Post]:
    try:
        return parse(body)
    except ParseError:
        return []


# --- parse -------------------------------------------------------------------------------------


def parse(body: bytes | str) -> list[Post]:
    """The videos or comments in one search, videos or commentThreads response.

    A Google error body (the quota or a disabled comment section, kept so the state can move past
    it) holds no posts. Malformed items are skipped with a warning.
    """
    data = _envelope(body, None)
    if "error" in data:
        return []
    kind = data["kind"]
    posts: list[Post] = []
    for index, item in enumerate(data["items"]):
        try:
            if kind == "youtube#commentThreadListResponse":
                posts.extend(_thread(item))
            else:
                post = _video(item, from_search=kind == "youtube#searchListResponse")
                if post is not None:
                    posts.append(post)
        except _MalformedItem as exc:
            logger.warning("youtube: skipping item %d: %s", index, exc)
    return posts


_KINDS = ("youtube#searchListResponse", "youtube#videoListResponse", "youtube#commentThreadListResponse")


class _MalformedItem(ValueError):
    """One item cannot become a post; it costs that item, not the page."""


def _envelope(body: bytes | str, kind: str | None) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ParseError(f"not a complete JSON document ({exc})") from exc
    if not isinstance(data, dict):
        raise ParseError(f"expected a JSON object, got {type(data).__name__}")
    if kind is None and isinstance(data.get("error"), dict):
        return data
    expected = (kind,) if kind else _KINDS
    if data.get("kind") not in expected:
        raise ParseError(f"kind {data.get('kind')!r} is not one of {', '.join(expected)}")
    if not isinstance(data.get("items"), list):
        raise ParseError("no 'items' list")
    return data


def _search_video_id(item: Any) -> str | None:
    if not isinstance(item, dict) or not isinstance(item.get("id"), dict):
        return None
    if item["id"].get("kind") != "youtube#video":
        return None
    video_id = item["id"].get("videoId")
    return video_id if isinstance(video_id, str) and _ID.fullmatch(video_id) else None


def _video(item: Any, *, from_search: bool) -> Post | None:
    """A video from `videos.list` (full snippet, statistics) or `search.list` (short, HTML-escaped)."""
    if not isinstance(item, dict):
        raise _MalformedItem(f"expected an object, got {type(item).__name__}")
    if from_search:
        video_id = _search_video_id(item)
        if video_id is None:
            if isinstance(item.get("id"), dict) and item["id"].get("kind") not in (None, "youtube#video"):
                return None  # a channel or playlist result
            raise _MalformedItem(f"id {item.get('id')!r} is not a video id")
    else:
        video_id = _id(item.get("id"))
    snippet = item.get("snippet")
    if not isinstance(snippet, dict):
        raise _MalformedItem(f"video {video_id}: no snippet")
    created_at = _time_or_none(snippet.get("publishedAt"))
    if created_at is None:
        raise _MalformedItem(f"video {video_id}: publishedAt {snippet.get('publishedAt')!r} is not a time")
    unescape = html.unescape if from_search else (lambda text: text)
    title = unescape(_text(snippet.get("title"))).strip() or None
    text = unescape(_text(snippet.get("description"))).strip()
    statistics = item.get("statistics")
    if not isinstance(statistics, dict):
        statistics = {}
    language = snippet.get("defaultAudioLanguage") or snippet.get("defaultLanguage")
    channel = snippet.get("channelId")
    return Post(
        platform=NAME,
        native_id=video_id,
        text=text,
        created_at=created_at,
        url=WATCH_URL.format(video_id),
        author=channel if isinstance(channel, str) and channel else None,
        title=title,
        language=_language(language),
        thread_id=video_id,
        likes=_count(statistics.get("likeCount")),
        replies=_count(statistics.get("commentCount")),
        raw=_raw(item),
    )


def _thread(item: Any) -> list[Post]:
    """The top-level comment of a thread and the replies included with it."""
    if not isinstance(item, dict) or not isinstance(item.get("snippet"), dict):
        raise _MalformedItem("a comment thread without a snippet")
    snippet = item["snippet"]
    video_id = _id(snippet.get("videoId"))
    top = _comment(
        snippet.get("topLevelComment"), video_id, reply_to=video_id, replies=_count(snippet.get("totalReplyCount"))
    )
    posts = [top] if top is not None else []
    replies = item.get("replies")
    for reply in (replies.get("comments") if isinstance(replies, dict) else None) or []:
        try:
            parent = reply["snippet"]["parentId"] if isinstance(reply, dict) else None
            post = _comment(reply, video_id, reply_to=_id(parent), replies=None)
        except (_MalformedItem, KeyError, TypeError) as exc:
            logger.warning("youtube: skipping a reply in thread %s: %s", item.get("id"), exc)
            continue
        if post is not None:
            posts.append(post)
    return posts


def _comment(comment: Any, video_id: str, *, reply_to: str, replies: int | None) -> Post | None:
    if not isinstance(comment, dict) or not isinstance(comment.get("snippet"), dict):
        raise _MalformedItem("a comment without a snippet")
    comment_id = _id(comment.get("id"))
    snippet = comment["snippet"]
    created_at = _time_or_none(snippet.get("publishedAt"))
    if created_at is None:
        raise _MalformedItem(f"comment {comment_id}: publishedAt {snippet.get('publishedAt')!r} is not a time")
    text = (_text(snippet.get("textDisplay")) or _text(snippet.get("textOriginal"))).strip()
    if not text:
        return None  # a deleted or held comment shows no text
    channel = snippet.get("authorChannelId")
    author = channel.get("value") if isinstance(channel, dict) else None
    return Post(
        platform=NAME,
        native_id=comment_id,
        text=text,
        created_at=created_at,
        url=f"{WATCH_URL.format(video_id)}&lc={comment_id}",
        author=author if isinstance(author, str) and author else None,
        reply_to=reply_to,
        thread_id=video_id,
        likes=_count(snippet.get("likeCount")),
        replies=replies,
        raw=_raw(comment),
    )


def _id(value: Any) -> str:
    if isinstance(value, str) and _ID.fullmatch(value.strip()):
        return value.strip()
    raise _MalformedItem(f"id {value!r} is not a YouTube id")


def _time_or_none(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _language(value: Any) -> str | None:
    """ISO 639-1 from YouTube's BCP-47 tags ("en-US" → "en"); "zxx" (no speech) is no language."""
    if not isinstance(value, str) or not value.strip():
        return None
    primary = value.strip().split("-")[0].lower()
    return None if primary in ("zxx", "und") else primary


def _raw(item: dict[str, Any]) -> dict[str, Any]:
    """The item without the fields naming its author."""
    raw = {key: value for key, value in item.items() if key != "snippet"}
    snippet = item.get("snippet")
    if isinstance(snippet, dict):
        raw["snippet"] = {k: v for k, v in snippet.items() if k not in _IDENTIFYING_KEYS}
    return raw


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _count(value: Any) -> int | None:
    """YouTube writes statistics as strings of digits ("1024") and some counts as numbers."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
