"""Errors raised while collecting, all under one root so the CLI can report them without a traceback.

    MurmurError                    (monitor.errors)
    ├── ConfigError                bad monitor file: names the file, the key and what is expected
    │   └── QuerySyntaxError       the query cannot be parsed: names the position
    └── CollectError               anything that goes wrong talking to a source
        ├── SourceUnavailable      the source could not be reached (DNS, connect, timeouts) after retries
        ├── SourceHTTPError        the source answered with an error status after retries
        └── ParseError             a page came back but its body is not what the format promises

A `ParseError` costs one page: the run logs it and goes on. `SourceUnavailable` and
`SourceHTTPError` end that source's part of the run; other sources carry on.
"""

from __future__ import annotations

from monitor.errors import MurmurError


class CollectError(MurmurError):
    """Root of the errors met while collecting from a source."""


class SourceUnavailable(CollectError):
    """The source could not be reached at all (name resolution, connection, timeouts)."""


class SourceHTTPError(CollectError):
    """The source answered with an error status that retrying did not cure."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class ParseError(CollectError):
    """A response body does not match the source's documented format (truncated, not JSON, …)."""
