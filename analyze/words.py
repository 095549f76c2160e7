"""Cutting posts into words for topic keywords, in scripts written without spaces too.

Japanese and Chinese do not separate words, so a vectoriser that splits on spaces counts whole
sentences as "words". Both are cut by offline, pure-Python tokenisers that ship their dictionaries
on PyPI: Janome (Japanese, IPADIC; only content words are kept: nouns, verbs and adjectives in their
dictionary form) and jieba (Chinese). Other languages pass through unchanged; the vectoriser's
token pattern splits them.
"""

from __future__ import annotations

import logging
import re
from functools import cache

_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_WORDLIKE = re.compile(r"\w")
# Janome part-of-speech heads worth a keyword, and the sub-kinds of noun that are not.
_JA_CONTENT = {"名詞", "動詞", "形容詞"}
_JA_NOT_CONTENT = {"非自立", "代名詞", "数", "接尾", "副詞可能"}


def keyword_text(text: str, language: str) -> str:
    """The text with words separated by spaces, ready for a space-splitting vectoriser."""
    script = _script(text, language)
    if script == "ja":
        return " ".join(_japanese_words(text))
    if script == "zh":
        return " ".join(_chinese_words(text))
    return text


def _script(text: str, language: str) -> str:
    if language.startswith("ja") or (not language.startswith("zh") and _KANA.search(text)):
        return "ja"
    if language.startswith("zh") or _HAN.search(text):
        return "zh"
    return "other"


def _japanese_words(text: str) -> list[str]:
    words = []
    for token in _janome().tokenize(text):
        kinds = token.part_of_speech.split(",")
        if kinds[0] in _JA_CONTENT and not _JA_NOT_CONTENT.intersection(kinds[1:]):
            base = token.base_form if token.base_form != "*" else token.surface
            if _WORDLIKE.search(base):
                words.append(base)
    return words


def _chinese_words(text: str) -> list[str]:
    return [w for w in _jieba().lcut(text) if w.strip() and _WORDLIKE.search(w)]


@cache
def _janome():
    from janome.tokenizer import Tokenizer

    return Tokenizer()


@cache
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba
