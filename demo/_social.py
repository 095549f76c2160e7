"""The demo corpus's Mastodon and Bluesky side: where most of the non-English conversation happens.

`generate.py` writes every post once; this module moves whole conversations (a top-level comment
and all its replies) off Hacker News onto Mastodon or Bluesky, mostly non-English ones, and writes
them in those platforms' own formats, which Murmur's real parsers read back:

- `mastodon/page-*.json`: `/api/v1/timelines/tag/:hashtag` pages (40 statuses, newest first; the
  pages oldest first, as a walk forward with `min_id` reads them), with some statuses seen again as
  boosts and some served by a second instance (same `uri`);
- `bluesky/page-*.json`: `app.bsky.feed.searchPosts` responses (100 post views);
- `jetstream/events-*.jsonl`: Jetstream commit events, as a real-time run would have stored them.

Every instance, handle and DID is invented on reserved `.example` domains (`did:web:…example`), so
no link can be taken for a real post. Standard library only; its own fixed seed.
"""

from __future__ import annotations

import hashlib
import html
import json
import random
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SEED = 20241127
MASTODON_INSTANCES = ("mastodon.example", "piaille.example", "masto.example", "social.example", "mstdn.example")
STATUSES_PER_PAGE = 40
POSTS_PER_SEARCH_PAGE = 100
EVENTS_PER_FILE = 200
LIMITS = {"bluesky": 300, "mastodon": 500}  # characters a post may have there
SOCIAL_SHARE = {"en": 0.2}  # conversations moved off HN: this share for English, NON_ENGLISH for others
NON_ENGLISH = 0.8
TAGS = {"en": "Sora", "ar": "سورا", "fr": "Sora", "de": "Sora", "es": "Sora", "pt": "Sora", "it": "Sora", "ja": "Sora"}
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def assign_platforms(posts: Iterable[Any], rng: random.Random) -> None:
    """Set `platform` on every comment: whole conversations move together, if every post fits there."""
    for post in posts:
        if post.kind != "comment" or post.parent.kind != "story":
            continue
        share = SOCIAL_SHARE.get(post.lang, NON_ENGLISH)
        if rng.random() >= share:
            continue
        subtree = _subtree(post)
        choice = "mastodon" if rng.random() < 0.55 else "bluesky"
        for platform in (choice, "bluesky" if choice == "mastodon" else "mastodon"):
            if all(len(p.text) <= LIMITS[platform] for p in subtree if not p.deleted):
                for p in subtree:
                    p.platform = platform
                break


def write(posts: list[Any], corpus: Path) -> dict[str, int]:
    """Write the Mastodon, Bluesky and Jetstream folders; returns posts written per folder."""
    rng = random.Random(SEED)
    mastodon = sorted((p for p in posts if p.platform == "mastodon" and not p.deleted), key=lambda p: p.t)
    bluesky = sorted((p for p in posts if p.platform == "bluesky" and not p.deleted), key=lambda p: p.t)
    streamed = {p.seq for p in bluesky if rng.random() < 0.3}
    counts = {
        "mastodon": _write_mastodon(mastodon, corpus / "mastodon", rng),
        "bluesky": _write_bluesky([p for p in bluesky if p.seq not in streamed], corpus / "bluesky", rng),
        "jetstream": _write_jetstream([p for p in bluesky if p.seq in streamed], corpus / "jetstream", rng),
    }
    return counts


def _subtree(post: Any) -> list[Any]:
    found, stack = [], [post]
    while stack:
        p = stack.pop()
        found.append(p)
        stack.extend(p.children)
    return found


def _clear(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if old.is_file():
            old.unlink()


def _dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _iso(t: int, millis: int = 0) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}Z"


# --- Mastodon ---------------------------------------------------------------------------------------


def _write_mastodon(posts: list[Any], folder: Path, rng: random.Random) -> int:
    _clear(folder)
    home = {p.author: MASTODON_INSTANCES[rng.randrange(len(MASTODON_INSTANCES))] for p in posts}
    ids: dict[int, str] = {}
    statuses = []
    for p in posts:
        ids[p.seq] = str(((p.t * 1000 + rng.randrange(1000)) << 16) | rng.randrange(1 << 16))
        statuses.append(_status(p, home[p.author], ids, rng))
    timeline: list[dict] = []
    for status, post in zip(statuses, posts, strict=True):
        timeline.append(status)
        if rng.random() < 0.06:  # boosted by someone else a little later: the same status, wrapped
            booster = f"booster{rng.randrange(90)}"
            timeline.append(_boost(status, booster, post.t + rng.randrange(60, 7200), rng))
        if rng.random() < 0.04:  # fetched again through another instance: another local id, same uri
            timeline.append({**status, "id": str(int(status["id"]) + rng.randrange(1, 1 << 15))})
    # As Murmur reads them: pages forward in time from the start (min_id), each newest first.
    timeline.sort(key=lambda s: s["created_at"])
    pages = [timeline[i : i + STATUSES_PER_PAGE][::-1] for i in range(0, len(timeline), STATUSES_PER_PAGE)]
    for number, page in enumerate(pages, 1):
        _dump(folder / f"page-{number:04d}.json", page)
    return len(posts)


def _status(post: Any, instance: str, ids: dict[int, str], rng: random.Random) -> dict:
    handle = post.author.lower()
    status_id = ids[post.seq]
    paragraphs = "".join(
        f"<p>{html.escape(part, quote=False).replace(chr(10), '<br />')}</p>" for part in post.text.split("\n\n")
    )
    if rng.random() < 0.5:
        tag = TAGS.get(post.lang, "Sora")
        paragraphs += (
            f'<p><a href="https://{instance}/tags/{tag}" class="mention hashtag" rel="tag">'
            f"#<span>{html.escape(tag)}</span></a></p>"
        )
    parent = post.parent if post.parent.kind == "comment" else None
    likes = int(rng.lognormvariate(1.2, 1.1))
    return {
        "id": status_id,
        "created_at": _iso(post.t, rng.randrange(1000)),
        "in_reply_to_id": ids.get(parent.seq) if parent else None,
        "in_reply_to_account_id": _account_id(parent.author.lower()) if parent else None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": post.lang,
        "uri": f"https://{instance}/users/{handle}/statuses/{status_id}",
        "url": f"https://{instance}/@{handle}/{status_id}",
        "replies_count": len(post.children),
        "reblogs_count": int(likes * rng.random() * 0.4),
        "favourites_count": likes,
        "edited_at": None,
        "content": paragraphs,
        "reblog": None,
        "application": None,
        "account": _account(handle, instance),
        "media_attachments": [],
        "mentions": [],
        "tags": [],
        "emojis": [],
        "card": None,
        "poll": None,
    }


def _account(handle: str, instance: str) -> dict:
    return {
        "id": _account_id(handle),
        "username": handle,
        "acct": f"{handle}@{instance}",
        "display_name": handle,
        "url": f"https://{instance}/@{handle}",
        "uri": f"https://{instance}/users/{handle}",
        "bot": False,
        "locked": False,
        "note": "",
        "emojis": [],
        "fields": [],
    }


def _account_id(handle: str) -> str:
    return str(int(hashlib.sha256(handle.encode()).hexdigest()[:14], 16))


def _boost(status: dict, booster: str, t: int, rng: random.Random) -> dict:
    instance = MASTODON_INSTANCES[rng.randrange(len(MASTODON_INSTANCES))]
    boost_id = str(((t * 1000) << 16) | rng.randrange(1 << 16))
    return {
        **{key: None for key in ("in_reply_to_id", "in_reply_to_account_id", "language", "edited_at", "card", "poll")},
        "id": boost_id,
        "created_at": _iso(t),
        "uri": f"https://{instance}/users/{booster}/statuses/{boost_id}/activity",
        "url": None,
        "content": "",
        "spoiler_text": "",
        "sensitive": False,
        "visibility": "public",
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "reblog": status,
        "account": _account(booster, instance),
        "media_attachments": [],
        "mentions": [],
        "tags": [],
        "emojis": [],
    }


# --- Bluesky ----------------------------------------------------------------------------------------


def _did(author: str) -> str:
    return f"did:web:{author.lower()}.bsky.example"


def _tid(micros: int, clock: int) -> str:
    """A record key as Bluesky makes them: a base32-sortable timestamp identifier (13 characters)."""
    value = (micros << 10) | (clock & 1023)
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def _records(posts: list[Any], rng: random.Random) -> dict[int, tuple[str, str, dict]]:
    """(uri, did, record) for each post, replies pointing at their parent and root where they are here."""
    made: dict[int, tuple[str, str, dict]] = {}
    for post in posts:
        did = _did(post.author)
        micros = post.t * 1_000_000 + rng.randrange(1_000_000)
        uri = f"at://{did}/app.bsky.feed.post/{_tid(micros, rng.randrange(1024))}"
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "createdAt": _iso(post.t, (micros // 1000) % 1000),
            "langs": [post.lang],
            "text": post.text,
        }
        parent = made.get(post.parent.seq) if post.parent.kind == "comment" else None
        if parent is not None:
            root = parent[2].get("reply", {}).get("root") or {"uri": parent[0], "cid": _cid(parent[0])}
            record["reply"] = {"root": root, "parent": {"uri": parent[0], "cid": _cid(parent[0])}}
        made[post.seq] = (uri, did, record)
    return made


def _cid(uri: str) -> str:
    return "bafyrei" + "".join(_TID_ALPHABET[ord(c) % 32] for c in (uri * 3)[-52:])


def _write_bluesky(posts: list[Any], folder: Path, rng: random.Random) -> int:
    _clear(folder)
    records = _records(posts, rng)
    views = []
    for post in sorted(posts, key=lambda p: p.t, reverse=True):
        uri, did, record = records[post.seq]
        likes = int(rng.lognormvariate(1.5, 1.2))
        views.append(
            {
                "uri": uri,
                "cid": _cid(uri),
                "author": {
                    "did": did,
                    "handle": did.removeprefix("did:web:"),
                    "displayName": post.author,
                    "labels": [],
                    "createdAt": "2023-09-01T00:00:00.000Z",
                },
                "record": record,
                "replyCount": len(post.children),
                "repostCount": int(likes * rng.random() * 0.3),
                "likeCount": likes,
                "quoteCount": 0,
                "indexedAt": record["createdAt"],
                "labels": [],
            }
        )
    pages = [views[i : i + POSTS_PER_SEARCH_PAGE] for i in range(0, len(views), POSTS_PER_SEARCH_PAGE)]
    for number, page in enumerate(pages, 1):
        envelope: dict[str, Any] = {"posts": page}
        if number < len(pages):
            envelope["cursor"] = str(number * POSTS_PER_SEARCH_PAGE)
        _dump(folder / f"page-{number:04d}.json", envelope)
    return len(posts)


def _write_jetstream(posts: list[Any], folder: Path, rng: random.Random) -> int:
    _clear(folder)
    records = _records(posts, rng)
    lines = []
    for post in sorted(posts, key=lambda p: p.t):
        uri, did, record = records[post.seq]
        rkey = uri.rsplit("/", 1)[1]
        event = {
            "did": did,
            "time_us": post.t * 1_000_000 + rng.randrange(2_000_000, 9_000_000),
            "kind": "commit",
            "commit": {
                "rev": _tid(post.t * 1_000_000, 7),
                "operation": "create",
                "collection": "app.bsky.feed.post",
                "rkey": rkey,
                "record": record,
                "cid": _cid(uri),
            },
        }
        lines.append(json.dumps(event, ensure_ascii=False, sort_keys=True))
    for number, start in enumerate(range(0, len(lines), EVENTS_PER_FILE), 1):
        (folder / f"events-{number:04d}.jsonl").write_text(
            "\n".join(lines[start : start + EVENTS_PER_FILE]) + "\n", encoding="utf-8"
        )
    return len(posts)
