"""A loopback Jetstream for tests: a real websocket server replaying recorded events from `cursor`.

Like the real service it reads `wantedCollections` and `cursor` (microseconds) from the query and
sends, as text frames, every recorded event at or after the cursor; then it closes the stream (a
real one would go on). Every request path and query is recorded.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from websockets.sync.server import Server, ServerConnection, serve

EVENTS = Path(__file__).parent / "fixtures" / "jetstream" / "events.jsonl"


class FakeJetstream:
    def __init__(self, lines: list[str] | None = None) -> None:
        self.lines = lines if lines is not None else EVENTS.read_text(encoding="utf-8").splitlines()
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}"

    def __enter__(self) -> FakeJetstream:
        self._server = serve(self._handle, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._thread.join(timeout=10)

    def _handle(self, connection: ServerConnection) -> None:
        request = connection.request
        assert request is not None
        parts = urlsplit(request.path)
        query = parse_qs(parts.query)
        self.requests.append((parts.path, query))
        if parts.path != "/subscribe":
            connection.close(code=1008, reason="unknown path")
            return
        cursor = int(query.get("cursor", ["0"])[0])
        for line in self.lines:
            if _time_us(line) >= cursor:
                connection.send(line)
        connection.close()


def _time_us(line: str) -> int:
    """An event's time; a line that is not an event is sent whatever the cursor (to test garbage)."""
    try:
        return int(json.loads(line)["time_us"])
    except (ValueError, KeyError, TypeError):
        return 1 << 62
