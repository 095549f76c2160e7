"""Post counts per monitor, hour and dimension: what the dashboard's charts sum, kept in step with the posts.

`post_counts_hourly` holds, per monitor and UTC hour, how many posts have each (source, language,
sentiment, topic); `post_counts_daily` sums it per day. The dashboard sums a few thousand of these
rows where grouping a million posts would take seconds.

Always exact: database triggers (store.count_triggers) mark every hour whose posts, analysis, topics
or run links change, whoever changes them, and `counts` reads those hours from the posts themselves
while the others come from the counts. `refresh` (run by `murmur analyze`) recounts the marked hours,
and recounts a monitor entirely when its latest topic model is not the one its counts follow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import ColumnElement, Connection, Engine, Select, and_, delete, func, literal, or_, select

from store.dialect import upsert
from store.filters import PENDING, UNSCORED, PostFilter, monitor_names, scoped, time_bin, topic_model_id
from store.locks import hold
from store.schema import (
    post_analysis,
    post_counts_daily,
    post_counts_hourly,
    post_counts_stale,
    post_counts_state,
    post_topics,
    posts,
)
from store.timeutil import utc_now

DIMENSIONS = ("source", "language", "sentiment", "topic")
LOCK = "murmur:post-counts"
# Beyond this many stale hours (a refit or a bulk collection not yet recounted) reading them one by
# one from the posts costs more than counting the posts outright.
MAX_STALE_HOURS = 1500
_CHUNK = 400


def grouped(conn: Connection, monitor: str, where: PostFilter, by: Sequence[str], *, hourly: bool) -> pd.DataFrame:
    """Posts per `by` within the filter: from the counts where they can say, else from the posts."""
    found = from_counts(conn, monitor, where, by, hourly=hourly)
    return found if found is not None else from_posts(conn, monitor, where, by, hourly=hourly)


def from_posts(conn: Connection, monitor: str, where: PostFilter, by: Sequence[str], *, hourly: bool) -> pd.DataFrame:
    """Posts per `by` within the filter, grouped from the posts themselves (the counts' reference)."""
    return pd.DataFrame(
        conn.execute(_posts_query(conn, monitor, where, by, hourly, None)).all(), columns=[*by, "posts"]
    )


def from_counts(
    conn: Connection, monitor: str, where: PostFilter, by: Sequence[str], *, hourly: bool
) -> pd.DataFrame | None:
    """Posts per `by` (any of "bin" and DIMENSIONS) within the filter, or None where the counts cannot say.

    They cannot for a text search or a narrative filter (not counted), before the monitor was first
    counted, for topics after a refit not yet recounted, and with too many stale hours. Columns: `by`
    and posts; "bin" is the hour or day as text ("2024-11-26 08", "2024-11-26").
    """
    if where.q or where.narratives:
        return None
    counted_model = conn.execute(
        select(post_counts_state.c.model_id).where(post_counts_state.c.monitor == monitor)
    ).scalar()
    if counted_model is None:
        return None
    if ("topic" in by or where.topics) and counted_model != topic_model_id(conn, monitor):
        return None
    stale = _stale_hours_within(conn, where)
    if len(stale) > MAX_STALE_HOURS:
        return None
    parts = []
    if hourly:
        parts.append(_from_table(conn, post_counts_hourly, monitor, where, by, skip=stale))
    else:
        stale_days = sorted({hour[:10] for hour in stale})
        parts.append(_from_table(conn, post_counts_daily, monitor, where, by, skip=stale_days))
        if stale_days:  # the still-valid hours of those days
            parts.append(_from_table(conn, post_counts_hourly, monitor, where, by, days=stale_days, skip=stale))
    if stale:
        live = conn.execute(_posts_query(conn, monitor, where, by, hourly, stale)).all()
        parts.append(pd.DataFrame(live, columns=[*by, "posts"]))
    # One dtype per column in every part (a topic column of only NULLs is object otherwise).
    filled = [part.astype({"posts": "int64", **({"topic": "float64"} if "topic" in by else {})}) for part in parts]
    frame = pd.concat([part for part in filled if not part.empty] or filled[:1], ignore_index=True)
    if not by:
        return pd.DataFrame({"posts": [int(frame["posts"].sum())]})
    frame = frame.groupby(list(by), as_index=False, dropna=False)["posts"].sum()
    return frame[frame["posts"] > 0].reset_index(drop=True)


def _stale_hours_within(conn: Connection, where: PostFilter) -> list[str]:
    query = select(post_counts_stale.c.hour).distinct()
    if where.since is not None:
        query = query.where(post_counts_stale.c.hour >= f"{where.since.isoformat()} 00")
    if where.until is not None:
        query = query.where(post_counts_stale.c.hour < f"{(where.until + timedelta(days=1)).isoformat()} 00")
    return sorted(conn.execute(query).scalars())


def _from_table(
    conn: Connection,
    table,
    monitor: str,
    where: PostFilter,
    by: Sequence[str],
    *,
    skip: Sequence[str],
    days: Sequence[str] = (),
) -> pd.DataFrame:
    """Sums over hourly or daily rows; `days` reads hourly rows of those days and bins them by day."""
    daily_table = table is post_counts_daily
    key = table.c.day if daily_table else table.c.hour
    bin_column = func.substr(table.c.hour, 1, 10) if days else key
    columns = [(bin_column if name == "bin" else table.c[name]).label(name) for name in by]
    query = select(*columns, func.sum(table.c.posts).label("posts")).where(table.c.monitor == monitor)
    if where.since is not None:
        query = query.where(key >= (where.since.isoformat() if daily_table else f"{where.since.isoformat()} 00"))
    if where.until is not None:
        last = where.until.isoformat()
        query = query.where(key <= last if daily_table else key < f"{(where.until + timedelta(days=1)).isoformat()} 00")
    for name, chosen in (
        ("source", where.sources),
        ("language", where.languages),
        ("sentiment", where.sentiments),
        ("topic", where.topics),
    ):
        if chosen:
            query = query.where(table.c[name].in_(list(chosen)))
    if days:
        query = query.where(key >= f"{days[0]} 00", key <= f"{days[-1]} 23", func.substr(key, 1, 10).in_(list(days)))
    if skip:
        query = query.where(key.not_in(list(skip)))
    if by:
        query = query.group_by(*columns)
    rows = conn.execute(query).all()
    return pd.DataFrame(rows, columns=[*by, "posts"]).dropna(subset=["posts"])


def _dimension(conn: Connection, name: str, hourly: bool) -> ColumnElement:
    return {
        "bin": lambda: time_bin(conn, hourly),
        "source": lambda: posts.c.platform,
        "language": lambda: func.coalesce(post_analysis.c.language, literal(PENDING)),
        "sentiment": lambda: func.coalesce(post_analysis.c.sentiment, literal(UNSCORED)),
        "topic": lambda: post_topics.c.topic,
    }[name]().label(name)


def _posts_query(
    conn: Connection,
    monitor: str,
    where: PostFilter,
    by: Sequence[str],
    hourly: bool,
    hours: Sequence[str] | None,
) -> Select:
    """Counts of the monitor's posts grouped by `by`; only those of `hours` when given."""
    columns = [_dimension(conn, name, hourly) for name in by]
    query = scoped(conn, monitor, where, select(*columns, func.count().label("posts")), topic_model_id(conn, monitor))
    if hours is not None:
        spans = [and_(posts.c.created_at >= start, posts.c.created_at < end) for start, end in _spans(hours)]
        query = query.where(or_(*spans))
    return query.group_by(*columns) if columns else query


def _spans(hours: Sequence[str]) -> list[tuple[datetime, datetime]]:
    """Sorted hour keys as [start, end) instants, consecutive hours joined: each one index range."""
    spans: list[tuple[datetime, datetime]] = []
    for hour in hours:
        start = datetime.fromisoformat(f"{hour}:00+00:00")
        if spans and spans[-1][1] == start:
            spans[-1] = (spans[-1][0], start + timedelta(hours=1))
        else:
            spans.append((start, start + timedelta(hours=1)))
    return spans


@dataclass
class Recount:
    """What `refresh` did: monitors counted anew, hours recounted."""

    monitors: list[str] = field(default_factory=list)
    hours: int = 0


def refresh(engine: Engine) -> Recount:
    """Bring the counts in step with the posts: stale hours recounted, monitors after a refit recounted whole.

    Run under a lock so two refreshes take turns; writers carry on meanwhile (a stale mark this
    refresh did not read stays for the next one).
    """
    done = Recount()
    with hold(engine, LOCK), engine.begin() as conn:
        monitors = monitor_names(conn)
        for table in (post_counts_hourly, post_counts_daily, post_counts_state):
            conn.execute(delete(table).where(table.c.monitor.not_in(monitors)))
        for monitor in monitors:
            model_id = topic_model_id(conn, monitor)
            counted = conn.execute(
                select(post_counts_state.c.model_id).where(post_counts_state.c.monitor == monitor)
            ).scalar()
            if counted != model_id:
                _count_monitor(conn, monitor, model_id)
                done.monitors.append(monitor)
        marks = conn.execute(select(post_counts_stale.c.id, post_counts_stale.c.hour)).all()
        hours = sorted({mark.hour for mark in marks})
        for start in range(0, len(hours), _CHUNK):
            _recount_hours(conn, monitors, hours[start : start + _CHUNK])
        ids = [mark.id for mark in marks]
        for start in range(0, len(ids), _CHUNK):
            conn.execute(delete(post_counts_stale).where(post_counts_stale.c.id.in_(ids[start : start + _CHUNK])))
        done.hours = len(hours)
    return done


def _insert_hourly(conn: Connection, monitor: str, hours: Sequence[str] | None) -> None:
    query = _posts_query(conn, monitor, PostFilter(), ("bin", *DIMENSIONS), True, hours)
    counted = query.add_columns(literal(monitor).label("monitor"))
    names = ["hour", *DIMENSIONS, "posts", "monitor"]
    conn.execute(post_counts_hourly.insert().from_select(names, counted))


def _insert_daily(conn: Connection, monitor: str, days: Sequence[str] | None) -> None:
    hourly = post_counts_hourly
    day = func.substr(hourly.c.hour, 1, 10)
    dimensions = [hourly.c[name] for name in DIMENSIONS]
    query = select(literal(monitor), day, *dimensions, func.sum(hourly.c.posts)).where(hourly.c.monitor == monitor)
    if days is not None:
        query = query.where(hourly.c.hour >= f"{days[0]} 00", hourly.c.hour <= f"{days[-1]} 23", day.in_(list(days)))
    names = ["monitor", "day", *DIMENSIONS, "posts"]
    conn.execute(post_counts_daily.insert().from_select(names, query.group_by(day, *dimensions)))


def _count_monitor(conn: Connection, monitor: str, model_id: int) -> None:
    for table in (post_counts_hourly, post_counts_daily):
        conn.execute(delete(table).where(table.c.monitor == monitor))
    _insert_hourly(conn, monitor, None)
    _insert_daily(conn, monitor, None)
    statement = upsert(conn, post_counts_state).values(monitor=monitor, model_id=model_id, counted_at=utc_now())
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[post_counts_state.c.monitor],
            set_={"model_id": statement.excluded.model_id, "counted_at": statement.excluded.counted_at},
        )
    )


def _recount_hours(conn: Connection, monitors: Sequence[str], hours: Sequence[str]) -> None:
    days = sorted({hour[:10] for hour in hours})
    conn.execute(delete(post_counts_hourly).where(post_counts_hourly.c.hour.in_(list(hours))))
    conn.execute(delete(post_counts_daily).where(post_counts_daily.c.day.in_(days)))
    for monitor in monitors:
        _insert_hourly(conn, monitor, hours)
        _insert_daily(conn, monitor, days)
