"""A stand-in for the Algolia HN Search API behind `httpx.MockTransport`, for runner tests.

It answers on hn.algolia.com or, behind a loopback server, on 127.0.0.1. It honours the
parameters the real API does for `search_by_date` (numericFilters on created_at_i,
page, hitsPerPage; newest first) over a fixed list of hits, and fails loudly on any other request.
Every request is recorded so tests can assert what was asked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timezone

import httpx

FILTER = re.compile(r"created_at_i>(\d+),created_at_i<=(\d+)")


def hit(object_id: int, when: datetime, text: str, author: str = "quietcompiler", story: int = 42000000) -> dict:
    """A comment hit in the API's format."""
    epoch = int(when.timestamp())
    return {
        "_tags": ["comment", f"author_{author}", f"story_{story}"],
        "author": author,
        "comment_text": text,
        "created_at": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "created_at_i": epoch,
        "objectID": str(object_id),
        "parent_id": story,
        "story_id": story,
        "story_title": "OpenAI's Sora leaked by artists",
        "updated_at": "2024-12-01T00:00:00Z",
    }


class FakeAlgolia:
    def __init__(
        self,
        hits: list[dict],
        broken_pages: Iterable[tuple[str, int]] = (),
        bodies: dict[tuple[str, int], bytes] | None = None,
    ) -> None:
        self.hits = sorted(hits, key=lambda h: -h["created_at_i"])
        self.broken_pages = set(broken_pages)  # (numericFilters, page) answered with a truncated body
        self.bodies = dict(bodies or {})  # (numericFilters, page) answered with this body instead
        self.requests: list[httpx.Request] = []

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host not in ("hn.algolia.com", "127.0.0.1") or request.url.path != "/api/v1/search_by_date":
            raise AssertionError(f"unexpected request: {request.method} {request.url}")
        params = request.url.params
        match = FILTER.fullmatch(params["numericFilters"])
        if not match:
            raise AssertionError(f"unexpected numericFilters: {params['numericFilters']}")
        low, high = int(match.group(1)), int(match.group(2))
        page, per_page = int(params.get("page", 0)), int(params.get("hitsPerPage", 20))
        found = [h for h in self.hits if low < h["created_at_i"] <= high]
        body = json.dumps({
            "hits": found[page * per_page:(page + 1) * per_page],
            "nbHits": len(found), "page": page, "nbPages": -(-len(found) // per_page),
            "hitsPerPage": per_page, "exhaustiveNbHits": True, "query": params.get("query", ""),
            "params": str(request.url.query, "ascii") if isinstance(request.url.query, bytes) else "",
            "processingTimeMS": 1,
        }).encode()
        if (params["numericFilters"], page) in self.bodies:
            body = self.bodies[(params["numericFilters"], page)]
        if (params["numericFilters"], page) in self.broken_pages:
            body = body[: len(body) // 2]
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    def filters_asked(self) -> list[str]:
        return [r.url.params["numericFilters"] for r in self.requests]
