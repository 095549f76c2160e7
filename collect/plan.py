"""Checking a monitor's sources against what Murmur knows, before anything is fetched.

Kept apart from `monitor.config` because only `collect` knows the sources and their options;
the errors read the same way (file, key, what is expected).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import httpx

from collect.sources import SOURCES
from monitor.config import Monitor
from monitor.errors import ConfigError, QuerySyntaxError
from monitor.options import Option, check_table

# Options every source accepts besides its own (`enabled` is read by monitor.config).
COMMON_OPTIONS = {
    "base_url": Option(
        str,
        "",
        "replaces the scheme and host of the platform's URLs, keeping their paths "
        "(a mirror, a proxy, a test server); empty = the platform itself",
    ),
}


@dataclass(frozen=True)
class SourcePlan:
    """One enabled source, its checked options and the searches it will run."""

    name: str
    module: ModuleType
    options: dict[str, Any]
    searches: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict, repr=False)  # credentials: never printed
    missing_env: tuple[str, ...] = ()  # required variables that are not set: the source is skipped


def plan_sources(monitor: Monitor, environ: Mapping[str, str] | None = None) -> list[SourcePlan]:
    """The enabled sources with checked options, searches and credentials from `environ` (os.environ)."""
    environ = os.environ if environ is None else environ
    where = str(monitor.path)
    plans = []
    for settings in monitor.sources:
        module = SOURCES.get(settings.name)
        if module is None:
            known = ", ".join(sorted(SOURCES))
            raise ConfigError(where, f"sources.{settings.name}", f"unknown source (known sources: {known})")
        prefix = f"sources.{settings.name}"
        options = check_table(where, prefix, settings.options, {**module.OPTIONS, **COMMON_OPTIONS})
        options["base_url"] = _base_url(where, f"{prefix}.base_url", options["base_url"])
        check_options = getattr(module, "check_options", None)  # a source's own checks, e.g. files' paths
        if check_options is not None:
            options = check_options(monitor.path, options)
        if not settings.enabled:
            continue
        try:
            searches = tuple(module.translate(monitor.query))
        except QuerySyntaxError as error:
            raise ConfigError(where, "query", f"cannot be searched on {settings.name}: {error}") from None
        env = {name: environ[name] for name in module.ENV if environ.get(name)}
        missing = tuple(name for name in module.REQUIRED_ENV if name not in env)
        plans.append(SourcePlan(settings.name, module, options, searches, env, missing))
    if not plans:
        raise ConfigError(where, "sources", "every source is disabled; enable at least one")
    return plans


_URL_SCHEMES = ("http", "https", "ws", "wss")  # websockets for Jetstream


def _base_url(where: str, key: str, value: str) -> str | None:
    """An http(s) URL with a host, or None for the platform's own."""
    if not value:
        return None
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in _URL_SCHEMES or not url.host or url.query:
        raise ConfigError(where, key, f'expected an http(s) or ws(s) URL like "http://127.0.0.1:8080", got {value!r}')
    return value
