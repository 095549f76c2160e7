"""The one HTML-to-text conversion every source that delivers HTML uses.

Post text is data, never markup: tags are dropped, entities decoded, scripts and styles removed.
Block elements become line breaks so the text reads as the page did: paragraphs, headings, lists
and quotes are separated by a blank line, list items, table rows and `<br>` by a line break; the
lines of a `<pre>` block stay lines.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["html_to_text"]

_PARAGRAPHS = frozenset(
    {
        "article",
        "blockquote",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "ul",
    }
)
_LINES = frozenset({"address", "aside", "dd", "div", "dl", "dt", "figcaption", "li", "main", "nav", "tr"})
_HIDDEN = frozenset({"script", "style", "template", "noscript", "head", "title"})

# Markers for block boundaries while parsing; a run of them (and the space between) becomes one break.
_LINE, _PARAGRAPH = "\x00", "\x01"
_BOUNDARIES = re.compile(r"[\x00\x01][\s\x00\x01]*")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: block elements to newlines, entities decoded, scripts dropped."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    text = _BOUNDARIES.sub(lambda run: "\n\n" if _PARAGRAPH in run.group() else "\n", "".join(parser.parts))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


class _TextParser(HTMLParser):
    """Collects character data outside hidden elements, marking every block boundary."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        else:
            self._pre += tag == "pre"
            self._boundary(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._boundary(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag != "br":
            self._pre = max(0, self._pre - (tag == "pre"))
            self._boundary(tag)

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            data = data.replace(_LINE, "").replace(_PARAGRAPH, "")
            self.parts.append(data if self._pre else data.replace("\n", " "))

    def _boundary(self, tag: str) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in _PARAGRAPHS:
            self.parts.append(_PARAGRAPH)
        elif tag in _LINES:
            self.parts.append(_LINE)
