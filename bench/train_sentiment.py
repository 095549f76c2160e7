"""`python -m bench.train_sentiment`: rebuild analyze/models/sentiment-multilingual.npz, bit for bit.

Trained only on the XLM-T train splits of ../shared/data (eight languages, 1,838 tweets each);
the validation splits choose the regularisation, the temperature and the per-language offsets and
are never trained on. Everything is deterministic: fixed file order, one BLAS thread, lbfgs (no
random state), weights rounded to float16 before saving, and a zip archive whose entries carry
no timestamps. Run it twice and `sha256sum` the file: the same digest.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from analyze.embeddings import UseMultilingualBackend
from analyze.language import detect_languages
from analyze.sentiment_model import (
    LABELS,
    MODEL_PATH,
    FeatureSpec,
    LinearSentimentModel,
    filed_languages,
    lexical_blocks,
    softmax,
)
from analyze.text import model_text
from bench import data

SPEC = FeatureSpec(
    char_bits=17,
    word_bits=16,
    language_bits=18,
    embedding_weight=2.0,
    languages=tuple(data.XLMT_LANGUAGES.values()),
)
C_GRID = (0.5, 1.0, 2.0)
TEMPERATURES = np.round(np.arange(0.5, 2.51, 0.05), 2)
OFFSETS = np.round(np.arange(-1.0, 1.01, 0.1), 2)
VERSION = "xlmt-use-ngrams-2"


def load(split: str) -> tuple[list[str], np.ndarray, list[str]]:
    texts, labels, languages = [], [], []
    for name, code in data.XLMT_LANGUAGES.items():
        raw, gold = data.xlmt(name, split)
        texts += [model_text(None, t) for t in raw]
        labels += gold
        languages += [code] * len(raw)
    return texts, np.array(labels), languages


def detected(texts: list[str]) -> list[str]:
    """The languages the pipeline would give the texts (the detector's, not the data set's)."""
    return [guess.language for guess in detect_languages(texts)]


def features(texts: list[str], embeddings: np.ndarray):
    """The model's input matrix: embeddings, then the blocks of `lexical_blocks`, in the model file's order."""
    import scipy.sparse as sp

    lexical = lexical_blocks(texts, filed_languages(texts, detected(texts)), SPEC)
    blocks = [sp.csr_matrix((b.values, b.indices, b.indptr), shape=(len(texts), b.width)) for b in lexical]
    return sp.hstack([sp.csr_matrix(embeddings * SPEC.embedding_weight), *blocks]).tocsr()


def macro_f1(gold: np.ndarray, predicted: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(gold, predicted, average="macro", labels=[0, 1, 2]))


def mean_by_language(gold: np.ndarray, predicted: np.ndarray, languages: list[str]) -> float:
    codes = np.array(languages)
    return float(np.mean([macro_f1(gold[codes == c], predicted[codes == c]) for c in data.XLMT_LANGUAGES.values()]))


def best_offsets(logits: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """Negative and positive logit offsets (neutral fixed at 0) that maximise one language's macro-F1."""
    best, best_f1 = np.zeros(3), macro_f1(gold, logits.argmax(axis=1))
    for negative in OFFSETS:
        for positive in OFFSETS:
            shift = np.array([negative, 0.0, positive])
            f1 = macro_f1(gold, (logits + shift).argmax(axis=1))
            if f1 > best_f1 + 1e-9:
                best, best_f1 = shift, f1
    return best


def main() -> int:
    from sklearn.linear_model import LogisticRegression

    if not data.available():
        print(f"no labelled data at {data.SHARED_DATA}", file=sys.stderr)
        return 2
    with threadpool_limits(limits=1):
        embedder = UseMultilingualBackend()
        train_texts, train_y, _ = load("train")
        val_texts, val_y, val_languages = load("val")
        x_train = features(train_texts, embedder.embed(train_texts))
        x_val = features(val_texts, embedder.embed(val_texts))
        fits = {}
        for c in C_GRID:
            model = LogisticRegression(C=c, max_iter=3000, tol=1e-6).fit(x_train, train_y)
            fits[c] = (mean_by_language(val_y, model.predict(x_val), val_languages), model)
            print(f"C={c}: validation macro-F1 mean {fits[c][0]:.4f}", file=sys.stderr, flush=True)
        c = max(fits, key=lambda k: (fits[k][0], -k))
        model = fits[c][1]
        coefficients = model.coef_.T.astype(np.float16)  # rows: features, columns: LABELS
        intercept = model.intercept_.astype(np.float64)
        logits = x_val @ coefficients.astype(np.float64) + intercept
        losses = [_log_loss(softmax(logits / t), val_y) for t in TEMPERATURES]
        temperature = float(TEMPERATURES[int(np.argmin(losses))])
        codes = np.array(val_languages)
        languages = list(SPEC.languages)
        offsets = np.array([best_offsets(logits[codes == c], val_y[codes == c]) for c in languages])
    dim = x_val.shape[1] - (1 << SPEC.char_bits) - (1 << SPEC.word_bits) - (1 << SPEC.language_bits)
    ends = np.cumsum([dim, 1 << SPEC.char_bits, 1 << SPEC.word_bits])
    meta = {
        "version": VERSION,
        "labels": list(LABELS),
        "embedding_model": UseMultilingualBackend.name,
        "char_bits": SPEC.char_bits,
        "word_bits": SPEC.word_bits,
        "language_bits": SPEC.language_bits,
        "embedding_weight": SPEC.embedding_weight,
        "C": c,
        "temperature": temperature,
        "languages": languages,
    }
    _save(
        MODEL_PATH,
        {
            "meta": np.array(json.dumps(meta, sort_keys=True)),
            "embedding_weights": coefficients[:dim].astype(np.float32),
            "char_weights": coefficients[ends[0] : ends[1]],
            "word_weights": coefficients[ends[1] : ends[2]],
            "language_char_weights": coefficients[ends[2] :],
            "intercept": intercept.astype(np.float32),
            "language_offsets": offsets.astype(np.float32),
        },
    )
    check = LinearSentimentModel(MODEL_PATH)
    with threadpool_limits(limits=1):
        predicted = check.probabilities(embedder.embed(val_texts), val_texts, detected(val_texts)).argmax(axis=1)
    print(f"saved {MODEL_PATH} ({MODEL_PATH.stat().st_size / 1e6:.1f} MB): C={c}, temperature={temperature}")
    for code in languages:
        print(f"  {code}: validation macro-F1 {macro_f1(val_y[codes == code], predicted[codes == code]):.3f}")
    print(f"  mean of 8: {mean_by_language(val_y, predicted, val_languages):.3f}")
    return 0


def _log_loss(probabilities: np.ndarray, gold: np.ndarray) -> float:
    return float(-np.mean(np.log(np.maximum(probabilities[np.arange(len(gold)), gold], 1e-12))))


def _save(path: Path, arrays: dict[str, Any]) -> None:
    """np.savez_compressed, whose zip entries carry a fixed date, so equal arrays give equal bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)


if __name__ == "__main__":
    sys.exit(main())
