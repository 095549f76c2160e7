"""The dashboard's filters and the SQL they become: shared by the queries over posts and over post counts.

A `PostFilter` is what the sidebar and the URL say; `scoped` narrows a query over posts to a
monitor and a filter, joining the analysis tables only where needed. Time bins are text keys
("2024-11-26 08" for an hour, "2024-11-26" for a day, UTC) computed the same way on SQLite and
PostgreSQL, so counts read from posts and from `post_counts_*` line up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import ColumnElement, Connection, FromClause, Select, and_, func, or_, select

from monitor.normalize import normalize
from store.analysis import monitor_post_ids
from store.schema import post_analysis, post_narratives, post_topics, posts, runs
from store.topic_models import latest_topic_model

SENTIMENTS = ("negative", "neutral", "positive")
UNSCORED = "unscored"  # the sentiment filter's name for posts the model could not judge
PENDING = "pending"  # the language of a post the analysis has not reached yet


@dataclass(frozen=True)
class PostFilter:
    """The dashboard's filters; an empty tuple means "any". Days are UTC and both ends inclusive."""

    since: date | None = None
    until: date | None = None
    sources: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    topics: tuple[int, ...] = ()
    sentiments: tuple[str, ...] = ()
    q: str = ""
    # Watchlist narratives (only when the narrative analysis has written `post_narratives`).
    narratives: tuple[str, ...] = ()

    def shifted_back(self) -> PostFilter:
        """The same filter over the period of equal length just before this one (for "change vs before")."""
        if self.since is None or self.until is None:
            return self
        length = self.until - self.since + timedelta(days=1)
        return replace(self, since=self.since - length, until=self.since - timedelta(days=1))


def start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.utc)


def monitor_names(conn: Connection) -> list[str]:
    return list(conn.execute(select(runs.c.monitor).distinct().order_by(runs.c.monitor)).scalars())


def topic_model_id(conn: Connection, monitor: str) -> int:
    model = latest_topic_model(conn, monitor)
    return int(model["id"]) if model else -1


def scoped(conn: Connection, monitor: str, where: PostFilter, query: Select, model_id: int) -> Select:
    """`query` over the monitor's posts narrowed by the filter, joined to the analysis tables it uses.

    A table joins only when the query's columns or the filter need it: each join is a lookup per post.
    """
    used = set(query.columns_clause_froms)
    source: FromClause = posts
    if post_analysis in used or where.languages or where.sentiments:
        source = source.outerjoin(post_analysis, post_analysis.c.post_id == posts.c.id)
    if post_topics in used or where.topics:
        source = source.outerjoin(
            post_topics, and_(post_topics.c.post_id == posts.c.id, post_topics.c.model_id == model_id)
        )
    query = query.select_from(source)
    if monitor_names(conn) != [monitor]:  # one monitor in the store (the usual case): every post is its
        query = query.where(posts.c.id.in_(monitor_post_ids(monitor)))
    return query.where(*filter_conditions(where))


def filter_conditions(where: PostFilter) -> list[ColumnElement[bool]]:
    """The filter as SQL conditions on posts, post_analysis and post_topics (joined by the caller)."""
    conditions: list[ColumnElement[bool]] = []
    if where.since is not None:
        conditions.append(posts.c.created_at >= start_of(where.since))
    if where.until is not None:
        conditions.append(posts.c.created_at < start_of(where.until + timedelta(days=1)))
    if where.sources:
        conditions.append(posts.c.platform.in_(where.sources))
    if where.languages:
        conditions.append(_one_of(post_analysis.c.language, where.languages, none_means=PENDING))
    if where.sentiments:
        conditions.append(_one_of(post_analysis.c.sentiment, where.sentiments, none_means=UNSCORED))
    if where.topics:
        conditions.append(post_topics.c.topic.in_(where.topics))
    if where.narratives:
        members = select(post_narratives.c.post_id).where(
            post_narratives.c.narrative.in_(where.narratives), post_narratives.c.member.is_(True)
        )
        conditions.append(posts.c.id.in_(members))
    folded = normalize(where.q) if where.q else ""
    if folded:
        for word in folded.split(" "):  # every word, anywhere in the title or text
            pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            conditions.append(posts.c.search_text.like(pattern, escape="\\"))
    return conditions


def time_bin(conn: Connection, hourly: bool) -> ColumnElement[str]:
    """The UTC hour ("2024-11-26 08") or day ("2024-11-26") of each post, as text on either database."""
    if conn.dialect.name == "sqlite":
        return func.substr(posts.c.created_at, 1, 13 if hourly else 10)
    hour = func.to_char(func.timezone("UTC", posts.c.created_at), "YYYY-MM-DD HH24")
    return hour if hourly else func.substr(hour, 1, 10)


def _one_of(column: ColumnElement[str], chosen: Sequence[str], *, none_means: str) -> ColumnElement[bool]:
    """`column` is one of the chosen values, where the facet's label for a missing value (a post not
    analysed yet, or one no model could score) stands for NULL."""
    values = [value for value in chosen if value != none_means]
    options = [column.in_(values)] if values else []
    if none_means in chosen:
        options.append(column.is_(None))
    return or_(*options)
