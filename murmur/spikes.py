"""`murmur spikes`: the bursts the last analysis found, newest first, each with what drove it.

One line per spike for a person; with `--json` one JSON object per line for a script, with at
least `series`, `start`, `end` (UTC, ISO 8601), `posts`, `baseline` and `drivers`.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

from monitor.cli import EXIT_OK, entry_point_parser, since_arg
from monitor.config import load_monitor
from store.db import open_store
from store.spikes import StoredSpike, stored_spikes


def parse_args(argv: list[str] | None, prog: str) -> argparse.Namespace:
    parser = entry_point_parser(
        prog,
        "List the spikes (bursts in volume, hourly and daily, per source, language, topic and narrative) "
        "that the last `murmur analyze` found, newest first, with the slices that drove them.",
        "0 done, 2 bad monitor file or option, 130 interrupted.",
    )
    parser.add_argument(
        "--since", type=since_arg, metavar="DATE", help="spikes still running on or after this day (UTC)"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per spike instead of a line of text")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, prog: str = "murmur spikes") -> int:
    args = parse_args(argv, prog)
    monitor = load_monitor(args.monitor)
    engine = open_store(args.db)
    with engine.connect() as conn:
        found = stored_spikes(conn, monitor.name, since=args.since)
    for spike in found:
        print(json.dumps(as_json(spike), ensure_ascii=False) if args.json else render(spike))
    if not found:
        print(f"{prog}: no spikes in {monitor.name}; `murmur analyze` finds them", file=sys.stderr)
    return EXIT_OK


def render(spike: StoredSpike) -> str:
    """`2024-11-26 12:00 → 2024-11-26 22:00 UTC  all (hour)  312 posts vs 4.5 expected  driven by …`"""
    times = f"{spike.start:%Y-%m-%d %H:%M} → {spike.end:%Y-%m-%d %H:%M} UTC"
    drivers = ", ".join(_driver(d) for d in spike.drivers[:4]) or "no single slice"
    volume = f"{spike.posts} posts vs {spike.baseline:g} expected"
    return f"{times}  {spike.series} ({spike.granularity})  {volume}  driven by {drivers}"


def _driver(driver: dict) -> str:
    """`topic 3 "unpaid, artists" 4%→61%` or `language ar 2%→30%`."""
    name = f"{driver['kind']} {driver['value']}"
    if driver["label"] != driver["value"]:
        name += f' "{driver["label"]}"'
    return f"{name} {driver['share_before']:.0%}→{driver['share']:.0%}"


def as_json(spike: StoredSpike) -> dict:
    return {
        "series": spike.series,
        "granularity": spike.granularity,
        "start": _iso(spike.start),
        "end": _iso(spike.end),
        "posts": spike.posts,
        "baseline": spike.baseline,
        "peak": spike.peak,
        "drivers": spike.drivers,
        "top_posts": spike.top_posts,
        "sentiment": spike.sentiment,
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
