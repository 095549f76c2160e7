"""What every source module provides, so the collection runner can treat them alike.

A source module (``collect/sources/<name>.py``) exposes:

- ``NAME``: the source name a monitor file uses (``[sources.NAME]``); its parser sets the platform
  stored on the posts, usually the same name (``jetstream``'s posts say ``"bluesky"``, so one post seen
  by both Bluesky sources is stored once).
- ``OPTIONS``: ``dict[str, Option]``, the keys a monitor may set under ``[sources.<name>]``;
  ``base_url`` and ``enabled`` are common to all sources and added by the planner.
- ``ENV``: environment variable → what it holds (credentials); ``REQUIRED_ENV``: those without which
  the source cannot run (the runner then skips it, naming the variable).
- ``CURSOR_OPTIONS``: the option names that change the result set; they key the cursor, so changing
  them backfills instead of silently skipping.
- ``translate(query) -> list[str]``: the source's own search strings for a parsed monitor query.
  Results are always re-checked locally with ``query.matches``, so a translation may be broader
  than the query, never narrower.
- ``fetch(ctx: FetchContext) -> Iterator[Page]``: walks the source's pages for one search string
  through the shared httpx client. It never touches the store.
- ``parse(body) -> list[Post]``: pure; one response body (bytes or str) in, posts out; raises
  ``ParseError`` when the body is not the documented format.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from monitor.options import Option

logger = logging.getLogger(__name__)

__all__ = ["FetchContext", "Option", "Page", "cursor_key", "display_url", "endpoint"]


@dataclass(frozen=True)
class Page:
    """One response body as fetched.

    `state` is the source's opaque cursor (a JSON-serialisable dict) that is safe to save once this
    page, and every page before it, has been stored; None when this page completes nothing (or an
    earlier part of the walk failed, so the cursor must not move).
    """

    body: bytes
    url: str  # logged WITHOUT its query string (secrets may be in it): use display_url()
    state: dict[str, Any] | None = None


@dataclass(frozen=True)
class FetchContext:
    """Everything one `fetch` needs for one search string, handed over by the runner."""

    client: httpx.Client  # the shared client (collect/http.py): retries, Retry-After, rate-limit headers
    search: str  # one of translate(query)'s strings
    options: Mapping[str, Any]  # this source's OPTIONS, checked, defaults filled; includes "base_url"
    since: datetime  # UTC: the monitor's start (for a first run / backfill)
    until: datetime  # UTC: now, or the monitor's end
    state: dict[str, Any] | None  # the opaque cursor this source returned last time for this key, or None
    env: Mapping[str, str] = field(repr=False)  # the source's ENV variables that are set (credentials), never logged


def endpoint(url: str, base_url: str | None) -> str:
    """`url` with its scheme and host (and port) replaced by base_url's, keeping the platform's path.

    The platform's own path goes under base_url's path, so a mirror or proxy can live below a prefix:
    endpoint("https://hn.algolia.com/api/v1/search_by_date", "http://127.0.0.1:8080")
    == "http://127.0.0.1:8080/api/v1/search_by_date".
    """
    if not base_url:
        return url
    platform = httpx.URL(url)
    base = httpx.URL(base_url)
    path = base.path.rstrip("/") + platform.path
    return str(base.copy_with(path=path, query=platform.query or None, fragment=None))


def display_url(url: str) -> str:
    """The URL without its query string, fragment or user info: safe to log (keys travel in queries)."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return url.split("?", 1)[0].split("#", 1)[0]
    return str(parsed.copy_with(query=None, fragment=None, userinfo=b""))


def cursor_key(options: Mapping[str, Any], names: tuple[str, ...], start: datetime) -> str:
    """A short hash of what changes a source's result set: the named options and the monitor's start.

    List options are hashed in a canonical order (["a", "b"] and ["b", "a"] ask for the same posts).
    """
    chosen = {name: _canonical(options.get(name)) for name in sorted(names)}
    text = json.dumps({"options": chosen, "start": start.isoformat()}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _canonical(value: Any) -> Any:
    if isinstance(value, list):
        return sorted((_canonical(item) for item in value), key=lambda item: json.dumps(item, sort_keys=True))
    return value


def resume_from(state: Mapping[str, Any] | None, start: datetime, overlap: timedelta) -> datetime:
    """Where a time-window walk starts: `overlap` before the state's saved `until` (items reach a
    search index a little after they are posted), never before the monitor's start; the start
    itself when there is no readable `until`."""
    until = state.get("until") if state else None
    if not isinstance(until, str):
        return start
    try:
        saved = datetime.fromisoformat(until)
    except ValueError:
        logger.warning("unreadable cursor %r; starting from the monitor's start", until)
        return start
    if saved.tzinfo is None:
        saved = saved.replace(tzinfo=UTC)
    return max(start, saved - overlap)
