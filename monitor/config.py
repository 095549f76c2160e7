"""Loading a monitor file (TOML) into a checked `Monitor`, or one clear `ConfigError`.

A monitor names the controversy, the boolean query, the sources to ask, when to start the backfill
and how to analyse. Source-specific options are checked by `collect`, which knows the sources;
everything else is checked here so `collect` and `analyze` reject the same mistakes the same way.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError, QuerySyntaxError
from monitor.options import Option, check_table, describe
from monitor.query import Query, lowercase_operators, parse_query

log = logging.getLogger(__name__)

_TOP_LEVEL = {
    "name": Option(str, None, "short identifier, used in the store and on the command line"),
    "title": Option(str, "", "human title shown on the dashboard"),
    "description": Option(str, "", "what the monitor follows"),
    "query": Option(str, None, "boolean query: quoted phrases, AND/OR/NOT, parentheses"),
    "start": Option(object, None, "first day to backfill (a TOML date or date-time)"),
    "end": Option(object, None, "last day to collect (optional; default: now)"),
    "sources": Option(dict, {}, "[sources.<name>] tables"),
    "privacy": Option(dict, {}, "[privacy] table"),
    "analysis": Option(dict, {}, "[analysis] table"),
    "demo": Option(dict, {}, "[demo] table"),
    "narratives": Option(list, [], "[[narratives]] tables"),
}
_PRIVACY = {
    "keep_handles": Option(bool, False, "store authors' handles as well as their pseudonymous ids"),
    "retention_days": Option(
        int, 0, "delete posts created more than this many days ago at each run; 0 keeps them", minimum=0, maximum=36_500
    ),
}
_ANALYSIS = {
    "embeddings": Option(
        str, "use-multilingual", "'use-multilingual', 'e5-small', 'minilm' or 'sentence-transformers:<name or path>'"
    ),
    "sentiment": Option(str, "multilingual", "'multilingual', 'vader' or 'transformers:<name or path>'"),
    "min_topic_size": Option(
        int, 0, "smallest topic, in posts; 0 = chosen from the corpus size", minimum=0, maximum=100_000
    ),
    "language_min_score": Option(
        float, 0.4, "below this confidence a post's language is 'und'", minimum=0.0, maximum=1.0
    ),
    "seed": Option(
        int,
        42,
        "random seed of the topic model: the same seed on the same store gives the same topics",
        minimum=0,
        maximum=2**31 - 1,
    ),
}
_DEMO = {
    "corpus": Option(str, "", "folder of recorded responses, relative to the monitor file"),
}
_NARRATIVE = {
    "name": Option(str, None, "short identifier: letters, digits, '-' or '_'"),
    "description": Option(str, None, "a sentence or two saying what the narrative claims, in any language"),
    "examples": Option(list, [], "a few posts that carry the narrative (optional)"),
    "threshold": Option(
        float, 0.0, "similarity from which a post belongs; 0 = the embedding model's default", minimum=0.0, maximum=1.0
    ),
}
_SOURCE_COMMON = {"enabled": Option(bool, True, "collect from this source")}


@dataclass(frozen=True)
class SourceSettings:
    name: str
    enabled: bool
    options: dict[str, Any]  # checked against the source's OPTIONS by collect


@dataclass(frozen=True)
class AnalysisSettings:
    embeddings: str = "use-multilingual"
    sentiment: str = "multilingual"
    min_topic_size: int = 0
    language_min_score: float = 0.4
    seed: int = 42


@dataclass(frozen=True)
class Narrative:
    """A watchlist entry: posts are scored by embedding similarity to its description and examples."""

    name: str
    description: str
    examples: tuple[str, ...] = ()
    threshold: float = 0.0  # 0: the embedding model's default


@dataclass(frozen=True)
class Monitor:
    path: Path
    name: str
    title: str
    description: str
    query: Query
    start: datetime
    end: datetime | None
    sources: tuple[SourceSettings, ...]
    keep_handles: bool = False
    retention_days: int = 0
    demo_corpus: Path | None = None
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    narratives: tuple[Narrative, ...] = ()


def load_monitor(path: str | Path) -> Monitor:
    """Read and check a monitor file; every mistake becomes a ConfigError naming file and key."""
    path = Path(path)
    where = str(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(where, None, "no such monitor file") from None
    except IsADirectoryError:
        raise ConfigError(where, None, "is a folder, expected a monitor file (.toml)") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(where, None, f"not valid TOML: {error}") from None
    except UnicodeDecodeError:
        raise ConfigError(where, None, "not valid TOML: the file is not UTF-8") from None
    except RecursionError:
        raise ConfigError(where, None, "not valid TOML: nested too deeply") from None

    top = _check_top(where, data)
    privacy = check_table(where, "privacy", top["privacy"], _PRIVACY)
    analysis = check_table(where, "analysis", top["analysis"], _ANALYSIS)
    demo = check_table(where, "demo", top["demo"], _DEMO)
    start = _instant(where, "start", top["start"])
    end = _instant(where, "end", top["end"], last_day=True) if top["end"] is not None else None
    if end is not None and end <= start:
        raise ConfigError(where, "end", f"expected a moment after start ({start:%Y-%m-%d}), got {end:%Y-%m-%d}")
    return Monitor(
        path=path,
        name=top["name"],
        title=top["title"] or top["name"],
        description=top["description"],
        query=_query(where, top["query"]),
        start=start,
        end=end,
        sources=_sources(where, top["sources"]),
        keep_handles=privacy["keep_handles"],
        retention_days=privacy["retention_days"],
        demo_corpus=(path.parent / demo["corpus"]).resolve() if demo["corpus"] else None,
        analysis=AnalysisSettings(**analysis),
        narratives=_narratives(where, top["narratives"]),
    )


def _check_top(where: str, data: dict[str, Any]) -> dict[str, Any]:
    for key in ("name", "query", "start"):
        if key not in data:
            raise ConfigError(where, key, f"missing; expected {_TOP_LEVEL[key].help}")
    for key in data:
        if key not in _TOP_LEVEL:
            raise ConfigError(where, key, f"unknown key (known keys: {', '.join(sorted(_TOP_LEVEL))})")
    checked = {}
    for key, spec in _TOP_LEVEL.items():
        value = data.get(key, spec.default)
        if spec.type is object or value is None:
            checked[key] = value
            continue
        if not isinstance(value, spec.type):
            kinds: dict[type, str] = {str: "a string", dict: "a table", list: "a list of tables"}
            kind = kinds[spec.type]
            raise ConfigError(where, key, f"expected {kind}, got {describe(value)}")
        checked[key] = value
    if not checked["name"].strip() or not checked["name"].replace("-", "").replace("_", "").isalnum():
        raise ConfigError(where, "name", f"expected letters, digits, '-' or '_', got {checked['name']!r}")
    return checked


def _query(where: str, text: str) -> Query:
    try:
        query = parse_query(text)
    except QuerySyntaxError as error:
        shown = text if len(text) <= 200 else text[:200] + "…"
        raise ConfigError(where, "query", f"{error} in {shown!r}") from None
    words = lowercase_operators(text)
    if words:
        log.warning(
            "%s: query: %s searched for as %s; operators are uppercase (AND, OR, NOT)",
            where,
            ", ".join(repr(w) for w in dict.fromkeys(words)),
            "a word" if len(set(words)) == 1 else "words",
        )
    return query


def _instant(where: str, key: str, value: Any, *, last_day: bool = False) -> datetime:
    """A TOML date or date-time as an aware UTC instant. A bare date means its first moment, or with
    `last_day` its last one: `end = 2024-11-26` collects 26 November too."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    if isinstance(value, date):
        if last_day:
            return datetime.combine(value, time.max, tzinfo=timezone.utc)
        return datetime.combine(value, time(0), tzinfo=timezone.utc)
    raise ConfigError(where, key, f"expected a TOML date like 2024-11-12 (no quotes), got {describe(value)}")


def _sources(where: str, table: dict[str, Any]) -> tuple[SourceSettings, ...]:
    if not table:
        raise ConfigError(where, "sources", "expected at least one [sources.<name>] table")
    result = []
    for name, options in table.items():
        if not isinstance(options, dict):
            raise ConfigError(where, f"sources.{name}", f"expected a table, got {describe(options)}")
        enabled = check_table(where, f"sources.{name}", {"enabled": options.get("enabled", True)}, _SOURCE_COMMON)
        rest = {k: v for k, v in options.items() if k != "enabled"}
        result.append(SourceSettings(name=name, enabled=enabled["enabled"], options=rest))
    return tuple(result)


def _narratives(where: str, tables: list[Any]) -> tuple[Narrative, ...]:
    narratives: list[Narrative] = []
    for index, table in enumerate(tables):
        key = f"narratives[{index}]"
        for required in ("name", "description"):
            if isinstance(table, dict) and required not in table:
                raise ConfigError(where, f"{key}.{required}", f"missing; expected {_NARRATIVE[required].help}")
        checked = check_table(where, key, table, _NARRATIVE)
        name, description = checked["name"].strip(), checked["description"].strip()
        if not name or not name.replace("-", "").replace("_", "").isalnum():
            raise ConfigError(where, f"{key}.name", f"expected letters, digits, '-' or '_', got {checked['name']!r}")
        if any(n.name == name for n in narratives):
            raise ConfigError(where, f"{key}.name", f"{name!r} is already the name of another narrative")
        if not description:
            raise ConfigError(where, f"{key}.description", "expected a sentence or two, got an empty string")
        examples = checked["examples"]
        if not all(isinstance(e, str) and e.strip() for e in examples):
            raise ConfigError(where, f"{key}.examples", "expected a list of non-empty strings")
        narratives.append(Narrative(name, description, tuple(e.strip() for e in examples), checked["threshold"]))
    return tuple(narratives)
