"""The main job on the demo corpus, timed step by step, with peak memory."""

from __future__ import annotations

import logging
import resource
import tempfile
import time
from pathlib import Path

from bench.analyze import DEMO_ANCHOR_S, print_figures, timed_analysis
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
        print(
            f"demo load: {pages} pages from {len(result.tallies)} sources, {fetched} posts parsed, "
            f"{matched} matched, {load_s:.2f} s ({fetched / load_s:,.0f} posts/s parse+filter+store)"
        )

        report, timing = timed_analysis(engine, monitor)
        print_figures("analysis of the demo corpus", report, timing, anchor=DEMO_ANCHOR_S)
        engine.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak_mb:,.0f} MB")
