"""Per-stage wall and CPU seconds of an analysis run, from its progress callback.

On a shared machine wall time says as much about the neighbours as about the code, so every
figure is printed with the CPU seconds this process spent (children included) and the load average.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass, field

from analyze.forked import helper_cpu_seconds


def cpu_seconds() -> float:
    """User and system CPU seconds of this process, its finished children and its live helper processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime + helper_cpu_seconds()


def peak_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_average() -> float:
    return os.getloadavg()[0]


@dataclass
class Stage:
    wall: float = 0.0
    cpu: float = 0.0


@dataclass
class StageClock:
    """Pass `progress` to analyze_monitor(); a stage runs from its first report to its last (done == total)."""

    stages: dict[str, Stage] = field(default_factory=dict)
    _started: dict[str, tuple[float, float]] = field(default_factory=dict)

    def progress(self, step: str, done: int, total: int) -> None:
        if step not in self._started:
            self._started[step] = (time.perf_counter(), cpu_seconds())
        if done == total:
            wall, cpu = self._started[step]
            self.stages[step] = Stage(time.perf_counter() - wall, cpu_seconds() - cpu)

    def lines(self, posts: int) -> list[str]:
        return [
            f"  {step:<24} {s.wall:6.1f} s wall {s.cpu:6.1f} s CPU  {posts / s.wall if s.wall else 0:8,.0f} posts/s"
            for step, s in self.stages.items()
        ]
