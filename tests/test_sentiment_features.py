"""The sentiment model's text features: Arabic folding, per-language n-gram namespaces, Hinglish routing."""

from __future__ import annotations

import numpy as np

from analyze.hinglish import is_hinglish, sentiment_language
from analyze.lexical import char_ngrams, normalise_for_ngrams, word_ngrams
from analyze.sentiment_model import FeatureSpec, filed_languages, lexical_blocks

SPEC = FeatureSpec(char_bits=12, word_bits=10, language_bits=12, embedding_weight=1.0, languages=("ar", "en", "hi"))


def _buckets(rows, row: int = 0) -> list[int]:
    return sorted(rows.indices[rows.indptr[row] : rows.indptr[row + 1]].tolist())


def test_arabic_spelling_variants_become_one_feature():
    # hamza seats, madda and bare alef; ta marbuta and ha; alef maqsura and ya; harakat, shadda, tatweel
    assert normalise_for_ngrams("أحبّ إحب آحب") == "احب احب احب"
    assert normalise_for_ngrams("مدرسة مدرسه") == "مدرسه مدرسه"
    assert normalise_for_ngrams("على علي") == "علي علي"
    assert normalise_for_ngrams("جَمِيلٌ جميــــل") == "جميل جميل"
    assert normalise_for_ngrams("هههههههه ٣٠ ۴") == "هه 30 4"  # a laugh of any length; Arabic-Indic digits
    words = word_ngrams(["رائعة", "رائعه"], bits=12)
    assert _buckets(words, 0) == _buckets(words, 1)
    assert normalise_for_ngrams("Café @Someone SOOOO") == "café @user soo"  # other scripts as before


def test_namespaces_separate_languages_and_namespace_zero_is_the_shared_space():
    shared = char_ngrams(["hit", "hit"], bits=16)
    spaced = char_ngrams(["hit", "hit", "hit"], bits=16, namespaces=[0, 2, 2])
    assert _buckets(spaced, 0) == _buckets(shared, 0)  # the shared space hashes exactly as without namespaces
    assert _buckets(spaced, 1) == _buckets(spaced, 2)
    assert not set(_buckets(spaced, 0)) & set(_buckets(spaced, 1))


def test_hinglish_is_spotted_by_two_different_function_words():
    assert is_hinglish("bhai aap toh hit ho")
    assert is_hinglish("kya hua??? haar bardaash nahi hua")
    assert not is_hinglish("mi hai sollevata, hai ragione")  # Italian "hai" twice is one marker
    assert not is_hinglish("ni es libre, ni es independiente")
    assert not is_hinglish("I love this film")
    assert sentiment_language("sir app jarur cm banoge, kya baat hai", "en") == "hi"
    assert sentiment_language("sir app jarur cm banoge, kya baat hai", "und") == "hi"
    assert sentiment_language("Das ist wunderbar", "de") == "de"


def test_each_text_gets_character_ngrams_in_its_own_language_only():
    texts = ["مدرسة جميلة", "great film", "bhai aap toh hit ho", "film génial"]
    filed = filed_languages(texts, ["ar", "en", "en", "fr"])
    assert filed == ["ar", "en", "hi", "fr"]
    chars, words, in_language = lexical_blocks(texts, filed, SPEC)
    assert np.diff(chars.indptr).min() > 0 and np.diff(words.indptr).min() > 0
    assert _buckets(in_language, 0) == _buckets(char_ngrams([texts[0]], SPEC.language_bits, [1]))
    assert _buckets(in_language, 2) == _buckets(char_ngrams([texts[2]], SPEC.language_bits, [3]))
    assert _buckets(in_language, 3) == []  # French is not one of this spec's languages: shared weights only
