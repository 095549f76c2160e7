"""`murmur demo`: load the monitor's bundled demo corpus, or `--remove` it from the store.

Demo posts are flagged, so the dashboard says it shows demo data; live collection clears the flag
of any post it also finds, and `--remove` deletes the rest with the demo runs.
"""

from __future__ import annotations

import argparse

from monitor.cli import EXIT_OK, EXIT_PARTIAL
from store.db import open_store
from store.lifecycle import remove_demo


def main(argv: list[str] | None = None, prog: str = "murmur demo") -> int:
    parser = argparse.ArgumentParser(prog=prog, description="Load the bundled demo corpus, or remove it.")
    parser.add_argument("--monitor", metavar="FILE", help="monitor file (TOML) whose demo corpus to load")
    parser.add_argument("--remove", action="store_true", help="delete the demo posts and demo runs from the store")
    parser.add_argument("--db", metavar="URL", help="database URL (overrides MURMUR_DB)")
    args = parser.parse_args(argv)
    if not args.remove and not args.monitor:
        parser.error("give --monitor FILE to load its demo corpus, or --remove")
    engine = open_store(args.db)
    try:
        if args.remove:
            with engine.begin() as conn:
                deleted, runs = remove_demo(conn)
            print(f"removed the demo data: {deleted} posts and {runs} runs")
            return EXIT_OK
        from collect.runner import load_demo
        from monitor.config import load_monitor

        result = load_demo(engine, load_monitor(args.monitor))
        print(f"loaded the demo corpus: {result.new} new posts ({result.status})")
        return EXIT_OK if result.status == "ok" else EXIT_PARTIAL
    finally:
        engine.dispose()
