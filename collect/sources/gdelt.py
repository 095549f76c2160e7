"""News articles worldwide, through the GDELT DOC 2.0 API (`api.gdeltproject.org/api/v2/doc/doc`).

`mode=artlist&format=json` answers at most `maxrecords` (250) articles for one search between
`startdatetime` and `enddatetime`, and only within the last three months. A backfill is therefore cut
into time windows, and a window that comes back full is halved until each half fits (down to
`MIN_WINDOW`). A window's end is a safe cursor once it has been read, if every earlier one was.

GDELT asks for no more than one request every 5 seconds and says so in plain text, with a 429 or
sometimes a 200, when a client goes faster: the source keeps its own interval (an option, never
below 5 s) and backs off further when told. Other refusals arrive as plain text too ("The specified
phrase is too short."): the page is handed on for the record and the walk for that search stops, as
every window would be refused alike. GDELT's JSON now and then carries invalid escapes in titles;
they are repaired rather than losing the page.
"""

from __future__ import annotations

import html
import json
import logging
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from collect.errors import ParseError, SourceHTTPError
from collect.http import raise_for_status
from collect.sources.base import FetchContext, Option, Page, display_url, endpoint
from collect.sources.boolean_search import or_searches
from store.post import Post

if TYPE_CHECKING:
    from monitor.query import Query

logger = logging.getLogger(__name__)

NAME = "gdelt"

DOC_URL = "https://api.gdeltproject.org/api/v2/doc/doc"

ENV: dict[str, str] = {}
REQUIRED_ENV: tuple[str, ...] = ()

MIN_INTERVAL = 5.0
"""GDELT's documented limit: one request every 5 seconds."""

OPTIONS = {
    "window_hours": Option(float, 24.0, "hours per request window (a full one is halved)", minimum=0.25, maximum=2160),
    "max_records": Option(int, 250, "articles asked for per request; GDELT's most is 250", minimum=1, maximum=250),
    "interval": Option(
        float,
        MIN_INTERVAL,
        "seconds between two requests; GDELT asks for at least 5",
        minimum=MIN_INTERVAL,
        maximum=600,
    ),
    "sort": Option(str, "datedesc", "order within a window", choices=("datedesc", "dateasc")),
    "languages": Option(list, [], 'only articles in these languages: ISO codes or GDELT names ("ar", "french")'),
    "countries": Option(list, [], 'only articles from these countries: GDELT sourcecountry codes or names ("EG")'),
}
CURSOR_OPTIONS = ("languages", "countries")

# The DOC API searches a rolling window of the last three months.
REACH = timedelta(days=90)
# A full window is not halved below this: GDELT updates every 15 minutes.
MIN_WINDOW = timedelta(minutes=15)
# Articles are searchable some minutes after their seendate; a new walk starts this far before the cursor.
OVERLAP = timedelta(hours=1)
# Times GDELT's "Please limit requests" is answered by waiting longer before the walk gives up.
RATE_LIMIT_RETRIES = 3

SEENDATE_FORMATS = ("%Y%m%dT%H%M%SZ", "%Y%m%d%H%M%S")

# GDELT's language names (its 65 machine-translated languages and English) and their ISO 639-1 codes.
LANGUAGES = {
    "afrikaans": "af",
    "albanian": "sq",
    "arabic": "ar",
    "armenian": "hy",
    "azerbaijani": "az",
    "bengali": "bn",
    "bosnian": "bs",
    "bulgarian": "bg",
    "catalan": "ca",
    "chinese": "zh",
    "croatian": "hr",
    "czech": "cs",
    "danish": "da",
    "dutch": "nl",
    "english": "en",
    "estonian": "et",
    "finnish": "fi",
    "french": "fr",
    "galician": "gl",
    "georgian": "ka",
    "german": "de",
    "greek": "el",
    "gujarati": "gu",
    "hebrew": "he",
    "hindi": "hi",
    "hungarian": "hu",
    "icelandic": "is",
    "indonesian": "id",
    "italian": "it",
    "japanese": "ja",
    "kannada": "kn",
    "kazakh": "kk",
    "korean": "ko",
    "latvian": "lv",
    "lithuanian": "lt",
    "macedonian": "mk",
    "malay": "ms",
    "malayalam": "ml",
    "marathi": "mr",
    "mongolian": "mn",
    "nepali": "ne",
    "norwegian": "no",
    "persian": "fa",
    "polish": "pl",
    "portuguese": "pt",
    "punjabi": "pa",
    "romanian": "ro",
    "russian": "ru",
    "serbian": "sr",
    "sinhala": "si",
    "sinhalese": "si",
    "slovak": "sk",
    "slovenian": "sl",
    "somali": "so",
    "spanish": "es",
    "swahili": "sw",
    "swedish": "sv",
    "tamil": "ta",
    "telugu": "te",
    "thai": "th",
    "tibetan": "bo",
    "turkish": "tr",
    "ukrainian": "uk",
    "urdu": "ur",
    "vietnamese": "vi",
    "filipino": "tl",
    "tagalog": "tl",
    "belarusian": "be",
    "khmer": "km",
    "lao": "lo",
    "burmese": "my",
    "pashto": "ps",
    "amharic": "am",
}
_NAMES = {code: name for name, code in reversed(LANGUAGES.items())}

# A backslash and what follows it: a valid JSON escape is kept, a stray backslash ("\\'") dropped.
_ESCAPE = re.compile(r'\\(["\\/bfnrt]|u[0-9a-fA-F]{4})?')
_FILTER_VALUE = re.compile(r"[A-Za-z][A-Za-z0-9]{1,40}")

_now_clock = time.monotonic
_sleep = time.sleep
# When the last request to each host was sent (monotonic seconds), shared by every walk of a run.
_last_request: dict[str, float] = {}


# --- translate ---------------------------------------------------------------------------------


def translate(query: Query) -> list[str]:
    """GDELT understands `(a OR b)` and quoted phrases: usually one search for the whole query."""
    return or_searches(query)


def search_query(search: str, languages: list[str], countries: list[str]) -> str:
    """The `query` parameter: the search with GDELT's sourcelang:/sourcecountry: filters added."""
    parts = [search]
    for operator, values in (
        ("sourcelang", [_NAMES.get(str(v).lower(), str(v).lower()) for v in languages]),
        ("sourcecountry", [str(v) for v in countries]),
    ):
        kept = [value for value in dict.fromkeys(values) if _FILTER_VALUE.fullmatch(value)]
        for value in set(values) - set(kept):
            logger.warning("gdelt: %s %r is not a plain name or code; ignored", operator, value)
        terms = [f"{operator}:{value}" for value in kept]
        if len(terms) == 1:
            parts.append(terms[0])
        elif terms:
            parts.append("(" + " OR ".join(terms) + ")")
    return " ".join(parts)


# --- fetch -------------------------------------------------------------------------------------


def fetch(ctx: FetchContext) -> Iterator[Page]:
    """Pages of articles seen after the cursor (or `since`), oldest window first.

    Each fully read window's page carries the state `{"through": <window end>}`; an unreadable or
    refused page is yielded without state and ends the walk.
    """
    walk = _Walk(ctx)
    start = walk.start()
    width = timedelta(hours=float(ctx.options.get("window_hours", 24.0)))
    while start < walk.until and walk.intact:
        end = min(start + width, walk.until)
        yield from walk.window(start, end)
        start = end


class _Walk:
    def __init__(self, ctx: FetchContext) -> None:
        self.ctx = ctx
        self.until = ctx.until.astimezone(UTC).replace(microsecond=0)
        self.url = endpoint(DOC_URL, ctx.options.get("base_url"))
        self.max_records = int(ctx.options.get("max_records", 250))
        self.interval = max(MIN_INTERVAL, float(ctx.options.get("interval", MIN_INTERVAL)))
        self.sort = str(ctx.options.get("sort", "datedesc"))
        self.query = search_query(
            ctx.search, list(ctx.options.get("languages", [])), list(ctx.options.get("countries", []))
        )
        self.intact = True

    def start(self) -> datetime:
        since = self.ctx.since.astimezone(UTC)
        through = self.ctx.state.get("through") if isinstance(self.ctx.state, dict) else None
        if isinstance(through, str):
            try:
                since = max(since, datetime.fromisoformat(through).astimezone(UTC) - OVERLAP)
            except ValueError:
                logger.warning("gdelt: saved cursor %r is not a time; starting from the monitor's start", through)
        earliest = self.until - REACH
        if since < earliest:
            logger.info("gdelt: the DOC API reaches back 3 months only; searching from %s", earliest.isoformat())
            since = earliest
        return since.replace(microsecond=0)

    def window(self, start: datetime, end: datetime) -> Iterator[Page]:
        """The page for (start, end], halving first while it comes back full."""
        response = self._get(start, end)
        page = Page(response.content, display_url(str(response.url)))
        try:
            articles = _articles(response.content)
        except ParseError as exc:
            self.intact = False
            logger.warning(
                "gdelt: %s for %s: %s; this search stops here and the cursor stays where it was",
                page.url,
                self.ctx.search,
                _plain_text(response.content) or exc,
            )
            yield page
            return
        if len(articles) >= self.max_records:
            if end - start > MIN_WINDOW:
                middle = start + (end - start) / 2
                middle = middle.replace(microsecond=0)
                yield from self.window(start, middle)
                if self.intact:
                    yield from self.window(middle, end)
                return
            logger.warning(
                "gdelt: %d or more articles seen between %s and %s; only %d can be read",
                len(articles),
                start.isoformat(),
                end.isoformat(),
                self.max_records,
            )
        yield Page(page.body, page.url, {"through": end.isoformat()})

    def _get(self, start: datetime, end: datetime) -> httpx.Response:
        params = {
            "query": self.query,
            "mode": "artlist",
            "format": "json",
            "maxrecords": str(self.max_records),
            "startdatetime": start.strftime("%Y%m%d%H%M%S"),
            "enddatetime": end.strftime("%Y%m%d%H%M%S"),
            "sort": self.sort,
        }
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            self._throttle()
            try:
                response = self.ctx.client.get(self.url, params=params)
            except SourceHTTPError as exc:
                if exc.status_code != 429 or attempt == RATE_LIMIT_RETRIES:
                    raise
                self._back_off(attempt)
                continue
            if response.status_code != 429 and not _asks_to_slow_down(response.content):
                raise_for_status(response)
                return response
            if attempt == RATE_LIMIT_RETRIES:
                raise SourceHTTPError(
                    f"{httpx.URL(self.url).host} still asks to limit requests after "
                    f"{RATE_LIMIT_RETRIES} longer waits: {_plain_text(response.content)}",
                    429,
                )
            self._back_off(attempt)
        raise AssertionError("unreachable: the loop returns or raises")

    def _throttle(self) -> None:
        host = httpx.URL(self.url).host
        previous = _last_request.get(host)
        if previous is not None:
            wait = previous + self.interval - _now_clock()
            if wait > 0:
                _sleep(wait)
        _last_request[host] = _now_clock()

    def _back_off(self, attempt: int) -> None:
        wait = self.interval * 2 ** (attempt + 1)
        logger.warning("gdelt: asked to limit requests; waiting %.0f s before trying again", wait)
        _sleep(wait)


def _asks_to_slow_down(body: bytes) -> bool:
    head = body[:400].lower()
    return b"please limit requests" in head or b"limit requests to one every" in head


def _plain_text(body: bytes) -> str:
    """A short plain-text answer, as GDELT explains a refusal; "" for anything that looks like JSON."""
    text = body[:300].decode("utf-8", errors="replace").strip()
    return "" if text.startswith(("{", "[")) else " ".join(text.split())


# --- parse -------------------------------------------------------------------------------------


def parse(body: bytes | str) -> list[Post]:
    """The articles of one artlist response; an article without url or readable seendate costs itself."""
    posts = []
    for index, article in enumerate(_articles(body)):
        try:
            posts.append(_post(article))
        except _MalformedArticle as exc:
            logger.warning("gdelt: skipping article %d: %s", index, exc)
    return posts


class _MalformedArticle(ValueError):
    """One article cannot become a post; it costs that article, not the page."""


def _articles(body: bytes | str) -> list[Any]:
    """The `articles` list; `{}` (what GDELT sends for no results) is an empty one."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    if not text.strip():
        return []  # nothing found is sometimes answered with an empty body
    if not text.lstrip().startswith("{"):
        raise ParseError(f"not a JSON artlist ({_plain_text(text.encode()) or 'empty'!r})")
    try:
        data = json.loads(text, strict=False)
    except ValueError:
        try:
            data = json.loads(_ESCAPE.sub(_repair_escape, text), strict=False)
        except ValueError as exc:
            raise ParseError(f"not a complete JSON document ({exc})") from exc
        logger.info("gdelt: repaired invalid escapes in an artlist response")
    if not isinstance(data, dict):
        raise ParseError(f"expected a JSON object, got {type(data).__name__}")
    articles = data.get("articles", [])
    if not isinstance(articles, list):
        raise ParseError("'articles' is not a list")
    return articles


def _repair_escape(match: re.Match[str]) -> str:
    return match.group(0) if match.group(1) else ""


def _post(article: Any) -> Post:
    if not isinstance(article, dict):
        raise _MalformedArticle(f"expected an object, got {type(article).__name__}")
    url = article.get("url")
    if not isinstance(url, str) or not url.strip().startswith(("http://", "https://")):
        raise _MalformedArticle(f"url {url!r} is not a web address")
    url = url.strip()
    title = article.get("title")
    title = " ".join(html.unescape(title).split()) if isinstance(title, str) else ""
    domain = article.get("domain")
    language = article.get("language")
    return Post(
        platform=NAME,
        native_id=url,
        text="",
        created_at=_seendate(article.get("seendate"), url),
        url=url,
        author=domain.strip() if isinstance(domain, str) and domain.strip() else None,
        title=title or None,
        language=LANGUAGES.get(language.strip().lower()) if isinstance(language, str) else None,
        raw=dict(article),
    )


def _seendate(value: Any, url: str) -> datetime:
    if isinstance(value, str):
        for pattern in SEENDATE_FORMATS:
            try:
                return datetime.strptime(value.strip(), pattern).replace(tzinfo=UTC)
            except ValueError:
                continue
    raise _MalformedArticle(f"{url}: seendate {value!r} is not YYYYMMDDTHHMMSSZ")
