"""One collection run of a monitor: every source × search, page by page, into the store.

Each page is parsed, filtered through the monitor's query (sources search more broadly than the
query), and committed together with the cursor it completes, so a run that dies keeps everything
it stored and the next run resumes from the last complete point. A broken page is logged and
skipped; a source that cannot be reached ends that source's part of the run, not the others'.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType

import httpx
from sqlalchemy import Engine

from collect.errors import ParseError, SourceHTTPError, SourceUnavailable
from collect.plan import SourcePlan
from collect.sources import SOURCES
from collect.sources.base import FetchContext, Page, cursor_key, display_url
from monitor.config import Monitor
from monitor.errors import ConfigError
from store.collection import finish_run, get_cursor, save_posts, set_cursor, start_run
from store.timeutil import utc_now

log = logging.getLogger(__name__)

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
    error: str | None = None
    unreachable: bool = False
    skipped: str | None = None  # why the source did not run (missing credentials)


@dataclass
class RunResult:
    run_id: int
    mode: str
    status: str  # ok, partial, failed
    tallies: dict[str, SourceTally] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

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
) -> RunResult:
    """Run every planned source for the monitor, from its cursors (or its start date) to now."""
    until = min(monitor.end, now or utc_now()) if monitor.end else (now or utc_now())
    result = _start(engine, monitor, "live")
    for plan in plans:
        tally = result.tallies.setdefault(plan.name, SourceTally())
        if plan.missing_env:
            tally.skipped = f"set {', '.join(plan.missing_env)} in the environment (see README)"
            log.warning("%s: skipped: %s", plan.name, tally.skipped)
            continue
        key = cursor_key(plan.options, plan.module.CURSOR_OPTIONS, monitor.start)
        try:
            for search in plan.searches:
                with engine.connect() as conn:
                    state = get_cursor(conn, monitor.name, plan.name, search, key)
                log.info("%s: searching %r%s", plan.name, search, " (resuming)" if state else " (from the start)")
                ctx = FetchContext(client, search, plan.options, monitor.start, until, state, plan.env)
                for page in plan.module.fetch(ctx):
                    _ingest(engine, monitor, plan.module, page, result, tally, cursor=(search, key), until=until)
                    progress(f"{plan.name}: pages", tally.pages, 0)
        except (SourceUnavailable, SourceHTTPError) as error:
            tally.error = str(error)
            tally.unreachable = isinstance(error, SourceUnavailable)
            result.errors.append(f"{plan.name}: {error}")
            log.error("%s: %s; this source stops here, what it stored is kept", plan.name, error)
    return _finish(engine, result)


def load_demo(engine: Engine, monitor: Monitor, corpus: Path | None = None) -> RunResult:
    """Replay the monitor's bundled demo corpus through the real parsers into the store.

    The corpus folder holds one sub-folder per source (named as in SOURCES) of recorded response
    bodies. Demo posts are flagged, so the dashboard can say plainly that it shows demo data.
    """
    corpus = corpus or monitor.demo_corpus
    if corpus is None or not corpus.is_dir():
        raise ConfigError(str(monitor.path), "demo.corpus", f"expected a folder of recorded responses, got {corpus}")
    result = _start(engine, monitor, "demo")
    for folder in sorted(p for p in corpus.iterdir() if p.is_dir()):
        module = SOURCES.get(folder.name)
        if module is None:
            log.warning("demo corpus: no source called %r; skipping %s", folder.name, folder)
            continue
        tally = result.tallies.setdefault(folder.name, SourceTally())
        for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
            page = Page(body=path.read_bytes(), url=path.as_uri())
            _ingest(engine, monitor, module, page, result, tally, cursor=None, until=None, demo=True)
    return _finish(engine, result)


def _start(engine: Engine, monitor: Monitor, mode: str) -> RunResult:
    with engine.begin() as conn:
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
    """Parse, filter and store one page, and save its state (cursor: search and options key) with it.

    A page that cannot be parsed is logged and skipped. Its state is then not saved either.
    """
    tally.pages += 1
    try:
        posts = module.parse(page.body)
    except ParseError as error:
        tally.failed_pages += 1
        result.errors.append(f"{module.NAME}: {display_url(page.url)}: {error}")
        log.warning("%s: skipped a broken page (%s): %s", module.NAME, display_url(page.url), error)
        return
    kept = [
        post for post in posts
        if monitor.query.matches(post.searchable_text)
        and post.created_at >= monitor.start
        and (until is None or post.created_at <= until)
    ]
    with engine.begin() as conn:
        saved = save_posts(
            conn, kept, run_id=result.run_id, source=module.NAME, keep_handles=monitor.keep_handles, demo=demo
        )
        if cursor is not None and page.state is not None:
            set_cursor(conn, monitor.name, module.NAME, *cursor, page.state)
    tally.fetched += len(posts)
    tally.matched += len(kept)
    tally.new += saved.new
    tally.updated += saved.updated


def _finish(engine: Engine, result: RunResult) -> RunResult:
    failed_sources = sum(1 for t in result.tallies.values() if t.error)
    tried = sum(1 for t in result.tallies.values() if not t.skipped)
    if not result.errors:
        result.status = "ok"
    elif failed_sources == tried:
        result.status = "failed"
    else:
        result.status = "partial"
    counts = {name: asdict(tally) for name, tally in result.tallies.items()}
    with engine.begin() as conn:
        finish_run(conn, result.run_id, result.status, counts, result.errors)
    return result
