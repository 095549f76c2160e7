"""analyze.jit_cache: UMAP's kernels are cached on disk, once per process."""

from numba.core.caching import NullCache

from analyze.jit_cache import cache_umap_kernels


def test_umap_kernels_get_a_disk_cache_once():
    import umap.layouts
    import umap.umap_

    count = cache_umap_kernels()
    assert count >= 10
    assert cache_umap_kernels() == count  # the second call does nothing new
    for kernel in (umap.umap_.smooth_knn_dist, umap.layouts._nb_optimize_layout_euclidean_single_epoch):
        assert not isinstance(kernel._cache, NullCache)
