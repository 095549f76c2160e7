"""`python -m analyze --monitor FILE`: analyse what is new in the store for one monitor.

`python -m analyze TOOL FILE` runs one analysis step on a text file instead of the store; each tool
lives in its own module named in `TOOLS`, with `main(argv, prog) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import time

from analyze.alerts import announce_new_spikes
from analyze.backends import ModelUnavailable
from analyze.embeddings import embedding_model_name, make_embedding_backend
from analyze.manifest import StepTimer, analysis_manifest
from analyze.pipeline import analyze_monitor
from analyze.sentiment import make_sentiment_backend, sentiment_backend_name
from monitor.cli import EXIT_OK, entry_point_parser, progress_reporter, setup_logging
from monitor.config import Monitor, load_monitor
from monitor.errors import ConfigError
from store.db import display_url, open_store
from store.manifests import save_manifest
from store.timeutil import utc_now

log = logging.getLogger("analyze")

# tool name → module with `main(argv, prog)`: one analysis step over a text file, one line per input line
TOOLS: dict[str, str] = {
    "sentiment": "analyze.sentiment_tool",
    "topics": "analyze.topics_tool",
}


def parse_args(argv: list[str] | None = None, prog: str = "python -m analyze") -> argparse.Namespace:
    parser = entry_point_parser(
        prog,
        "Analyse the posts a monitor has collected: language, sentiment, embeddings and topics. "
        "Incremental: only posts not yet analysed are processed; new posts join the saved topics, "
        "which are refitted when many new posts fit none, when the corpus has doubled, or with --refit.",
        "0 done, 2 bad monitor file or model setting, 130 interrupted (what was committed stays).",
    )
    parser.add_argument(
        "--refit",
        action="store_true",
        help="refit the topics now (otherwise new posts join the saved topics until a refit is due)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, prog: str = "python -m analyze") -> int:
    if argv and argv[0] in TOOLS:
        return int(importlib.import_module(TOOLS[argv[0]]).main(argv[1:], prog=f"{prog} {argv[0]}"))
    args = parse_args(argv, prog)
    setup_logging(-1 if args.quiet else args.verbose)
    monitor = load_monitor(args.monitor)
    embedding_name = _checked(monitor, "embeddings", embedding_model_name)
    sentiment_name = _checked(monitor, "sentiment", sentiment_backend_name)
    engine = open_store(args.db)
    log.info("analysing monitor %s in %s", monitor.name, display_url(str(engine.url)))
    started, began = time.monotonic(), utc_now()
    with progress_reporter(enabled=not args.quiet) as shown:
        progress = StepTimer(shown)
        report = analyze_monitor(
            engine,
            monitor,
            sentiment=lambda: _loaded(monitor, "sentiment", make_sentiment_backend),
            embedder=lambda: _loaded(monitor, "embeddings", make_embedding_backend),
            embedding_name=embedding_name,
            progress=progress,
            refit=args.refit,
        )
    announce_new_spikes(engine, monitor.name)  # only where MURMUR_ALERT_WEBHOOK is set; never fails the run
    manifest = analysis_manifest(
        monitor,
        embeddings=embedding_name,
        sentiment=sentiment_name,
        report=report,
        steps=progress.seconds(),
        total_s=time.monotonic() - started,
    )
    with engine.begin() as conn:
        save_manifest(
            conn, monitor=monitor.name, kind="analyze", started_at=began, finished_at=utc_now(), manifest=manifest
        )
    topics = (
        f"{report.placed} new posts placed in the saved topics"
        if report.topics is None
        else f"refitted ({report.refit_reason}): {report.topics} topics over {report.topic_posts} posts"
    )
    log.info(
        "done in %.0f s: %d posts analysed (%d unscored by the sentiment model), %d embedded; topics %s; %d spikes",
        time.monotonic() - started,
        report.analyzed,
        report.unscored,
        report.embedded,
        topics,
        report.spikes,
    )
    return EXIT_OK


def _checked(monitor: Monitor, key: str, check):
    setting = getattr(monitor.analysis, key)
    try:
        return check(setting)
    except ValueError as error:
        raise ConfigError(str(monitor.path), f"analysis.{key}", f"{error}, got {setting!r}") from None


def _loaded(monitor: Monitor, key: str, factory):
    try:
        return _checked(monitor, key, factory)
    except ModelUnavailable as error:
        raise ConfigError(str(monitor.path), f"analysis.{key}", str(error)) from None
