"""Run manifests: what a collection or analysis run was, so its results can be traced and repeated.

A manifest names the Murmur version (and the git commit when running from a checkout), the monitor
file (its SHA-256 and query), the sources' options, the backends and model packages with their
versions, the parameters and seed, the counts and the durations. It is built here, beside the
monitor it describes, so `collect` and `analyze` write the same shape; each adds its own part.

Nothing secret goes in: credentials only ever come from environment variables, which a manifest
names but never reads, and an option whose name looks like a credential is left out.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import Iterable
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from monitor.config import Monitor

_SECRET = re.compile(r"token|password|secret|api_?key|credential|auth", re.IGNORECASE)
_ROOT = Path(__file__).resolve().parent.parent


def base_manifest(monitor: Monitor, kind: str) -> dict[str, Any]:
    """The part every run shares: which Murmur, which monitor file, which query."""
    from murmur import __version__

    return {
        "kind": kind,
        "murmur": {"version": __version__, "commit": git_commit()},
        "monitor": {
            "name": monitor.name,
            "file": str(monitor.path),
            "sha256": file_sha256(monitor.path),
            "query": monitor.query.source,
        },
    }


def source_options(monitor: Monitor) -> dict[str, dict[str, Any]]:
    """Each source's options as the monitor file sets them, without anything credential-like."""
    return {
        source.name: {
            "enabled": source.enabled,
            **{key: value for key, value in sorted(source.options.items()) if not _SECRET.search(key)},
        }
        for source in monitor.sources
    }


def package_versions(names: Iterable[str]) -> dict[str, str | None]:
    """The installed version of each distribution (None where it is not installed)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def file_sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


@cache
def git_commit() -> str | None:
    """The commit of the checkout Murmur runs from, or None (an installed package, no git)."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=_ROOT, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", commit) else None
