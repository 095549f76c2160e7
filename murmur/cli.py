"""The `murmur` command: one console script, one subcommand per job.

Each subcommand lives in the module that owns the job and exposes `main(argv, prog) -> int`; this
module only dispatches, importing the module on demand so a collector host never imports a model
library. Errors and exit codes are handled once, by `monitor.cli.run_entry_point`.
"""

from __future__ import annotations

import importlib
import sys

from monitor.cli import EXIT_USAGE, run_entry_point

# name → (module with `main(argv, prog)`, one line for `murmur --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "collect": ("collect.cli", "collect public posts from the monitor's sources into the store"),
    "analyze": ("analyze.cli", "language, sentiment, embeddings and topics for new posts"),
    "dashboard": ("murmur.dashboard_command", "serve the Streamlit dashboard"),
    "status": ("murmur.status", "the last runs and each source's health"),
    "export": ("murmur.export", "write the monitor's posts with their analysis as CSV, JSONL or Parquet"),
    "forget": ("murmur.forget", "delete a person's posts or one post, and keep them from coming back"),
    "demo": ("murmur.demo", "load the bundled demo corpus, or --remove it"),
}


def usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items()]
    return (
        "usage: murmur COMMAND [options]\n\n"
        "Murmur collects public posts about an AI controversy, analyses their language, sentiment and\n"
        "topics, and serves the trends in a dashboard.\n\ncommands:\n" + "\n".join(lines) + "\n\n"
        "`murmur COMMAND --help` describes each command's options.\n"
        "Example: murmur collect --monitor monitors/sora-leak.toml\n"
    )


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(usage(), end="")
        sys.exit(0 if args else EXIT_USAGE)
    if args[0] == "--version":
        from murmur import __version__

        print(f"murmur {__version__}")
        sys.exit(0)
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"murmur: unknown command {name!r}; expected one of: {', '.join(COMMANDS)}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    module = importlib.import_module(COMMANDS[name][0])
    run_entry_point(lambda: module.main(rest, prog=f"murmur {name}"), f"murmur {name}")
