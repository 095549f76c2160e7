"""Turning an `[analysis]` setting into a model backend, with errors that name the setting.

Settings are strings so a monitor can switch model without code: a short alias for the bundled
offline default, or ``<kind>:<model name or local path>`` for anything the user has (a Hugging
Face model id where there is internet or a cache, or a folder on disk).
"""

from __future__ import annotations

from monitor.errors import MurmurError


class ModelUnavailable(MurmurError):
    """A configured model could not be loaded (not installed, not downloaded, no internet)."""


def split_setting(setting: str) -> tuple[str, str]:
    """``"kind:target"`` → (kind, target); an alias without a colon → (alias, "")."""
    kind, _, target = setting.partition(":")
    return kind.strip().lower(), target.strip()


def load_failure(kind: str, target: str, error: Exception) -> ModelUnavailable:
    """A message that says what failed and what the user can do about it."""
    return ModelUnavailable(
        f"could not load the {kind} model {target!r}: {type(error).__name__}: {error}. "
        "Give a local folder, or a model id that is cached or reachable (internet needed the first time)."
    )
