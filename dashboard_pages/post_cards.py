"""Posts shown as cards: metadata line, title and text as plain text, a link to the original.

Post text is data written by strangers: it goes through `st.text` only (never markdown or HTML).
Right-to-left posts sit in a keyed container that one static style sheet lays out right to left;
that style sheet is the only HTML the dashboard writes, and it holds no post text.
"""

from __future__ import annotations

import unicodedata

import pandas as pd
import streamlit as st

RTL_LANGUAGES = {"ar", "fa", "he", "ur", "ps", "yi", "ku", "sd", "ug", "dv"}
RTL_STYLE = """<style>
[class*="st-key-rtl-post-"] { direction: rtl; }
[class*="st-key-rtl-post-"] [data-testid="stText"] { text-align: right; unicode-bidi: plaintext; }
[class*="st-key-rtl-post-"] [data-testid="stCaptionContainer"] { direction: ltr; }
[data-testid="stText"] { white-space: pre-wrap; }
</style>"""


def install_style() -> None:
    st.html(RTL_STYLE)


def is_rtl(language: str | None, text: str) -> bool:
    """Right to left when the language is, or (language unknown) when the first strong letter is."""
    if language in RTL_LANGUAGES:
        return True
    for char in text:
        direction = unicodedata.bidirectional(char)
        if direction in ("R", "AL"):
            return True
        if direction == "L":
            return False
    return False


def show_posts(frame: pd.DataFrame, topic_labels: dict[int, str], *, key: str) -> None:
    """One bordered card per post of a `store.queries.post_page` frame."""
    for post in frame.itertuples():
        rtl = is_rtl(post.language, post.text or "")
        with st.container(border=True, key=f"{'rtl' if rtl else 'ltr'}-post-{key}-{post.id}"):
            topic = "—" if pd.isna(post.topic) else topic_labels.get(int(post.topic), str(post.topic))
            st.caption(
                f"{post.created_at:%Y-%m-%d %H:%M} UTC · {post.source} · {post.language} · {post.sentiment} · "
                f"topic: {plain(topic)} · {post.author} · {int(post.engagement):,} engagement"
            )
            if post.title:
                st.text(post.title)
            st.text(post.text)
            if post.url and str(post.url).startswith(("https://", "http://")):
                st.link_button("Open original", post.url)


def plain(value: str) -> str:
    """A topic label (words the model took from posts) made safe inside a markdown caption."""
    escaped = "".join(f"\\{char}" if char in "\\`*_{}[]()#+-.!<>|~$:" else char for char in value)
    return escaped.replace("\n", " ")
