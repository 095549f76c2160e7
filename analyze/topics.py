"""Topic modelling with BERTopic on stored embeddings, and placing new posts by the saved centroids.

BERTopic is given precomputed embeddings (it never embeds, so it never reaches for a download) and
each stage explicitly: UMAP to 5 dimensions, HDBSCAN with a minimum topic size that grows with
the corpus (so 2,000 posts give a handful of readable topics, not 150 micro-topics), and a
c-TF-IDF vocabulary with stop words of every language present. Posts HDBSCAN leaves unassigned
are then given their nearest topic when they are close enough, so shares over time are not
dominated by "no topic".

A topic is a conversation, not a language: even multilingual embeddings keep a "which language"
direction, and clustering picks it up. So each language's mean vector is moved onto the overall
mean before clustering (`centre_languages`); the same means centre new posts later.

Keywords are words in every script (analyze.words cuts Japanese and Chinese), per topic and per
language within it; representative posts are chosen across the topic's languages.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from analyze.words import keyword_text
from store.topic_models import OUTLIER, Centroids, TopicRecord

log = logging.getLogger(__name__)

MIN_POSTS = 30  # below this a topic model says nothing useful
# UMAP's layout passes. Its default is 500 up to 10,000 posts and 200 beyond; 200 at every size costs
# 60 % less where the layout dominates a fit (10,000 posts: ~12 CPU s saved) and measured the same
# NMI on the TweetTopic sets (bench.eval_topics; mixed 0.25 either way, within the seed-to-seed spread).
UMAP_EPOCHS = 200
REPRESENTATIVES = 5
KEYWORDS = 10
LANGUAGE_KEYWORDS = 8
MIN_LANGUAGE_POSTS = 10  # a language's mean is estimated only from this many posts or more
MIN_TOPIC_LANGUAGE_POSTS = 3  # keywords of a language within a topic need this many posts
# A new post fits a topic when it is about as similar to the centroid as the members: at least the
# 1st percentile of theirs, less half their spread (a sample's extreme understates the population's).
FIT_QUANTILE = 0.01
FIT_SLACK = 0.5

# ISO 639-1 → stop-words package list names.
_STOP_LANGUAGES = {
    "ar": "arabic",
    "bg": "bulgarian",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "nl": "dutch",
    "en": "english",
    "fi": "finnish",
    "fr": "french",
    "de": "german",
    "hi": "hindi",
    "hu": "hungarian",
    "id": "indonesian",
    "it": "italian",
    "no": "norwegian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sk": "slovak",
    "es": "spanish",
    "sv": "swedish",
    "tr": "turkish",
    "uk": "ukrainian",
    "vi": "vietnamese",
    "fa": "persian",
    "el": "greek",
    "ko": "korean",
}
# The stop-words package has no Japanese or Chinese: function words the tokenisers keep as content.
_CJK_STOP_WORDS = {
    "ja": [
        "する",
        "なる",
        "ある",
        "いる",
        "ない",
        "れる",
        "られる",
        "せる",
        "こと",
        "もの",
        "よう",
        "ため",
        "さん",
        "そう",
        "これ",
        "それ",
        "ここ",
        "思う",
        "言う",
        "いう",
        "くる",
        "くれる",
        "やる",
        "みる",
        "いく",
    ],
    "zh": [
        "我们",
        "你们",
        "他们",
        "她们",
        "自己",
        "什么",
        "没有",
        "一个",
        "这个",
        "那个",
        "就是",
        "可以",
        "因为",
        "所以",
        "但是",
        "还是",
        "这样",
        "已经",
        "如果",
        "不是",
        "现在",
        "知道",
    ],
}
# Words of two or more letters; apostrophes split (c'est → c, est; openai's → openai, s).
TOKEN_PATTERN = r"(?u)\b[^\W\d_][\w-]*[^\W_]\b"
# Web residue that survives URL removal and says nothing about a topic.
_NOISE = {"http", "https", "www", "com", "org", "html", "amp", "quot", "gt", "lt"}


@dataclass(frozen=True)
class TopicFit:
    """A fit under its own topic numbers (analyze.lineage gives them durable ones)."""

    topics: list[TopicRecord]
    assignments: list[tuple[int, int, float | None]]  # (post id, topic, similarity to its centroid)
    settings: dict
    language_means: dict[str, np.ndarray] = field(default_factory=dict)

    def centroids(self) -> Centroids:
        named = [t for t in self.topics if t.topic != OUTLIER and t.centroid is not None]
        return Centroids(
            topics=np.array([t.topic for t in named], dtype=np.int64),
            vectors=np.vstack([np.asarray(t.centroid) for t in named]) if named else np.zeros((0, 0), np.float32),
            min_similarity=np.array([t.min_similarity or 0.0 for t in named], dtype=np.float32),
            language_means=self.language_means,
        )


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
    centre_languages: bool = True,
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

    from analyze.jit_cache import cache_umap_kernels
    from analyze.neighbors import cosine_neighbors

    cache_umap_kernels()
    means = language_means(embeddings, languages) if centre_languages else {}
    vectors = centred(embeddings, languages, means)
    size = min_topic_size or auto_min_topic_size(len(documents))
    settings = {
        "min_topic_size": size,
        "umap_neighbors": min(15, len(documents) - 1),
        "seed": seed,
        "centre_languages": centre_languages,
    }
    model = BERTopic(
        language="multilingual",  # "english" would strip every non-ASCII letter before counting words
        embedding_model=None,
        umap_model=UMAP(
            n_neighbors=settings["umap_neighbors"],
            n_components=5,
            min_dist=0.0,
            metric="cosine",
            random_state=seed,
            n_jobs=1,
            n_epochs=UMAP_EPOCHS,
            # Exact neighbours from numpy instead of pynndescent (analyze.neighbors says why).
            precomputed_knn=(*cosine_neighbors(vectors, settings["umap_neighbors"]), None),
        ),
        hdbscan_model=HDBSCAN(
            min_cluster_size=size,
            min_samples=max(2, size // 3),
            metric="euclidean",
            cluster_selection_method="eom",
            prediction_data=True,
        ),
        vectorizer_model=CountVectorizer(
            stop_words=sorted(set(stop_words_for(languages)) | {w.lower() for w in extra_stop_words}),
            # BERTopic counts words over one document per topic: min_df=2 would drop every word
            # only one topic uses, i.e. the words that best tell it apart.
            min_df=1,
            ngram_range=(1, 2),
            token_pattern=TOKEN_PATTERN,
        ),
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        top_n_words=KEYWORDS,
    )
    docs = [keyword_text(d, lang) for d, lang in zip(documents, languages, strict=True)]
    with warnings.catch_warnings():
        # UMAP warns that without a search index it cannot transform new data; nothing here asks it to.
        warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")
        assigned, _ = model.fit_transform(docs, embeddings=vectors)
    if any(t != OUTLIER for t in assigned) and OUTLIER in assigned:
        assigned = model.reduce_outliers(docs, assigned, strategy="embeddings", embeddings=vectors, threshold=0.3)
        # BERTopic warns that hand-set topics must be the last step; here they are.
        bertopic_log = logging.getLogger("BERTopic")
        level, bertopic_log.level = bertopic_log.level, logging.ERROR
        try:
            model.update_topics(
                docs,
                topics=assigned,
                vectorizer_model=model.vectorizer_model,
                ctfidf_model=model.ctfidf_model,
                top_n_words=KEYWORDS,
            )
        finally:
            bertopic_log.setLevel(level)
    labels = np.asarray([int(t) for t in assigned])
    by_language = _keywords_by_language(model, docs, labels, languages)
    records, similarity = _records(model, post_ids, labels, vectors, languages, by_language)
    return TopicFit(
        topics=records,
        assignments=[(int(pid), int(t), s) for pid, t, s in zip(post_ids, labels.tolist(), similarity, strict=True)],
        settings=settings,
        language_means=means,
    )


def language_means(embeddings: np.ndarray, languages: Sequence[str]) -> dict[str, np.ndarray]:
    """Each well-represented language's offset from the overall mean (what "being in language X" adds)."""
    codes = np.asarray(languages)
    overall = embeddings.mean(axis=0)
    means = {}
    for code in sorted(set(languages) - {"und"}):
        members = codes == code
        if members.sum() >= MIN_LANGUAGE_POSTS:
            means[code] = (embeddings[members].mean(axis=0) - overall).astype(np.float32)
    return means


def centred(embeddings: np.ndarray, languages: Sequence[str], means: dict[str, np.ndarray]) -> np.ndarray:
    """Vectors with their language's offset removed, back at unit length."""
    if not means:
        return np.asarray(embeddings, dtype=np.float32)
    offsets = np.vstack([np.zeros(embeddings.shape[1], np.float32), *list(means.values())])
    index = {code: i + 1 for i, code in enumerate(means)}
    shifted = embeddings - offsets[[index.get(code, 0) for code in languages]]
    return (shifted / np.maximum(np.linalg.norm(shifted, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def assign(centroids: Centroids, embeddings: np.ndarray, languages: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each post's topic by its most similar centroid, or -1 where it fits none; and that similarity.

    No refit: the vectors are centred with the fit's language means and compared with its saved
    centroids, so a post lands where the fit would most likely have put it.
    """
    if not len(centroids.topics) or not len(embeddings):
        return np.full(len(embeddings), OUTLIER, dtype=np.int64), np.zeros(len(embeddings), dtype=np.float32)
    similarity = centred(embeddings, languages, centroids.language_means) @ centroids.vectors.T
    best = similarity.argmax(axis=1)
    best_similarity = similarity[np.arange(len(best)), best]
    fits = best_similarity >= centroids.min_similarity[best]
    return np.where(fits, centroids.topics[best], OUTLIER), best_similarity.astype(np.float32)


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
        words.update(_CJK_STOP_WORDS.get(code[:2], []))
    return sorted(words)


def _keywords_by_language(model, docs: list[str], labels: np.ndarray, languages: Sequence[str]) -> dict:
    """{topic: {language: [(word, weight), …]}}: c-TF-IDF with (topic, language) pairs as the classes.

    One vocabulary for all, so weights compare; each language's posts in a topic name it in that
    language, because words of other languages hardly occur in them.
    """
    from bertopic.vectorizers import ClassTfidfTransformer
    from scipy import sparse

    codes = np.asarray(languages)
    classes = [
        (t, c)
        for t in sorted(set(labels.tolist()) - {OUTLIER})
        for c in sorted(set(codes[labels == t]))
        if c != "und" and ((labels == t) & (codes == c)).sum() >= MIN_TOPIC_LANGUAGE_POSTS
    ]
    if not classes:
        return {}
    counts = model.vectorizer_model.transform(docs)
    index = {pair: i for i, pair in enumerate(classes)}
    rows = [index.get((int(t), str(c)), -1) for t, c in zip(labels, codes, strict=True)]
    keep = [i for i, r in enumerate(rows) if r >= 0]
    membership = sparse.csr_matrix(
        (np.ones(len(keep)), ([rows[i] for i in keep], keep)), shape=(len(classes), len(docs))
    )
    per_class = membership @ counts
    used = np.flatnonzero(np.asarray(per_class.sum(axis=0)).ravel())  # words only outliers use have no weight here
    weights = ClassTfidfTransformer(reduce_frequent_words=True).fit_transform(per_class[:, used])
    words = model.vectorizer_model.get_feature_names_out()[used]
    found: dict[int, dict[str, list[tuple[str, float]]]] = {}
    for (topic, code), row in zip(classes, weights.toarray(), strict=True):
        top = [(str(words[i]), round(float(row[i]), 4)) for i in np.argsort(-row)[:LANGUAGE_KEYWORDS] if row[i] > 0]
        if top:
            found.setdefault(topic, {})[code] = top
    return found


def _records(
    model,
    post_ids: Sequence[int],
    labels: np.ndarray,
    vectors: np.ndarray,
    languages: Sequence[str],
    by_language: dict,
) -> tuple[list[TopicRecord], list[float | None]]:
    """Topic records (centroid, fit threshold, keywords, representatives) and each post's similarity."""
    ids = np.asarray(post_ids)
    codes = np.asarray(languages)
    similarity: list[float | None] = [None] * len(ids)
    records = []
    for topic in sorted(set(labels.tolist())):
        members = np.flatnonzero(labels == topic)
        keywords = [(w, round(float(s), 4)) for w, s in (model.get_topic(topic) or []) if w]
        spoken = dict(zip(*np.unique(codes[members], return_counts=True), strict=True))
        languages_here = {str(c): int(n) for c, n in sorted(spoken.items(), key=lambda kv: (-kv[1], kv[0]))}
        if topic == OUTLIER:
            records.append(TopicRecord(OUTLIER, "Unassigned", keywords, len(members), [], languages=languages_here))
            continue
        centroid = vectors[members].mean(axis=0)
        centroid /= np.linalg.norm(centroid) or 1.0
        closeness = vectors[members] @ centroid
        for i, value in zip(members.tolist(), closeness.tolist(), strict=True):
            similarity[i] = round(float(value), 4)
        records.append(
            TopicRecord(
                topic=topic,
                label=", ".join(w for w, _ in keywords[:4]) or f"Topic {topic}",
                keywords=keywords,
                size=len(members),
                representative=[int(ids[i]) for i in _across_languages(members, closeness, codes)],
                keywords_by_language=by_language.get(topic, {}),
                languages=languages_here,
                centroid=centroid.astype(np.float32),
                min_similarity=round(float(np.quantile(closeness, FIT_QUANTILE) - FIT_SLACK * closeness.std()), 4),
            )
        )
    return records, similarity


def _across_languages(members: np.ndarray, closeness: np.ndarray, codes: np.ndarray) -> list[int]:
    """The most typical posts, taking languages in turn (most spoken first) so every language shows."""
    queues: dict[str, list[int]] = {}
    for i in np.argsort(-closeness).tolist():
        queues.setdefault(str(codes[members[i]]), []).append(int(members[i]))
    order = sorted(queues, key=lambda c: -len(queues[c]))
    picked: list[int] = []
    while len(picked) < REPRESENTATIVES and any(queues.values()):
        for code in order:
            if queues[code] and len(picked) < REPRESENTATIVES:
                picked.append(queues[code].pop(0))
    return picked
