"""`murmur export`: a monitor's posts with their analysis, as CSV, JSONL or Parquet.

One row per post (see `store.exports` for the columns). Rows stream from the store in chunks and
are written as they come, so an export needs little memory however large the monitor. Without
`--output` the rows go to stdout, ready for a pipe.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from monitor.cli import EXIT_OK, entry_point_parser, setup_logging, since_arg, until_arg
from monitor.config import load_monitor
from store.db import open_store
from store.exports import ExportFilter, export_columns, export_rows

FORMATS = ("csv", "jsonl", "parquet")
PARQUET_BATCH = 5000


def parse_args(argv: list[str] | None, prog: str) -> argparse.Namespace:
    parser = entry_point_parser(
        prog,
        "Export a monitor's posts, one row per post, with every analysis result the store holds "
        "(language, sentiment, topic…). Authors appear only as their stored pseudonym.",
        "0 done, 2 bad monitor file or option, 130 interrupted.",
    )
    parser.add_argument("--format", required=True, choices=FORMATS, help="output format")
    parser.add_argument("--output", metavar="PATH", type=Path, help="file to write (default: stdout)")
    parser.add_argument("--since", type=since_arg, metavar="DATE", help="posts created from this day (UTC)")
    parser.add_argument("--until", type=until_arg, metavar="DATE", help="posts created up to this day, inclusive (UTC)")
    parser.add_argument("--language", metavar="CODE", help="only posts in this language (ISO 639-1, e.g. ar)")
    parser.add_argument("--source", metavar="NAME", help="only posts from this platform (e.g. hackernews)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, prog: str = "murmur export") -> int:
    args = parse_args(argv, prog)
    setup_logging(-1 if args.quiet else args.verbose)
    monitor = load_monitor(args.monitor)
    engine = open_store(args.db)
    where = ExportFilter(since=args.since, until=args.until, language=args.language, source=args.source)
    with engine.connect() as conn, _opened(args.output, binary=args.format == "parquet") as out:
        rows = export_rows(conn, monitor.name, where)
        count = WRITERS[args.format](rows, out)
    print(
        f"{prog}: {count} posts of {monitor.name} exported as {args.format}"
        + (f" to {args.output}" if args.output else ""),
        file=sys.stderr,
    )
    return EXIT_OK


@contextmanager
def _opened(path: Path | None, *, binary: bool) -> Iterator[IO[Any]]:
    if path is None:
        yield sys.stdout.buffer if binary else sys.stdout
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") if binary else open(path, "w", encoding="utf-8", newline="") as handle:
        yield handle


def write_csv(rows: Iterable[dict[str, Any]], out: IO[str]) -> int:
    writer = csv.DictWriter(out, fieldnames=list(export_columns()))
    writer.writeheader()
    count = 0
    for count, row in enumerate(rows, start=1):  # noqa: B007 - the count is the result
        writer.writerow(row)
    return count


def write_jsonl(rows: Iterable[dict[str, Any]], out: IO[str]) -> int:
    count = 0
    for count, row in enumerate(rows, start=1):  # noqa: B007 - the count is the result
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return count


def write_parquet(rows: Iterable[dict[str, Any]], out: IO[bytes]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "str": pa.string()}
    schema = pa.schema([(name, types[kind]) for name, kind in export_columns().items()])
    count = 0
    with pq.ParquetWriter(out, schema) as writer:
        for batch in _batches(rows, PARQUET_BATCH):
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            count += len(batch)
    return count


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


WRITERS: dict[str, Callable[[Iterable[dict[str, Any]], Any], int]] = {
    "csv": write_csv,
    "jsonl": write_jsonl,
    "parquet": write_parquet,
}
