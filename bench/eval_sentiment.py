"""`python -m bench.eval_sentiment`: the per-language validation table, every model side by side.

Columns: the XLM-T validation split of each language (macro-F1 over negative/neutral/positive),
then the mean of all eight and of the seven without romanised Hindi. Rows:
- ``default``: the bundled classifier (analyze/models/sentiment-multilingual.npz), as the pipeline runs it;
- ``vader``: the English lexicon, on the English split only (where it applies);
- ``ngram-lr``: the simple baseline, TF-IDF character (2-5) and word (1-2) n-grams + logistic regression;
- ``<embeddings>+lr``: each embedding candidate with a logistic-regression head, no lexical features.
Every trained row learns from the train splits only. Targets (issue 6) are printed beside the table.

``--cache DIR`` keeps each candidate's vectors as .npy files, so a second run skips the slow models.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from analyze.embeddings import make_embedding_backend
from analyze.language import detect_languages
from analyze.sentiment import MultilingualBackend, VaderBackend
from bench import data
from bench.train_sentiment import load, macro_f1

CANDIDATES = ("use-multilingual", "e5-small", "minilm")
LABEL_INDEX = {"negative": 0, "neutral": 1, "positive": 2}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.eval_sentiment", description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", default=",".join(CANDIDATES), help="embedding settings, comma-separated")
    parser.add_argument("--cache", type=Path, help="folder for cached vectors (created if missing)")
    args = parser.parse_args(argv)
    if not data.available():
        print(f"no labelled data at {data.SHARED_DATA}", file=sys.stderr)
        return 2
    train_texts, train_y, _ = load("train")
    val_texts, val_y, val_languages = load("val")
    codes = np.array(val_languages)
    rows: dict[str, np.ndarray] = {}

    started = time.perf_counter()
    backend = MultilingualBackend()
    detected = [g.language for g in detect_languages(val_texts)]
    verdicts = backend.score(val_texts, detected)
    rows["default"] = np.array([LABEL_INDEX[v.label] if v else 1 for v in verdicts])
    print(f"default: {len(val_texts) / (time.perf_counter() - started):,.0f} texts/s", file=sys.stderr)

    vader = VaderBackend().score(val_texts, ["en"] * len(val_texts))
    rows["vader"] = np.array([LABEL_INDEX[v.label] if v else 1 for v in vader])
    rows["ngram-lr"] = _ngram_baseline(train_texts, train_y, val_texts)
    for setting in args.candidates.split(","):
        x_train = _vectors(setting, "train", train_texts, args.cache)
        x_val = _vectors(setting, "val", val_texts, args.cache)
        rows[f"{setting}+lr"] = _fit_predict(x_train, train_y, x_val)

    languages = list(data.XLMT_LANGUAGES.values())
    print(f"{'model':<24}" + "".join(f"{c:>7}" for c in languages) + f"{'mean8':>8}{'mean7':>8}")
    table = {name: {c: macro_f1(val_y[codes == c], p[codes == c]) for c in languages} for name, p in rows.items()}
    for name, scores in table.items():
        if name == "vader":
            print(f"{name:<24}" + "".join(f"{scores[c]:>7.3f}" if c == "en" else f"{'-':>7}" for c in languages))
            continue
        mean8 = np.mean(list(scores.values()))
        mean7 = np.mean([v for c, v in scores.items() if c != "hi"])
        print(f"{name:<24}" + "".join(f"{scores[c]:>7.3f}" for c in languages) + f"{mean8:>8.3f}{mean7:>8.3f}")
    print("targets for default: mean8 >= 0.65, ar >= 0.66, every language but hi >= 0.60, above vader and ngram-lr")
    misses = target_misses(table)
    print("default misses: " + "; ".join(misses) if misses else "default meets every target")
    print("anchors (issue 6): e5-small+lr ~0.645 mean7, + char n-grams ~0.666 mean7, hi ~0.33-0.40 for every model")
    return 0


def target_misses(table: dict[str, dict[str, float]]) -> list[str]:
    """Issue 6's targets for the default that the table does not meet, each with the gap."""
    default, misses = table["default"], []
    mean8 = float(np.mean(list(default.values())))
    if mean8 < 0.65:
        misses.append(f"mean8 {mean8:.3f} < 0.65")
    for code, score in default.items():
        floor = 0.66 if code == "ar" else None if code == "hi" else 0.60
        if floor is not None and score < floor:
            misses.append(f"{code} {score:.3f} < {floor:.2f}")
        for baseline in ("ngram-lr", "vader"):
            applies = baseline in table and (baseline != "vader" or code == "en")
            if applies and score <= table[baseline][code]:
                misses.append(f"{code} {score:.3f} <= {baseline} {table[baseline][code]:.3f}")
    return misses


def _ngram_baseline(train_texts: list[str], train_y: np.ndarray, val_texts: list[str]) -> np.ndarray:
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer

    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)
    words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=1, sublinear_tf=True)
    x_train = hstack([chars.fit_transform(train_texts), words.fit_transform(train_texts)]).tocsr()
    x_val = hstack([chars.transform(val_texts), words.transform(val_texts)]).tocsr()
    return _fit_predict(x_train, train_y, x_val, c=10.0)


def _fit_predict(x_train, train_y: np.ndarray, x_val, c: float = 1.0) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=3000).fit(x_train, train_y).predict(x_val)


def _vectors(setting: str, split: str, texts: list[str], cache: Path | None) -> np.ndarray:
    path = cache / f"{setting.replace(':', '_').replace('/', '_')}-{split}.npy" if cache else None
    if path and path.exists():
        return np.load(path)
    started = time.perf_counter()
    vectors = make_embedding_backend(setting).embed(texts)
    print(f"{setting} {split}: {len(texts) / (time.perf_counter() - started):,.0f} texts/s", file=sys.stderr)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    return vectors


if __name__ == "__main__":
    sys.exit(main())
