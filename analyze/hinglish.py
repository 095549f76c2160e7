"""Spotting romanised Hindi (Hinglish), which the language detector cannot name.

Hindi written in Latin letters ("bhai aap toh hit ho", "kya hua??? haar bardaash nahi hua") is how
much of India posts, and fastText's "lite" model calls it English or undetermined. The sentiment
model keeps a separate set of n-gram weights and a class-balance offset per language, so it needs to
know: a Latin-script post with at least two different common Hindi function words is filed under
"hi". The words are ones that are rare in the other Latin-script languages (not "ni", Spanish and
French "nor"; not "wo", German "where"); two *different* ones are required because one can be a
coincidence ("hai" is Italian "you have", "mein" German "my").
"""

from __future__ import annotations

import re

HINDI = "hi"
MIN_MARKERS = 2
_MARKER_WORDS = """
    hai hain h nahi nahin nhi kya kyu kyun kyon mujhe mujhko tujhe humein hume hamara hamare tumhara tera mera
    meri mere apna apni apne aap aapka aapki aapke tum hum yeh ye woh aur bhi tha thi hota hoti hote raha rahe
    rahi rha rhe rhi karo kro karna krna kiya kia diya gaya gya gayi gyi kuch sab koi kaise kaisa kab kahan kaha
    abhi toh bahut bohot bhot bahot accha acha achha yaar bhai bhaiya ji lekin phir fir jab tab agar magar sirf
    ko ki ka ke hoga hogi honge liye wala wali wale kar mein
    """
MARKERS = frozenset(_MARKER_WORDS.split())
_LATIN_WORD = re.compile(r"[a-z]+")


def is_hinglish(text: str) -> bool:
    """True when the text uses at least MIN_MARKERS different common romanised-Hindi words."""
    return len(MARKERS.intersection(_LATIN_WORD.findall(text.lower()))) >= MIN_MARKERS


def sentiment_language(text: str, detected: str) -> str:
    """The language the sentiment model files a text under: the detected one, or "hi" for Hinglish."""
    return HINDI if is_hinglish(text) else detected
