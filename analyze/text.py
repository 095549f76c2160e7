"""Turning a stored post into the text the models see.

Links, bare URLs and runs of whitespace carry no topic or sentiment and confuse language
detection, so they go. NFKC folds compatibility forms (Arabic presentation forms, full-width
Latin, ligatures) into the letters models were trained on; otherwise the words stay exactly as
written (no lower-casing: the models want case).
"""

from __future__ import annotations

import re
import unicodedata

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
MAX_CHARS = 2000  # the embedding models truncate far earlier; this bounds work on giant posts


def model_text(title: str | None, text: str) -> str:
    """Title and body as one clean line of text for language, sentiment and embedding models."""
    joined = unicodedata.normalize("NFKC", f"{title}. {text}" if title and text else (title or text or ""))
    return _SPACE.sub(" ", _URL.sub(" ", joined)).strip()[:MAX_CHARS]
