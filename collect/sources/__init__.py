"""The sources Murmur can collect from, by the name a monitor file uses for them."""

from __future__ import annotations

from types import ModuleType

from collect.sources import (
    bluesky,
    feeds,
    files,
    gdelt,
    googlenews,
    hackernews,
    jetstream,
    lemmy,
    mastodon,
    reddit,
    youtube,
)

SOURCES: dict[str, ModuleType] = {
    module.NAME: module
    for module in (hackernews, mastodon, bluesky, jetstream, reddit, googlenews, feeds, gdelt, lemmy, youtube, files)
}
