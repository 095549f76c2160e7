"""Work shared with forked helper processes: same answers in order, failures recovered, nothing leaked."""

from __future__ import annotations

import multiprocessing
import os

import numpy as np
import pytest

from analyze.embeddings import USE_PIECE, UseMultilingualBackend
from analyze.forked import ForkedWorkers, balanced_groups, helper_cpu_seconds

PARENT = os.getpid()


def _square_all(piece: list[int]) -> list[int]:
    return [x * x for x in piece]


def _fails_in_helpers(piece: list[int]) -> list[int]:
    if os.getpid() != PARENT:
        raise ValueError("no room in here")
    return _square_all(piece)


def _interrupted_in_parent(piece: list[int]) -> list[int]:
    if os.getpid() == PARENT:
        raise KeyboardInterrupt
    return _square_all(piece)


def _helpers_alive(workers: ForkedWorkers) -> list[int]:
    return [pid for pid in workers.helper_pids if pid is not None and os.path.exists(f"/proc/{pid}")]


def test_pieces_are_shared_by_cost_in_contiguous_runs():
    assert balanced_groups([1, 1, 1, 1], 2) == [[0, 1], [2, 3]]
    assert balanced_groups([6, 1, 1, 1, 1], 2) == [[0], [1, 2, 3, 4]]
    assert balanced_groups([1, 1], 1) == [[0, 1]]
    assert balanced_groups([5], 4) == [[0]]  # one piece: one process
    assert balanced_groups([], 2) == []


def test_helpers_give_the_answers_in_order_and_are_reused():
    workers = ForkedWorkers(_square_all)
    pieces = [list(range(i, i + 3)) for i in range(0, 30, 3)]
    expected = [_square_all(p) for p in pieces]
    assert workers.map(pieces, [1.0] * len(pieces), processes=3) == expected
    first = workers.helper_pids
    assert len(first) == 2 and PARENT not in first
    assert workers.map(pieces, [1.0] * len(pieces), processes=3) == expected
    assert workers.helper_pids == first  # forked once, kept
    assert helper_cpu_seconds() >= 0.0
    workers.close()
    assert workers.helper_pids == [] and not multiprocessing.active_children()


def test_a_failing_helper_has_its_share_done_by_the_caller(caplog):
    workers = ForkedWorkers(_fails_in_helpers)
    pieces = [[1, 2], [3, 4], [5, 6], [7, 8]]
    assert workers.map(pieces, [1.0] * 4, processes=2) == [[1, 4], [9, 16], [25, 36], [49, 64]]
    assert "no room in here" in caplog.text
    assert not _helpers_alive(workers)
    workers.close()


def test_an_interrupt_ends_every_helper():
    workers = ForkedWorkers(_interrupted_in_parent)
    with pytest.raises(KeyboardInterrupt):
        workers.map([[1], [2], [3], [4]], [1.0] * 4, processes=4)
    assert workers.helper_pids == []
    assert not multiprocessing.active_children()


def test_the_encoder_gives_the_same_vectors_in_one_process_and_in_two():
    texts = [
        f"post number {i}: artists leaked the Sora model " + "and said why " * (i % 7) for i in range(3 * USE_PIECE)
    ]
    one = UseMultilingualBackend(processes=1)
    single = one.embed(texts)
    one._memo.clear()  # the memo is shared per process: forget, so the second backend encodes again
    two = UseMultilingualBackend(processes=2)
    assert np.array_equal(two.embed(texts), single)
    assert two._workers.helper_pids  # it did use a helper
    two._workers.close()
