"""The one record every source produces and the store keeps.

A source's parser fills a `Post` from one platform item. The parser copies the item's JSON into
`raw` *without* the fields that identify the author (the store pseudonymises `author` and would
otherwise leak it through `raw`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


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
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None:
            raise ValueError(f"{self.platform}:{self.native_id}: created_at must be timezone-aware")
        if not self.native_id:
            raise ValueError(f"{self.platform}: a post needs a native id")

    @property
    def searchable_text(self) -> str:
        """Title and body together: what the monitor's query is matched against."""
        return f"{self.title}\n{self.text}" if self.title else self.text
