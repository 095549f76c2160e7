"""Topics at scale: 1,000 new posts on a store of 100,000, and a refit over 1,000,000 posts.

`python -m bench.analyze_topics_scale [--incremental-store N] [--refit-store N]` prints:
- incremental: one `analyze_monitor()` run (language, VADER, multilingual embeddings, topic placement,
  narratives, spikes) for 1,000 new tweets on a store of 100,000 analysed posts with a fitted topic
  model whose posts were already scored against the narratives (anchor: at most 15 s; no old post
  re-embedded or re-read), with wall and CPU seconds per step and the load average;
- refit: `murmur analyze --refit`'s topic step over 1,000,000 posts with synthetic 512-dimensional vectors
  (fit on a 20,000-post sample, the rest placed by centroid), time and peak memory (anchor: 8 GB).
Each measured step runs in a fresh subprocess so its peak resident memory is its own.
Stores are written straight through SQLAlchemy Core in bulk (the collector's per-post path would
take longer than the benchmark); they live in a temporary folder and are deleted afterwards.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, insert

from bench.stages import StageClock, cpu_seconds, load_average
from monitor.config import AnalysisSettings
from store.db import open_store
from store.schema import embeddings, post_analysis, posts, run_posts, runs

MONITOR_FILE = Path(__file__).resolve().parents[1] / "monitors" / "sora-leak.toml"
MONITOR = "sora-leak"
SYNTHETIC_MODEL = "synthetic:512"
DIM = 512
LANGUAGES = ("en", "es", "fr", "ar")
T0 = datetime(2024, 11, 26, tzinfo=UTC)


def bulk_store(
    engine: Engine,
    vectors_for,
    texts: list[str],
    languages: list[str],
    n: int,
    model: str,
    batch: int = 10_000,
) -> None:
    """`n` posts linked to one run of the monitor, analysed and embedded; text i is texts[i % len]."""
    run = 1
    with engine.begin() as conn:
        conn.execute(
            insert(runs).values(
                id=run, monitor=MONITOR, mode="live", started_at=T0, status="ok", counts="{}", errors="[]"
            )
        )
    for start in range(0, n, batch):
        stop = min(n, start + batch)
        ids = range(start + 1, stop + 1)
        vectors = np.asarray(vectors_for(start, stop), dtype="<f4")
        with engine.begin() as conn:
            conn.execute(
                insert(posts),
                [
                    {
                        "id": i,
                        "platform": "bench",
                        "native_id": str(i),
                        "text": texts[i % len(texts)],
                        "created_at": T0 + timedelta(seconds=i),
                        "collected_at": T0,
                        "demo": False,
                    }
                    for i in ids
                ],
            )
            conn.execute(insert(run_posts), [{"run_id": run, "post_id": i, "source": "bench"} for i in ids])
            conn.execute(
                insert(post_analysis),
                [
                    {
                        "post_id": i,
                        "language": languages[i % len(languages)],
                        "language_score": 0.9,
                        "sentiment": None,
                        "sentiment_score": None,
                        "sentiment_backend": "bench",
                        "analysed_at": T0,
                    }
                    for i in ids
                ],
            )
            conn.execute(
                insert(embeddings),
                [
                    {"post_id": i, "model": model, "dim": vectors.shape[1], "vector": vectors[i - start - 1].tobytes()}
                    for i in ids
                ],
            )


def synthetic_vectors(seed: int = 0, topics: int = 40):
    """Vectors around `topics` directions, each language adding its own offset (as real models do)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(topics, DIM)).astype(np.float32)
    offsets = 0.4 * rng.normal(size=(len(LANGUAGES), DIM)).astype(np.float32)

    def rows(start: int, stop: int) -> np.ndarray:
        local = np.random.default_rng(start)
        ids = np.arange(start + 1, stop + 1)
        v = centres[ids % topics] + offsets[ids % len(LANGUAGES)] + local.normal(scale=0.9, size=(len(ids), DIM))
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)

    return rows, [f"word{t} theme{t} common{t % 7}" for t in range(topics)]


def all_tweets() -> list[str]:
    """Every TweetTopic tweet of the four languages (labels not needed here), shuffled with a fixed seed."""
    from analyze.text import model_text
    from bench import data

    texts = [
        model_text(None, json.loads(line)["text"])
        for language in ("en", "es", "gr", "ja")
        for line in (data.SHARED_DATA / "topics" / f"{language}_1000.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    order = np.random.default_rng(0).permutation(len(texts))
    return [texts[i] for i in order if texts[i]]


def _measure(step: str, url: str, extra: list[str]) -> dict:
    """Run one step in a subprocess; it prints a JSON line with its figures."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.analyze_topics_scale", "--step", step, "--db", url, *extra],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step_refit(url: str, embedding: str) -> None:
    from analyze.topic_refresh import update_topics
    from store.topic_models import latest_topic_model, topic_events_of

    engine = open_store(url)
    started = time.perf_counter()
    update = update_topics(engine, MONITOR, embedding, refit=True)
    seconds = time.perf_counter() - started
    with engine.connect() as conn:
        model = latest_topic_model(conn, MONITOR)
        fitted = model["id"] if model else None
        events = Counter(e["event"] for e in topic_events_of(conn, MONITOR) if e["model_id"] == fitted)
    figures = {"seconds": seconds, "peak_mb": _peak_mb(), "topics": update.topics, "posts": update.posts}
    print(json.dumps({**figures, "events": dict(sorted(events.items()))}))


def step_analyze(url: str, embedding: str) -> None:
    from analyze.embeddings import make_embedding_backend as embedder
    from analyze.pipeline import analyze_monitor
    from analyze.sentiment import make_sentiment_backend
    from monitor.config import load_monitor

    monitor = load_monitor(MONITOR_FILE)
    engine = open_store(url)
    clock = StageClock()
    load, started, cpu = load_average(), time.perf_counter(), cpu_seconds()
    backend = embedder(embedding)  # loading the model is part of the run
    report = analyze_monitor(
        engine,
        monitor,
        sentiment=lambda: make_sentiment_backend("vader"),
        embedder=lambda: backend,
        embedding_name=backend.name,
        progress=clock.progress,
    )
    steps = {step: [round(s.wall, 1), round(s.cpu, 1)] for step, s in clock.stages.items()}
    print(
        json.dumps(
            {
                "steps": steps,
                "seconds": time.perf_counter() - started,
                "cpu": cpu_seconds() - cpu,
                "load": [load, load_average()],
                "peak_mb": _peak_mb(),
                "embedded": report.embedded,
                "analyzed": report.analyzed,
                "placed": report.placed,
                "narrative_posts": report.narrative_posts,
                "refit": report.topics is not None,
            }
        )
    )


def incremental(folder: str, n: int) -> None:
    """A store of `n` posts whose vectors are noisy copies of real tweets' vectors; then 1,000 new tweets."""
    from analyze.embeddings import make_embedding_backend as embedder

    texts = all_tweets()
    pool, new_texts = texts[:2000], texts[2000:3000]
    backend = embedder(AnalysisSettings().embeddings)
    base = backend.embed(pool)
    rng = np.random.default_rng(1)

    def rows(start: int, stop: int) -> np.ndarray:
        ids = np.arange(start + 1, stop + 1)
        v = base[ids % len(pool)] + rng.normal(scale=0.02, size=(len(ids), base.shape[1]))
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    url = f"sqlite:///{folder}/incremental.db"
    engine = open_store(url)
    started = time.perf_counter()
    bulk_store(engine, rows, pool, list(LANGUAGES), n, backend.name)
    print(f"incremental: stored {n:,} posts in {time.perf_counter() - started:.0f} s; fitting topics …", flush=True)
    fit = _measure("refit", url, ["--embedding", backend.name])
    print(
        f"  initial fit over {fit['posts']:,} posts: {fit['seconds']:.0f} s, {fit['topics']} topics, "
        f"peak {fit['peak_mb']:,.0f} MB",
        flush=True,
    )
    settled = _measure("analyze", url, ["--embedding", AnalysisSettings().embeddings])
    print(
        f"  first analysis of the store (every post scored against the narratives once, as earlier runs "
        f"would have): {settled['seconds']:.0f} s",
        flush=True,
    )
    run = 2
    with engine.begin() as conn:
        conn.execute(
            insert(runs).values(
                id=run, monitor=MONITOR, mode="live", started_at=T0, status="ok", counts="{}", errors="[]"
            )
        )
        conn.execute(
            insert(posts),
            [
                {
                    "id": n + 1 + i,
                    "platform": "bench",
                    "native_id": f"new{i}",
                    "text": text,
                    "created_at": T0 + timedelta(days=1),
                    "collected_at": T0,
                    "demo": False,
                }
                for i, text in enumerate(new_texts)
            ],
        )
        conn.execute(
            insert(run_posts), [{"run_id": run, "post_id": n + 1 + i, "source": "bench"} for i in range(len(new_texts))]
        )
    engine.dispose()
    result = _measure("analyze", url, ["--embedding", "use-multilingual"])
    verdict = "within" if result["seconds"] <= 15 else "OVER"
    print(
        f"  analyze_monitor() for {result['analyzed']:,} new posts on {n:,}: {result['seconds']:.1f} s wall, "
        f"{result['cpu']:.1f} s CPU, load average {result['load'][0]:.1f} → {result['load'][1]:.1f} ({verdict} the "
        f"15 s anchor); embedded {result['embedded']:,} (old posts re-embedded: "
        f"{result['embedded'] - len(new_texts)}), placed {result['placed']:,} by centroid, narratives scored for "
        f"{result['narrative_posts']:,} posts (old posts: {result['narrative_posts'] - len(new_texts)}), "
        f"refit: {result['refit']}, peak {result['peak_mb']:,.0f} MB"
    )
    staged = sum(wall for wall, _ in result["steps"].values())
    print(
        "  steps (s wall / s CPU): "
        + ", ".join(f"{k} {wall} / {cpu}" for k, (wall, cpu) in result["steps"].items())
        + f", loading the models and placing by centroid {result['seconds'] - staged:.1f} s wall"
    )


def refit(folder: str, n: int) -> None:
    rows, texts = synthetic_vectors()
    url = f"sqlite:///{folder}/refit.db"
    engine = open_store(url)
    started = time.perf_counter()
    bulk_store(engine, rows, texts, list(LANGUAGES), n, SYNTHETIC_MODEL)
    engine.dispose()
    print(f"refit: stored {n:,} posts with {DIM}-d vectors in {time.perf_counter() - started:.0f} s", flush=True)
    for attempt in ("first fit", "refit (with lineage)"):
        result = _measure("refit", url, ["--embedding", SYNTHETIC_MODEL])
        verdict = "within" if result["peak_mb"] <= 8192 else "OVER"
        print(
            f"  {attempt} over {result['posts']:,} posts: {result['seconds']:.0f} s, {result['topics']} topics, "
            f"peak resident memory {result['peak_mb']:,.0f} MB ({verdict} the 8 GB anchor); lineage {result['events']}",
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.analyze_topics_scale", description=__doc__.splitlines()[0])
    parser.add_argument("--incremental-store", type=int, default=100_000, help="posts already stored (0 = skip)")
    parser.add_argument("--refit-store", type=int, default=1_000_000, help="posts to refit over (0 = skip)")
    parser.add_argument("--step", choices=["refit", "analyze"], help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--embedding", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.step == "refit":
        step_refit(args.db, args.embedding)
        return 0
    if args.step == "analyze":
        step_analyze(args.db, args.embedding)
        return 0
    with tempfile.TemporaryDirectory() as folder:
        if args.incremental_store:
            incremental(folder, args.incremental_store)
        if args.refit_store:
            refit(folder, args.refit_store)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
