"""What every source module provides, so the collection runner can treat them alike (see SEAM.md).

A source module (``collect/sources/<name>.py``) exposes ``NAME``, ``OPTIONS``, ``ENV``,
``REQUIRED_ENV``, ``CURSOR_OPTIONS``, ``translate(query)``, ``fetch(ctx) -> Iterator[Page]`` and a
pure ``parse(body) -> list[Post]``.

This copy of the seam's definitions lets branch issue8c run on its own; the integrator keeps issue8's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from monitor.options import Option

__all__ = ["FetchContext", "Option", "Page", "endpoint"]


@dataclass(frozen=True)
class Page:
    """One response body as fetched. `state` is the source's opaque cursor (JSON-serialisable dict)
    that is safe to save once this page, and every page before it, has been stored; None when this
    page completes nothing (or an earlier part of the walk failed, so the cursor must not move)."""

    body: bytes
    url: str  # logged WITHOUT its query string (secrets may be in it): use display_url()
    # Branch-local only (issue8's seam has no `checkpoint`): this branch's unchanged runner and
    # hackernews pass it positionally, so it sits before `state`, which new sources pass by keyword.
    checkpoint: datetime | None = None
    state: dict[str, Any] | None = None


@dataclass(frozen=True)
class FetchContext:
    client: httpx.Client  # the shared client (collect/http.py): retries, Retry-After, rate-limit headers
    search: str  # one of translate(query)'s strings
    options: Mapping[str, Any]  # this source's OPTIONS, checked, defaults filled; includes "base_url"
    since: datetime  # UTC: the monitor's start (for a first run / backfill)
    until: datetime  # UTC: now, or the monitor's end
    state: dict[str, Any] | None  # the opaque cursor this source returned last time for this key, or None
    env: Mapping[str, str]  # the source's ENV variables that are set (credentials), never logged


def endpoint(url: str, base_url: str | None) -> str:
    """`url` with its scheme and host (and port) replaced by base_url's, keeping the platform's own path
    under base_url's path: endpoint("https://hn.algolia.com/api/v1/search_by_date", "http://127.0.0.1:8080")
    == "http://127.0.0.1:8080/api/v1/search_by_date"."""
    if not base_url:
        return url
    original = httpx.URL(url)
    base = httpx.URL(base_url)
    path = base.path.rstrip("/") + original.path
    return str(original.copy_with(scheme=base.scheme, host=base.host, port=base.port, path=path))
