"""The tables, in SQLAlchemy Core so the same code runs on SQLite and PostgreSQL.

This module describes the *current* schema; `store.migrations` brings an existing database to it.
Times are stored as timezone-aware UTC (`DateTime(timezone=True)`); JSON is stored as text so
every SQL backend treats it alike.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    literal_column,
)

metadata = MetaData()

settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

posts = Table(
    "posts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform", String(32), nullable=False),
    Column("native_id", String(255), nullable=False),
    Column("url", Text),
    Column("author_hash", String(64)),
    Column("author_handle", Text),
    Column("title", Text),
    Column("text", Text, nullable=False),
    Column("platform_language", String(16)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("collected_at", DateTime(timezone=True), nullable=False),
    Column("reply_to", String(255)),
    Column("quote_of", String(255)),
    Column("thread_id", String(255)),
    Column("likes", Integer),
    Column("reposts", Integer),
    Column("replies", Integer),
    Column("raw", Text),
    Column("demo", Boolean, nullable=False, default=False),
    # Title and text folded by monitor.normalize (case, Arabic variants, marks): what search matches.
    Column("search_text", Text),
    UniqueConstraint("platform", "native_id", name="uq_posts_platform_native_id"),
    Index("ix_posts_created_at", "created_at"),
    Index("ix_posts_platform_created_at", "platform", "created_at"),
    Index("ix_posts_author_hash", "author_hash"),
)

# Likes + reposts + replies, missing counts as 0: the dashboard's "most engaged" order, indexed so the
# top of a million posts is read, not sorted.
_ZERO: ColumnElement[int] = literal_column("0")  # written into the SQL, not bound: the index matches the query's text
engagement = (
    func.coalesce(posts.c.likes, _ZERO) + func.coalesce(posts.c.reposts, _ZERO) + func.coalesce(posts.c.replies, _ZERO)
)
Index("ix_posts_engagement", engagement)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("monitor", String(128), nullable=False),
    Column("mode", String(16), nullable=False),  # "live" or "demo"
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", String(16), nullable=False),  # running, ok, partial, failed, interrupted
    Column("counts", Text, nullable=False, default="{}"),  # per source: fetched, matched, new, pages
    Column("errors", Text, nullable=False, default="[]"),
    # Who runs it, and when it last showed life: a `running` row whose process is gone is stale.
    Column("host", String(255)),
    Column("pid", Integer),
    Column("heartbeat_at", DateTime(timezone=True)),
    Index("ix_runs_monitor_started", "monitor", "started_at"),
)

run_posts = Table(
    "run_posts",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("post_id", Integer, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("source", String(32), nullable=False),
    Index("ix_run_posts_post", "post_id"),
)

# A source's opaque resume state (JSON) per search and per hash of the options that shape its
# results plus the monitor's start; "" is the key of cursors saved before keys had a hash.
cursors = Table(
    "cursors",
    metadata,
    Column("monitor", String(128), primary_key=True),
    Column("source", String(32), primary_key=True),
    Column("search", String(1024), primary_key=True),
    Column("options_key", String(64), primary_key=True),
    Column("state", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

tombstones = Table(
    "tombstones",
    metadata,
    # kind "author": value is the author's pseudonym; kind "post": value is the native id.
    Column("platform", String(32), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("value", String(255), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

post_analysis = Table(
    "post_analysis",
    metadata,
    Column("post_id", Integer, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("language", String(16), nullable=False),  # ISO 639-1, or "und"
    Column("language_score", Float),
    Column("sentiment", String(16)),  # negative / neutral / positive; NULL = unscored
    Column("sentiment_score", Float),  # -1 … 1 (P(positive) - P(negative) for classifiers); NULL = unscored
    # The classifier's calibrated probabilities; NULL for unscored posts and for lexicon backends (VADER).
    Column("sentiment_negative", Float),
    Column("sentiment_neutral", Float),
    Column("sentiment_positive", Float),
    Column("sentiment_backend", String(255), nullable=False),
    Column("analysed_at", DateTime(timezone=True), nullable=False),
    Index("ix_post_analysis_language", "language"),
    Index("ix_post_analysis_analysed_at", "analysed_at"),
)

embeddings = Table(
    "embeddings",
    metadata,
    Column("post_id", Integer, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("model", String(255), primary_key=True),
    Column("dim", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),  # float32, little-endian
)

topic_models = Table(
    "topic_models",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("monitor", String(128), nullable=False),
    Column("fitted_at", DateTime(timezone=True), nullable=False),
    Column("embedding_model", String(255), nullable=False),
    Column("n_posts", Integer, nullable=False),
    Column("n_topics", Integer, nullable=False),
    Column("settings", Text, nullable=False, default="{}"),
    # Posts given a topic from this model's centroids since it was fitted, and how many fitted none:
    # the share that fits badly is one of the reasons to refit.
    Column("assigned_since", Integer, nullable=False, default=0),
    Column("unfit_since", Integer, nullable=False, default=0),
    Index("ix_topic_models_monitor", "monitor", "fitted_at"),
)

topics = Table(
    "topics",
    metadata,
    Column("model_id", Integer, ForeignKey("topic_models.id", ondelete="CASCADE"), primary_key=True),
    Column("topic", Integer, primary_key=True),  # durable topic id (kept across refits); -1 = no topic
    Column("label", Text, nullable=False),
    Column("keywords", Text, nullable=False),  # JSON list of [word, weight]
    Column("size", Integer, nullable=False),
    Column("representative", Text, nullable=False),  # JSON list of post ids
    Column("keywords_by_language", Text, nullable=False, default="{}"),  # JSON {language: [[word, weight], …]}
    Column("languages", Text, nullable=False, default="{}"),  # JSON {language: posts}
    Column("centroid", LargeBinary),  # float32 little-endian unit vector: new posts are assigned by it
    Column("min_similarity", Float),  # a new post less similar than this to the centroid does not fit it
)

# What happened to each durable topic at each refit: born, continued, grew, merged_into, split_from, faded.
topic_events = Table(
    "topic_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("monitor", String(128), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("model_id", Integer),  # the fit that found it (fits are pruned; events stay)
    Column("topic", Integer, nullable=False),
    Column("event", String(16), nullable=False),
    Column("other_topic", Integer),  # merged_into: the topic absorbing it; split_from: the parent
    Column("size", Integer, nullable=False),
    Column("label", Text, nullable=False),
    Index("ix_topic_events_monitor", "monitor", "topic", "at"),
)

# Per-language mean vectors of a fit, subtracted before clustering so topics follow what is said
# rather than the language it is said in; new posts are centred with the same means.
topic_language_means = Table(
    "topic_language_means",
    metadata,
    Column("model_id", Integer, ForeignKey("topic_models.id", ondelete="CASCADE"), primary_key=True),
    Column("language", String(16), primary_key=True),
    Column("vector", LargeBinary, nullable=False),  # float32, little-endian
)

post_topics = Table(
    "post_topics",
    metadata,
    Column("model_id", Integer, ForeignKey("topic_models.id", ondelete="CASCADE"), primary_key=True),
    Column("post_id", Integer, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("topic", Integer, nullable=False),
    Column("probability", Float),
    Index("ix_post_topics_model_topic", "model_id", "topic"),
)

# Bursts found by analyze.spikes, recomputed by every analysis; (monitor, series, granularity, start)
# names one spike across runs. drivers, top_posts and sentiment are JSON.
spikes = Table(
    "spikes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("monitor", String(128), nullable=False),
    Column("series", String(300), nullable=False),  # all, source:<name>, language:<code>, topic:<id>, narrative:<name>
    Column("granularity", String(8), nullable=False),  # hour or day
    Column("start", DateTime(timezone=True), nullable=False),
    Column("end", DateTime(timezone=True), nullable=False),
    Column("posts", Integer, nullable=False),
    Column("baseline", Float, nullable=False),
    Column("peak", Integer, nullable=False),
    Column("drivers", Text, nullable=False, default="[]"),
    Column("top_posts", Text, nullable=False, default="{}"),
    Column("sentiment", Text, nullable=False, default="{}"),
    Column("detected_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("monitor", "series", "granularity", "start", name="uq_spikes_key"),
)

# Spikes already announced to the alert webhook: kept apart from `spikes`, which each analysis
# rewrites, so a spike is never announced twice.
spike_alerts = Table(
    "spike_alerts",
    metadata,
    Column("monitor", String(128), primary_key=True),
    Column("series", String(300), primary_key=True),
    Column("granularity", String(8), primary_key=True),
    Column("start", DateTime(timezone=True), primary_key=True),
    Column("sent_at", DateTime(timezone=True), nullable=False),
)

# What each collection and analysis run was (monitor.manifest): versions, monitor file hash and
# query, options, backends and models, parameters, seed, counts, durations. `run_id` links a
# collection manifest to its row in `runs`.
manifests = Table(
    "manifests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("monitor", String(128), nullable=False),
    Column("kind", String(16), nullable=False),  # collect or analyze
    Column("run_id", Integer),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("manifest", Text, nullable=False),  # JSON
    Index("ix_manifests_monitor_kind", "monitor", "kind", "finished_at"),
)

# Each post's similarity to each of its monitor's narratives, and whether it belongs (score at or
# above the narrative's threshold). `narrative_sets` remembers which definitions and model the
# scores were computed with, so changing either rescores everything.
post_narratives = Table(
    "post_narratives",
    metadata,
    Column("monitor", String(128), primary_key=True),
    Column("narrative", String(128), primary_key=True),
    Column("post_id", Integer, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("score", Float, nullable=False),
    Column("member", Boolean, nullable=False),
    Index("ix_post_narratives_post", "post_id"),
)

narrative_sets = Table(
    "narrative_sets",
    metadata,
    Column("monitor", String(128), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("model", String(255), nullable=False),
    Column("definitions", Text, nullable=False),  # JSON: name, description, examples, threshold
    Column("scored_at", DateTime(timezone=True), nullable=False),
)

# Post counts per monitor, UTC hour (or day) and the dashboard's dimensions, kept by store.post_counts
# so the dashboard sums a few thousand rows instead of grouping a million posts. `language` is
# "pending" for posts not analysed yet and `sentiment` "unscored" where no model judged the post, as
# the dashboard names them; `topic` is the post's topic under the monitor's latest topic model (NULL:
# none). Daily rows are sums of the hourly ones.
post_counts_hourly = Table(
    "post_counts_hourly",
    metadata,
    Column("monitor", String(128), nullable=False),
    Column("hour", String(13), nullable=False),  # "2024-11-26 08"
    Column("source", String(32), nullable=False),
    Column("language", String(16), nullable=False),
    Column("sentiment", String(16), nullable=False),
    Column("topic", Integer),
    Column("posts", Integer, nullable=False),
    Index("ix_post_counts_hourly", "monitor", "hour"),
)

post_counts_daily = Table(
    "post_counts_daily",
    metadata,
    Column("monitor", String(128), nullable=False),
    Column("day", String(10), nullable=False),  # "2024-11-26"
    Column("source", String(32), nullable=False),
    Column("language", String(16), nullable=False),
    Column("sentiment", String(16), nullable=False),
    Column("topic", Integer),
    Column("posts", Integer, nullable=False),
    Index("ix_post_counts_daily", "monitor", "day"),
)

# Hours whose counts no longer match the posts: database triggers add a row whenever a post, its
# analysis, its topic or its run links change in that hour. Readers count those hours from the posts
# themselves; store.post_counts.refresh recounts them and deletes exactly the rows it read.
post_counts_stale = Table(
    "post_counts_stale",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("hour", String(13), nullable=False),
    Index("ix_post_counts_stale_hour", "hour"),
)

# Per monitor, the topic model the counts' `topic` column follows: counts by topic are read only while
# it is still the latest model (a refit recounts everything).
post_counts_state = Table(
    "post_counts_state",
    metadata,
    Column("monitor", String(128), primary_key=True),
    Column("model_id", Integer, nullable=False),  # -1: the monitor had no topic model
    Column("counted_at", DateTime(timezone=True), nullable=False),
)

# Pairs of the monitor's posts by different authors whose embeddings are nearly the same (cosine at or
# above analyze.near_duplicates' threshold) and written close in time: the edges of near-duplicate
# groups, possible copy-paste campaigns. `post_id` < `other_id`; deleting either post deletes the pair.
similar_posts = Table(
    "similar_posts",
    metadata,
    Column("monitor", String(128), primary_key=True),
    Column("post_id", Integer, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("other_id", Integer, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("similarity", Float, nullable=False),
    Index("ix_similar_posts_other", "other_id"),
)

# How far the near-duplicate search has come per monitor and embedding model: posts with a higher id
# are compared next time (with every post near them in time, old or new).
similar_scans = Table(
    "similar_scans",
    metadata,
    Column("monitor", String(128), primary_key=True),
    Column("model", String(255), primary_key=True),
    Column("last_post_id", Integer, nullable=False),
    Column("threshold", Float, nullable=False),
    Column("scanned_at", DateTime(timezone=True), nullable=False),
)
