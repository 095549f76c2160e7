"""Mastodon hashtag timelines on several instances (https://docs.joinmastodon.org/methods/timelines/#tag).

`GET /api/v1/timelines/tag/:hashtag` returns public statuses, at most 40 a page, with `any[]`
adding up to four more hashtags. Murmur reads forward in time: `min_id` returns the statuses just
newer than an id, and the `Link` header's "prev" names the next page. Mastodon ids are snowflakes
(milliseconds since the epoch << 16), so a first run starts at the id of the monitor's start. The
cursor moves after every page, so a backfill too big for one run (`max_pages`) goes on in the next,
and nothing between the start and the newest status read is skipped. (Walking back from the newest
status with `max_id` would reach a start months ago only if one run could read everything since.)
Each (instance, hashtag group) has its own cursor inside the source's state, so one failing
instance never holds the others back.

Since Mastodon 4.5 an instance may require a token for its hashtag feeds (401) or disable them (an
empty list). Both are reported per instance, never as "no posts": an empty first page is checked
against the instance's `configuration.timelines_access.hashtag_feeds`. The same status seen through
two instances has two local ids but one ActivityPub `uri`, which is its native id here.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from collect.errors import ParseError, SourceHTTPError, SourceUnavailable
from collect.html_text import html_to_text
from collect.sources.base import FetchContext, Option, Page, display_url, endpoint
from store.post import Post

if TYPE_CHECKING:
    from monitor.query import Query

logger = logging.getLogger(__name__)

NAME = "mastodon"

TAG_PATH = "/api/v1/timelines/tag/{}"
INSTANCE_PATH = "/api/v2/instance"

# The main hashtag plus at most this many `any[]` ones per request (Mastodon's LIMIT_PER_MODE).
MAX_ANY_TAGS = 4

OPTIONS = {
    "instances": Option(list, ["mastodon.social"], "instances whose hashtag timelines are read (host names)"),
    "tags": Option(list, [], "hashtags to follow, without '#'; empty = one per word of the query"),
    "limit": Option(int, 40, "statuses asked for per request", minimum=1, maximum=40),
    "max_pages": Option(int, 50, "most pages read per instance, hashtag group and run", minimum=1, maximum=10_000),
}

ENV = {
    "MURMUR_MASTODON_TOKENS": "optional access tokens per instance, e.g. 'mastodon.social=TOKEN,fosstodon.org=TOKEN' "
    "(needed where an instance's hashtag feeds require a login, Mastodon 4.5+)",
}
REQUIRED_ENV: tuple[str, ...] = ()
CURSOR_OPTIONS = ("instances", "tags")

# What makes a word a hashtag on Mastodon: letters, digits, marks and underscores.
_NOT_TAG = re.compile(r"[^\w\u00b7\u200c]+")

# Account fields that identify the author; the store gets only the pseudonymised `author`.
_IDENTIFYING_KEYS = frozenset({"account", "mentions"})


# --- translate ---------------------------------------------------------------------------------


def translate(query: Query) -> list[str]:
    """One search: every included word of the query as a hashtag ("PR-Puppets" → "#PRPuppets").

    Hashtag timelines are broad (a post tagged #leak need not be about Sora); the runner keeps
    only posts that match the whole query. Set `tags` to follow a narrower, chosen set.
    """
    tags: list[str] = []
    for clause in query.clauses():
        for term in clause.include:
            tag = hashtag(term.text)
            if tag and tag.lower() not in (t.lower() for t in tags):
                tags.append(tag)
    return [" ".join(f"#{tag}" for tag in tags)] if tags else []


def hashtag(text: str) -> str:
    """A word or phrase as Mastodon would tag it: no '#', spaces or punctuation."""
    return _NOT_TAG.sub("", text.lstrip("#"))


# --- fetch -------------------------------------------------------------------------------------


def fetch(ctx: FetchContext) -> Iterator[Page]:
    """Pages of every configured instance's hashtag timelines, with the state after each page.

    Instances that refuse (401), disable the feed, or cannot be reached are reported together once
    the others have been read: `SourceUnavailable` if none could be reached, else `SourceHTTPError`.
    """
    tags = [hashtag(tag) for tag in _option(ctx, "tags")] or [hashtag(word) for word in ctx.search.split()]
    tags = [tag for tag in dict.fromkeys(tags) if tag]
    if not tags:
        return
    groups = [tags[i : i + 1 + MAX_ANY_TAGS] for i in range(0, len(tags), 1 + MAX_ANY_TAGS)]
    tokens = _tokens(ctx.env.get("MURMUR_MASTODON_TOKENS", ""))
    state: dict[str, Any] = dict(ctx.state or {})
    problems: list[str] = []
    unreachable = 0
    instances = [_host(instance) for instance in _option(ctx, "instances")]
    for instance in dict.fromkeys(instances):
        walk = _Walk(ctx, instance, tokens.get(instance), state)
        try:
            for group in groups:
                yield from walk.group(group)
        except _InstanceProblem as problem:
            problems.append(str(problem))
        except SourceUnavailable as error:  # the messages name the host already
            unreachable += 1
            problems.append(str(error))
        except SourceHTTPError as error:
            problems.append(str(error))
    if problems:
        message = "; ".join(problems)
        if unreachable == len(dict.fromkeys(instances)):
            raise SourceUnavailable(message)
        raise SourceHTTPError(message, 0)


class _InstanceProblem(Exception):
    """An instance refused or disabled its hashtag feed: reported, the other instances go on."""


class _Walk:
    """Reading one instance: its requests, and the shared state its pages move forward."""

    def __init__(self, ctx: FetchContext, instance: str, token: str | None, state: dict[str, Any]) -> None:
        self.ctx = ctx
        self.instance = instance
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.state = state
        self.limit: int = _option(ctx, "limit")
        self.max_pages: int = _option(ctx, "max_pages")

    def group(self, tags: list[str]) -> Iterator[Page]:
        """Statuses newer than the cursor (at first: than the monitor's start), oldest pages first.

        Each page is the 40 statuses just newer than `min_id`; the next `min_id` comes from the
        `Link` header's "prev" (or, without one, the page's newest id). The cursor moves with every
        page, so a long backfill goes on where the last run's `max_pages` stopped it.
        """
        key = f"{self.instance} " + " ".join(sorted(f"#{tag.lower()}" for tag in tags))
        saved = self.state.get(key)
        newest = saved.get("newest_id") if isinstance(saved, dict) else None
        if not isinstance(newest, str) or not newest:
            newest = snowflake(self.ctx.since)
        for number in range(self.max_pages):
            response = self._get(tags, {"min_id": newest})
            statuses = _statuses_or_none(response.content)
            if statuses is None:  # unreadable: handed on for the runner to report; this cursor stays
                yield Page(response.content, str(response.url))
                return
            if number == 0 and not statuses:
                self._explain_empty_feed(tags)
            newer = _link_param(response, "prev", "min_id") if statuses else None
            asked, newest = newest, max((i for i in (newer, _max_id(statuses), newest) if i), key=_id_order)
            yield Page(response.content, str(response.url), self._advance(key, newest))
            if not statuses:
                return
            if newest == asked:  # nothing newer than what was asked for: asking again would loop
                logger.warning("mastodon: %s answered statuses older than min_id=%s; stopping", self.instance, asked)
                return
        logger.info("mastodon: %s: read %d pages; the next run goes on from here", self.instance, self.max_pages)

    def _advance(self, key: str, newest: str) -> dict[str, Any]:
        self.state[key] = {"newest_id": newest}
        return dict(self.state)

    def _get(self, tags: list[str], params: dict[str, str]) -> httpx.Response:
        url = self._url(TAG_PATH.format(tags[0]))
        query: list[tuple[str, str | int | float | bool | None]] = [("limit", self.limit), *params.items()]
        query += [("any[]", tag) for tag in tags[1:]]
        response = self.ctx.client.get(url, params=query, headers=self.headers)
        if response.status_code == 401:
            detail = _error_text(response.content)
            if self.headers:
                raise _InstanceProblem(
                    f"{self.instance}: the token in MURMUR_MASTODON_TOKENS was refused (401: {detail})"
                )
            raise _InstanceProblem(
                f"{self.instance}: hashtag timelines need a login here (401: {detail}); "
                "add a token for it to MURMUR_MASTODON_TOKENS"
            )
        if response.is_error:
            raise SourceHTTPError(
                f"answered {response.status_code} for {display_url(str(response.url))}: "
                f"{_error_text(response.content)}",
                response.status_code,
            )
        return response

    def _explain_empty_feed(self, tags: list[str]) -> None:
        """An empty first page may mean a disabled feed (Mastodon 4.5+): ask the instance which."""
        response = self.ctx.client.get(self._url(INSTANCE_PATH), headers=self.headers)
        if response.is_error:
            return  # an older or other server: the feed is just empty
        try:
            access = json.loads(response.content)["configuration"]["timelines_access"]["hashtag_feeds"]
        except (ValueError, KeyError, TypeError):
            return
        if not isinstance(access, dict):
            return
        if access.get("local") == "disabled" and access.get("remote") == "disabled":
            raise _InstanceProblem(f"{self.instance}: hashtag feeds are disabled on this instance")
        for origin in ("local", "remote"):
            if access.get(origin) == "disabled":
                logger.warning("mastodon: %s: hashtag feeds of %s posts are disabled here", self.instance, origin)
            elif access.get(origin) == "authenticated" and not self.headers:
                logger.warning(
                    "mastodon: %s: hashtag feeds of %s posts need a login here; "
                    "add a token for it to MURMUR_MASTODON_TOKENS",
                    self.instance,
                    origin,
                )
        logger.info("mastodon: %s: no posts tagged %s", self.instance, " ".join(f"#{t}" for t in tags))

    def _url(self, path: str) -> str:
        return endpoint(f"https://{self.instance}{path}", self.ctx.options.get("base_url"))


def _option(ctx: FetchContext, name: str) -> Any:
    """An option's value, or its default where the caller passed none (the planner fills them all)."""
    return ctx.options.get(name, OPTIONS[name].default)


def _host(instance: str) -> str:
    """A configured instance as a bare host name ("https://Mastodon.Social/" → "mastodon.social")."""
    text = instance.strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    return text.split("/", 1)[0].lower()


def _tokens(text: str) -> dict[str, str]:
    """MURMUR_MASTODON_TOKENS ('host=token,host=token') as a mapping; malformed entries are ignored, unlogged."""
    tokens = {}
    for entry in text.split(","):
        host, _, token = entry.partition("=")
        if host.strip() and token.strip():
            tokens[_host(host)] = token.strip()
    return tokens


def _link_param(response: httpx.Response, rel: str, name: str) -> str | None:
    """A paging parameter from the `Link` header's URL for `rel` (its host is the instance's, not ours)."""
    link = response.links.get(rel)
    if not link or "url" not in link:
        return None
    try:
        return httpx.URL(link["url"]).params.get(name)
    except httpx.InvalidURL:
        return None


def _statuses_or_none(body: bytes) -> list[Any] | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data if isinstance(data, list) else None


def snowflake(moment: datetime) -> str:
    """The smallest Mastodon status id of `moment`: ids are milliseconds since the epoch << 16."""
    return str(int(moment.timestamp() * 1000) << 16)


def _id_order(status_id: str) -> tuple[int, str]:
    """Mastodon ids are numeric strings (snowflakes); longer means newer."""
    return (len(status_id), status_id)


def _max_id(statuses: list[Any]) -> str | None:
    ids = [s["id"] for s in statuses if isinstance(s, dict) and isinstance(s.get("id"), str) and s["id"]]
    return max(ids, key=_id_order) if ids else None


def _error_text(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return " ".join(body.decode("utf-8", "replace").split())[:200]
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return data["error"][:200]
    return "no explanation given"


# --- parse -------------------------------------------------------------------------------------


def parse(body: bytes | str) -> list[Post]:
    """The posts in one hashtag timeline page; boosts unwrapped, malformed statuses skipped."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ParseError(f"not a complete JSON document ({exc})") from exc
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        raise ParseError(f"the instance answered with an error: {data['error'][:200]}")
    if not isinstance(data, list):
        raise ParseError(f"expected a JSON list of statuses, got {type(data).__name__}")
    posts: dict[str, Post] = {}
    for index, item in enumerate(data):
        try:
            post = _post(item)
        except _MalformedStatus as exc:
            logger.warning("mastodon: skipping status %d: %s", index, exc)
            continue
        if post is not None:
            posts.setdefault(post.native_id, post)
    return list(posts.values())


class _MalformedStatus(ValueError):
    """One status cannot become a post; it costs that status, not the page."""


def _post(item: Any) -> Post | None:
    """The post for one status (a boost's original), or None for a status with nothing left to read."""
    if not isinstance(item, dict):
        raise _MalformedStatus(f"expected an object, got {type(item).__name__}")
    status = item["reblog"] if isinstance(item.get("reblog"), dict) else item
    uri = status.get("uri")
    if not isinstance(uri, str) or not uri.strip():
        raise _MalformedStatus(f"status {status.get('id')!r} has no uri")
    content = status.get("content")
    text = html_to_text(content) if isinstance(content, str) else ""
    media = _media_text(status.get("media_attachments"))
    if media:
        text = f"{text}\n\n{media}" if text else media
    spoiler = status.get("spoiler_text")
    title = spoiler.strip() if isinstance(spoiler, str) and spoiler.strip() else None
    if not text and not title:
        return None  # deleted or emptied: no text, no content warning, no described media
    account = _object(status.get("account"))
    quoted_status = _object(_object(status.get("quote")).get("quoted_status"))
    language = status.get("language")
    url = status.get("url")
    return Post(
        platform=NAME,
        native_id=uri.strip(),
        text=text,
        created_at=_created_at(status),
        url=url if isinstance(url, str) and url else uri.strip(),
        author=_author(account),
        title=title,
        language=language.lower() if isinstance(language, str) and language else None,
        # in_reply_to_id is the instance's local id of the parent, not its uri: kept in raw only.
        reply_to=None,
        quote_of=quoted_status.get("uri") if isinstance(quoted_status.get("uri"), str) else None,
        thread_id=None,
        likes=_count(status.get("favourites_count")),
        reposts=_count(status.get("reblogs_count")),
        replies=_count(status.get("replies_count")),
        raw=_raw(status, boosted=status is not item),
    )


def _created_at(status: Any) -> datetime:
    value = status.get("created_at") if isinstance(status, dict) else None
    if not isinstance(value, str):
        raise _MalformedStatus(f"no created_at ({value!r})")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _MalformedStatus(f"unreadable created_at {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _author(account: Mapping[str, Any]) -> str | None:
    """The account's profile URL: the same whichever instance the status was read through."""
    for key in ("url", "uri", "acct"):
        value = account.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _media_text(attachments: Any) -> str:
    """What a reader learns from attached media: their descriptions (alt text)."""
    if not isinstance(attachments, list):
        return ""
    described = []
    for media in attachments:
        if isinstance(media, dict) and isinstance(media.get("description"), str) and media["description"].strip():
            described.append(f"[{media.get('type') or 'media'}: {media['description'].strip()}]")
    return "\n".join(described)


def _raw(status: dict[str, Any], *, boosted: bool) -> dict[str, Any]:
    """The status without its account and mentions (the store only gets the pseudonymised author)."""
    raw = {key: value for key, value in status.items() if key not in _IDENTIFYING_KEYS}
    if isinstance(raw.get("quote"), dict) and isinstance(raw["quote"].get("quoted_status"), dict):
        raw["quote"] = {**raw["quote"], "quoted_status": {"uri": raw["quote"]["quoted_status"].get("uri")}}
    if boosted:
        raw["seen_as_boost"] = True
    return raw


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
