"""What every source module provides, so the collection runner can treat them alike.

A source module (``collect/sources/<name>.py``) exposes:

- ``NAME``: the platform name stored on its posts (``"hackernews"``).
- ``OPTIONS``: ``dict[str, Option]``, the keys a monitor may set under ``[sources.<name>]``.
- ``translate(query) -> list[str]``: the source's own search strings for a parsed monitor query
  (several where the source has no OR). Results are always re-checked locally with
  ``query.matches``, so a translation may be broader than the query, never narrower.
- ``fetch(client, search, since, until, options) -> Iterator[Page]``: walks the source's pages for
  one search string through the shared httpx client. It never touches the store.
- ``parse(body) -> list[Post]``: pure; one response body (bytes or str) in, posts out; raises
  ``ParseError`` when the body is not the documented format.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.options import Option

__all__ = ["Option", "Page"]


@dataclass(frozen=True)
class Page:
    """One response body as fetched.

    ``checkpoint`` is the cursor that is safe to save once this page, and every page before it, has
    been stored: everything the search can return up to that instant has then been seen. It is
    ``None`` when this page does not complete anything (or when an earlier part of the walk failed,
    so the cursor must not move past it).
    """

    body: bytes
    url: str
    checkpoint: datetime | None = None
