"""Read-only queries for the dashboard: every aggregation happens here, in SQL, and comes back small.

The dashboard never writes and never imports collect/ or analyze/; everything it shows comes
through these functions. Each takes the monitor and a `PostFilter` (the dashboard's filters) and
returns a pandas frame of counts, or one page of posts: nothing here reads every post into memory.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import (
    Connection,
    case,
    distinct,
    func,
    literal,
    or_,
    select,
)

from store import post_counts, schema, similar_posts
from store.analysis import monitor_post_ids
from store.filters import (
    PENDING,
    UNSCORED,
    PostFilter,
    monitor_names,
    scoped,
    start_of,
    time_bin,
    topic_model_id,
)
from store.health import classify
from store.manifests import recent_manifests
from store.schema import (
    post_analysis,
    post_counts_stale,
    post_counts_state,
    post_narratives,
    post_topics,
    posts,
    run_posts,
    runs,
    spikes,
    topic_events,
    topics,
)
from store.timeutil import as_utc
from store.topic_models import latest_topic_model


def data_version(conn: Connection, monitor: str) -> tuple[Any, ...]:
    """What changes when a run lands or an analysis writes: the dashboard's caches are keyed on it."""
    run = conn.execute(select(func.max(runs.c.id), func.max(runs.c.finished_at)).where(runs.c.monitor == monitor)).one()
    model = latest_topic_model(conn, monitor)
    analysed = conn.execute(select(func.max(post_analysis.c.analysed_at))).scalar()
    # Posts forgotten or deleted mark their hours stale; a recount clears the marks and stamps the state.
    stale = conn.execute(select(func.max(post_counts_stale.c.id))).scalar()
    counted = conn.execute(select(func.max(post_counts_state.c.counted_at))).scalar()
    return (run[0], str(run[1]), model["id"] if model else None, str(analysed), stale, str(counted))


def is_demo(conn: Connection, monitor: str) -> bool:
    """Whether the monitor's posts came from the bundled demo corpus (some run of it was a demo run)."""
    return (
        conn.execute(select(runs.c.id).where(runs.c.monitor == monitor, runs.c.mode == "demo").limit(1)).first()
        is not None
    )


def _as_instants(values: pd.Series) -> pd.Series:
    """Bins from `_time_bin` as UTC timestamps (SQLite returns '2024-11-26 08' or '2024-11-26')."""
    if values.empty:
        return pd.to_datetime(values, utc=True)
    if isinstance(values.iloc[0], str):
        values = values.map(lambda v: v + ":00" if len(v) == 13 else v)
    return pd.to_datetime(values, utc=True)


def facets(conn: Connection, monitor: str, daily: pd.DataFrame | None = None) -> dict[str, Any]:
    """What the filters offer: the date range, sources and languages (with post counts), topics.

    `daily` (the unfiltered `counts_over_time` by day, which the Overview draws anyway) already holds
    the range and the counts; without it they are read with one pass per index.
    """
    model_id = topic_model_id(conn, monitor)
    labels = conn.execute(
        select(topics.c.topic, topics.c.label)
        .where(topics.c.model_id == model_id, topics.c.topic >= 0)
        .order_by(topics.c.topic)
    ).all()
    found = _counts_from(daily) if daily is not None else _counted_facets(conn, monitor, model_id)
    return {**found, "topics": {int(row[0]): row[1] for row in labels}}


def _counts_from(daily: pd.DataFrame) -> dict[str, Any]:
    def ranked(column: str) -> dict[str, int]:
        return {k: int(v) for k, v in daily.groupby(column)["posts"].sum().sort_values(ascending=False).items()}

    return {
        "posts": int(daily["posts"].sum()),
        "first": daily["bin"].min().date() if not daily.empty else None,
        "last": daily["bin"].max().date() if not daily.empty else None,
        "sources": ranked("source"),
        "languages": ranked("language"),
    }


def _counted_facets(conn: Connection, monitor: str, model_id: int) -> dict[str, Any]:
    everything = PostFilter()
    first, last, total = conn.execute(
        scoped(
            conn,
            monitor,
            everything,
            select(func.min(posts.c.created_at), func.max(posts.c.created_at), func.count()),
            model_id,
        )
    ).one()
    sources = conn.execute(
        scoped(conn, monitor, everything, select(posts.c.platform, func.count()), model_id)
        .group_by(posts.c.platform)
        .order_by(func.count().desc())
    ).all()
    languages = select(post_analysis.c.language, func.count()).group_by(post_analysis.c.language)
    if monitor_names(conn) != [monitor]:
        languages = languages.where(post_analysis.c.post_id.in_(monitor_post_ids(monitor)))
    by_language = {row[0]: int(row[1]) for row in conn.execute(languages)}
    if int(total) > sum(by_language.values()):
        by_language[PENDING] = int(total) - sum(by_language.values())
    return {
        "posts": int(total),
        "first": as_utc(_instant(first)).date() if first else None,
        "last": as_utc(_instant(last)).date() if last else None,
        "sources": {row[0]: int(row[1]) for row in sources},
        "languages": dict(sorted(by_language.items(), key=lambda item: -item[1])),
    }


def _instant(value: datetime | str) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def counts_over_time(conn: Connection, monitor: str, where: PostFilter, *, hourly: bool) -> pd.DataFrame:
    """Posts per time bin × source × language × sentiment: every Overview chart is a sum over this.

    Columns: bin (UTC timestamp), source, language, sentiment, posts.
    """
    frame = post_counts.grouped(conn, monitor, where, ("bin", "source", "language", "sentiment"), hourly=hourly)
    frame["bin"] = _as_instants(frame["bin"])
    return frame.astype({"posts": int})


def post_count(conn: Connection, monitor: str, where: PostFilter) -> int:
    frame = post_counts.grouped(conn, monitor, where, (), hourly=False)
    return int(frame["posts"].sum())


def topic_counts(conn: Connection, monitor: str, where: PostFilter, *, hourly: bool) -> pd.DataFrame:
    """Posts per time bin × topic of the latest model (posts without a topic left out).

    Columns: bin, topic, posts.
    """
    frame = post_counts.grouped(conn, monitor, where, ("bin", "topic"), hourly=hourly)
    frame = frame[frame["topic"].notna()].reset_index(drop=True)
    frame["bin"] = _as_instants(frame["bin"])
    return frame.astype({"topic": int, "posts": int})


def topic_breakdown(conn: Connection, monitor: str, where: PostFilter) -> pd.DataFrame:
    """Posts per topic × source × language × sentiment, for the topic table and its breakdowns.

    Columns: topic, source, language, sentiment, posts.
    """
    frame = post_counts.grouped(conn, monitor, where, ("topic", "source", "language", "sentiment"), hourly=False)
    frame = frame[frame["topic"].notna()].reset_index(drop=True)
    return frame.astype({"topic": int, "posts": int})


def topic_frame(conn: Connection, monitor: str) -> pd.DataFrame:
    """The latest topic model's topics: topic (durable number), label, keywords (list of words), size,
    representative (post ids across languages), keywords_by_language ({language: [words]}),
    languages ({language: posts})."""
    model = latest_topic_model(conn, monitor)
    columns = ["topic", "label", "keywords", "size", "representative", "keywords_by_language", "languages"]
    if not model:
        return pd.DataFrame(columns=columns)
    rows = conn.execute(select(topics).where(topics.c.model_id == model["id"]).order_by(topics.c.topic)).all()
    return pd.DataFrame(
        [
            (
                r.topic,
                r.label,
                [w for w, _ in json.loads(r.keywords)],
                r.size,
                json.loads(r.representative),
                {lang: [w for w, _ in words] for lang, words in json.loads(r.keywords_by_language).items()},
                json.loads(r.languages),
            )
            for r in rows
        ],
        columns=columns,
    )


def topic_model_info(conn: Connection, monitor: str) -> dict | None:
    """When the latest topic model was fitted, on how many posts, with which embeddings."""
    return latest_topic_model(conn, monitor)


POST_COLUMNS = [
    "id",
    "created_at",
    "source",
    "language",
    "sentiment",
    "topic",
    "author",
    "likes",
    "reposts",
    "replies",
    "engagement",
    "title",
    "text",
    "url",
]


def post_page(
    conn: Connection,
    monitor: str,
    where: PostFilter,
    *,
    sort: str = "newest",
    limit: int = 50,
    offset: int = 0,
    ids: Sequence[int] | None = None,
) -> pd.DataFrame:
    """One page of the filtered posts with their analysis, newest first or most engaged first.

    `ids` narrows to given posts (a topic's representatives, a copy-paste group). Authors are the
    stored pseudonym only; `engagement` is likes + reposts + replies (missing counts as 0).
    """
    model_id = topic_model_id(conn, monitor)
    engagement = schema.engagement.label("engagement")
    query = scoped(
        conn,
        monitor,
        where,
        select(
            posts.c.id,
            posts.c.created_at,
            posts.c.platform,
            func.coalesce(post_analysis.c.language, literal(PENDING)),
            func.coalesce(post_analysis.c.sentiment, literal(UNSCORED)),
            post_topics.c.topic,
            posts.c.author_hash,
            posts.c.likes,
            posts.c.reposts,
            posts.c.replies,
            engagement,
            posts.c.title,
            posts.c.text,
            posts.c.url,
        ),
        model_id,
    )
    if ids is not None:
        query = query.where(posts.c.id.in_(list(ids)))
    order = (
        [schema.engagement.desc(), posts.c.id.desc()]
        if sort == "engagement"
        else [posts.c.created_at.desc(), posts.c.id.desc()]
    )
    rows = conn.execute(query.order_by(*order).limit(limit).offset(offset)).all()
    frame = pd.DataFrame(rows, columns=POST_COLUMNS)
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    frame["topic"] = frame["topic"].astype("Int64")
    frame["author"] = frame["author"].map(pseudonym)
    return frame


def topic_sentiment_by_day(conn: Connection, monitor: str) -> pd.DataFrame:
    """Sentiment per topic per day under the latest topic model, aggregated in SQL.

    Columns: day (UTC date), topic (durable number, -1 = no topic), posts, scored, mean_score
    (mean of scored posts, -1 … 1), negative, neutral, positive (post counts).
    """
    columns = ["day", "topic", "posts", "scored", "mean_score", "negative", "neutral", "positive"]
    model = latest_topic_model(conn, monitor)
    if not model:
        return pd.DataFrame(columns=columns)
    day = func.date(posts.c.created_at).label("day")
    query = (
        select(
            day,
            post_topics.c.topic,
            func.count().label("posts"),
            func.count(post_analysis.c.sentiment_score).label("scored"),
            func.avg(post_analysis.c.sentiment_score).label("mean_score"),
            *(
                func.sum(case((post_analysis.c.sentiment == label, 1), else_=0)).label(label)
                for label in ("negative", "neutral", "positive")
            ),
        )
        .select_from(post_topics)
        .join(posts, posts.c.id == post_topics.c.post_id)
        .outerjoin(post_analysis, post_analysis.c.post_id == post_topics.c.post_id)
        .where(post_topics.c.model_id == model["id"])
        .group_by(day, post_topics.c.topic)
        .order_by(day, post_topics.c.topic)
    )
    frame = pd.DataFrame(conn.execute(query).all(), columns=columns)
    frame["day"] = pd.to_datetime(frame["day"], utc=True)
    return frame


def topic_sources_and_languages(conn: Connection, monitor: str) -> pd.DataFrame:
    """Posts per topic, platform and language under the latest topic model, counted in SQL.

    Columns: topic (durable number, -1 = no topic), platform, language ("pending" if not analysed), posts.
    """
    columns = ["topic", "platform", "language", "posts"]
    model = latest_topic_model(conn, monitor)
    if not model:
        return pd.DataFrame(columns=columns)
    language = func.coalesce(post_analysis.c.language, "pending").label("language")
    query = (
        select(post_topics.c.topic, posts.c.platform, language, func.count().label("posts"))
        .select_from(post_topics)
        .join(posts, posts.c.id == post_topics.c.post_id)
        .outerjoin(post_analysis, post_analysis.c.post_id == post_topics.c.post_id)
        .where(post_topics.c.model_id == model["id"])
        .group_by(post_topics.c.topic, posts.c.platform, language)
        .order_by(post_topics.c.topic, posts.c.platform, language)
    )
    return pd.DataFrame(conn.execute(query).all(), columns=columns)


def topic_lineage(conn: Connection, monitor: str) -> pd.DataFrame:
    """Every topic's history, oldest first: at, topic, event, other_topic, size, label.

    Events: born, continued, grew, merged_into (other_topic absorbed it), split_from (other_topic
    was its parent), faded.
    """
    columns = ["at", "topic", "event", "other_topic", "size", "label"]
    rows = conn.execute(
        select(*(topic_events.c[c] for c in columns))
        .where(topic_events.c.monitor == monitor)
        .order_by(topic_events.c.at, topic_events.c.id)
    ).all()
    frame = pd.DataFrame(rows, columns=columns)
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    frame["other_topic"] = frame["other_topic"].astype("Int64")
    return frame


def pseudonym(author_hash: str | None) -> str:
    """The short name an author is shown by: a prefix of the store's keyed hash, never the handle."""
    return f"author-{author_hash[:8]}" if author_hash else "—"


def top_authors(conn: Connection, monitor: str, where: PostFilter, limit: int = 25) -> pd.DataFrame:
    """The most active pseudonymous authors: posts, languages, sources, first and last seen.

    Two passes: the busiest authors by a count alone (the author index, no join where the filter
    needs none), then the details of those few.
    """
    model_id = topic_model_id(conn, monitor)
    busiest = (
        scoped(conn, monitor, where, select(posts.c.author_hash), model_id)
        .where(posts.c.author_hash.is_not(None))
        .group_by(posts.c.author_hash)
        .order_by(func.count().desc(), posts.c.author_hash)
        .limit(limit)
    )
    chosen = list(conn.execute(busiest).scalars())
    details = scoped(
        conn,
        monitor,
        where,
        select(
            posts.c.author_hash,
            func.count(),
            func.count(distinct(post_analysis.c.language)),
            func.count(distinct(posts.c.platform)),
            func.min(posts.c.created_at),
            func.max(posts.c.created_at),
        ),
        model_id,
    )
    found = {
        row[0]: row
        for row in conn.execute(details.where(posts.c.author_hash.in_(chosen)).group_by(posts.c.author_hash))
    }
    frame = pd.DataFrame(
        [tuple(found[author]) for author in chosen if author in found],
        columns=["author", "posts", "languages", "sources", "first seen", "last seen"],
    )
    frame["author"] = frame["author"].map(pseudonym)
    frame["first seen"] = pd.to_datetime(frame["first seen"], utc=True)
    frame["last seen"] = pd.to_datetime(frame["last seen"], utc=True)
    return frame


def copy_paste_groups(
    conn: Connection, monitor: str, where: PostFilter, *, min_authors: int = 2, min_length: int = 30, limit: int = 20
) -> pd.DataFrame:
    """Groups of posts whose folded text is identical, written by different authors.

    Folding (case, marks, Arabic variants, spacing: monitor.normalize) makes "near-identical" posts
    fall together; a group of several authors is a possible copy-paste campaign. Short texts are left
    out (many people write "wow"). Columns: text, posts, authors, sources, first, last, post_ids.
    """
    model_id = topic_model_id(conn, monitor)
    query = scoped(
        conn,
        monitor,
        where,
        select(
            posts.c.search_text,
            func.count(),
            func.count(distinct(posts.c.author_hash)),
            func.count(distinct(posts.c.platform)),
            func.min(posts.c.created_at),
            func.max(posts.c.created_at),
            func.min(posts.c.id),
        ),
        model_id,
    )
    rows = conn.execute(
        query.where(func.length(posts.c.search_text) >= min_length)
        .group_by(posts.c.search_text)
        .having(func.count(distinct(posts.c.author_hash)) >= min_authors)
        .order_by(func.count(distinct(posts.c.author_hash)).desc(), func.count().desc())
        .limit(limit)
    ).all()
    frame = pd.DataFrame(rows, columns=["text", "posts", "authors", "sources", "first", "last", "example_id"])
    frame["first"] = pd.to_datetime(frame["first"], utc=True)
    frame["last"] = pd.to_datetime(frame["last"], utc=True)
    return frame


def near_duplicate_groups(conn: Connection, monitor: str, where: PostFilter, limit: int = 20) -> pd.DataFrame:
    """Groups of near-identical posts by embedding similarity, from different authors (store.similar_posts)."""
    return similar_posts.near_duplicate_groups(conn, monitor, where, limit=limit)


def group_post_ids(conn: Connection, monitor: str, where: PostFilter, folded_text: str, limit: int = 200) -> list[int]:
    """The posts of one copy-paste group (same folded text), newest first."""
    model_id = topic_model_id(conn, monitor)
    query = scoped(conn, monitor, where, select(posts.c.id), model_id).where(posts.c.search_text == folded_text)
    return list(conn.execute(query.order_by(posts.c.created_at.desc()).limit(limit)).scalars())


def spike_marks(conn: Connection, monitor: str, where: PostFilter, *, hourly: bool) -> pd.DataFrame:
    """Spikes of the whole volume (series "all") and of each source ("source:<name>") found at this bin
    size within the filter's days; with a source filter, only those sources' spikes and the whole's.

    Columns: start, end, posts, baseline, explanation (the drivers that rose most, as text), source
    (None for the whole volume).
    """
    columns = ["start", "end", "posts", "baseline", "explanation", "source"]
    wanted = [spikes.c.series == "all"]
    if where.sources:
        wanted.append(spikes.c.series.in_([f"source:{name}" for name in where.sources]))
    else:
        wanted.append(spikes.c.series.like("source:%"))
    query = select(
        spikes.c.start, spikes.c.end, spikes.c.posts, spikes.c.baseline, spikes.c.drivers, spikes.c.series
    ).where(spikes.c.monitor == monitor, spikes.c.granularity == ("hour" if hourly else "day"), or_(*wanted))
    if where.since is not None:
        query = query.where(spikes.c.start >= start_of(where.since))
    if where.until is not None:
        query = query.where(spikes.c.start < start_of(where.until + timedelta(days=1)))
    rows = [
        (
            r.start,
            r.end,
            r.posts,
            r.baseline,
            _explain(r.drivers),
            r.series.removeprefix("source:") if r.series != "all" else None,
        )
        for r in conn.execute(query.order_by(spikes.c.start, spikes.c.series))
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame["start"] = pd.to_datetime(frame["start"], utc=True)
    frame["end"] = pd.to_datetime(frame["end"], utc=True)
    return frame


def _explain(drivers: str | None) -> str:
    """ "topic: unpaid labour 42% (before 8%); language: ar 30% (before 5%)" from the stored drivers."""
    try:
        found = json.loads(drivers or "[]")
    except ValueError:
        return ""
    parts = []
    for driver in found[:3] if isinstance(found, list) else []:
        if isinstance(driver, dict):
            share, before = driver.get("share"), driver.get("share_before")
            rise = (
                f" {share:.0%} (before {before:.0%})"
                if isinstance(share, float | int) and isinstance(before, float | int)
                else ""
            )
            parts.append(f"{driver.get('kind', '')}: {driver.get('label', driver.get('value', ''))}{rise}")
    return "; ".join(parts)


def narrative_names(conn: Connection, monitor: str) -> list[str]:
    """The watchlist narratives the narrative analysis has matched posts to."""
    return list(
        conn.execute(
            select(post_narratives.c.narrative)
            .where(post_narratives.c.monitor == monitor)
            .distinct()
            .order_by(post_narratives.c.narrative)
        ).scalars()
    )


def narrative_counts(conn: Connection, monitor: str, where: PostFilter, *, hourly: bool) -> pd.DataFrame:
    """Posts per time bin and narrative (members only), within the filters. Columns: bin, narrative, posts."""
    model_id = topic_model_id(conn, monitor)
    when = time_bin(conn, hourly).label("bin")
    query = scoped(conn, monitor, where, select(when, post_narratives.c.narrative, func.count()), model_id)
    query = query.where(
        post_narratives.c.post_id == posts.c.id,
        post_narratives.c.monitor == monitor,
        post_narratives.c.member.is_(True),
    )
    rows = conn.execute(query.group_by(when, post_narratives.c.narrative)).all()
    frame = pd.DataFrame(rows, columns=["bin", "narrative", "posts"])
    frame["bin"] = _as_instants(frame["bin"])
    return frame.astype({"posts": int})


def run_post_counts(conn: Connection, monitor: str, limit: int = 10) -> dict[int, int]:
    """How many posts each of the newest runs found (new or seen again)."""
    newest = select(runs.c.id).where(runs.c.monitor == monitor).order_by(runs.c.id.desc()).limit(limit)
    rows = conn.execute(
        select(run_posts.c.run_id, func.count()).where(run_posts.c.run_id.in_(newest)).group_by(run_posts.c.run_id)
    ).all()
    return {int(r[0]): int(r[1]) for r in rows}


def recent_runs(conn: Connection, monitor: str, limit: int = 10) -> pd.DataFrame:
    rows = conn.execute(
        select(runs).where(runs.c.monitor == monitor).order_by(runs.c.started_at.desc()).limit(limit)
    ).all()
    records = []
    for r in rows:
        counts = json.loads(r.counts or "{}")
        records.append(
            {
                "started": r.started_at,
                "finished": r.finished_at,
                "mode": r.mode,
                "status": r.status,
                "new posts": sum(c.get("new", 0) for c in counts.values()),
                "sources": ", ".join(sorted(counts)) or "—",
                "errors": len(json.loads(r.errors or "[]")),
            }
        )
    return pd.DataFrame(records, columns=["started", "finished", "mode", "status", "new posts", "sources", "errors"])


def last_collected(conn: Connection, monitor: str) -> datetime | None:
    return conn.execute(select(func.max(runs.c.finished_at)).where(runs.c.monitor == monitor)).scalar()


@dataclass(frozen=True)
class SourceRun:
    """One source's part in one run, with its health as `store.health.classify` judges it."""

    source: str
    health: str
    pages: int
    failed_pages: int
    fetched: int
    matched: int
    new: int
    updated: int
    error: str | None


@dataclass(frozen=True)
class RunSummary:
    id: int
    monitor: str
    mode: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    sources: list[SourceRun]
    errors: list[str]

    @property
    def seconds(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None


def run_summaries(conn: Connection, monitor: str | None = None, limit: int = 10) -> list[RunSummary]:
    """The newest runs (of one monitor, or of all), each with its per-source health."""
    query = select(runs).order_by(runs.c.started_at.desc(), runs.c.id.desc()).limit(limit)
    if monitor is not None:
        query = query.where(runs.c.monitor == monitor)
    return [
        RunSummary(
            id=r.id,
            monitor=r.monitor,
            mode=r.mode,
            status=r.status,
            started_at=as_utc(r.started_at),
            finished_at=as_utc(r.finished_at) if r.finished_at else None,
            sources=[_source_run(name, tally) for name, tally in sorted(json.loads(r.counts or "{}").items())],
            errors=json.loads(r.errors or "[]"),
        )
        for r in conn.execute(query)
    ]


def _source_run(source: str, tally: dict) -> SourceRun:
    return SourceRun(
        source=source,
        health=classify(tally)[0],
        **{key: int(tally.get(key) or 0) for key in ("pages", "failed_pages", "fetched", "matched", "new", "updated")},
        error=tally.get("error"),
    )


MANIFEST_COLUMNS = ["kind", "run", "finished", "seconds", "murmur", "commit", "monitor file", "what", "manifest"]


def run_manifest_table(conn: Connection, monitor: str, limit: int = 20) -> pd.DataFrame:
    """The newest collection and analysis manifests: what ran, with which Murmur, monitor file and models.

    Columns: kind, run (the collection run's id), finished, seconds, murmur (version), commit,
    monitor file (sha256 prefix), what (sources, or backends, seed and counts), manifest (the JSON).
    """
    records = []
    for stored in recent_manifests(conn, monitor, limit=limit):
        manifest = stored.manifest
        murmur, definition = manifest.get("murmur") or {}, manifest.get("monitor") or {}
        records.append(
            {
                "kind": stored.kind,
                "run": stored.run_id,
                "finished": stored.finished_at,
                "seconds": round(stored.seconds, 1),
                "murmur": murmur.get("version"),
                "commit": (murmur.get("commit") or "")[:12] or None,
                "monitor file": (definition.get("sha256") or "")[:12] or None,
                "what": _manifest_summary(manifest),
                "manifest": json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True, default=str),
            }
        )
    frame = pd.DataFrame(records, columns=MANIFEST_COLUMNS)
    frame["run"] = frame["run"].astype("Int64")
    return frame


def _manifest_summary(manifest: dict[str, Any]) -> str:
    """ "sources: hackernews, mastodon" for a collection; backends, seed and counts for an analysis."""
    if manifest.get("kind") == "analyze":
        backends, counts = manifest.get("backends") or {}, manifest.get("counts") or {}
        parts = [f"{step} {name}" for step, name in backends.items() if name]
        parts.append(f"seed {manifest.get('seed')}")
        parts.extend(f"{key} {value}" for key, value in counts.items() if isinstance(value, int) and value)
        return " · ".join(parts)
    sources = manifest.get("sources") or {}
    enabled = [name for name, options in sources.items() if not isinstance(options, dict) or options.get("enabled")]
    return "sources: " + (", ".join(enabled) or "—")
