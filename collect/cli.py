"""`python -m collect --monitor FILE`: one collection run, or one every INTERVAL with `--every`.

With `--analyze`, each run is followed by `python -m analyze` for the monitor, in a child process:
the analysis (and the spike alerts it sends) keeps up with collection without the collector
importing a model library, and an analysis that fails is logged, never the end of the loop.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import Engine

from collect.http import POLITE_INTERVAL, make_client
from collect.plan import plan_sources
from collect.runner import RunResult, collect_monitor, load_demo
from monitor.cli import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_UNREACHABLE,
    entry_point_parser,
    progress_reporter,
    setup_logging,
)
from monitor.config import Monitor, load_monitor
from monitor.manifest import base_manifest, source_options
from store.db import display_url, open_store
from store.manifests import save_manifest
from store.timeutil import utc_now

log = logging.getLogger("collect")

_INTERVAL = re.compile(r"^(\d+)\s*([smhd])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_INTERVAL_S = 60  # anything more frequent is unkind to the sources


def interval(text: str) -> int:
    """'30m', '2h', '1d' → seconds (argparse type)."""
    match = _INTERVAL.match(text.strip().lower())
    if not match:
        raise argparse.ArgumentTypeError(f"expected a number and a unit (s, m, h, d) like 30m or 6h, got {text!r}")
    seconds = int(match.group(1)) * _SECONDS[match.group(2)]
    if seconds < MIN_INTERVAL_S:
        raise argparse.ArgumentTypeError(f"expected at least {MIN_INTERVAL_S} s between runs, got {text!r}")
    return seconds


def parse_args(argv: list[str] | None = None, prog: str = "python -m collect") -> argparse.Namespace:
    parser = entry_point_parser(
        prog,
        "Collect public posts for a monitor from its sources into the store. Incremental: each "
        "(source, search) resumes from its cursor; the first run backfills from the monitor's "
        "start date.",
        "0 done, 1 done in part (some source or page failed; the rest was kept), "
        "2 bad monitor file or option, 3 no source reachable, 130 stopped by SIGTERM or SIGINT (the page "
        "in hand committed, the run recorded interrupted).",
    )
    demo = parser.add_mutually_exclusive_group()
    demo.add_argument(
        "--demo", action="store_true", help="load the monitor's bundled demo corpus instead of collecting"
    )
    demo.add_argument(
        "--demo-if-offline",
        action="store_true",
        help="collect; if no source can be reached, load the demo corpus instead",
    )
    parser.add_argument(
        "--every",
        type=interval,
        metavar="INTERVAL",
        help="keep running, one collection every INTERVAL (e.g. 30m, 6h); Ctrl-C stops",
    )
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="after each collection, analyse what is new as `murmur analyze` does (spikes, alerts included)",
    )
    args = parser.parse_args(argv)
    if args.every and args.demo:
        parser.error("--every collects live data; it cannot be combined with --demo")
    return args


class StopOnSignal:
    """SIGTERM and SIGINT ask a run to stop after the page in hand (committed, run `interrupted`).

    Between runs (`--every` sleeping) or on a second signal they stop at once, as Ctrl-C does.
    """

    def __init__(self) -> None:
        self.requested = False
        self.in_run = False

    def __call__(self) -> bool:
        return self.requested

    @contextmanager
    def installed(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    @contextmanager
    def running(self) -> Iterator[None]:
        self.in_run = True
        try:
            yield
        finally:
            self.in_run = False

    def _handle(self, signum: int, _frame: object) -> None:
        if self.in_run and not self.requested:
            self.requested = True
            log.warning("%s: finishing the page in hand, then stopping", signal.Signals(signum).name)
            return
        raise KeyboardInterrupt


def main(argv: list[str] | None = None, prog: str = "python -m collect") -> int:
    args = parse_args(argv, prog)
    setup_logging(-1 if args.quiet else args.verbose)
    monitor = load_monitor(args.monitor)
    plans = plan_sources(monitor)
    engine = open_store(args.db)
    log.info("monitor %s → %s", monitor.name, display_url(str(engine.url)))
    if args.demo:
        began = utc_now()
        result = _recorded(engine, monitor, began, _report(load_demo(engine, monitor)))
        if args.analyze:
            analyze_after(args)
        return _exit_code(result)
    stop = StopOnSignal()
    with stop.installed():
        while True:
            started, began = time.monotonic(), utc_now()
            with (
                stop.running(),
                make_client(min_interval=POLITE_INTERVAL) as client,
                progress_reporter(enabled=not args.quiet) as progress,
            ):
                result = collect_monitor(engine, monitor, plans, client, progress=progress, stop=stop)
                _report(result)
            if result.interrupted:
                _recorded(engine, monitor, began, result)
                return EXIT_INTERRUPTED
            if result.unreachable and args.demo_if_offline:
                result = _fall_back_to_demo(engine, monitor)
            _recorded(engine, monitor, began, result)
            if args.analyze:
                analyze_after(args)
            if not args.every:
                return _exit_code(result)
            pause = max(0.0, args.every - (time.monotonic() - started))
            log.info("next run in %.0f s", pause)
            time.sleep(pause)


def analyze_after(args: argparse.Namespace) -> int:
    """Run `python -m analyze` on the same monitor and store; returns its exit code.

    The store URL travels in MURMUR_DB, not on the command line, where `ps` would show a password.
    A failed analysis is logged; the posts stay, and the next analysis picks them up.
    """
    command = [sys.executable, "-m", "analyze", "--monitor", str(args.monitor)]
    command += ["-q"] if args.quiet else ["-v"] * args.verbose
    env = {**os.environ, "MURMUR_DB": args.db} if args.db else None
    log.info("analysing what is new")
    code = subprocess.run(command, env=env, check=False).returncode
    if code:
        log.error("analysis failed (exit %d); the posts are kept and the next analysis picks them up", code)
    return code


def _fall_back_to_demo(engine, monitor: Monitor) -> RunResult:
    if monitor.demo_corpus is None:
        log.error("no source reachable and the monitor names no [demo] corpus")
        return RunResult(run_id=0, mode="demo", status="failed")
    log.warning(
        "No source could be reached (offline?). Loading the bundled DEMO corpus from %s instead; "
        "the dashboard will say it shows demo data.",
        monitor.demo_corpus,
    )
    return _report(load_demo(engine, monitor))


def _report(result: RunResult) -> RunResult:
    for name, tally in result.tallies.items():
        log.info(
            "%s: %d pages (%d broken), %d posts fetched, %d matched the query, %d new, %d updated%s",
            name,
            tally.pages,
            tally.failed_pages,
            tally.fetched,
            tally.matched,
            tally.new,
            tally.updated,
            f"; stopped: {tally.error}" if tally.error else f"; skipped: {tally.skipped}" if tally.skipped else "",
        )
    log.info("%s run %d: %s, %d new posts", result.mode, result.run_id, result.status, result.new)
    return result


def _recorded(engine: Engine, monitor: Monitor, began: datetime, result: RunResult) -> RunResult:
    """Store the run's manifest: the monitor file and options it ran with, and what it got."""
    finished = utc_now()
    manifest = {
        **base_manifest(monitor, "collect"),
        "mode": result.mode,
        "status": result.status,
        "sources": source_options(monitor),
        "seed": None,  # collection draws nothing at random
        "counts": {name: asdict(tally) for name, tally in result.tallies.items()},
        "errors": len(result.errors),
        "durations": {"total_s": round((finished - began).total_seconds(), 3)},
    }
    with engine.begin() as conn:
        save_manifest(
            conn,
            monitor=monitor.name,
            kind="collect",
            run_id=result.run_id or None,
            started_at=began,
            finished_at=finished,
            manifest=manifest,
        )
    return result


def _exit_code(result: RunResult) -> int:
    if result.status == "ok":
        return EXIT_OK
    return EXIT_UNREACHABLE if result.unreachable else EXIT_PARTIAL
