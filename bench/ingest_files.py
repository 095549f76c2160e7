"""`python -m bench.ingest_files [MB]`: the files source importing a generated CSV (default 100 MB).

Prints rows per second for reading and parsing (the store is left out: it is the same for every
source) and the peak memory traced during a second, traced pass: the issue's anchor is a 100 MB
CSV imported without loading it whole.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import httpx

from collect.sources.base import FetchContext
from collect.sources.files import fetch, parse


def generate(path: Path, megabytes: float) -> int:
    """A CSV of tweet-sized rows (about 200 bytes each) of at least `megabytes` MB; returns the row count."""
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("id,text,created_at,author,likes\n")
        while handle.tell() < megabytes * 1024 * 1024:
            handle.write(
                f'{rows},"Row {rows}: artists leaked Sora, calling it ""unpaid R&D"" for OpenAI; '
                f'what does it mean for video models?",{1732600000 + rows},user{rows % 5000},{rows % 97}\n'
            )
            rows += 1
    return rows


def import_all(path: Path) -> int:
    options = {
        "paths": [str(path)],
        "format": "csv",
        "platform": "bench",
        "delimiter": ",",
        "rows_per_page": 1000,
        "columns": {"id": "id", "text": "text", "created_at": "created_at", "author": "author", "likes": "likes"},
        "base_url": None,
    }
    with httpx.Client() as client:
        ctx = FetchContext(
            client=client,
            search="*",
            options=options,
            since=datetime(2024, 1, 1, tzinfo=UTC),
            until=datetime.now(UTC),
            state=None,
            env={},
        )
        return sum(len(parse(page.body)) for page in fetch(ctx))


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING)
    megabytes = float(argv[0]) if argv else 100.0
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.csv"
        rows = generate(path, megabytes)
        size = path.stat().st_size / 2**20
        started = time.perf_counter()
        imported = import_all(path)
        seconds = time.perf_counter() - started
        tracemalloc.start()
        import_all(path)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    print(f"files source, csv: {size:.0f} MiB, {rows:,} rows generated, {imported:,} imported")
    print(f"  read + parse: {seconds:.1f} s, {imported / seconds:,.0f} rows/s, {size / seconds:.1f} MiB/s")
    print(f"  peak traced memory: {peak / 2**20:.1f} MiB (anchor: a 100 MB CSV without loading it whole)")
    return 0 if imported == rows else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
