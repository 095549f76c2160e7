"""Keep UMAP's compiled kernels on disk, so a refit does not recompile them in every process.

UMAP's numba functions are declared without `cache=True`, so each process that fits topics
compiled them afresh: about 10 CPU seconds a fit on 2 cores, more than UMAP's own work on a
demo-sized corpus. Numba's dispatchers can be told to cache after the fact; the compiled code is
the same, it is only reused (numba keys the cache on the source file, so an upgrade recompiles).
Where the package folder is read-only numba keeps the cache in the user's cache folder instead.
"""

from __future__ import annotations

from functools import cache


@cache
def cache_umap_kernels() -> int:
    """Turn on disk caching for UMAP's module-level numba functions; returns how many (once per process)."""
    import umap.layouts
    import umap.spectral
    import umap.umap_
    import umap.utils
    from numba.core.registry import CPUDispatcher

    kernels = [
        kernel
        for module in (umap.umap_, umap.layouts, umap.utils, umap.spectral)
        for kernel in vars(module).values()
        if isinstance(kernel, CPUDispatcher)
    ]
    for kernel in kernels:
        kernel.enable_caching()
    return len(kernels)
