"""Checking one TOML table against a declared set of options, with messages that name the key.

Used for every table of a monitor file, and by `collect` for each source's own options, so all
configuration errors read alike: file, dotted key, what was expected, what was found.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from monitor.errors import ConfigError

_TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string", list: "a list"}


@dataclass(frozen=True)
class Option:
    """One setting a table accepts: its type, default, meaning and allowed range or choices.

    For a list option, `choices` applies to each item.
    """

    type: type
    default: object
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[object, ...] | None = None


def check_table(
    path: str, prefix: str, table: Any, schema: Mapping[str, Option]
) -> dict[str, Any]:
    """`table` with defaults filled in; raises ConfigError on an unknown key or a bad value."""
    if not isinstance(table, Mapping):
        raise ConfigError(path, prefix, f"expected a table, got {describe(table)}")
    for key in table:
        if key not in schema:
            known = ", ".join(sorted(schema)) or "none"
            raise ConfigError(path, f"{prefix}.{key}", f"unknown key (known keys: {known})")
    return {key: check_value(path, f"{prefix}.{key}", table.get(key, spec.default), spec)
            for key, spec in schema.items()}


def check_value(path: str, key: str, value: Any, spec: Option) -> Any:
    """One value checked against its spec (type, range, choices); ints are accepted as floats."""
    expected = _TYPE_NAMES.get(spec.type, spec.type.__name__)
    if spec.type is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, spec.type) or (spec.type is int and isinstance(value, bool)):
        raise ConfigError(path, key, f"expected {expected}, got {describe(value)}")
    if not _finite(value):  # TOML allows nan and inf
        raise ConfigError(path, key, f"expected a finite number, got {value!r}")
    if spec.minimum is not None and value < spec.minimum:  # type: ignore[operator]  # a number by now
        raise ConfigError(path, key, f"expected at least {spec.minimum:g}, got {value!r}")
    if spec.maximum is not None and value > spec.maximum:  # type: ignore[operator]  # a number by now
        raise ConfigError(path, key, f"expected at most {spec.maximum:g}, got {value!r}")
    if spec.choices is not None:
        items = value if isinstance(value, list) else [value]
        for item in items:
            if item not in spec.choices:
                allowed = ", ".join(repr(c) for c in spec.choices)
                raise ConfigError(path, key, f"{item!r} is not one of {allowed}")
    return value


def _finite(value: Any) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


def describe(value: Any) -> str:
    """A value as a user would recognise it from their TOML file."""
    kind = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(value), type(value).__name__)
    return f"{kind} ({value!r})" if not isinstance(value, (dict, list)) else kind
