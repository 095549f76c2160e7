"""News articles found by Google News search, per language edition, through its RSS search feeds.

`news.google.com/rss/search?q=…&hl=…&gl=…&ceid=…` answers one RSS page of at most about 100 items
for a search in one edition (a language and a country). The query is narrowed to dates with Google's
`after:`/`before:` operators, so a backfill is cut into date windows that each fit in one page. A
window that has settled (ended more than `SETTLE` ago) is read once, and the state remembers how far
that goes; the open window at the end is read on every run with the `ETag`/`Last-Modified`
validators Google gave last time, so an unchanged result costs a 304.

Google writes each item's title as "Headline - Publisher" and names the publisher in `<source>`:
the headline becomes the post's title, the publisher its author-like field. The description only
repeats headlines (this one, and a cluster of related ones), never article text: the post's text
stays empty and the related headlines are kept in `raw`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import date, timedelta
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

from collect.errors import ParseError
from collect.html_text import html_to_text
from collect.sources import syndication
from collect.sources.base import FetchContext, Option, Page, display_url, endpoint
from collect.sources.boolean_search import or_searches
from store.post import Post

if TYPE_CHECKING:
    from monitor.query import Query

logger = logging.getLogger(__name__)

NAME = "googlenews"

SEARCH_URL = "https://news.google.com/rss/search"

ENV: dict[str, str] = {}
REQUIRED_ENV: tuple[str, ...] = ()

OPTIONS = {
    "editions": Option(
        list, ["en-US"], 'Google News editions: language-COUNTRY ("ar-EG", "fr-FR") or a ceid ("MX:es-419")'
    ),
    "window_days": Option(
        int, 30, "days per search window; Google returns at most about 100 items per search", minimum=1, maximum=366
    ),
}
CURSOR_OPTIONS = ("editions",)

# A window is read for the last time once it ended this long ago: Google News indexes late articles.
SETTLE = timedelta(days=2)

# Editions whose ceid language is not the plain language code (Google's own edition list).
_CEID_LANGUAGE = {
    "pt-BR": "pt-419",
    "es-MX": "es-419",
    "es-AR": "es-419",
    "es-CO": "es-419",
    "es-CL": "es-419",
    "es-PE": "es-419",
    "es-US": "es-419",
    "zh-CN": "zh-Hans",
    "zh-TW": "zh-Hant",
    "zh-HK": "zh-Hant",
}
_LANG_COUNTRY = re.compile(r"(?P<lang>[a-z]{2,3})-(?P<country>[A-Z]{2})")
_CEID = re.compile(r"(?P<country>[A-Z]{2}):(?P<lang>[a-z]{2,3}(?:-[A-Za-z0-9]{2,4})?)")


def translate(query: Query) -> list[str]:
    """Google News search understands OR and quotes: usually one search for the whole query."""
    return or_searches(query)


def edition_params(edition: str) -> dict[str, str] | None:
    """`hl`, `gl` and `ceid` for an edition ("ar-EG" or "EG:ar"); None if it is neither form."""
    edition = edition.strip()
    if match := _CEID.fullmatch(edition):
        country, lang = match["country"], match["lang"]
        return {"hl": lang, "gl": country, "ceid": f"{country}:{lang}"}
    if match := _LANG_COUNTRY.fullmatch(edition):
        country, lang = match["country"], match["lang"]
        ceid_lang = _CEID_LANGUAGE.get(edition, lang)
        # Google's English editions name the country in hl ("en-GB"); the others use the language.
        hl = edition if lang == "en" or edition in _CEID_LANGUAGE else lang
        return {"hl": hl, "gl": country, "ceid": f"{country}:{ceid_lang}"}
    return None


# --- fetch -------------------------------------------------------------------------------------


def fetch(ctx: FetchContext) -> Iterator[Page]:
    """Each edition's windows, oldest first; the final state on the last readable page."""
    editions = _editions_state(ctx.state)
    url = endpoint(SEARCH_URL, ctx.options.get("base_url"))
    window = timedelta(days=int(ctx.options.get("window_days", 30)))
    first_day = ctx.since.date() - timedelta(days=1)  # after: is a day; a day early is safe
    last_day = ctx.until.date()
    settled_before = (ctx.until - SETTLE).date()

    def pages() -> Iterator[tuple[Page, bool]]:
        for edition in ctx.options.get("editions", ["en-US"]):
            params = edition_params(str(edition))
            if params is None:
                logger.warning(
                    "googlenews: edition %r is neither language-COUNTRY (ar-EG) nor a ceid (EG:ar); skipped", edition
                )
                continue
            kept = editions.get(str(edition), {})
            start = max(first_day, _day(kept.get("through")) or first_day)
            while True:
                end = start + window
                settled = end <= settled_before
                q = f"{ctx.search} after:{start.isoformat()}" + (f" before:{end.isoformat()}" if settled else "")
                known = kept if not settled and kept.get("q") == q else None
                response = syndication.conditional_get(ctx.client, url, known, params={"q": q, **params})
                if response is not None:
                    page = Page(response.content, display_url(str(response.url)))
                    try:
                        syndication.read_feed(response.content)
                    except ParseError as exc:
                        logger.warning(
                            "googlenews: %s (%s): %s; this edition's cursor stays where it was", page.url, edition, exc
                        )
                        yield page, False
                        break
                    yield page, True
                if settled:
                    kept = {"through": end.isoformat()}
                elif response is not None:
                    kept = {"through": start.isoformat(), "q": q, **syndication.validators(response)}
                else:  # 304: the validators sent still describe this window's result
                    kept = {
                        "through": start.isoformat(),
                        "q": q,
                        **{key: kept[key] for key in ("etag", "last_modified") if key in kept},
                    }
                editions[str(edition)] = kept
                if not settled or end > last_day:
                    break
                start = end

    yield from syndication.last_readable_carries_state(pages(), lambda: {"editions": dict(sorted(editions.items()))})


def _editions_state(state: dict[str, Any] | None) -> dict[str, dict[str, str]]:
    editions = state.get("editions") if isinstance(state, dict) else None
    if not isinstance(editions, dict):
        return {}
    return {
        name: {key: value for key, value in kept.items() if isinstance(value, str)}
        for name, kept in editions.items()
        if isinstance(name, str) and isinstance(kept, dict)
    }


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


# --- parse -------------------------------------------------------------------------------------


def parse(body: bytes | str) -> list[Post]:
    """The articles of one Google News RSS page, each guid (or link) once; a bad item costs itself."""
    return syndication.parse_entries(body, NAME, _post)


def split_publisher(title: str, publisher: str | None) -> tuple[str, str | None]:
    """("Headline", "Publisher") from Google's "Headline - Publisher" title.

    With a `<source>` name the suffix is cut only if it is that name; without one, at the last " - ".
    """
    if publisher:
        suffix = f" - {publisher}"
        return (title[: -len(suffix)].strip() or title, publisher) if title.endswith(suffix) else (title, publisher)
    headline, dash, tail = title.rpartition(" - ")
    if dash and headline.strip() and tail.strip():
        return headline.strip(), tail.strip()
    return title, None


def _post(parsed: Any, entry: Any) -> Post:
    native_id = syndication.entry_id(entry)
    full_title = syndication.entry_title(entry)
    if not full_title:
        raise syndication.MalformedEntry(f"{native_id}: no title")
    source = entry.get("source") or {}
    named = source.get("title") if isinstance(source, dict) else None
    title, publisher = split_publisher(full_title, named.strip() if isinstance(named, str) and named.strip() else None)
    created, from_feed = syndication.created_at(parsed, entry)
    description = _Description.read(syndication.entry_html(entry))
    own = {_squash(title), _squash(full_title)}
    related = [
        f"{headline} - {outlet}" if outlet else headline
        for headline, outlet in description.headlines
        if _squash(headline) not in own
    ]
    raw: dict[str, Any] = {
        "guid": native_id,
        "link": entry.get("link"),
        "title": full_title,
        "publisher": publisher,
        "publisher_url": source.get("href") if isinstance(source, dict) else None,
        "published": entry.get("published"),
        "related": related,
    }
    if from_feed:
        raw["date_from_feed"] = True
    return Post(
        platform=NAME,
        native_id=native_id,
        text=html_to_text(description.html) if description.loose else "",
        created_at=created,
        url=syndication.entry_link(entry),
        author=publisher,
        title=title,
        language=syndication.language(parsed, entry),
        raw=raw,
    )


def _squash(text: str) -> str:
    return " ".join(text.split()).casefold()


class _Description(HTMLParser):
    """Google's description: headlines (`<a>` text, then the outlet in `<font>`) and any other text.

    Read by structure rather than through `html_to_text`, so the headlines are recognised however
    links are written out as text.
    """

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.html = html
        self.headlines: list[tuple[str, str | None]] = []
        self.loose = ""
        self._inside: str | None = None
        self._parts: list[str] = []

    @classmethod
    def read(cls, html: str) -> _Description:
        parser = cls(html)
        parser.feed(html)
        parser.close()
        parser.loose = " ".join(parser.loose.split())
        return parser

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("a", "font"):
            self._inside, self._parts = tag, []

    def handle_endtag(self, tag: str) -> None:
        if tag != self._inside:
            return
        text = " ".join("".join(self._parts).split())
        self._inside = None
        if tag == "a" and text:
            self.headlines.append((text, None))
        elif tag == "font" and text and self.headlines and self.headlines[-1][1] is None:
            self.headlines[-1] = (self.headlines[-1][0], text)
        elif text:
            self.loose += " " + text

    def handle_data(self, data: str) -> None:
        if self._inside:
            self._parts.append(data)
        else:
            self.loose += data
