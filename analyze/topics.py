"""Topic modelling with BERTopic on stored embeddings.

BERTopic is given precomputed embeddings (it never embeds, so it never reaches for a download) and
each stage explicitly: UMAP to 5 dimensions, HDBSCAN with a minimum topic size that grows with
the corpus (so 2,000 posts give a handful of readable topics, not 150 micro-topics), and a
c-TF-IDF vocabulary with stop words of every language present. Posts HDBSCAN leaves unassigned
are then given their nearest topic when they are close enough, so shares over time are not
dominated by "no topic".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from store.analysis import TopicRecord

log = logging.getLogger(__name__)

OUTLIER = -1
MIN_POSTS = 30  # below this a topic model says nothing useful
REPRESENTATIVES = 3
KEYWORDS = 10

# ISO 639-1 → stop-words package list names.
_STOP_LANGUAGES = {
    "ar": "arabic", "bg": "bulgarian", "ca": "catalan", "cs": "czech", "da": "danish", "nl": "dutch",
    "en": "english", "fi": "finnish", "fr": "french", "de": "german", "hi": "hindi", "hu": "hungarian",
    "id": "indonesian", "it": "italian", "no": "norwegian", "pl": "polish", "pt": "portuguese",
    "ro": "romanian", "ru": "russian", "sk": "slovak", "es": "spanish", "sv": "swedish", "tr": "turkish",
    "uk": "ukrainian", "vi": "vietnamese", "fa": "persian", "el": "greek", "ko": "korean",
}
# Words of two or more letters; apostrophes split (c'est → c, est; openai's → openai, s).
TOKEN_PATTERN = r"(?u)\b[^\W\d_][\w-]*[^\W_]\b"
# Web residue that survives URL removal and says nothing about a topic.
_NOISE = {"http", "https", "www", "com", "org", "html", "amp", "quot", "gt", "lt"}


@dataclass(frozen=True)
class TopicFit:
    topics: list[TopicRecord]
    assignments: list[tuple[int, int, float | None]]  # (post_id, topic, probability)
    settings: dict


def auto_min_topic_size(n_posts: int) -> int:
    """About 1.5 % of the corpus, never below 8 nor above 100 posts."""
    return int(min(100, max(8, round(n_posts * 0.015))))


def fit_topics(
    post_ids: Sequence[int],
    documents: Sequence[str],
    embeddings: np.ndarray,
    languages: Sequence[str],
    *,
    min_topic_size: int = 0,
    extra_stop_words: Sequence[str] = (),
    seed: int = 42,
) -> TopicFit | None:
    """Fit BERTopic; None when there are too few posts for topics to mean anything.

    `extra_stop_words` are words every post shares by construction (the monitor's query terms):
    they say nothing about what sets one topic apart.
    """
    if len(documents) < MIN_POSTS:
        log.info("only %d posts: too few to model topics (need %d)", len(documents), MIN_POSTS)
        return None
    from bertopic import BERTopic
    from bertopic.vectorizers import ClassTfidfTransformer
    from hdbscan import HDBSCAN
    from sklearn.feature_extraction.text import CountVectorizer
    from umap import UMAP

    size = min_topic_size or auto_min_topic_size(len(documents))
    settings = {"min_topic_size": size, "umap_neighbors": min(15, len(documents) - 1), "seed": seed}
    model = BERTopic(
        language="multilingual",  # "english" would strip every non-ASCII letter before counting words
        embedding_model=None,
        umap_model=UMAP(
            n_neighbors=settings["umap_neighbors"], n_components=5, min_dist=0.0, metric="cosine",
            random_state=seed, n_jobs=1,
        ),
        hdbscan_model=HDBSCAN(
            min_cluster_size=size, min_samples=max(2, size // 3), metric="euclidean",
            cluster_selection_method="eom", prediction_data=True,
        ),
        vectorizer_model=CountVectorizer(
            stop_words=sorted(set(stop_words_for(languages)) | {w.lower() for w in extra_stop_words}),
            min_df=2, ngram_range=(1, 2),
            token_pattern=TOKEN_PATTERN,
        ),
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        top_n_words=KEYWORDS,
    )
    docs = list(documents)
    assigned, _ = model.fit_transform(docs, embeddings=embeddings)
    if any(t != OUTLIER for t in assigned) and OUTLIER in assigned:
        assigned = model.reduce_outliers(docs, assigned, strategy="embeddings", embeddings=embeddings, threshold=0.3)
        # BERTopic warns that hand-set topics must be the last step; here they are.
        bertopic_log = logging.getLogger("BERTopic")
        level, bertopic_log.level = bertopic_log.level, logging.ERROR
        try:
            model.update_topics(docs, topics=assigned, vectorizer_model=model.vectorizer_model,
                                ctfidf_model=model.ctfidf_model, top_n_words=KEYWORDS)
        finally:
            bertopic_log.setLevel(level)
    assigned = [int(t) for t in assigned]
    return TopicFit(
        topics=_records(model, post_ids, assigned, embeddings),
        assignments=[(int(pid), t, None) for pid, t in zip(post_ids, assigned, strict=True)],
        settings=settings,
    )


def stop_words_for(languages: Sequence[str]) -> list[str]:
    """Stop words of every language present, plus web residue, cut into tokens as posts are.

    Lists spell elisions whole ("aren't", "l'on"); the vectoriser splits them at the apostrophe,
    so the pieces are stop words too.
    """
    from stop_words import get_stop_words

    words = set(_NOISE)
    for code in sorted(set(languages)):
        if code in _STOP_LANGUAGES:
            for word in get_stop_words(_STOP_LANGUAGES[code]):
                words.add(word.lower())
                words.update(re.findall(TOKEN_PATTERN, word.lower()))
    return sorted(words)


def _records(model, post_ids: Sequence[int], assigned: list[int], embeddings: np.ndarray) -> list[TopicRecord]:  # noqa: ANN001
    ids = np.asarray(post_ids)
    labels = np.asarray(assigned)
    records = []
    for topic in sorted(set(assigned)):
        members = np.flatnonzero(labels == topic)
        keywords = [(w, round(float(s), 4)) for w, s in (model.get_topic(topic) or []) if w]
        label = "Unassigned" if topic == OUTLIER else ", ".join(w for w, _ in keywords[:4]) or f"Topic {topic}"
        records.append(
            TopicRecord(
                topic=topic,
                label=label,
                keywords=keywords,
                size=int(len(members)),
                representative=[int(i) for i in ids[members[_closest_to_centre(embeddings[members])]][:REPRESENTATIVES]]
                if topic != OUTLIER else [],
            )
        )
    return records


def _closest_to_centre(vectors: np.ndarray) -> np.ndarray:
    """Indices of `vectors` ordered by cosine similarity to their mean: the most typical first."""
    centre = vectors.mean(axis=0)
    centre /= np.linalg.norm(centre) or 1.0
    return np.argsort(-(vectors @ centre))
