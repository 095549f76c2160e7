"""Bluesky post records as Murmur posts: shared by the search API (bluesky) and the firehose (jetstream).

Both sources store platform "bluesky" with the post's `at://` URI as its native id, so one post seen
through `searchPosts` and through Jetstream is one post. The author is the account's DID, which
(unlike its handle) never changes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from store.post import Post

PLATFORM = "bluesky"
POST_COLLECTION = "app.bsky.feed.post"
WEB_URL = "https://bsky.app/profile/{}/post/{}"


class MalformedRecord(ValueError):
    """One post record cannot become a post; it costs that post, not the page."""


def post_from_record(
    uri: str, did: str, record: Any, *, counts: dict[str, Any] | None = None, raw: dict[str, Any]
) -> Post | None:
    """The post for one `app.bsky.feed.post` record, or None when it has no text and no described media."""
    if not isinstance(record, dict):
        raise MalformedRecord(f"{uri}: the record is {type(record).__name__}, not an object")
    rkey = rkey_of(uri)
    text = record_text(record)
    media = _media_text(record.get("embed"))
    if media:
        text = f"{text}\n\n{media}" if text else media
    if not text:
        return None
    reply = _object(record.get("reply"))
    parent = _object(reply.get("parent")).get("uri")
    root = _object(reply.get("root")).get("uri")
    langs = record.get("langs")
    language = langs[0].lower() if isinstance(langs, list) and langs and isinstance(langs[0], str) else None
    counts = counts or {}
    return Post(
        platform=PLATFORM,
        native_id=uri,
        text=text,
        created_at=created_at(record.get("createdAt"), uri),
        url=WEB_URL.format(did, rkey),
        author=did,
        title=None,
        language=language,
        reply_to=parent if isinstance(parent, str) else None,
        quote_of=quoted_uri(record.get("embed")),
        thread_id=root if isinstance(root, str) else uri,
        likes=_count(counts.get("likeCount")),
        reposts=_count(counts.get("repostCount")),
        replies=_count(counts.get("replyCount")),
        raw=raw,
    )


def post_uri(did: str, rkey: str) -> str:
    return f"at://{did}/{POST_COLLECTION}/{rkey}"


def rkey_of(uri: str) -> str:
    """The record key of an `at://did/app.bsky.feed.post/rkey` URI."""
    parts = uri.removeprefix("at://").split("/")
    if not uri.startswith("at://did:") or len(parts) != 3 or parts[1] != POST_COLLECTION or not parts[2]:
        raise MalformedRecord(f"{uri!r} is not the at:// URI of a post")
    return parts[2]


def record_text(record: dict[str, Any]) -> str:
    """The post's text with shortened links written out in full, from the record's link facets.

    Clients show long links shortened ("example.com/a/very/lo...") and put the full URL in a facet
    whose byte range covers the shortened text (facet offsets count UTF-8 bytes, not characters).
    """
    text = record.get("text")
    if not isinstance(text, str):
        return ""
    data = text.encode("utf-8")
    links = []
    for facet in record.get("facets") or []:
        index = _object(_object(facet).get("index"))
        start, end = index.get("byteStart"), index.get("byteEnd")
        features = _object(facet).get("features")
        uri = next(
            (
                f.get("uri")
                for f in features or []
                if isinstance(f, dict) and f.get("$type") == "app.bsky.richtext.facet#link"
            ),
            None,
        )
        if isinstance(uri, str) and isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(data):
            links.append((start, end, uri))
    for start, end, uri in sorted(links, reverse=True):
        shown = data[start:end].decode("utf-8", "replace")
        if shown == uri:
            continue
        stem = shown.rstrip(".…")
        full = uri if uri.startswith(stem) or uri.split("://", 1)[-1].startswith(stem) else f"{shown} ({uri})"
        data = data[:start] + full.encode("utf-8") + data[end:]
    return data.decode("utf-8", "replace").strip()


def quoted_uri(embed: Any) -> str | None:
    """The URI of the post a record quotes (app.bsky.embed.record, or recordWithMedia)."""
    embed = _object(embed)
    kind = embed.get("$type")
    if kind == "app.bsky.embed.record":
        uri = _object(embed.get("record")).get("uri")
    elif kind == "app.bsky.embed.recordWithMedia":
        uri = _object(_object(embed.get("record")).get("record")).get("uri")
    else:
        return None
    return uri if isinstance(uri, str) and "/app.bsky.feed.post/" in uri else None


def created_at(value: Any, uri: str) -> datetime:
    if not isinstance(value, str):
        raise MalformedRecord(f"{uri}: no createdAt ({value!r})")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedRecord(f"{uri}: unreadable createdAt {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _media_text(embed: Any) -> str:
    """Image alt texts and a link card's title and description: what a reader sees besides the text."""
    embed = _object(embed)
    if embed.get("$type") == "app.bsky.embed.recordWithMedia":
        embed = _object(embed.get("media"))
    parts = []
    if embed.get("$type") == "app.bsky.embed.images":
        for image in embed.get("images") or []:
            alt = _object(image).get("alt")
            if isinstance(alt, str) and alt.strip():
                parts.append(f"[image: {alt.strip()}]")
    elif embed.get("$type") == "app.bsky.embed.video":
        alt = embed.get("alt")
        if isinstance(alt, str) and alt.strip():
            parts.append(f"[video: {alt.strip()}]")
    elif embed.get("$type") == "app.bsky.embed.external":
        external = _object(embed.get("external"))
        card = " — ".join(
            value.strip()
            for value in (external.get("title"), external.get("description"))
            if isinstance(value, str) and value.strip()
        )
        if card:
            parts.append(f"[link: {card}]")
    return "\n".join(parts)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
