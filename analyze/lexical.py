"""Hashed character and word n-grams: lexical features for every script, with no vocabulary to ship.

Sentence embeddings blur the words that carry sentiment ("lol", "😡", "mdr", "ههههه", "tb");
character n-grams keep them, whatever the language or spelling. Each n-gram is hashed into one of
``2**bits`` buckets with a fixed 64-bit multiplicative hash written here (never Python's salted
``hash``), so a model trained once scores the same on every machine and needs no vocabulary file.

Counts are damped (log1p) and each block (characters, words) is L2-normalised per text, so a long
post weighs the same as a tweet. Everything is vectorised over the whole batch in numpy.

Character n-grams can also be hashed into a per-text *namespace* (one per language): the same
spelling then gets its own weight in each language ("hit" is praise in Hinglish tweets, "mal" is bad
in Spanish and hurts in German), beside the shared weight every language learns from.

Arabic is folded before hashing, as Arabic text classifiers do: short vowels and tatweel go, the
alef, ya, ta marbuta and hamza-seat variants that writers swap freely become one letter, and
Arabic-Indic digits become ASCII digits. Otherwise "أحب", "احب" and "إحب" would be three features.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CHAR_ORDERS = (2, 3, 4, 5)
MAX_CHARS = 1000  # a bounded prefix: a 5 MB post costs no more than a long one
_PRIME = np.uint64(1_000_003)
_MIX = np.uint64(0x9E3779B97F4A7C15)  # 2**64 / golden ratio: spreads the hash over the top bits
_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)
_MENTION = re.compile(r"@\w+")
_REPEAT = re.compile(r"(.)\1{2,}")
_ARABIC_BLOCK = re.compile("[\u0600-\u06ff]")
# Harakat and Quranic annotation marks, superscript alef, tatweel: decoration, not spelling.
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ARABIC_LETTERS = str.maketrans(
    {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"}
    | {chr(0x0660 + d): str(d) for d in range(10)}
    | {chr(0x06F0 + d): str(d) for d in range(10)}
)


@dataclass(frozen=True)
class SparseRows:
    """A CSR matrix as plain arrays: row i owns ``indices[indptr[i]:indptr[i+1]]`` and their values."""

    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray
    width: int

    def dot(self, weights: np.ndarray) -> np.ndarray:
        """(rows, width) @ (width, k) without scipy."""
        contributions = weights[self.indices] * self.values[:, None]
        out = np.zeros((len(self.indptr) - 1, weights.shape[1]), dtype=np.float64)
        nonempty = np.diff(self.indptr) > 0
        if contributions.shape[0]:
            out[nonempty] = np.add.reduceat(contributions, self.indptr[:-1][nonempty], axis=0)
        return out


def normalise_for_ngrams(text: str) -> str:
    """Lower case, mentions as one token, Arabic folded, runs of 3+ equal characters cut to two.

    "soooo" → "soo" and "ههههههه" → "هه": how long a laugh or a cry is stretched varies from
    writer to writer; that it is stretched is what carries the feeling.
    """
    lowered = _MENTION.sub("@user", text[:MAX_CHARS].lower())
    return _REPEAT.sub(r"\1\1", _fold_arabic(lowered))


def _fold_arabic(text: str) -> str:
    if not _ARABIC_BLOCK.search(text):
        return text
    return _ARABIC_MARKS.sub("", text).translate(_ARABIC_LETTERS)


def char_ngrams(texts: Sequence[str], bits: int, namespaces: Sequence[int] | None = None) -> SparseRows:
    """Hashed character n-grams of the orders in CHAR_ORDERS, over each text padded with spaces.

    ``namespaces`` gives each text a number that salts its hashes (0, the default, is the shared
    space), so equal n-grams of texts in different namespaces land in unrelated buckets.
    """
    return normalised_char_ngrams([normalise_for_ngrams(t) for t in texts], bits, namespaces)


def normalised_char_ngrams(texts: Sequence[str], bits: int, namespaces: Sequence[int] | None = None) -> SparseRows:
    """`char_ngrams` of texts already through `normalise_for_ngrams` (callers with several blocks do it once)."""
    padded = [f" {t} " if t else "" for t in texts]
    codes = np.frombuffer("\0".join(padded).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    lengths = np.array([len(p) for p in padded], dtype=np.int64)
    owner = np.repeat(np.arange(len(texts)), lengths + 1)[: len(codes)]  # the separator goes with its left text
    separators = np.concatenate([[0], np.cumsum(codes == 0)])
    salts = np.zeros(len(texts), np.uint64) if namespaces is None else np.asarray(namespaces, np.uint64) << np.uint64(8)
    rows, buckets = [], []
    for order in CHAR_ORDERS:
        count = len(codes) - order + 1
        if count <= 0:
            continue
        hashed = salts[owner[:count]] + np.uint64(order)
        for offset in range(order):
            hashed = hashed * _PRIME + codes[offset : offset + count]
        inside = separators[order : order + count] - separators[:count] == 0
        rows.append(owner[:count][inside])
        buckets.append(_bucket(hashed[inside], bits))
    return _counts_to_rows(len(texts), rows, buckets, bits)


def word_ngrams(texts: Sequence[str], bits: int) -> SparseRows:
    """Hashed word unigrams and bigrams (punctuation and emoji count as words)."""
    return normalised_word_ngrams([normalise_for_ngrams(t) for t in texts], bits)


def normalised_word_ngrams(texts: Sequence[str], bits: int) -> SparseRows:
    """`word_ngrams` of texts already through `normalise_for_ngrams`."""
    rows, buckets = [], []
    for index, text in enumerate(texts):
        words = _WORD.findall(text)
        codes = np.array([zlib.crc32(w.encode("utf-8")) for w in words], dtype=np.uint64)
        pairs = codes[:-1] * _PRIME + codes[1:] + np.uint64(1) if len(codes) > 1 else codes[:0]
        hashed = np.concatenate([codes, pairs])
        rows.append(np.full(len(hashed), index, dtype=np.int64))
        buckets.append(_bucket(hashed, bits))
    return _counts_to_rows(len(texts), rows, buckets, bits)


def _bucket(hashed: np.ndarray, bits: int) -> np.ndarray:
    return ((hashed * _MIX) >> np.uint64(64 - bits)).astype(np.int64)


def _counts_to_rows(n_rows: int, rows: list[np.ndarray], buckets: list[np.ndarray], bits: int) -> SparseRows:
    """Count (row, bucket) pairs, damp with log1p and L2-normalise each row."""
    width = 1 << bits
    keys = np.concatenate(rows) * width + np.concatenate(buckets) if rows else np.zeros(0, np.int64)
    unique, counts = np.unique(keys, return_counts=True)
    row_of = unique // width
    values = np.log1p(counts).astype(np.float64)
    norms = np.sqrt(np.bincount(row_of, weights=values**2, minlength=n_rows))
    values /= np.maximum(norms[row_of], 1e-12)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(row_of, minlength=n_rows))])
    return SparseRows(indptr, (unique % width).astype(np.int64), values.astype(np.float32), width)
