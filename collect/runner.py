"""One collection run of a monitor: every source × search, page by page, into the store.

Each page is parsed, filtered through the monitor's query (sources search more broadly than the
query), and committed together with the cursor it completes, so a run that dies keeps everything
it stored and the next run resumes from the last complete point.

Nothing a source sends can stop a run. A page that cannot be read (truncated, not the format) is
recorded and its source's walk decides whether the cursor may pass it; a page that was read but
whose posts could not be parsed or stored (any exception) is recorded with its reason and passed,
so one poisoned page never blocks every later run. A source that cannot be reached, or whose walk
breaks, ends that source's (or that search's) part of the run, not the others'. The run row is
always finished: `ok`, `partial`, `failed`, or `interrupted` when a signal asked the run to stop
(it finishes the page in hand and commits first).

Several collectors, on one host or many, may run the same monitor against one store at once: each
(source, search) is held by one of them at a time (`store.locks`), the others skip it, and a
collector that dies releases what it held.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType

import httpx
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from collect.errors import ParseError, SourceHTTPError, SourceUnavailable
from collect.plan import SourcePlan
from collect.sources import SOURCES
from collect.sources.base import FetchContext, Page, cursor_key, display_url
from monitor.config import Monitor
from monitor.errors import ConfigError
from store.collection import (
    finish_run,
    get_cursor,
    heartbeat,
    interrupt_stale_runs,
    save_posts,
    set_cursor,
    start_run,
)
from store.lifecycle import apply_retention
from store.locks import try_lock
from store.timeutil import utc_now

log = logging.getLogger(__name__)

# Longest error text kept in the run log for one page or source.
MAX_REASON = 300

Progress = Callable[[str, int, int], None]


@dataclass
class SourceTally:
    """What one source did in one run (stored in the run log as its counts)."""

    pages: int = 0
    failed_pages: int = 0
    fetched: int = 0
    matched: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    skipped_items: int = 0  # items a parser could not read (its first reason in `shape_error`)
    shape_error: str | None = None
    searches: int = 0
    held_elsewhere: int = 0  # searches another collector was running
    duration_s: float = 0.0
    error: str | None = None
    unreachable: bool = False
    skipped: str | None = None  # why the source did not run (missing credentials)


@dataclass
class RunResult:
    run_id: int
    mode: str
    status: str  # running, ok, partial, failed, interrupted
    tallies: dict[str, SourceTally] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    interrupted: bool = False

    @property
    def unreachable(self) -> bool:
        """No source could be reached at all: the machine is probably offline."""
        tried = [t for t in self.tallies.values() if not t.skipped]
        return bool(tried) and all(t.unreachable and t.pages == 0 for t in tried)

    @property
    def new(self) -> int:
        return sum(t.new for t in self.tallies.values())


def collect_monitor(
    engine: Engine,
    monitor: Monitor,
    plans: list[SourcePlan],
    client: httpx.Client,
    *,
    now: datetime | None = None,
    progress: Progress = lambda step, done, total: None,
    stop: Callable[[], bool] = lambda: False,
) -> RunResult:
    """Run every planned source for the monitor, from its cursors (or its start date) to now.

    `stop` is asked after every page; once it says yes the run commits what it has and ends
    `interrupted`.
    """
    until = min(monitor.end, now or utc_now()) if monitor.end else (now or utc_now())
    result = _start(engine, monitor, "live")
    try:
        for plan in plans:
            if result.interrupted:
                break
            tally = result.tallies.setdefault(plan.name, SourceTally())
            if plan.missing_env:
                tally.skipped = f"set {', '.join(plan.missing_env)} in the environment (see README)"
                log.warning("%s: skipped: %s", plan.name, tally.skipped)
                continue
            began = time.monotonic()
            try:
                for search in plan.searches:
                    if result.interrupted:
                        break
                    _collect_search(engine, monitor, plan, client, search, until, result, tally, progress, stop)
            except (SourceUnavailable, SourceHTTPError) as error:
                tally.error = _reason(error)
                tally.unreachable = isinstance(error, SourceUnavailable)
                result.errors.append(f"{plan.name}: {tally.error}")
                log.error("%s: %s; this source stops here, what it stored is kept", plan.name, error)
            finally:
                tally.duration_s += round(time.monotonic() - began, 3)
        _retain(engine, monitor)
    except BaseException as error:
        result.interrupted = result.interrupted or isinstance(error, KeyboardInterrupt)
        if not result.interrupted:
            result.errors.append(f"run: {_reason(error)}")
        raise
    finally:
        _finish(engine, result)
    return result


def load_demo(engine: Engine, monitor: Monitor, corpus: Path | None = None) -> RunResult:
    """Replay the monitor's bundled demo corpus through the real parsers into the store.

    The corpus folder holds one sub-folder per source (named as in SOURCES) of recorded response
    bodies. Demo posts are flagged, so the dashboard can say plainly that it shows demo data. The
    monitor's start and end apply as they do to live collection.
    """
    corpus = corpus or monitor.demo_corpus
    if corpus is None or not corpus.is_dir():
        raise ConfigError(str(monitor.path), "demo.corpus", f"expected a folder of recorded responses, got {corpus}")
    result = _start(engine, monitor, "demo")
    try:
        for folder in sorted(p for p in corpus.iterdir() if p.is_dir()):
            module = SOURCES.get(folder.name)
            if module is None:
                log.warning("demo corpus: no source called %r; skipping %s", folder.name, folder)
                continue
            tally = result.tallies.setdefault(folder.name, SourceTally())
            for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
                page = Page(body=path.read_bytes(), url=path.as_uri())
                _ingest(engine, monitor, module, page, result, tally, cursor=None, until=monitor.end, demo=True)
    finally:
        _finish(engine, result)
    return result


def _collect_search(
    engine: Engine,
    monitor: Monitor,
    plan: SourcePlan,
    client: httpx.Client,
    search: str,
    until: datetime,
    result: RunResult,
    tally: SourceTally,
    progress: Progress,
    stop: Callable[[], bool],
) -> None:
    """One (source, search): held against other collectors, walked page by page."""
    lock = try_lock(engine, f"murmur:collect:{monitor.name}:{plan.name}:{search}")
    if lock is None:
        tally.held_elsewhere += 1
        log.info("%s: %r is being collected by another collector; skipping it", plan.name, search)
        return
    try:
        tally.searches += 1
        key = cursor_key(plan.options, plan.module.CURSOR_OPTIONS, monitor.start)
        with engine.connect() as conn:
            state = get_cursor(conn, monitor.name, plan.name, search, key)
        log.info("%s: searching %r%s", plan.name, search, " (resuming)" if state else " (from the start)")
        pages = plan.module.fetch(FetchContext(client, search, plan.options, monitor.start, until, state, plan.env))
        try:
            for page in pages:
                _ingest(engine, monitor, plan.module, page, result, tally, cursor=(search, key), until=until)
                progress(f"{plan.name}: pages", tally.pages, 0)
                if stop():
                    result.interrupted = True
                    log.warning("stopping: the page in hand is committed; the run is recorded interrupted")
                    return
        except (SourceUnavailable, SourceHTTPError, OperationalError):
            raise
        except Exception as error:  # a source's walk broke: this search ends, the others go on
            reason = _reason(error)
            tally.error = reason
            result.errors.append(f"{plan.name}: {search!r}: {reason}")
            log.error("%s: %r stopped: %s", plan.name, search, reason)
    finally:
        lock.release()


def _retain(engine: Engine, monitor: Monitor) -> None:
    """Apply the monitor's retention_days: older posts go, with their analysis."""
    if monitor.retention_days:
        with engine.begin() as conn:
            expired = apply_retention(conn, monitor.name, monitor.retention_days)
        if expired:
            log.info("retention: deleted %d posts older than %d days", expired, monitor.retention_days)


def _start(engine: Engine, monitor: Monitor, mode: str) -> RunResult:
    with engine.begin() as conn:
        for run_id in interrupt_stale_runs(conn, monitor.name):
            log.warning("run %d of %s was left running by a process that died; marked interrupted",
                        run_id, monitor.name)
        run_id = start_run(conn, monitor.name, mode)
    return RunResult(run_id=run_id, mode=mode, status="running")


def _ingest(
    engine: Engine,
    monitor: Monitor,
    module: ModuleType,
    page: Page,
    result: RunResult,
    tally: SourceTally,
    *,
    cursor: tuple[str, str] | None,
    until: datetime | None,
    demo: bool = False,
) -> None:
    """Parse, filter and store one page with its state (cursor: search and options key); whatever goes
    wrong with it costs this page only."""
    tally.pages += 1
    try:
        with _item_warnings(module.NAME, tally):
            posts = module.parse(page.body)
        kept = [
            post for post in posts
            if (post.deleted or monitor.query.matches(post.searchable_text))
            and post.created_at >= monitor.start
            and (until is None or post.created_at <= until)
        ]
        with engine.begin() as conn:
            saved = save_posts(
                conn, kept, run_id=result.run_id, source=module.NAME, keep_handles=monitor.keep_handles, demo=demo
            )
            _advance(conn, monitor, module, page, cursor)
            heartbeat(conn, result.run_id)
    except OperationalError:
        raise  # the store itself is unreachable: no later page could be stored either
    except Exception as error:
        _page_failed(engine, monitor, module, page, result, tally, cursor, error)
        return
    tally.fetched += len(posts)
    tally.matched += sum(1 for post in kept if not post.deleted)
    tally.new += saved.new
    tally.updated += saved.updated
    tally.unchanged += saved.unchanged
    tally.deleted += saved.deleted


def _page_failed(
    engine: Engine,
    monitor: Monitor,
    module: ModuleType,
    page: Page,
    result: RunResult,
    tally: SourceTally,
    cursor: tuple[str, str] | None,
    error: Exception,
) -> None:
    """Record a lost page, and save the state it carries: the source decides whether the cursor may
    pass a page it could not read (or only count the failure); one it could read but Murmur could
    not use carries its normal state, since retrying would fail the same way forever."""
    tally.failed_pages += 1
    reason = _reason(error)
    if isinstance(error, ParseError) and tally.shape_error is None:
        tally.shape_error = reason
    result.errors.append(f"{module.NAME}: {display_url(page.url)}: {reason}")
    log.warning("%s: skipped a page (%s): %s", module.NAME, display_url(page.url), reason)
    if page.state is not None:
        with engine.begin() as conn:
            _advance(conn, monitor, module, page, cursor)
            heartbeat(conn, result.run_id)


def _advance(
    conn: Connection, monitor: Monitor, module: ModuleType, page: Page, cursor: tuple[str, str] | None
) -> None:
    if cursor is not None and page.state is not None:
        set_cursor(conn, monitor.name, module.NAME, *cursor, page.state)


@contextmanager
def _item_warnings(source: str, tally: SourceTally) -> Iterator[None]:
    """Count the items a parser skips (it logs a warning for each) and keep the first reason, so a
    source whose responses stop matching the expected shape shows up as degraded, not as zero."""
    logger = logging.getLogger(f"collect.sources.{source}")

    class Counter(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                tally.skipped_items += 1
                if tally.shape_error is None:
                    tally.shape_error = record.getMessage()[:MAX_REASON]

    handler = Counter()
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def _reason(error: BaseException) -> str:
    """One line saying what went wrong, short enough for the run log."""
    if isinstance(error, RecursionError):
        text = "nested too deeply to process"
    elif isinstance(error, (ParseError, SourceUnavailable, SourceHTTPError)):
        text = str(error)
    else:
        text = f"{type(error).__name__}: {error}"
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def _finish(engine: Engine, result: RunResult) -> RunResult:
    failed_sources = sum(1 for t in result.tallies.values() if t.error)
    tried = sum(1 for t in result.tallies.values() if not t.skipped)
    if result.interrupted:
        result.status = "interrupted"
    elif not result.errors:
        result.status = "ok"
    elif failed_sources == tried:
        result.status = "failed"
    else:
        result.status = "partial"
    counts = {name: asdict(tally) for name, tally in result.tallies.items()}
    try:
        with engine.begin() as conn:
            finish_run(conn, result.run_id, result.status, counts, result.errors)
    except OperationalError as error:  # the next run marks this one interrupted
        log.error("could not record the end of run %d: %s", result.run_id, error.orig)
    return result
