"""`python -m tests.collector_process BASE_URL ARGS…`: `murmur collect ARGS…` against a loopback fake API.

Used by tests that need real processes (signals, kill -9, several collectors at once).
"""

from __future__ import annotations

import sys

from collect import cli
from collect.http import make_client
from monitor.cli import run_entry_point
from tests.loopback_hn import RedirectTransport


def main() -> None:
    base_url, argv = sys.argv[1], sys.argv[2:]
    cli.make_client = lambda **_: make_client(transport=RedirectTransport(base_url), sleep=lambda s: None)
    run_entry_point(lambda: cli.main(argv, prog="murmur collect"), "murmur collect")


if __name__ == "__main__":
    main()
