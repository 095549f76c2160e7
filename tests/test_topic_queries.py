"""Topic figures the dashboard reads, aggregated in SQL; and the schema step that added them."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from sqlalchemy import inspect

from store import queries
from store.db import open_store
from store.migrations import CURRENT_VERSION, stored_version
from store.schema import metadata
from store.topic_models import TopicEvent, TopicRecord, load_centroids, save_topic_model
from tests.seed import MONITOR, POSTS, seed_store
from tests.store_versions import back_to_version_1


def test_sentiment_by_topic_and_day_is_counted_in_sql(engine):
    seed_store(engine)
    with engine.connect() as conn:
        frame = queries.topic_sentiment_by_day(conn, MONITOR)
    day = frame[(frame["topic"] == 0) & (frame["day"] == datetime(2024, 11, 26, tzinfo=UTC))].iloc[0]
    # Three scored English posts (negative, negative, neutral) and one unscored Arabic one.
    assert (day["posts"], day["scored"], day["negative"], day["neutral"], day["positive"]) == (4, 3, 2, 1, 0)
    assert round(day["mean_score"], 3) == -0.4
    assert frame["posts"].sum() == len(POSTS)


def test_topics_by_source_and_language_are_counted_in_sql(engine):
    seed_store(engine)
    with engine.connect() as conn:
        frame = queries.topic_sources_and_languages(conn, MONITOR)
    first = {row.language: row.posts for row in frame[frame["topic"] == 0].itertuples()}
    languages = [row[1] for row in POSTS if row[3] == 0]
    assert first == {language: languages.count(language) for language in set(languages)}
    assert set(frame["platform"]) == {"hackernews"}


def test_lineage_and_centroids_round_trip_through_the_store(engine):
    centre = np.arange(4, dtype=np.float32) / np.linalg.norm(np.arange(4))
    with engine.begin() as conn:
        model_id = save_topic_model(
            conn,
            monitor=MONITOR,
            embedding_model="m",
            settings={},
            topic_records=[
                TopicRecord(7, "pay", [("pay", 0.5)], 3, [1], {"en": [("pay", 0.5)]}, {"en": 3}, centre, 0.4)
            ],
            language_means={"en": np.ones(4, np.float32)},
            events=[TopicEvent(7, "split_from", 3, "pay", other=2), TopicEvent(2, "faded", 0, "old")],
        )
        centroids = load_centroids(conn, model_id)
        lineage = queries.topic_lineage(conn, MONITOR)
        topics = queries.topic_frame(conn, MONITOR)
    assert centroids.topics.tolist() == [7] and np.allclose(centroids.vectors[0], centre)
    assert centroids.min_similarity.tolist() == [np.float32(0.4)] and set(centroids.language_means) == {"en"}
    assert next(zip(lineage["topic"], lineage["event"], lineage["other_topic"], strict=True)) == (7, "split_from", 2)
    assert topics.iloc[0]["keywords_by_language"] == {"en": ["pay"]} and topics.iloc[0]["languages"] == {"en": 3}


def test_a_store_from_before_durable_topics_is_upgraded(tmp_path):
    url = f"sqlite:///{tmp_path / 'v1.db'}"
    engine = open_store(url)
    with engine.begin() as conn:
        back_to_version_1(conn)
    engine.dispose()
    engine = open_store(url)
    with engine.connect() as conn:
        assert stored_version(conn) == CURRENT_VERSION
        found = inspect(conn)
        for table in ("topics", "topic_models", "topic_events", "topic_language_means"):
            assert {c["name"] for c in found.get_columns(table)} == set(metadata.tables[table].columns.keys())
    engine.dispose()
