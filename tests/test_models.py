"""Sentiment and embedding backends: the offline defaults, and the path to a user's own model."""

from __future__ import annotations

import numpy as np
import pytest

from analyze.backends import ModelUnavailable
from analyze.embeddings import MINILM_NAME, USE_NAME, embedding_model_name, make_embedding_backend
from analyze.language import UNDETERMINED, detect_languages
from analyze.sentiment import TransformersBackend, VaderBackend, make_sentiment_backend, sentiment_backend_name
from analyze.text import model_text
from tests.tiny_models import tiny_sentence_transformer, tiny_sentiment_classifier


def test_vader_scores_english_and_leaves_other_languages_unscored():
    verdicts = VaderBackend().score(
        [
            "This leak is a disgrace, OpenAI treated artists terribly.",
            "Honestly the Sora clips look amazing, great work!",
            "OpenAI paused Sora access on Tuesday.",
            "C'est une honte pour les artistes.",
            "   ",
        ],
        ["en", "en", "en", "fr", "en"],
    )
    assert verdicts[0] is not None and verdicts[1] is not None and verdicts[2] is not None
    assert verdicts[0].label == "negative" and verdicts[0].score < 0
    assert verdicts[1].label == "positive" and verdicts[1].score > 0
    assert verdicts[2].label == "neutral"
    assert verdicts[3] is None and verdicts[4] is None


def test_settings_are_checked_without_loading_models():
    assert sentiment_backend_name("vader") == "vader"
    assert sentiment_backend_name("multilingual") == "multilingual"
    assert embedding_model_name("use-multilingual") == USE_NAME
    assert sentiment_backend_name("transformers:/models/xlmr") == "transformers:/models/xlmr"
    assert embedding_model_name("minilm") == MINILM_NAME
    assert embedding_model_name("sentence-transformers:/m") == "sentence-transformers:/m"
    for bad in ("textblob", "transformers:", "vader:extra"):
        with pytest.raises(ValueError):
            sentiment_backend_name(bad)
    for bad in ("word2vec", "sentence-transformers:", "use-multilingual:v4"):
        with pytest.raises(ValueError):
            embedding_model_name(bad)


@pytest.mark.parametrize(
    "labels",
    [
        {0: "negative", 1: "neutral", 2: "positive"},
        {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"},
        {0: "Positive", 1: "Negative"},
    ],
)
def test_a_local_transformers_classifier_scores_every_language(tmp_path, labels):
    folder = tiny_sentiment_classifier(tmp_path / "clf", labels)
    backend = make_sentiment_backend(f"transformers:{folder}")
    assert isinstance(backend, TransformersBackend) and backend.name == f"transformers:{folder}"
    verdicts = backend.score(["the sora leak is terrible", "تسريب سورا", ""], ["en", "ar", "en"])
    assert verdicts[2] is None
    for verdict in verdicts[:2]:
        assert verdict is not None and verdict.probabilities is not None
        assert verdict.label in {"negative", "neutral", "positive"}
        assert -1.0 <= verdict.score <= 1.0
        assert abs(sum(verdict.probabilities) - 1) < 1e-3  # every class's probability, stored with the label
        negative, _, positive = verdict.probabilities
        assert verdict.score == pytest.approx(positive - negative, abs=1e-3)
    if "Positive" in labels.values():  # named labels are found whatever their order
        assert backend._columns == {"positive": 0, "negative": 1}


def test_a_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelUnavailable, match="could not load the sentiment model"):
        make_sentiment_backend(f"transformers:{tmp_path / 'nothing-here'}")
    with pytest.raises(ModelUnavailable, match="could not load the embedding model"):
        make_embedding_backend(f"sentence-transformers:{tmp_path / 'nothing-here'}")


def test_a_local_sentence_transformers_model_embeds_to_unit_vectors(tmp_path):
    folder = tiny_sentence_transformer(tmp_path)
    backend = make_embedding_backend(f"sentence-transformers:{folder}")
    vectors = backend.embed(["sora leak", "artists video", "the model"])
    assert vectors.shape == (3, 32) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_the_bundled_minilm_embeds_offline_and_puts_similar_posts_close():
    backend = make_embedding_backend("minilm")
    assert backend.name == MINILM_NAME
    a, b, c = backend.embed(
        [
            "Artists leaked OpenAI's Sora video model to protest unpaid work.",
            "OpenAI's video generator Sora was leaked by angry artists.",
            "My sourdough bread recipe needs more hydration.",
        ]
    )
    assert a @ b > a @ c + 0.3


def test_language_detection_offline_with_an_undetermined_floor():
    guesses = detect_languages(
        [
            "OpenAI cut access to Sora after the artists leaked it.",
            "تسريب نموذج سورا من قبل مجموعة من الفنانين احتجاجا على العمل غير المدفوع",
            "Les artistes ont divulgué Sora pour protester contre OpenAI.",
            "Die Künstler haben Sora geleakt, um gegen OpenAI zu protestieren.",
            "Los artistas filtraron Sora para protestar contra OpenAI.",
            "",
            "👍",
        ],
        min_score=0.4,
    )
    assert [g.language for g in guesses[:5]] == ["en", "ar", "fr", "de", "es"]
    assert guesses[5].language == UNDETERMINED
    assert guesses[6].language == UNDETERMINED


def test_model_text_drops_links_and_joins_title():
    assert model_text("Sora leaked", "See https://example.com/x?y=1  now\n\nok") == "Sora leaked. See now ok"
    assert model_text(None, "  only   body ") == "only body"
    assert model_text(None, "ﺳﻮﺭﻳﺎ") == "سوريا"  # Arabic presentation forms folded to letters


@pytest.mark.slow
def test_e5_small_embeds_offline_and_across_languages():
    backend = make_embedding_backend("e5-small")
    assert backend.name == embedding_model_name("e5-small")
    arabic, english, other = backend.embed(
        [
            "سرّب الفنانون نموذج الفيديو سورا احتجاجا على العمل بلا أجر",
            "Artists leaked the Sora video model to protest unpaid work",
            "My sourdough bread recipe needs more hydration",
        ]
    )
    assert np.isclose(np.linalg.norm(arabic), 1.0, atol=1e-5)
    assert arabic @ english > arabic @ other


def test_the_default_use_multilingual_embeds_offline_across_languages_and_bounds_long_posts():
    backend = make_embedding_backend("use-multilingual")
    assert backend.name == USE_NAME
    arabic, english, other, huge, long = backend.embed(
        [
            "سرّب الفنانون نموذج الفيديو سورا احتجاجا على العمل بلا أجر",
            "Artists leaked the Sora video model to protest unpaid work",
            "My sourdough bread recipe needs more hydration",
            "Artists leaked Sora. " * 200_000,  # 4 MB: embedded from a bounded prefix
            "Artists leaked Sora. " * 100,
        ]
    )
    assert np.allclose(np.linalg.norm([arabic, english, other, huge], axis=1), 1.0, atol=1e-5)
    assert arabic @ english > arabic @ other + 0.2
    assert np.allclose(huge, long, atol=1e-5)
