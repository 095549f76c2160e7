"""The sources Murmur can collect from, by the name a monitor file uses for them."""

from __future__ import annotations

from types import ModuleType

from collect.sources import files, hackernews, lemmy, youtube

SOURCES: dict[str, ModuleType] = {module.NAME: module for module in (hackernews, lemmy, youtube, files)}
