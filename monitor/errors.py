"""The root of Murmur's own errors and the configuration errors every entry point reports.

See `collect.errors` for the whole tree. A `MurmurError` is a user's or a source's problem, printed as
one message; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class MurmurError(Exception):
    """Root of the errors Murmur reports as a plain message (no traceback)."""


class ConfigError(MurmurError):
    """A monitor file is wrong: says which file, which key and what was expected."""

    def __init__(self, path: str, key: str | None, message: str) -> None:
        where = f"{path}: {key}" if key else path
        super().__init__(f"{where}: {message}")
        self.path = path
        self.key = key


class QuerySyntaxError(MurmurError):
    """The boolean query cannot be parsed; `position` is the 0-based character offset."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"at character {position + 1}: {message}")
        self.position = position
