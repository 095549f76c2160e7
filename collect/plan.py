"""Checking a monitor's sources against what Murmur knows, before anything is fetched.

Kept apart from `monitor.config` because only `collect` knows the sources and their options;
the errors read the same way (file, key, what is expected).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

from collect.sources import SOURCES
from monitor.config import Monitor
from monitor.errors import ConfigError, QuerySyntaxError
from monitor.options import check_table


@dataclass(frozen=True)
class SourcePlan:
    """One enabled source, its checked options and the searches it will run."""

    name: str
    module: ModuleType
    options: dict[str, Any]
    searches: tuple[str, ...]


def plan_sources(monitor: Monitor) -> list[SourcePlan]:
    where = str(monitor.path)
    plans = []
    for settings in monitor.sources:
        module = SOURCES.get(settings.name)
        if module is None:
            known = ", ".join(sorted(SOURCES))
            raise ConfigError(where, f"sources.{settings.name}", f"unknown source (known sources: {known})")
        options = check_table(where, f"sources.{settings.name}", settings.options, module.OPTIONS)
        check_options = getattr(module, "check_options", None)  # a source's own checks, e.g. files' paths
        if check_options is not None:
            options = check_options(monitor.path, options)
        if not settings.enabled:
            continue
        try:
            searches = tuple(module.translate(monitor.query))
        except QuerySyntaxError as error:
            raise ConfigError(where, "query", f"cannot be searched on {settings.name}: {error}") from None
        plans.append(SourcePlan(settings.name, module, options, searches))
    if not plans:
        raise ConfigError(where, "sources", "every source is disabled; enable at least one")
    return plans
