"""Model quality on labelled data from ../shared/data: sentiment macro-F1, topic NMI/ARI."""

from __future__ import annotations

import time

from sklearn.metrics import adjusted_rand_score, f1_score, normalized_mutual_info_score

from analyze.embeddings import make_embedding_backend
from analyze.language import detect_languages
from analyze.sentiment import VaderBackend
from analyze.text import model_text
from analyze.topics import fit_topics
from bench import data

LABELS = ("negative", "neutral", "positive")


def sentiment() -> None:
    if not data.available():
        print(f"skipped: no labelled data at {data.SHARED_DATA}")
        return
    backend = VaderBackend()
    sets = {"tweeteval-val (en)": data.tweeteval_val()}
    sets.update({f"xlmt-val ({code})": data.xlmt(name) for name, code in data.XLMT_LANGUAGES.items()})
    print(f"{'set':<22} {'n':>5} {'scored':>7} {'macro-F1 of scored':>19}")
    for name, (texts, gold) in sets.items():
        clean = [model_text(None, t) for t in texts]
        languages = [g.language for g in detect_languages(clean)]
        verdicts = backend.score(clean, languages)
        pairs = [(LABELS[y], v.label) for y, v in zip(gold, verdicts, strict=True) if v is not None]
        f1 = f1_score([a for a, _ in pairs], [b for _, b in pairs], average="macro") if pairs else float("nan")
        print(f"{name:<22} {len(texts):>5} {len(pairs) / len(texts):>7.0%} {f1:>19.3f}")


def topics() -> None:
    if not data.available():
        print(f"skipped: no labelled data at {data.SHARED_DATA}")
        return
    for setting in ("use-multilingual", "e5-small", "minilm"):
        print(f"embeddings = {setting!r}")
        _topics_with(make_embedding_backend(setting))


def _topics_with(embedder) -> None:  # noqa: ANN001
    print(f"{'set':<10} {'n':>5} {'labels':>6} {'topics':>6} {'outliers':>8} {'NMI':>6} {'ARI':>6} {'seconds':>8}")
    for language in ("en", "es", "gr", "ja"):
        texts, gold = data.single_topic_tweets(language)
        clean = [model_text(None, t) for t in texts]
        started = time.perf_counter()
        vectors = embedder.embed(clean)
        codes = [g.language for g in detect_languages(clean)]
        fit = fit_topics(list(range(len(clean))), clean, vectors, codes)
        if fit is None:
            print(f"{language + '_1000':<10} {len(texts):>5} no topics found")
            continue
        seconds = time.perf_counter() - started
        found = [t for _, t, _ in fit.assignments]
        print(f"{language + '_1000':<10} {len(texts):>5} {len(set(gold)):>6} "
              f"{sum(t.topic >= 0 for t in fit.topics):>6} {found.count(-1) / len(found):>8.0%} "
              f"{normalized_mutual_info_score(gold, found):>6.3f} {adjusted_rand_score(gold, found):>6.3f} {seconds:>8.1f}")
