"""`murmur status`: each source's health and the last runs, for a person or (with --json) a script.

Reads the run log and counts posts, so it answers in an instant on any store, while a collection is
running. Health is judged by `store.health` (ok, degraded, failed, skipped), the one place that rule
is written. Each run shows its manifest (Murmur version and commit, monitor file hash), and the last
analysis runs follow with their backends, seed and counts.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from datetime import datetime, timedelta

from sqlalchemy import Connection

from monitor.cli import EXIT_OK, entry_point_parser
from monitor.config import load_monitor
from store.db import display_url, open_store
from store.health import SourceHealth, collection_gaps, empty_days, post_counts, source_health
from store.manifests import StoredManifest, recent_manifests, run_manifests
from store.queries import RunSummary, monitor_names, run_summaries

# A stretch this long without a successful live run is reported as a gap in collection.
GAP = timedelta(days=1)


def parse_args(argv: list[str] | None, prog: str) -> argparse.Namespace:
    parser = entry_point_parser(
        prog,
        "Show the last collection runs and each source's health (ok, degraded: some pages broken, "
        "failed: the source stopped), with counts, durations and errors.",
        "0 done, 2 bad monitor file or option, 130 interrupted.",
        monitor_required=False,
    )
    parser.add_argument("--runs", type=int, default=5, metavar="N", help="how many runs to show (default 5)")
    parser.add_argument(
        "--json",
        action="store_true",
        help="JSON lines: each monitor's health (kind: health), then each run (kind: run)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, prog: str = "murmur status") -> int:
    args = parse_args(argv, prog)
    monitor = load_monitor(args.monitor).name if args.monitor else None
    engine = open_store(args.db)
    with engine.connect() as conn:
        summaries = run_summaries(conn, monitor, limit=max(1, args.runs))
        health = {name: _health(conn, name) for name in ([monitor] if monitor else monitor_names(conn))}
        manifests = run_manifests(conn, [s.id for s in summaries])
        analyses = recent_manifests(conn, monitor, kind="analyze", limit=max(1, args.runs))
    if args.json:
        for name, report in health.items():
            print(json.dumps({"kind": "health", "monitor": name, **report}, ensure_ascii=False, default=_iso))
        for summary in summaries:
            print(json.dumps(_as_json(summary, manifests.get(summary.id)), ensure_ascii=False))
        for analysis in analyses:
            print(json.dumps(_analysis_json(analysis), ensure_ascii=False))
        return EXIT_OK
    print(f"store: {display_url(str(engine.url))}")
    if not summaries:
        print("no runs yet: collect first, e.g. murmur collect --monitor monitors/sora-leak.toml")
        return EXIT_OK
    for name, report in health.items():
        print(render_health(name, report))
    for summary in summaries:
        print(render(summary))
        if summary.id in manifests:
            print("  manifest: " + describe_manifest(manifests[summary.id].manifest))
    for analysis in analyses:
        print(render_analysis(analysis))
    return EXIT_OK


def describe_manifest(manifest: dict) -> str:
    """`murmur 0.2.0 (commit 1a2b3c4d5e6f) · monitor file sha256 9f8e7d6c5b4a`"""
    murmur, monitor = manifest.get("murmur", {}), manifest.get("monitor", {})
    commit = f" (commit {murmur['commit'][:12]})" if murmur.get("commit") else ""
    sha = (monitor.get("sha256") or "unreadable")[:12]
    return f"murmur {murmur.get('version', '?')}{commit} · monitor file sha256 {sha}"


def render_analysis(analysis: StoredManifest) -> str:
    manifest = analysis.manifest
    backends, counts = manifest.get("backends", {}), manifest.get("counts", {})
    topics = "topics unchanged" if counts.get("topics") is None else f"{counts['topics']} topics"
    return (
        f"\nanalysis {analysis.id} · {analysis.monitor} · finished {analysis.finished_at:%Y-%m-%d %H:%M} UTC · "
        f"{analysis.seconds:.0f} s\n"
        f"  embeddings {backends.get('embeddings')} · sentiment {backends.get('sentiment')} · "
        f"seed {manifest.get('seed')}\n"
        f"  {counts.get('analysed', 0)} analysed, {counts.get('embedded', 0)} embedded, {topics}, "
        f"{counts.get('spikes', 0)} spikes\n"
        f"  manifest: {describe_manifest(manifest)}"
    )


def _health(conn: Connection, monitor: str) -> dict:
    return {
        "sources": [asdict(h) for h in source_health(conn, monitor)],
        "posts": post_counts(conn, monitor),
        "gaps": [{"from": start, "to": end} for start, end in collection_gaps(conn, monitor, GAP)],
        "empty_days": empty_days(conn, monitor),
    }


def render_health(monitor: str, report: dict) -> str:
    posts = ", ".join(f"{platform} {count}" for platform, count in sorted(report["posts"].items())) or "none"
    lines = [f"\n{monitor}: posts stored: {posts}"]
    for item in report["sources"]:
        health = SourceHealth(**item)
        last_ok = f"last ok {health.last_ok_at:%Y-%m-%d %H:%M}" if health.last_ok_at else "never ok"
        line = f"  {health.source}: {health.status} (run {health.run_id}, {health.duration_s:.0f} s, {last_ok})"
        lines.append(line + (f": {health.reason}" if health.reason else ""))
    if not report["sources"]:
        lines.append("  no live run yet (demo data only)")
    for gap in report["gaps"]:
        lines.append(f"  gap in collection: {gap['from']:%Y-%m-%d %H:%M} → {gap['to']:%Y-%m-%d %H:%M}")
    if report["empty_days"]:
        lines.append(f"  days without any post: {len(report['empty_days'])} (first {report['empty_days'][0]:%Y-%m-%d})")
    return "\n".join(lines)


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def render(summary: RunSummary) -> str:
    took = f"{summary.seconds:.0f} s" if summary.seconds is not None else "still running"
    lines = [
        f"\nrun {summary.id} · {summary.monitor} · {summary.mode} · {summary.status} · "
        f"started {summary.started_at:%Y-%m-%d %H:%M} UTC · {took}"
    ]
    header = ("source", "health", "pages", "broken", "fetched", "matched", "new", "updated")
    rows = [
        (s.source, s.health, s.pages, s.failed_pages, s.fetched, s.matched, s.new, s.updated) for s in summary.sources
    ]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        lines.append("  " + "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    lines += [f"  error: {error}" for error in summary.errors[:5]]
    if len(summary.errors) > 5:
        lines.append(f"  … and {len(summary.errors) - 5} more errors")
    return "\n".join(lines)


def _as_json(summary: RunSummary, manifest: StoredManifest | None) -> dict:
    record = {"kind": "run", **asdict(summary)}
    record["manifest"] = manifest.manifest if manifest else None
    record["seconds"] = summary.seconds
    for key in ("started_at", "finished_at"):
        record[key] = record[key].isoformat().replace("+00:00", "Z") if record[key] else None
    return record


def _analysis_json(analysis: StoredManifest) -> dict:
    return {
        "kind": "analysis",
        "id": analysis.id,
        "monitor": analysis.monitor,
        "started_at": _iso(analysis.started_at),
        "finished_at": _iso(analysis.finished_at),
        "seconds": analysis.seconds,
        "manifest": analysis.manifest,
    }
