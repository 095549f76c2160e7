"""analyze.neighbors: the exact neighbours UMAP is given instead of pynndescent's search."""

import numpy as np

from analyze.neighbors import cosine_neighbors


def _brute_force(vectors: np.ndarray, k: int) -> np.ndarray:
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    similarity = unit @ unit.T
    return np.argsort(-similarity, axis=1, kind="stable")[:, :k]


def test_neighbors_match_brute_force_across_blocks():
    vectors = np.random.default_rng(0).normal(size=(500, 32)).astype(np.float32)
    indices, distances = cosine_neighbors(vectors, 10, block=64)
    assert indices.shape == distances.shape == (500, 10)
    assert (indices == _brute_force(vectors, 10)).all()
    assert (np.diff(distances, axis=1) >= 0).all()
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    expected = 1 - np.einsum("ij,ikj->ik", unit, unit[indices[:, 1:]])
    assert np.allclose(distances[:, 1:], expected, atol=1e-5)


def test_each_row_is_its_own_first_neighbour_even_with_duplicates():
    vectors = np.random.default_rng(1).normal(size=(50, 8)).astype(np.float32)
    vectors[7] = vectors[3]
    vectors[9] = 2 * vectors[3]  # same direction, other length: cosine calls it the same
    indices, distances = cosine_neighbors(vectors, 4)
    assert (indices[:, 0] == np.arange(50)).all()
    assert (distances[:, 0] == 0).all()
    assert set(indices[3, 1:3]) == {7, 9}
    assert indices[7, 1] == 3  # equal similarity: lower row number first
    assert np.allclose(distances[3, 1:3], 0, atol=1e-6)


def test_more_neighbours_than_rows_and_repeatable():
    vectors = np.random.default_rng(2).normal(size=(5, 4)).astype(np.float32)
    first, _ = cosine_neighbors(vectors, 15)
    second, _ = cosine_neighbors(vectors.copy(), 15)
    assert first.shape == (5, 5)
    assert (first == second).all()
    assert sorted(first[0]) == [0, 1, 2, 3, 4]
