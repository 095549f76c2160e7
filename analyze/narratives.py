"""Narrative watchlists: each post's similarity to each narrative the monitor names, and membership.

A narrative is a sentence or two (and optionally a few example posts). Its vector is the embedding
of the description, averaged with the mean of its examples' embeddings when there are any, in the
same model as the posts; a post's score is the cosine between the two. Because the posts' model is
multilingual (or should be, see analyze.embeddings), a description written in English finds posts in
Arabic or Spanish: the model places translations close together.

Cosines are not comparable across models (e5 packs everything between 0.7 and 1, MiniLM spreads
from 0 to 0.8), so a post belongs to a narrative from a threshold chosen per model unless the
narrative sets its own. Scores are stored for every post, so a stricter or looser reading is a
query away.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import numpy as np

from analyze.embeddings import EmbeddingBackend
from monitor.config import Narrative

# Cosine from which a post belongs to a narrative, per embedding model family (the name's prefix or
# a part of it), checked on the Sora demo corpus; anything unknown gets DEFAULT_THRESHOLD.
MODEL_THRESHOLDS = (("e5", 0.82), ("minilm", 0.45), ("use", 0.3))
DEFAULT_THRESHOLD = 0.45


def threshold_for(narrative: Narrative, model: str) -> float:
    if narrative.threshold > 0:
        return narrative.threshold
    lowered = model.lower()
    return next((value for part, value in MODEL_THRESHOLDS if part in lowered), DEFAULT_THRESHOLD)


def narrative_vectors(narratives: Sequence[Narrative], backend: EmbeddingBackend) -> np.ndarray:
    """One unit row per narrative: its description, pulled towards its examples' centre."""
    rows = []
    for narrative in narratives:
        description = backend.embed([narrative.description])[0]
        if narrative.examples:
            description = description + backend.embed(list(narrative.examples)).mean(axis=0)
        rows.append(description / max(float(np.linalg.norm(description)), 1e-12))
    return np.asarray(rows, dtype=np.float32).reshape(len(narratives), -1)


def score(posts: np.ndarray, narratives: np.ndarray) -> np.ndarray:
    """Cosine of every post (rows) to every narrative (columns)."""
    if not len(posts) or not len(narratives):
        return np.zeros((len(posts), len(narratives)), dtype=np.float32)
    norms = np.maximum(np.linalg.norm(posts, axis=1, keepdims=True), 1e-12)
    return (posts / norms) @ narratives.T


def fingerprint(narratives: Sequence[Narrative], model: str) -> str:
    """Changes whenever a narrative, its threshold or the model changes: then every post is rescored."""
    data = [[n.name, n.description, list(n.examples), threshold_for(n, model)] for n in narratives]
    return hashlib.sha256(json.dumps([model, data], ensure_ascii=False).encode()).hexdigest()
