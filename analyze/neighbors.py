"""Exact cosine nearest neighbours of unit vectors, in plain numpy, for UMAP's `precomputed_knn`.

UMAP finds neighbours with pynndescent, whose numba functions are compiled afresh in every
process: on 2 cores that compilation alone cost 30-40 CPU seconds per refit, more than the
search itself. A topic fit sees at most a sample of some 20,000 posts (analyze.topic_refresh),
where the exact answer is one matrix product per block of rows: a few seconds, no compilation,
the same on every run, and exact rather than approximate.
"""

from __future__ import annotations

import numpy as np

BLOCK = 1024  # rows per product: a 1,024 x 20,000 float32 block is 80 MB


def cosine_neighbors(vectors: np.ndarray, k: int, block: int = BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """Each row's `k` nearest rows (itself first, as UMAP expects) and their cosine distances.

    Neighbours of equal similarity are listed by row number; the answer depends only on the vectors.
    """
    n = len(vectors)
    k = min(k, n)
    data = np.asarray(vectors, dtype=np.float32)
    data = np.ascontiguousarray(data / np.maximum(np.linalg.norm(data, axis=1, keepdims=True), 1e-12))
    indices = np.empty((n, k), dtype=np.int64)
    distances = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, block):
        stop = min(n, start + block)
        similarity = data[start:stop] @ data.T
        rows = np.arange(stop - start)
        similarity[rows, rows + start] = np.inf  # a row is its own nearest neighbour, whatever its duplicates
        candidates = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        chosen = np.take_along_axis(similarity, candidates, axis=1)
        # Sort by similarity, then by row number, so ties never depend on argpartition's order.
        order = np.lexsort((candidates, -chosen), axis=1)
        indices[start:stop] = np.take_along_axis(candidates, order, axis=1)
        best = np.take_along_axis(chosen, order, axis=1)
        best[:, 0] = 1.0
        distances[start:stop] = np.clip(1.0 - best, 0.0, 2.0)
    return indices, distances
