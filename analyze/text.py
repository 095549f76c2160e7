"""Turning a stored post into the text the models see.

Links, bare URLs and runs of whitespace carry no topic or sentiment and confuse language
detection, so they go. NFKC folds compatibility forms (Arabic presentation forms, full-width
Latin, ligatures) into the letters models were trained on; otherwise the words stay exactly as
written (no lower-casing: the models want case).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
MAX_CHARS = 2000  # the embedding models truncate far earlier; this bounds work on giant posts


def model_text(title: str | None, text: str) -> str:
    """Title and body as one clean line of text for language, sentiment and embedding models."""
    joined = unicodedata.normalize("NFKC", f"{title}. {text}" if title and text else (title or text or ""))
    return _SPACE.sub(" ", _URL.sub(" ", joined)).strip()[:MAX_CHARS]


# Latin-script inflections a query word may carry in a post: leak → leaks, leaked, leaking, leaker(s).
_INFLECTIONS = r"(?:s|es|ed|d|ing|er|ers)?"


def term_masker(words: Iterable[str]) -> Callable[[str], str]:
    """A function that blanks the given words (and their inflections) out of a text.

    The monitor's own query words are in nearly every post it collects, so they must not decide
    a post's sentiment: "leak" reads as negative to any model, yet "OpenAI's Sora leaked, here is
    what it does" is a neutral report. Sentiment models see the post with those words removed.
    """
    alternatives = sorted({w.lower() for w in words if w.strip()}, key=len, reverse=True)
    if not alternatives:
        return lambda text: text
    pattern = re.compile(
        r"(?<!\w)(?:" + "|".join(re.escape(w) for w in alternatives) + r")" + _INFLECTIONS + r"(?!\w)",
        re.IGNORECASE,
    )
    return lambda text: _SPACE.sub(" ", pattern.sub(" ", text)).strip()
