"""The main job on the demo corpus, timed step by step, with peak memory."""

from __future__ import annotations

import logging
import resource
import tempfile
import time
from pathlib import Path

from analyze.embeddings import embedding_model_name, make_embedding_backend
from analyze.pipeline import analyse
from analyze.sentiment import make_sentiment_backend
from collect.runner import load_demo
from monitor.config import load_monitor
from store.db import open_store

MONITOR = Path(__file__).resolve().parents[1] / "monitors" / "sora-leak.toml"


def run() -> None:
    logging.basicConfig(level=logging.WARNING)
    monitor = load_monitor(MONITOR)
    with tempfile.TemporaryDirectory() as folder:
        engine = open_store(f"sqlite:///{folder}/bench.db")
        started = time.perf_counter()
        result = load_demo(engine, monitor)
        load_s = time.perf_counter() - started
        pages = sum(t.pages for t in result.tallies.values())
        fetched = sum(t.fetched for t in result.tallies.values())
        matched = sum(t.matched for t in result.tallies.values())
        print(f"demo load: {pages} pages from {len(result.tallies)} sources, {fetched} posts parsed, "
              f"{matched} matched, {load_s:.2f} s ({fetched / load_s:,.0f} posts/s parse+filter+store)")

        steps: dict[str, float] = {}
        marks: dict[str, float] = {}

        def progress(step: str, done: int, total: int) -> None:
            marks.setdefault(step, time.perf_counter())
            if done == total:
                steps[step] = time.perf_counter() - marks[step]

        settings = monitor.analysis
        started = time.perf_counter()
        report = analyse(
            engine, monitor,
            sentiment=lambda: make_sentiment_backend(settings.sentiment),
            embedder=lambda: make_embedding_backend(settings.embeddings),
            embedding_name=embedding_model_name(settings.embeddings),
            progress=progress,
        )
        total = time.perf_counter() - started
        print(f"analysis: {report.analysed} posts in {total:.1f} s, {report.topics} topics, "
              f"{report.unscored} unscored by {settings.sentiment}")
        for step, seconds in steps.items():
            print(f"  {step}: {seconds:.1f} s")
        embed = steps.get("embeddings")
        if embed:
            print(f"  embedding throughput: {report.embedded / embed:,.0f} posts/s")
        engine.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak_mb:,.0f} MB")
