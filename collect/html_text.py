"""The one HTML-to-text conversion every source uses (HN comments, Mastodon statuses, feed summaries).

Post text is data, never markup: what a platform delivers as HTML is reduced here to the words a
reader sees, with paragraph breaks kept, code verbatim, scripts and styles dropped, and links
written out where their target is not already in the text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["html_to_text"]


def html_to_text(html: str) -> str:
    """Plain text of a fragment of HTML: paragraphs kept, code verbatim, links as their full URL.

    A link whose text is its own URL (shortened with "..." or hidden spans, as HN and Mastodon do)
    becomes the full href; a hashtag or mention link (text starting with # or @) stays its text; any
    other link becomes "text (href)". Broken or unclosed markup never raises.
    """
    if "<" not in html and "&" not in html:  # plain text: what the parser would make of it, faster
        return " ".join(html.split())
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    return parser.text()


_SPACES = re.compile(r"\s+")

# Tags that end a paragraph where they open and close.
_BLOCKS = frozenset(
    {
        "p",
        "div",
        "li",
        "ul",
        "ol",
        "blockquote",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "table",
        "section",
        "article",
        "header",
        "footer",
        "figure",
        "figcaption",
        "dl",
        "dt",
        "dd",
        "hr",
    }
)
# Tags whose content is not text a reader sees.
_HIDDEN = frozenset({"script", "style", "template", "head", "title", "noscript"})


class _TextParser(HTMLParser):
    """Collects blocks of text: paragraphs (whitespace collapsed) and `<pre>` blocks (verbatim)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._blocks: list[str] = []
        self._inline: list[str] = []  # the current paragraph; "\n" stands for <br>
        self._pre: list[str] | None = None
        self._link: tuple[str, list[str]] | None = None  # (href, text so far)
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag in _BLOCKS:
            self._end_paragraph()
        elif tag == "br":
            self._emit("\n")
        elif tag == "pre":
            self._end_paragraph()
            self._pre = []
        elif tag == "a":
            self._end_link()
            self._link = (dict(attrs).get("href") or "", [])

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            return  # <script/> opens nothing
        self.handle_starttag(tag, attrs)
        if tag == "a":
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self._end_paragraph()
        elif tag == "pre" and self._pre is not None:
            self._end_link()
            code = "".join(self._pre).strip("\n")
            self._pre = None
            if code.strip():
                self._blocks.append(code)
        elif tag == "a":
            self._end_link()

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if self._link is not None:
            self._link[1].append(data)
        else:
            self._emit(data)

    def close(self) -> None:
        super().close()
        self._end_link()
        if self._pre is not None:
            self.handle_endtag("pre")
        self._end_paragraph()

    def text(self) -> str:
        return "\n\n".join(self._blocks)

    def _emit(self, text: str) -> None:
        if self._pre is not None:
            self._pre.append(text)
        else:
            self._inline.append(text if text == "\n" else _SPACES.sub(" ", text))

    def _end_link(self) -> None:
        if self._link is None:
            return
        href, parts = self._link
        self._link = None
        self._emit(_link_text(_SPACES.sub(" ", "".join(parts)).strip(), href))

    def _end_paragraph(self) -> None:
        if self._pre is not None:
            return  # inside <pre> the code's own newlines separate its lines
        self._end_link()
        lines = [" ".join(line.split()) for line in "".join(self._inline).split("\n")]
        self._inline = []
        paragraph = "\n".join(lines).strip("\n")
        if paragraph:
            self._blocks.append(paragraph)


def _link_text(text: str, href: str) -> str:
    """What a reader needs of a link: the full URL, plus the text where it says something else."""
    if not href or text == href or text.startswith(("#", "@")):
        return text
    if not text or (text.endswith(("...", "…")) and href.startswith(text.rstrip(".…"))):
        return href
    return f"{text} ({href})"
