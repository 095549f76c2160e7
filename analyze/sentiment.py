"""Sentiment backends: negative / neutral / positive with a score in [-1, 1], or None.

None means "this backend cannot judge this post" (a language it does not read, an empty or
emoji-only text, a script its model never saw); the store keeps it as *unscored*, never as
neutral, so charts do not fill with false neutrality. Classifiers also give the probability of
each class (negative, neutral, positive), so a dashboard can show how sure the model is.

- ``multilingual``: the offline default, the classifier bundled in analyze/models (see
  analyze/sentiment_model.py): USE-multilingual embeddings and hashed n-grams, trained on tweets in
  eight languages; reads every script the embedding model reads. numpy only.
- ``vader``: VADER, an English lexicon, so it scores English only.
- ``transformers:<model>``: any Hugging Face sequence classifier with negative/neutral/positive
  labels, e.g. ``transformers:cardiffnlp/twitter-xlm-roberta-base-sentiment`` (multilingual).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np

from analyze.backends import ModelUnavailable, load_failure, split_setting

# VADER's own recommended cut-offs on the compound score.
VADER_THRESHOLD = 0.05


@dataclass(frozen=True)
class Sentiment:
    label: str  # "negative", "neutral" or "positive"
    score: float  # -1 (negative) … 1 (positive)
    probabilities: tuple[float, float, float] | None = None  # negative, neutral, positive; None: not a classifier


class SentimentBackend(Protocol):
    name: str

    def score(self, texts: Sequence[str], languages: Sequence[str]) -> list[Sentiment | None]:
        """One verdict per text; `languages` are ISO 639-1 codes (or "und")."""


class VaderBackend:
    """English-only lexicon scoring; other languages come back unscored."""

    name = "vader"
    languages = frozenset({"en"})

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._analyzer = SentimentIntensityAnalyzer()

    def score(self, texts: Sequence[str], languages: Sequence[str]) -> list[Sentiment | None]:
        verdicts: list[Sentiment | None] = []
        for text, language in zip(texts, languages, strict=True):
            if language not in self.languages or not text.strip():
                verdicts.append(None)
                continue
            compound = self._analyzer.polarity_scores(text)["compound"]
            verdicts.append(Sentiment(_label_from_score(compound, VADER_THRESHOLD), compound))
        return verdicts


class MultilingualBackend:
    """The bundled classifier: every text in a script the embedding model reads gets calibrated probabilities."""

    def __init__(self, embedder=None) -> None:
        from analyze.embeddings import UseMultilingualBackend
        from analyze.sentiment_model import LinearSentimentModel

        self._model = LinearSentimentModel()
        self.name = f"multilingual:{self._model.version}"
        self._embedder = embedder or UseMultilingualBackend()
        if self._embedder.name != self._model.embedding_model:
            raise ModelUnavailable(f"the sentiment model reads {self._model.embedding_model} vectors")

    def score(self, texts: Sequence[str], languages: Sequence[str]) -> list[Sentiment | None]:
        verdicts: list[Sentiment | None] = [None] * len(texts)
        todo = [i for i, text in enumerate(texts) if readable(text)]
        if not todo:
            return verdicts
        chosen = [texts[i] for i in todo]
        probabilities = self._model.probabilities(self._embedder.embed(chosen), chosen, [languages[i] for i in todo])
        for i, row in zip(todo, probabilities, strict=True):
            verdicts[i] = _verdict_from_probabilities(row, ("negative", "neutral", "positive"))
        return verdicts


# Scripts the multilingual Universal Sentence Encoder was trained on (16 languages).
READABLE_SCRIPTS = frozenset({"LATIN", "ARABIC", "CJK", "HIRAGANA", "KATAKANA", "HANGUL", "THAI", "CYRILLIC"})


# Enough of a post to tell its script; a long post is not read to its end for that.
READABLE_SAMPLE = 1000
_NOT_A_LETTER, _READ, _UNREAD = 0, 1, 2


def readable(text: str) -> bool:
    """True when most of the text's letters are in a script the model reads (emoji and digits alone are not)."""
    sample = text[:READABLE_SAMPLE]
    if sample.isascii():  # the common case, decided at C speed: ASCII letters are Latin
        return any(ch.isalpha() for ch in sample)
    kinds = [_letter_kind(ch) for ch in sample]
    letters = len(kinds) - kinds.count(_NOT_A_LETTER)
    return letters > 0 and kinds.count(_READ) * 2 >= letters


@lru_cache(maxsize=65536)
def _letter_kind(ch: str) -> int:
    if not unicodedata.category(ch).startswith("L"):
        return _NOT_A_LETTER
    return _READ if unicodedata.name(ch, "?").split(" ")[0] in READABLE_SCRIPTS else _UNREAD


class TransformersBackend:
    """A local or hub sequence classifier; scores every non-empty text whatever its language."""

    def __init__(self, model: str, batch_size: int = 32) -> None:
        self.name = f"transformers:{model}"
        self._batch_size = batch_size
        try:
            from transformers import AutoModelForSequenceClassification, AutoTokenizer
        except ImportError as error:  # pragma: no cover - transformers comes with sentence-transformers
            raise ModelUnavailable("the transformers backend needs `pip install transformers`") from error
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(model)
            self._model = AutoModelForSequenceClassification.from_pretrained(model).eval()
        except (OSError, ValueError) as error:
            raise load_failure("sentiment", model, error) from None
        self._columns = _label_columns(self._model.config.id2label)

    def score(self, texts: Sequence[str], languages: Sequence[str]) -> list[Sentiment | None]:
        import torch

        verdicts: list[Sentiment | None] = [None] * len(texts)
        todo = [i for i, text in enumerate(texts) if text.strip()]
        for start in range(0, len(todo), self._batch_size):
            batch = todo[start : start + self._batch_size]
            encoded = self._tokenizer(
                [texts[i] for i in batch], padding=True, truncation=True, max_length=256, return_tensors="pt"
            )
            with torch.no_grad():
                probabilities = self._model(**encoded).logits.softmax(dim=-1).numpy()
            for i, row in zip(batch, probabilities, strict=True):
                verdicts[i] = self._verdict(row)
        return verdicts

    def _verdict(self, probabilities: np.ndarray) -> Sentiment:
        row = np.array([probabilities[self._columns[k]] if k in self._columns else 0.0 for k in _CLASSES])
        return _verdict_from_probabilities(row, tuple(k for k in _CLASSES if k in self._columns))


_CLASSES = ("negative", "neutral", "positive")


def _verdict_from_probabilities(row: np.ndarray, labels: tuple[str, ...]) -> Sentiment:
    """Label = the likeliest of `labels`; score = P(positive) - P(negative)."""
    values = tuple(round(float(p), 4) for p in row)
    label = max(labels, key=lambda k: row[_CLASSES.index(k)])
    negative, neutral, positive = values
    return Sentiment(label, round(positive - negative, 4), (negative, neutral, positive))


def sentiment_backend_name(setting: str) -> str:
    """The setting's kind, checked without loading any model (the backend's `name` adds its version)."""
    kind, target = split_setting(setting)
    if kind in ("multilingual", "vader") and not target:
        return kind
    if kind == "transformers" and target:
        return f"transformers:{target}"
    raise ValueError("expected 'multilingual', 'vader' or 'transformers:<model name or path>'")


def make_sentiment_backend(setting: str) -> SentimentBackend:
    kind = sentiment_backend_name(setting)
    if kind == "multilingual":
        return MultilingualBackend()
    if kind == VaderBackend.name:
        return VaderBackend()
    return TransformersBackend(split_setting(setting)[1])


def _label_from_score(score: float, threshold: float) -> str:
    if score >= threshold:
        return "positive"
    if score <= -threshold:
        return "negative"
    return "neutral"


def _label_columns(id2label: dict[int, str]) -> dict[str, int]:
    """Map a model's labels to negative/neutral/positive columns.

    Named labels are matched by name (NEGATIVE, Neutral, pos…); anonymous LABEL_0..2 follow the
    common convention of the TweetEval/XLM-T models (0 negative, 1 neutral, 2 positive).
    """
    names = {int(i): str(label).lower() for i, label in id2label.items()}
    columns: dict[str, int] = {}
    for index, name in names.items():
        for canonical in ("negative", "neutral", "positive"):
            if name.startswith(canonical[:3]):
                columns[canonical] = index
    if columns.keys() >= {"negative", "positive"}:
        return columns
    if len(names) == 3:
        return {"negative": 0, "neutral": 1, "positive": 2}
    if len(names) == 2:
        return {"negative": 0, "positive": 1}
    raise ModelUnavailable(f"cannot read sentiment labels {sorted(names.values())}: expected negative/neutral/positive")
