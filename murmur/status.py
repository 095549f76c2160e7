"""`murmur status`: the last runs and how each source fared, for a person or (with --json) a script.

Reads the run log and the run manifests only, so it answers in an instant on any store, while a
collection is running. Each run shows its manifest (Murmur version and commit, monitor file hash),
and the last analysis runs follow with their backends, seed and counts.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from monitor.cli import EXIT_OK, entry_point_parser
from monitor.config import load_monitor
from store.db import display_url, open_store
from store.manifests import StoredManifest, recent_manifests, run_manifests
from store.queries import RunSummary, run_summaries


def parse_args(argv: list[str] | None, prog: str) -> argparse.Namespace:
    parser = entry_point_parser(
        prog,
        "Show the last collection runs and each source's health (ok, degraded: some pages broken, "
        "failed: the source stopped), with counts, durations and errors.",
        "0 done, 2 bad monitor file or option.",
        monitor_required=False,
    )
    parser.add_argument("--runs", type=int, default=5, metavar="N", help="how many runs to show (default 5)")
    parser.add_argument("--json", action="store_true", help="one JSON object per run instead of a table")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, prog: str = "murmur status") -> int:
    args = parse_args(argv, prog)
    monitor = load_monitor(args.monitor).name if args.monitor else None
    engine = open_store(args.db)
    with engine.connect() as conn:
        summaries = run_summaries(conn, monitor, limit=max(1, args.runs))
        manifests = run_manifests(conn, [s.id for s in summaries])
        analyses = recent_manifests(conn, monitor, kind="analyze", limit=max(1, args.runs))
    if args.json:
        for summary in summaries:
            print(json.dumps(_as_json(summary, manifests.get(summary.id)), ensure_ascii=False))
        for analysis in analyses:
            print(json.dumps(_analysis_json(analysis), ensure_ascii=False))
        return EXIT_OK
    print(f"store: {display_url(str(engine.url))}")
    if not summaries:
        print("no runs yet: collect first, e.g. murmur collect --monitor monitors/sora-leak.toml")
        return EXIT_OK
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
    record = {"kind": "collection", **asdict(summary)}
    record["seconds"] = summary.seconds
    for key in ("started_at", "finished_at"):
        record[key] = record[key].isoformat().replace("+00:00", "Z") if record[key] else None
    record["manifest"] = manifest.manifest if manifest else None
    return record


def _analysis_json(analysis: StoredManifest) -> dict:
    return {
        "kind": "analysis",
        "id": analysis.id,
        "monitor": analysis.monitor,
        "started_at": analysis.started_at.isoformat().replace("+00:00", "Z"),
        "finished_at": analysis.finished_at.isoformat().replace("+00:00", "Z"),
        "seconds": analysis.seconds,
        "manifest": analysis.manifest,
    }
