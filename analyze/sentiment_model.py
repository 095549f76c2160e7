"""The bundled multilingual sentiment classifier: a linear head over sentence embeddings and n-grams.

Features per text: the multilingual Universal Sentence Encoder vector (what the text means, in any
of its 16 languages) next to hashed character and word n-grams (the words and spellings that
carry feeling: "mdr", "ههههه", "😡", "no way"). One multinomial logistic regression reads them all,
trained only on the XLM-T train splits by `python -m bench.train_sentiment`, which writes
``analyze/models/sentiment-multilingual.npz`` bit for bit (fixed data order, single-threaded BLAS,
no randomness). The file holds plain arrays (no pickle); inference needs only numpy.

Probabilities are temperature-scaled on the validation splits so they can be read as confidence;
a per-language logit offset, also fitted on validation, corrects each language's class balance.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analyze.lexical import char_ngrams, word_ngrams

MODEL_PATH = Path(__file__).resolve().parent / "models" / "sentiment-multilingual.npz"
LABELS = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class FeatureSpec:
    """How texts become features; stored in the model file so training and scoring agree."""

    char_bits: int
    word_bits: int
    embedding_weight: float


def lexical_blocks(texts: Sequence[str], spec: FeatureSpec):
    return char_ngrams(texts, spec.char_bits), word_ngrams(texts, spec.word_bits)


class LinearSentimentModel:
    """Loads the arrays of a trained head and turns embeddings + texts into calibrated probabilities."""

    def __init__(self, path: Path = MODEL_PATH) -> None:
        with np.load(path, allow_pickle=False) as arrays:
            meta = json.loads(str(arrays["meta"]))
            self.embedding_weights = arrays["embedding_weights"].astype(np.float64)
            self.char_weights = arrays["char_weights"].astype(np.float32)
            self.word_weights = arrays["word_weights"].astype(np.float32)
            self.intercept = arrays["intercept"].astype(np.float64)
            offsets = arrays["language_offsets"].astype(np.float64)
        self.spec = FeatureSpec(meta["char_bits"], meta["word_bits"], meta["embedding_weight"])
        self.temperature = float(meta["temperature"])
        self.embedding_model = str(meta["embedding_model"])
        self.version = str(meta["version"])
        self.offsets = dict(zip(meta["languages"], offsets, strict=True))

    def probabilities(self, embeddings: np.ndarray, texts: Sequence[str], languages: Sequence[str]) -> np.ndarray:
        """(n, 3) probabilities of negative, neutral, positive."""
        return softmax(self.logits(embeddings, texts, languages) / self.temperature)

    def logits(self, embeddings: np.ndarray, texts: Sequence[str], languages: Sequence[str]) -> np.ndarray:
        chars, words = lexical_blocks(texts, self.spec)
        raw = (
            (embeddings.astype(np.float64) * self.spec.embedding_weight) @ self.embedding_weights
            + chars.dot(self.char_weights)
            + words.dot(self.word_weights)
            + self.intercept
        )
        zero = np.zeros(len(LABELS))
        return raw + np.array([self.offsets.get(language, zero) for language in languages]).reshape(raw.shape)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)
