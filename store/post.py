"""The one record every source produces and the store keeps.

A source's parser fills a `Post` from one platform item. The parser copies the item's JSON into
`raw` *without* the fields that identify the author (the store pseudonymises `author` and would
otherwise leak it through `raw`).

A `Post` is also the boundary where a source's text becomes Murmur's: whatever a platform sends,
the fields are made storable here, once, for every source and both databases. NUL bytes go
(PostgreSQL refuses them in text), lone surrogates become U+FFFD (no database can encode them),
ids must be short printable strings (the columns hold 255 characters) and counts must fit the
32-bit integer columns; an id that does not is refused, a count that does not becomes unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MAX_ID_LENGTH = 255
"""Longest native id, reply/quote/thread reference or platform name the store accepts."""

_INT32 = (-(2**31), 2**31 - 1)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_TEXT_FIELDS = ("text", "url", "author", "title", "language")
_REFERENCE_FIELDS = ("reply_to", "quote_of", "thread_id")
_COUNT_FIELDS = ("likes", "reposts", "replies")
_PLATFORMS_SEEN: set[str] = set()  # platform names already checked


def clean_text(value: str) -> str:
    """`value` without NUL bytes and with lone surrogates replaced: storable in any database."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = _LONE_SURROGATE.sub("\ufffd", value)
    return value


def clean_id(value: str) -> str | None:
    """A printable id of at most MAX_ID_LENGTH characters, stripped; None if `value` is not one."""
    if value.isascii() and value.isprintable() and 0 < len(value) <= MAX_ID_LENGTH and value[0] != " " != value[-1]:
        return value  # the common case, decided without a regex
    value = clean_text(value).strip()
    if not value or len(value) > MAX_ID_LENGTH or _CONTROL.search(value):
        return None
    return value


@dataclass(frozen=True)
class Post:
    """A public post as collected, before any analysis.

    `author` is the platform's own handle or id; the store keeps only a salted hash of it unless the
    monitor opts in to handles. `created_at` is timezone-aware UTC. `reply_to` and `quote_of` are
    native ids on the same platform. Engagement counts are `None` where the platform does not say.
    """

    platform: str
    native_id: str
    text: str
    created_at: datetime
    url: str | None = None
    author: str | None = None
    title: str | None = None
    language: str | None = None
    reply_to: str | None = None
    quote_of: str | None = None
    thread_id: str | None = None
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    deleted: bool = False
    """The platform reports the post deleted: the store deletes its copy (text may be empty)."""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.native_id, str) or not self.native_id:
            raise ValueError(f"{self.platform}: a post needs a native id")
        native_id = clean_id(self.native_id)
        if native_id is None:
            shown = self.native_id[:40] + ("…" if len(self.native_id) > 40 else "")
            raise ValueError(f"{self.platform}: native id {shown!r} is not a printable id of at most "
                             f"{MAX_ID_LENGTH} characters")
        if self.platform not in _PLATFORMS_SEEN and (clean_id(self.platform) != self.platform or len(self.platform) > 32):
            raise ValueError(f"platform {self.platform!r} is not a short printable name")
        if self.created_at.tzinfo is None:
            raise ValueError(f"{self.platform}:{native_id}: created_at must be timezone-aware")
        _PLATFORMS_SEEN.add(self.platform)
        object.__setattr__(self, "native_id", native_id)
        for name in _TEXT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, clean_text(value))
        for name in _REFERENCE_FIELDS:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, clean_id(value) if isinstance(value, str) else None)
        for name in _COUNT_FIELDS:
            value = getattr(self, name)
            if value is not None and not (
                isinstance(value, int) and not isinstance(value, bool) and _INT32[0] <= value <= _INT32[1]
            ):
                object.__setattr__(self, name, None)

    @property
    def searchable_text(self) -> str:
        """Title and body together: what the monitor's query is matched against."""
        return f"{self.title}\n{self.text}" if self.title else self.text
