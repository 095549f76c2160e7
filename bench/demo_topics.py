"""Do the demo corpus's topics follow conversations or languages?

`python -m bench.demo_topics` loads the bundled demo corpus into a temporary store, runs the
analysis pipeline with the multilingual default embeddings, and prints every topic's languages;
anchor: no topic ≥ 90 % one language unless its posts really are (their keywords let a reader
judge). Beside it, the fit as it was before language centring (MiniLM, no centring) on the same posts.
"""

from __future__ import annotations

import logging
import tempfile
from collections import Counter
from pathlib import Path

from analyze.embeddings import make_embedding_backend
from analyze.pipeline import analyze_monitor, query_words
from analyze.sentiment import make_sentiment_backend
from analyze.text import model_text
from analyze.topics import fit_topics
from collect.runner import load_demo
from monitor.config import AnalysisSettings, load_monitor
from store import queries
from store.analysis import languages_of, monitor_embeddings
from store.db import open_store

MONITOR = Path(__file__).resolve().parents[1] / "monitors" / "sora-leak.toml"
MULTILINGUAL = AnalysisSettings().embeddings
ONE_LANGUAGE = 0.9


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    monitor = load_monitor(MONITOR)
    with tempfile.TemporaryDirectory() as folder:
        engine = open_store(f"sqlite:///{folder}/demo.db")
        load_demo(engine, monitor)
        backend = make_embedding_backend(MULTILINGUAL)
        analyze_monitor(
            engine,
            monitor,
            sentiment=lambda: make_sentiment_backend("vader"),
            embedder=lambda: backend,
            embedding_name=backend.name,
        )
        with engine.connect() as conn:
            topics = queries.topic_frame(conn, monitor.name)
            posts, _ = monitor_embeddings(conn, monitor.name, backend.name)
            languages = languages_of(conn, [p.id for p in posts])
        named = topics[topics["topic"] >= 0]
        dominated = 0
        print(f"demo corpus, {MULTILINGUAL} embeddings, language-centred: {len(posts)} posts, {len(named)} topics")
        for row in named.itertuples():
            total = sum(row.languages.values())
            top_posts = max(row.languages.values())
            dominated += top_posts >= ONE_LANGUAGE * total
            spoken = ", ".join(f"{code} {n}" for code, n in row.languages.items())
            print(f"  topic {row.topic:>3} {row.size:>5} posts  [{spoken}]  {row.label}")
        print(f"topics ≥ 90 % one language: {dominated} of {len(named)}")

        codes = [languages.get(p.id, "und") for p in posts]
        texts = [model_text(p.title, p.text) for p in posts]
        before = fit_topics(
            [p.id for p in posts],
            texts,
            make_embedding_backend("minilm").embed(texts),
            codes,
            extra_stop_words=sorted(query_words(monitor.query)),
            centre_languages=False,
        )
        if before is not None:
            by_topic: dict[int, Counter] = {}
            for (_, topic, _), code in zip(before.assignments, codes, strict=True):
                if topic >= 0:
                    by_topic.setdefault(topic, Counter())[code] += 1
            old = sum(1 for c in by_topic.values() if max(c.values()) >= ONE_LANGUAGE * sum(c.values()))
            print(f"before (MiniLM, no centring): topics ≥ 90 % one language: {old} of {len(by_topic)}")
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
