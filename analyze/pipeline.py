"""The incremental analysis of one monitor: only what is new is computed, results go to the store.

Order matters and each step commits in batches, so an interrupted run keeps what it finished:
1. language and sentiment for posts that have none yet (sentiment reads the post with the
   monitor's own query words masked, so "leak" does not make every post negative);
2. embeddings for posts not yet embedded with the configured model (a post is never embedded twice),
   also of the masked text: the query's words are in every post and say nothing about its topic,
   and the default encoder then reuses the vectors the sentiment step just computed;
3. topics: new posts join the saved topics by their centroids; a refit happens only when due
   (analyze.topic_refresh says when), and keeps each topic's durable number.
4. narratives: every embedded post scored against each of the monitor's narratives (all posts again
   when the narratives or the model changed);
   then near-duplicate posts: those embedded since the last search, compared by cosine with the posts
   written near them (analyze.near_duplicates);
5. spikes, recomputed over all the monitor's posts (cheap: counting), explained by the slices above;
6. the dashboard's post counts (store.post_counts): the hours whose posts changed are recounted.
Models are loaded only when a step has work for them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Engine

from analyze.embeddings import EmbeddingBackend
from analyze.language import detect_languages
from analyze.narratives import fingerprint, narrative_vectors, score, threshold_for
from analyze.near_duplicates import find_near_duplicates
from analyze.sentiment import SentimentBackend
from analyze.spikes import detect_spikes, typicality_from
from analyze.text import model_text, term_masker
from analyze.topic_refresh import update_topics
from monitor.config import Monitor
from monitor.query import Query
from store.analysis import (
    PostVerdict,
    posts_without_embedding,
    posts_without_verdict,
    save_embeddings,
    save_verdicts,
    vectors_of,
)
from store.narratives import (
    forget_narratives,
    memberships,
    record_definitions,
    save_scores,
    scored_post_ids,
    stored_fingerprint,
)
from store.post_counts import refresh as refresh_post_counts
from store.spikes import save_spikes, spike_events
from store.topic_models import embedded_post_ids

log = logging.getLogger(__name__)
BATCH = 256
T = TypeVar("T")

# Reports progress as (step name, done, total).
Progress = Callable[[str, int, int], None]


@dataclass
class AnalysisReport:
    analyzed: int = 0
    unscored: int = 0
    embedded: int = 0
    topics: int | None = None  # None: no refit this time
    topic_posts: int = 0
    placed: int = 0  # new posts given a topic from the saved centroids
    refit_reason: str | None = None
    narrative_posts: int = 0  # posts scored against the narratives this time
    spikes: int = 0


def analyze_monitor(
    engine: Engine,
    monitor: Monitor,
    sentiment: Callable[[], SentimentBackend],
    embedder: Callable[[], EmbeddingBackend],
    embedding_name: str,
    progress: Progress = lambda step, done, total: None,
    refit: bool = False,
) -> AnalysisReport:
    """Run the three steps; `sentiment` and `embedder` are factories, called only when needed.

    `refit` refits the topics even when no rule calls for it.
    """
    report = AnalysisReport()
    embedder = _once(embedder)
    _judge_posts(engine, monitor, sentiment, progress, report)
    _embed_posts(engine, monitor, embedder, embedding_name, progress, report)
    update = update_topics(
        engine,
        monitor.name,
        embedding_name,
        min_topic_size=monitor.analysis.min_topic_size,
        stop_words=sorted(query_words(monitor.query)),
        refit=refit,
        seed=monitor.analysis.seed,
        progress=progress,
    )
    report.placed = update.placed
    if update.refit is not None and update.posts:
        report.topics, report.topic_posts, report.refit_reason = update.topics, update.posts, update.refit
    _score_narratives(engine, monitor, embedder, embedding_name, progress, report)
    progress("near duplicates", 0, 1)
    find_near_duplicates(engine, monitor.name, embedding_name)
    progress("near duplicates", 1, 1)
    _find_spikes(engine, monitor, embedding_name, progress, report)
    progress("dashboard counts", 0, 1)
    refresh_post_counts(engine)
    progress("dashboard counts", 1, 1)
    return report


def _once(factory: Callable[[], T]) -> Callable[[], T]:
    """The factory, called at most once: two steps that need the model share one load."""
    made: list[T] = []

    def make() -> T:
        if not made:
            made.append(factory())
        return made[0]

    return make


def _judge_posts(engine, monitor, make_backend, progress, report) -> None:
    with engine.connect() as conn:
        todo = posts_without_verdict(conn, monitor.name)
    if not todo:
        return
    backend = make_backend()
    mask = term_masker(query_words(monitor.query))
    progress("language and sentiment", 0, len(todo))
    for batch in _chunks(todo, BATCH):
        texts = [model_text(p.title, p.text) for p in batch]
        guesses = detect_languages(texts, monitor.analysis.language_min_score)
        verdicts = backend.score([mask(t) for t in texts], [g.language for g in guesses])
        rows = [
            PostVerdict(
                post_id=post.id,
                language=guess.language,
                language_score=round(guess.score, 4),
                sentiment=verdict.label if verdict else None,
                sentiment_score=round(verdict.score, 4) if verdict else None,
                backend=backend.name,
                probabilities=verdict.probabilities if verdict else None,
            )
            for post, guess, verdict in zip(batch, guesses, verdicts, strict=True)
        ]
        with engine.begin() as conn:
            save_verdicts(conn, rows)
        report.analyzed += len(rows)
        report.unscored += sum(1 for r in rows if r.sentiment is None)
        progress("language and sentiment", report.analyzed, len(todo))


def _embed_posts(engine, monitor, make_backend, name, progress, report) -> None:
    with engine.connect() as conn:
        todo = posts_without_embedding(conn, monitor.name, name)
    if not todo:
        return
    backend = make_backend()
    mask = term_masker(query_words(monitor.query))
    progress("embeddings", 0, len(todo))
    for batch in _chunks(todo, BATCH):
        vectors = backend.embed([mask(model_text(p.title, p.text)) for p in batch])
        with engine.begin() as conn:
            save_embeddings(conn, name, [p.id for p in batch], vectors)
        report.embedded += len(batch)
        progress("embeddings", report.embedded, len(todo))


def _score_narratives(engine, monitor, make_backend, name, progress, report) -> None:
    """Score the embedded posts not scored yet; only their vectors are read, never the whole store's."""
    narratives = monitor.narratives
    key = fingerprint(narratives, name)
    with engine.connect() as conn:
        current = stored_fingerprint(conn, monitor.name)
        done = scored_post_ids(conn, monitor.name) if current == key else set()
        embedded = embedded_post_ids(conn, monitor.name, name)
    if current != key:  # new definitions or model: start over (this also clears an interrupted first scoring)
        with engine.begin() as conn:
            forget_narratives(conn, monitor.name)
            if narratives:
                record_definitions(conn, monitor.name, key, name, _definitions(narratives, name))
    todo = [pid for pid in embedded.tolist() if pid not in done]
    if not narratives or not todo:
        return
    progress("narratives", 0, len(todo))
    vectors = narrative_vectors(narratives, make_backend())
    thresholds = [threshold_for(n, name) for n in narratives]
    names = [n.name for n in narratives]
    for batch in _chunks(todo, BATCH * 8):
        with engine.connect() as conn:
            ids, matrix = vectors_of(conn, name, batch)
        with engine.begin() as conn:
            save_scores(conn, monitor.name, ids.tolist(), names, score(matrix, vectors), thresholds)
        report.narrative_posts += len(batch)
        progress("narratives", report.narrative_posts, len(todo))


def _definitions(narratives, model: str) -> list[dict]:
    return [
        {
            "name": n.name,
            "description": n.description,
            "examples": list(n.examples),
            "threshold": threshold_for(n, model),
        }
        for n in narratives
    ]


def _find_spikes(engine, monitor, name, progress, report) -> None:
    progress("spikes", 0, 1)
    with engine.connect() as conn:
        events, labels = spike_events(conn, monitor.name, memberships(conn, monitor.name))
    found = detect_spikes(events, typicality=_stored_typicality(engine, name), labels=labels)
    with engine.begin() as conn:
        save_spikes(conn, monitor.name, found)
    report.spikes = len(found)
    progress("spikes", 1, 1)


def _stored_typicality(engine: Engine, name: str) -> Callable[[Sequence[int]], dict[int, float]]:
    """Typicality over stored vectors, read for each spike's posts only (not the whole store's)."""

    def typicality(group: Sequence[int]) -> dict[int, float]:
        with engine.connect() as conn:
            ids, matrix = vectors_of(conn, name, group)
        scored = typicality_from(ids.tolist(), matrix)
        return scored(group) if scored else {}

    return typicality


# Arabic attaches conjunctions, prepositions and the article to the word: تسريب → التسريب, والتسريب.
_ARABIC_PREFIXES = ("ال", "و", "وال", "ب", "بال", "ل", "لل", "ف", "فال", "ك", "كال")
_ARABIC = re.compile(r"[\u0600-\u06ff]")


def query_words(query: Query) -> set[str]:
    """The words of the query's positive terms (whole, split, and with Arabic prefixes)."""
    words: set[str] = set()
    for clause in query.clauses():
        for term in clause.include:
            lowered = term.text.lower()
            words.add(lowered)
            words.update(re.findall(r"\w+", lowered))
    words.update(prefix + word for word in list(words) if _ARABIC.search(word) for prefix in _ARABIC_PREFIXES)
    return words


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
