"""Spreading CPU-bound pieces of work over the machine's cores with forked helper processes.

The default encoder (analyze/embeddings.py) is pure numpy and Python on one thread: on the 2-core
machines the monitor targets it would leave a core idle while it reads most of an analysis run.
`ForkedWorkers.map` runs a function over pieces of work, the calling process doing one share and
helper processes the others. Helpers are forked on first use and kept for the life of the process:
forking shares the already loaded model with them (copy on write), so no helper loads anything,
and forking once rather than per call spares the copying a fresh fork pays for. The caller fixes
the pieces, so the answer is the same bit for bit whatever the number of processes.

Nothing is lost or leaked: a helper that fails or dies has its share done by the calling process
(and is replaced next time); when `map` is interrupted (Ctrl-C: helpers ignore SIGINT and leave it
to the caller) or fails, every helper is ended and reaped before the exception goes on; helpers
are daemons, so they end with the process, and one whose parent vanished reads end-of-file and
exits. Where `fork` is unavailable everything runs in the calling process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import weakref
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Generic, TypeVar

P = TypeVar("P")
R = TypeVar("R")
log = logging.getLogger(__name__)
_LIVE: weakref.WeakSet[ForkedWorkers] = weakref.WeakSet()


def available_cores() -> int:
    """The cores this process may run on (its affinity mask where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return max(os.cpu_count() or 1, 1)


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def helper_cpu_seconds() -> float:
    """CPU seconds spent so far by the helpers still alive (Linux; 0 elsewhere).

    getrusage counts a child only once it has been reaped, and helpers live as long as the process:
    benchmarks add this to be fair about what an analysis costs.
    """
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0.0
    for workers in list(_LIVE):
        for pid in workers.helper_pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


class ForkedWorkers(Generic[P, R]):
    """Helper processes that apply one function to the pieces they are sent."""

    def __init__(self, function: Callable[[P], R]) -> None:
        self._function = function
        self._helpers: list[tuple[BaseProcess, Connection]] = []
        _LIVE.add(self)

    def map(self, pieces: Sequence[P], costs: Sequence[float], processes: int) -> list[R]:
        """``[function(p) for p in pieces]``, shared by cost among up to `processes` processes."""
        groups = balanced_groups(costs, processes if can_fork() else 1)
        if len(groups) <= 1:
            return [self._function(piece) for piece in pieces]
        try:
            self._start(len(groups) - 1)
            for (_, connection), group in zip(self._helpers, groups[1:], strict=False):
                connection.send([pieces[i] for i in group])
            results = {i: self._function(pieces[i]) for i in groups[0]}
            for index, group in enumerate(groups[1:]):
                answers = self._receive(index)
                if answers is None or len(answers) != len(group):
                    log.warning("a helper process failed; its share is done in the main process")
                    answers = [self._function(pieces[i]) for i in group]
                results.update(zip(group, answers, strict=True))
        except BaseException:
            self.close()  # a helper may still be busy with a share nobody will read
            raise
        return [results[i] for i in range(len(pieces))]

    def close(self) -> None:
        """End and reap every helper (they are forked again when next needed)."""
        helpers, self._helpers = self._helpers, []
        for process, connection in helpers:
            connection.close()
            if process.is_alive():
                process.terminate()
            process.join()

    @property
    def helper_pids(self) -> list[int | None]:
        return [process.pid for process, _ in self._helpers]

    def _start(self, count: int) -> None:
        self._helpers = [(p, c) for p, c in self._helpers if p.is_alive()]
        context = multiprocessing.get_context("fork")
        while len(self._helpers) < count:
            ours, theirs = context.Pipe()
            process = context.Process(target=_serve, args=(self._function, theirs), daemon=True)
            process.start()
            theirs.close()
            self._helpers.append((process, ours))

    def _receive(self, index: int) -> list[R] | None:
        process, connection = self._helpers[index]
        try:
            answer = connection.recv()
        except (EOFError, OSError):  # the helper died before answering
            answer = "it ended before answering"
        if isinstance(answer, str):
            log.warning("helper process %s: %s", process.pid, answer)
            connection.close()
            process.terminate()
            process.join()
            return None
        return answer


def balanced_groups(costs: Sequence[float], processes: int) -> list[list[int]]:
    """Contiguous runs of piece indices, one per process, with about equal total cost (empty runs dropped)."""
    total = float(sum(costs))
    groups: list[list[int]] = [[] for _ in range(max(processes, 1))]
    done = 0.0
    for index, cost in enumerate(costs):
        # a piece goes to the process whose share its midpoint falls in
        share = int((done + cost / 2) * len(groups) / total) if total > 0 else 0
        groups[min(share, len(groups) - 1)].append(index)
        done += cost
    return [group for group in groups if group]


def _serve(function: Callable[[P], R], connection: Connection) -> None:
    """A helper's life: apply `function` to each list of pieces received, until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's to handle; it ends helpers
    while True:
        try:
            pieces = connection.recv()
        except (EOFError, OSError):
            return
        try:
            answer: list[R] | str = [function(piece) for piece in pieces]
        except Exception as error:  # reported; the caller does this share itself
            answer = f"{type(error).__name__}: {error}"
        connection.send(answer)
