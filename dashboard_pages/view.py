"""What every page shares: the store, the monitor, the filters (kept in the URL) and cached queries.

Filters live in the URL query parameters (`from`, `to`, `source`, `language`, `topic`, `sentiment`,
`narrative`, `q`; repeated or comma-separated), so a link reproduces a view: they are read on a
session's first run and written back after every change. Query results are cached with a TTL and
keyed on the store's data version (latest run, topic model, analysis time), so a new run or
analysis shows at once while an unchanged store is never queried twice for the same view.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import streamlit as st
from sqlalchemy import Engine

from monitor.cli import MONITOR_ENV, MONITOR_FILE_ENV
from store import health, queries
from store.db import open_store
from store.filters import SENTIMENTS, UNSCORED, PostFilter

TTL_SECONDS = 600
HEALTH_READERS = {"source_health", "collection_gaps"}  # store.health: the collection's health, as `murmur status`
HOURLY_UP_TO_DAYS = 3  # a range of at most this many days is binned by hour, a longer one by day


@dataclass(frozen=True)
class View:
    """One rerun's view of the store: which monitor, which filters, which data version."""

    url: str | None
    monitor: str
    version: tuple[Any, ...]
    where: PostFilter
    narratives: tuple[str, ...]
    facets: dict[str, Any]
    demo: bool

    @property
    def hourly(self) -> bool:
        first, last = self.where.since or self.facets["first"], self.where.until or self.facets["last"]
        return bool(first and last and (last - first).days < HOURLY_UP_TO_DAYS)

    def query(self, name: str, *, where: PostFilter | None = None, **options: Any) -> Any:
        """`store.queries.<name>(conn, monitor, filter, **options)`, cached for this data version."""
        return _cached(name, self.url, self.monitor, self.version, where or self.where, tuple(sorted(options.items())))

    def about(self, name: str, **options: Any) -> Any:
        """`store.queries.<name>(conn, monitor, **options)`: facts of the monitor the filters do not touch."""
        return _cached_about(name, self.url, self.monitor, self.version, tuple(sorted(options.items())))


@st.cache_resource(show_spinner=False)
def engine(url: str | None) -> Engine:
    return open_store(url)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=512)
def _cached(
    name: str, url: str | None, monitor: str, version: tuple, where: PostFilter, options: tuple[tuple[str, Any], ...]
) -> Any:
    del version  # part of the cache key only
    with engine(url).connect() as conn:
        return getattr(queries, name)(conn, monitor, where, **dict(options))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=64)
def _cached_about(
    name: str, url: str | None, monitor: str, version: tuple, options: tuple[tuple[str, Any], ...]
) -> Any:
    del version  # part of the cache key only
    reader = getattr(health, name) if name in HEALTH_READERS else getattr(queries, name)
    with engine(url).connect() as conn:
        return reader(conn, monitor, **dict(options))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def _store_facts(url: str | None, monitor: str, version: tuple) -> tuple[dict[str, Any], bool]:
    # The unfiltered daily counts: the same cache entry the Overview draws with no filter set.
    daily = _cached("counts_over_time", url, monitor, version, PostFilter(), (("hourly", False),))
    with engine(url).connect() as conn:
        found = queries.facets(conn, monitor, daily)
        found["narratives"] = queries.narrative_names(conn, monitor) or None  # None: none scored yet
        return found, queries.is_demo(conn, monitor)


def monitors(url: str | None) -> list[str]:
    with engine(url).connect() as conn:
        return queries.monitor_names(conn)


def data_version(url: str | None, monitor: str) -> tuple[Any, ...]:
    """Read on every rerun (a few indexed lookups): a new run or analysis changes it."""
    with engine(url).connect() as conn:
        return queries.data_version(conn, monitor)


def url_values(name: str) -> list[str]:
    """A URL parameter's values: repeated (`?language=ar&language=fr`) or comma-separated, or both."""
    return [part.strip() for value in st.query_params.get_all(name) for part in value.split(",") if part.strip()]


def url_day(name: str) -> date | None:
    values = url_values(name)
    try:
        return date.fromisoformat(values[0]) if values else None
    except ValueError:
        st.sidebar.warning(f"Ignored `{name}`: expected a date as YYYY-MM-DD.")
        return None


def build_view() -> View | None:
    """Pick the monitor, draw the filters in the sidebar and return the view; None for an empty store."""
    url = os.environ.get("MURMUR_DB")
    names = monitors(url)
    if not names:
        return None
    preferred = os.environ.get(MONITOR_ENV)
    monitor = (
        names[0]
        if len(names) == 1
        else st.sidebar.selectbox("Monitor", names, index=names.index(preferred) if preferred in names else 0)
    )
    version = data_version(url, monitor)
    facets, demo = _store_facts(url, monitor, version)
    if not facets["posts"]:
        return None
    where, narratives = filter_widgets(facets)
    return View(url=url, monitor=monitor, version=version, where=where, narratives=narratives, facets=facets, demo=demo)


def _seed_from_url(key: str, value: Any) -> None:
    """Give a widget its value from the URL on the session's first run (afterwards the widget owns it)."""
    if key not in st.session_state:
        st.session_state[key] = value


def filter_widgets(facets: dict[str, Any]) -> tuple[PostFilter, tuple[str, ...]]:
    sidebar = st.sidebar
    sidebar.header("Filters")
    first, last = facets["first"], facets["last"]
    since, until = url_day("from"), url_day("to")
    start = min(max(since or first, first), last)
    end = max(min(until or last, last), start)
    _seed_from_url("f_dates", (start, end))
    chosen = sidebar.date_input("Dates (UTC)", min_value=first, max_value=last, key="f_dates")
    dates = chosen if isinstance(chosen, tuple) and len(chosen) == 2 else (first, last)
    options = {
        "source": list(facets["sources"]),
        "language": list(facets["languages"]),
        "topic": [str(t) for t in facets["topics"]],
        "sentiment": [*SENTIMENTS, UNSCORED],
    }
    labels: dict[str, Callable[[Any], str]] = {
        "source": lambda s: f"{s} ({facets['sources'][s]:,})",
        "language": lambda code: f"{code} ({facets['languages'][code]:,})",
        "topic": lambda t: facets["topics"][int(t)],
        "sentiment": str,
    }
    titles = {"source": "Sources", "language": "Languages", "topic": "Topics", "sentiment": "Sentiment"}
    chosen_lists: dict[str, list[str]] = {}
    for name, choices in options.items():
        _seed_from_url(f"f_{name}", [value for value in url_values(name) if value in choices])
        chosen_lists[name] = sidebar.multiselect(
            titles[name], choices, format_func=labels[name], key=f"f_{name}", placeholder="all"
        )
    # Narratives arrive with the narrative analysis; until then their values are kept in the URL as given.
    narratives = tuple(url_values("narrative"))
    if facets["narratives"] is not None:
        _seed_from_url("f_narrative", [value for value in narratives if value in facets["narratives"]])
        narratives = tuple(
            sidebar.multiselect("Narratives", facets["narratives"], key="f_narrative", placeholder="all")
        )
    _seed_from_url("f_q", " ".join(url_values("q")))
    q = sidebar.text_input("Search text (any language)", key="f_q", placeholder="words in the post")
    where = PostFilter(
        since=dates[0] if dates[0] != first else None,
        until=dates[1] if dates[1] != last else None,
        sources=tuple(chosen_lists["source"]),
        languages=tuple(chosen_lists["language"]),
        topics=tuple(int(t) for t in chosen_lists["topic"]),
        sentiments=tuple(chosen_lists["sentiment"]),
        q=q.strip(),
        narratives=narratives if facets["narratives"] is not None else (),
    )
    write_url(where, narratives)
    return where, narratives


def write_url(where: PostFilter, narratives: tuple[str, ...]) -> None:
    """Put the filters into the URL (comma-separated lists), leaving out what is not filtered."""
    wanted: dict[str, str] = {}
    if where.since:
        wanted["from"] = where.since.isoformat()
    if where.until:
        wanted["to"] = where.until.isoformat()
    values = {
        "source": where.sources,
        "language": where.languages,
        "topic": tuple(map(str, where.topics)),
        "sentiment": where.sentiments,
        "narrative": narratives,
    }
    wanted.update({name: ",".join(chosen) for name, chosen in values.items() if chosen})
    if where.q:
        wanted["q"] = where.q
    current = {key: ",".join(url_values(key)) for key in st.query_params}
    if current != wanted:
        st.query_params.from_dict(wanted)


def current() -> View:
    """The view dashboard.py built for this rerun (pages are run right after it)."""
    return st.session_state["_view"]


def monitor_file(name: str) -> Path | None:
    """The monitor's definition file: the one `murmur dashboard --monitor` read, else monitors/<name>.toml."""
    given = os.environ.get(MONITOR_FILE_ENV)
    if given and Path(given).is_file():
        return Path(given)
    for candidate in sorted(Path("monitors").glob("*.toml")):
        if candidate.stem == name:
            return candidate
    return None
