"""Plain text from a platform's HTML (minimal stand-in on branch issue8c; the integrator keeps issue8's)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLOCKS = frozenset({"p", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"})


def html_to_text(html: str) -> str:
    """The text of `html`: tags dropped, entities decoded, paragraphs kept as blank lines."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    paragraphs = ("".join(parser.parts)).split("\n\n")
    cleaned = ["\n".join(_SPACES.sub(" ", line).strip() for line in p.split("\n")).strip() for p in paragraphs]
    return "\n\n".join(p for p in cleaned if p)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data.replace("\n", " "))
