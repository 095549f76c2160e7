"""The fake Algolia API served over real HTTP on 127.0.0.1, for tests that run collectors as processes.

`serve(api)` answers in a thread with `FakeAlgolia.handle`; `delay` slows every answer so a test can
signal or kill a collector in the middle of a run. Collector processes reach it through
`RedirectTransport`, which sends the platform's own URLs to the loopback server (what a source's
`base_url` option does).
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from tests.fake_hn import FakeAlgolia


class Served:
    """What the server saw: for each search string, the most requests it answered at the same time.

    A request whose client died while it was being answered (a killed collector) is left out: the
    operating system frees the dead collector's lock at once, so a live one may rightly ask for the
    same search while the server is still sleeping on the dead one's question.
    """

    def __init__(self, delay: float) -> None:
        self.url = ""
        self.delay = delay  # seconds before each answer; a test may change it while serving
        self.lock = threading.Lock()
        self.answered: list[tuple[str, float, float]] = []  # search, start, end

    def record(self, search: str, start: float, end: float) -> None:
        with self.lock:
            self.answered.append((search, start, end))

    @property
    def most_at_once(self) -> dict[str, int]:
        with self.lock:
            answered = list(self.answered)
        most: dict[str, int] = {}
        for search, start, _ in answered:
            overlapping = sum(1 for s, a, b in answered if s == search and a <= start < b)
            most[search] = max(most.get(search, 0), overlapping)
        return most


def client_is_gone(connection: socket.socket) -> bool:
    """Whether the peer closed the connection while its request waited: a client that waits for its
    answer sends nothing, so a readable socket with nothing to read means it has hung up."""
    readable, _, _ = select.select([connection], [], [], 0)
    if not readable:
        return False
    try:
        return connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


@contextmanager
def serve(api: FakeAlgolia, delay: float = 0.0) -> Iterator[Served]:
    """Serve `api` on a free loopback port; yields what it saw, with its base URL in `.url`."""
    served = Served(delay)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            request = httpx.Request("GET", f"https://hn.algolia.com{self.path}")
            search = request.url.params.get("query", "")
            start = time.monotonic()
            time.sleep(served.delay)
            if client_is_gone(self.connection):
                return
            with served.lock:
                try:
                    response = api.handle(request)
                except AssertionError as error:
                    response = httpx.Response(404, content=str(error).encode())
            served.record(search, start, time.monotonic())
            self.send_response(response.status_code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(response.content)))
            self.end_headers()
            self.wfile.write(response.content)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    served.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()


class RedirectTransport(httpx.BaseTransport):
    """Sends every request to `base_url`, keeping its path and query."""

    def __init__(self, base_url: str) -> None:
        self.base = httpx.URL(base_url)
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme=self.base.scheme, host=self.base.host, port=self.base.port)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()
