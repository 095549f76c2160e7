"""The bundled multilingual sentiment classifier: a linear head over sentence embeddings and n-grams.

Features per text: the multilingual Universal Sentence Encoder vector (what the text means, in any
of its 16 languages) next to hashed character and word n-grams (the words and spellings that
carry feeling: "mdr", "ههههه", "😡", "no way"), and the character n-grams once more in the text's
own language namespace, so a spelling can weigh differently in each of the eight training languages
(the language is the detector's, or "hi" for Hinglish, see analyze/hinglish.py; other languages get
only the shared weights). One multinomial logistic regression reads them all,
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

from analyze.hinglish import sentiment_language
from analyze.lexical import SparseRows, normalise_for_ngrams, normalised_char_ngrams, normalised_word_ngrams

MODEL_PATH = Path(__file__).resolve().parent / "models" / "sentiment-multilingual.npz"
LABELS = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class FeatureSpec:
    """How texts become features; stored in the model file so training and scoring agree."""

    char_bits: int
    word_bits: int
    language_bits: int  # the per-language character n-gram block
    embedding_weight: float
    languages: tuple[str, ...]  # namespace i + 1 belongs to languages[i]


def lexical_blocks(
    texts: Sequence[str], languages: Sequence[str], spec: FeatureSpec
) -> tuple[SparseRows, SparseRows, SparseRows]:
    """Shared character n-grams, shared word n-grams, and character n-grams in each text's language.

    `languages` are the ones the model files texts under (see `filed_languages`).
    """
    namespace = {language: i + 1 for i, language in enumerate(spec.languages)}
    spaces = [namespace.get(language, 0) for language in languages]
    normalised = [normalise_for_ngrams(t) for t in texts]
    in_language = [t if space else "" for t, space in zip(normalised, spaces, strict=True)]
    return (
        normalised_char_ngrams(normalised, spec.char_bits),
        normalised_word_ngrams(normalised, spec.word_bits),
        normalised_char_ngrams(in_language, spec.language_bits, spaces),
    )


def filed_languages(texts: Sequence[str], detected: Sequence[str]) -> list[str]:
    """Each text's language as the model sees it: the detector's guess, or "hi" for Hinglish."""
    return [sentiment_language(t, language) for t, language in zip(texts, detected, strict=True)]


class LinearSentimentModel:
    """Loads the arrays of a trained head and turns embeddings + texts into calibrated probabilities."""

    def __init__(self, path: Path = MODEL_PATH) -> None:
        with np.load(path, allow_pickle=False) as arrays:
            meta = json.loads(str(arrays["meta"]))
            self.embedding_weights = arrays["embedding_weights"].astype(np.float64)
            self.char_weights = arrays["char_weights"].astype(np.float32)
            self.word_weights = arrays["word_weights"].astype(np.float32)
            self.language_char_weights = arrays["language_char_weights"].astype(np.float32)
            self.intercept = arrays["intercept"].astype(np.float64)
            offsets = arrays["language_offsets"].astype(np.float64)
        self.spec = FeatureSpec(
            char_bits=meta["char_bits"],
            word_bits=meta["word_bits"],
            language_bits=meta["language_bits"],
            embedding_weight=meta["embedding_weight"],
            languages=tuple(meta["languages"]),
        )
        self.temperature = float(meta["temperature"])
        self.embedding_model = str(meta["embedding_model"])
        self.version = str(meta["version"])
        self.offsets = dict(zip(meta["languages"], offsets, strict=True))

    def probabilities(self, embeddings: np.ndarray, texts: Sequence[str], languages: Sequence[str]) -> np.ndarray:
        """(n, 3) probabilities of negative, neutral, positive."""
        return softmax(self.logits(embeddings, texts, languages) / self.temperature)

    def logits(self, embeddings: np.ndarray, texts: Sequence[str], languages: Sequence[str]) -> np.ndarray:
        filed = filed_languages(texts, languages)
        chars, words, language_chars = lexical_blocks(texts, filed, self.spec)
        raw = (
            (embeddings.astype(np.float64) * self.spec.embedding_weight) @ self.embedding_weights
            + chars.dot(self.char_weights)
            + words.dot(self.word_weights)
            + language_chars.dot(self.language_char_weights)
            + self.intercept
        )
        zero = np.zeros(len(LABELS))
        return raw + np.array([self.offsets.get(language, zero) for language in filed]).reshape(raw.shape)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)
