"""The one text normalisation used for matching queries against posts.

Query terms and post texts both go through `normalize`, so matching is insensitive to case, width,
ligatures, diacritics, Arabic spelling variants and spacing, whatever the language. It is a
matching key only: never show or store its output in place of the original text.
"""

from __future__ import annotations

import re
import unicodedata

# Arabic letters that writers use interchangeably (hamza seats, madda, wasla, ta marbuta, alif
# maqsura) fold to one base letter; tatweel is a purely visual stretch, so it goes. The hamza forms
# would also lose their mark in the NFKD step below, but mapping them here makes the result not
# depend on how Unicode happens to decompose them (and ٱ, ة and ى do not decompose at all).
# Invisible format characters (soft hyphen, zero-width space/joiners, word joiner, BOM, bidi
# controls) go too, with the marks (see `_bmp_marks`).
# A loop of `str.replace` beats `str.translate` with a dict severalfold on non-Latin-1 text.
_VARIANTS: tuple[tuple[str, str], ...] = (
    ("أ", "ا"),
    ("إ", "ا"),
    ("آ", "ا"),
    ("ٱ", "ا"),
    ("ة", "ه"),
    ("ى", "ي"),
    ("ؤ", "و"),
    ("ئ", "ي"),
    ("\u0640", ""),  # tatweel
)


_INVISIBLE = ("Mn", "Cf")


def _bmp_marks() -> re.Pattern[str]:
    """A regex for runs of nonspacing marks (category Mn) and format controls (Cf) in the Basic
    Multilingual Plane.

    Format controls are invisible: bidi marks, embeddings and isolates (U+200E, U+200F,
    U+202A…U+202E, U+2066…U+2069, the Arabic letter mark U+061C), zero-width characters, soft
    hyphens. Right-to-left text copied from the web carries them inside and around words, where they
    would silently break a match, so they fold away like the zero-width characters above.

    Mn covers Latin accents once decomposed as well as Arabic harakat (fatha, damma, kasra, shadda,
    sukun, tanwin) and the superscript alif. A class of BMP characters compiles to a lookup table,
    several times faster than `str.translate` with a dict; scanning the 64K code points takes
    milliseconds at import. Astral code points would turn the class into a slow list of ranges,
    so they are handled apart (`_ASTRAL`).
    """
    ranges: list[list[int]] = []
    for code in range(0x10000):
        if unicodedata.category(chr(code)) in _INVISIBLE:
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return re.compile("[" + "".join(f"\\u{low:04x}-\\u{high:04x}" for low, high in ranges) + "]+")


_BMP_MARKS = _bmp_marks()
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")  # rare in text except emoji, so checked one by one


def _drop_mark(match: re.Match[str]) -> str:
    char = match[0]
    return "" if unicodedata.category(char) in _INVISIBLE else char


def normalize(text: str) -> str:
    """Fold `text` to the form queries are matched on.

    NFKC first (full-width letters, ligatures, Arabic presentation forms and non-breaking spaces
    become their plain forms), then casefold, the Arabic variant map, NFKD to split letters from
    their marks, dropping every nonspacing mark, and NFC to recompose what is left (Hangul, for
    one). Finally every run of whitespace becomes a single space, so a phrase never fails on a
    line break or a double space.
    """
    if text.isascii():  # most posts: nothing to fold beyond case and spacing
        return " ".join(text.lower().split())
    text = unicodedata.normalize("NFKC", text).casefold()
    for variant, base in _VARIANTS:
        text = text.replace(variant, base)
    text = _ASTRAL.sub(_drop_mark, _BMP_MARKS.sub("", unicodedata.normalize("NFKD", text)))
    return " ".join(unicodedata.normalize("NFC", text).split())
