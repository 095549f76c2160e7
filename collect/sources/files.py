"""Posts from files on disk: CSV, JSON Lines, an X/Twitter archive's `tweets.js`, saved X API responses.

For data Murmur cannot fetch itself (a platform export, a researcher's dataset). There is no HTTP
here: `fetch` ignores the client and reads the files matched by the `paths` globs, streaming them
in pages of at most `rows_per_page` records so a file of any size is imported in bounded memory.

Each page's state records, per file, its size, modification time, SHA-256 and the byte offset and
line reached, so an interrupted import resumes where it stopped, and a file already imported is
not read again until it changes. A page body is a small JSON envelope (the format, the column
mapping and the records with their line numbers), so `parse` stays pure: it maps each record to a
post and reports a bad one with its file and line, keeping the rest. The monitor's query and start
still filter the posts, as for every source.
"""

from __future__ import annotations

import codecs
import csv
import glob
import hashlib
import html
import json
import logging
import os
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from collect.errors import ParseError, SourceUnavailable
from collect.sources.base import FetchContext, Option, Page
from monitor.errors import ConfigError
from store.post import Post

if TYPE_CHECKING:
    from monitor.query import Query

logger = logging.getLogger(__name__)

NAME = "files"

FORMATS = ("csv", "jsonl", "x-archive", "x-api")
FIELDS = ("id", "text", "created_at", "author", "url", "language", "title", "likes", "reposts", "replies", "reply_to")
_COUNT_FIELDS = ("likes", "reposts", "replies")

OPTIONS = {
    "paths": Option(list, [], "files to import: globs, relative to the monitor file or absolute"),
    "format": Option(str, "csv", "how the files are written", choices=FORMATS),
    "platform": Option(str, "", "platform name stored on the posts (required for csv and jsonl; 'x' otherwise)"),
    "columns": Option(dict, {}, "csv/jsonl: Murmur field → the file's column (jsonl: a key or dotted path)"),
    "delimiter": Option(str, ",", "csv: the one-character field delimiter"),
    "rows_per_page": Option(
        int, 1000, "records per page; each page is stored and its state saved together", minimum=1, maximum=100_000
    ),
}
ENV: dict[str, str] = {}
REQUIRED_ENV: tuple[str, ...] = ()
CURSOR_OPTIONS = ("paths", "format", "platform", "columns")

ENVELOPE_VERSION = 1
X_STATUS_URL = "https://x.com/{}/status/{}"
X_ANONYMOUS_STATUS_URL = "https://x.com/i/web/status/{}"
V1_TIME_FORMAT = "%a %b %d %H:%M:%S %z %Y"  # "Wed Oct 10 20:19:24 +0000 2018"

# One JSON item bigger than this in an archive or API file is treated as broken, not buffered on.
MAX_ITEM_CHARS = 32 * 1024 * 1024
_CHUNK = 1024 * 1024


# --- options -----------------------------------------------------------------------------------


def check_options(monitor_path: str | Path, options: Mapping[str, Any]) -> dict[str, Any]:
    """The options with relative globs resolved against the monitor file's folder; ConfigError if wrong.

    Called by the planner (collect/plan.py), which knows the monitor file.
    """
    where = str(monitor_path)
    checked = dict(options)
    paths = checked["paths"]
    if not paths or not all(isinstance(p, str) and p.strip() for p in paths):
        raise ConfigError(where, "sources.files.paths", "expected a non-empty list of file globs")
    folder = Path(monitor_path).resolve().parent
    checked["paths"] = [
        p if os.path.isabs(os.path.expanduser(p)) else str(folder / p) for p in (os.path.expanduser(p) for p in paths)
    ]
    fmt = checked["format"]
    columns = checked["columns"]
    if fmt in ("csv", "jsonl"):
        if not checked["platform"]:
            raise ConfigError(where, "sources.files.platform", f"expected a platform name for format {fmt!r}")
        for field, column in columns.items():
            if field not in FIELDS:
                raise ConfigError(
                    where, f"sources.files.columns.{field}", f"unknown field (known fields: {', '.join(FIELDS)})"
                )
            if not isinstance(column, str) or not column:
                raise ConfigError(where, f"sources.files.columns.{field}", "expected a column name (a string)")
        for field in ("text", "created_at"):
            if field not in columns:
                raise ConfigError(where, f"sources.files.columns.{field}", f"expected the column holding {field}")
    elif columns:
        raise ConfigError(where, "sources.files.columns", f"format {fmt!r} has its own fields; remove columns")
    if len(checked["delimiter"]) != 1:
        raise ConfigError(where, "sources.files.delimiter", f"expected one character, got {checked['delimiter']!r}")
    checked["platform"] = checked["platform"] or "x"
    return checked


def translate(query: Query) -> list[str]:
    """One pass over the files whatever the query: the runner filters the posts with it."""
    return ["*"]


# --- fetch -------------------------------------------------------------------------------------


def fetch(ctx: FetchContext) -> Iterator[Page]:
    """Pages of records from every matched file that is new, changed, or not yet read to its end.

    A file that cannot be read costs only itself: the others are imported, then the failures are
    raised together (SourceUnavailable) so the run records them.
    """
    options = ctx.options
    files = _matched(options["paths"])
    if not files:
        logger.warning("files: no file matches %s", ", ".join(options["paths"]))
    entries: dict[str, dict[str, Any]] = {}
    saved = ctx.state.get("files") if isinstance(ctx.state, dict) else None
    if isinstance(saved, dict):
        entries = {str(k): dict(v) for k, v in saved.items() if isinstance(v, dict)}
    failures: list[str] = []
    for path in files:
        try:
            yield from _File(path, options, entries).pages()
        except OSError as exc:
            logger.error("files: %s cannot be read (%s); skipped", path, exc.strerror or exc)
            failures.append(f"{path} cannot be read ({exc.strerror or exc})")
    if failures:
        raise SourceUnavailable("; ".join(failures))


def _matched(patterns: list[str]) -> list[str]:
    found: set[str] = set()
    for pattern in patterns:
        for name in glob.glob(os.path.expanduser(pattern), recursive=True):
            if os.path.isfile(name):
                found.add(os.path.abspath(name))
    return sorted(found)


class _File:
    """One file's import: whether it needs reading, where to start, and its pages."""

    def __init__(self, path: str, options: Mapping[str, Any], entries: dict[str, dict[str, Any]]) -> None:
        self.path = path
        self.options = options
        self.entries = entries
        self.format: str = options["format"]

    def pages(self) -> Iterator[Page]:
        stat = os.stat(self.path)
        entry = self.entries.get(self.path)
        if (
            entry
            and entry.get("done")
            and entry.get("size") == stat.st_size
            and entry.get("mtime_ns") == stat.st_mtime_ns
        ):
            logger.info("files: %s is unchanged since its import", self.path)
            return
        digest = _sha256(self.path)
        fresh = {
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "sha256": digest,
            "offset": 0,
            "line": 1,
            "done": False,
        }
        if entry and entry.get("sha256") == digest:
            if entry.get("done"):
                logger.info("files: %s was touched but not changed; not read again", self.path)
                self.entries[self.path] = {**entry, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
                yield self._page([], self.entries[self.path])
                return
            fresh["offset"], fresh["line"] = int(entry.get("offset", 0)), int(entry.get("line", 1))
            logger.info("files: resuming %s at line %d", self.path, fresh["line"])
        elif entry:
            logger.info("files: %s changed since its import; reading it again", self.path)
        self.entries[self.path] = fresh
        rows: list[list[Any]] = []
        with open(self.path, "rb") as handle:
            for line, record, offset, next_line in _READERS[self.format](handle, fresh, self.options):
                rows.append([line, record])
                fresh["offset"], fresh["line"] = offset, next_line
                if len(rows) >= self.options["rows_per_page"]:
                    yield self._page(rows, fresh)
                    rows = []
        fresh["done"] = True
        yield self._page(rows, fresh)

    def _page(self, rows: list[list[Any]], entry: dict[str, Any]) -> Page:
        self.entries[self.path] = dict(entry)
        envelope: dict[str, Any] = {
            "murmur_files": ENVELOPE_VERSION,
            "format": self.format,
            "platform": self.options["platform"],
            "columns": dict(self.options["columns"]),
            "file": os.path.basename(self.path),
            "rows": rows,
        }
        if self.format == "csv":
            envelope["header"] = _csv_header(self.path, self.options["delimiter"])
        if self.format == "x-archive":
            envelope["account"] = _archive_account(self.path)
        state = {"files": {path: dict(e) for path, e in sorted(self.entries.items())}}
        url = Path(self.path).as_uri() + f"#line={entry['line']}"
        return Page(json.dumps(envelope, ensure_ascii=False).encode("utf-8"), url, state=state)


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# A reader yields (first line of the record, the record, byte offset after it, line after it).
Record = tuple[int, Any, int, int]


def _csv_rows(handle: IO[bytes], start: Mapping[str, Any], options: Mapping[str, Any]) -> Iterator[Record]:
    """CSV records after the header; quoted fields may span lines. Undecodable bytes become U+FFFD."""
    counter = _LineCounter(handle, int(start["offset"]), int(start["line"]))
    reader = csv.reader(counter.lines(), delimiter=options["delimiter"])
    if counter.offset == 0:
        next(reader, None)  # the header, read separately for every page
        counter.record_start = counter.line
    for row in reader:
        first = counter.record_start
        counter.record_start = counter.line
        if row:
            yield first, row, counter.offset, counter.line


class _LineCounter:
    """Feeds a file's lines to csv.reader while counting the bytes and lines it has consumed."""

    def __init__(self, handle: IO[bytes], offset: int, line: int) -> None:
        handle.seek(offset)
        self.handle = handle
        self.offset = offset
        self.line = line
        self.record_start = line

    def lines(self) -> Iterator[str]:
        first = self.offset == 0
        for raw in self.handle:
            self.offset += len(raw)
            self.line += 1
            text = raw.decode("utf-8", errors="replace")
            if first:
                text, first = text.removeprefix("\ufeff"), False
            yield text


def _csv_header(path: str, delimiter: str) -> list[str]:
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        return [name.strip() for name in next(csv.reader(handle, delimiter=delimiter), [])]


def _jsonl_rows(handle: IO[bytes], start: Mapping[str, Any], options: Mapping[str, Any]) -> Iterator[Record]:
    """One record per non-blank line: its text, or None for a line that is not UTF-8 (parse reports it)."""
    offset, line = int(start["offset"]), int(start["line"])
    handle.seek(offset)
    for raw in handle:
        offset += len(raw)
        line += 1
        try:
            text = raw.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            yield line - 1, None, offset, line
            continue
        if text.strip():
            yield line - 1, text, offset, line


def _archive_rows(handle: IO[bytes], start: Mapping[str, Any], options: Mapping[str, Any]) -> Iterator[Record]:
    """The items of `window.YTD.tweets.part0 = [ … ]`, one JSON value at a time."""
    stream = _JsonStream(handle, int(start["offset"]), int(start["line"]))
    if int(start["offset"]) == 0 and not stream.skip_past("["):
        logger.error("files: %s: no 'window.YTD.tweets.part0 = [' array", getattr(handle, "name", "?"))
        return
    yield from stream.values(in_array=True)


def _api_rows(handle: IO[bytes], start: Mapping[str, Any], options: Mapping[str, Any]) -> Iterator[Record]:
    """Tweets of saved X API responses (one document, or one per line), each with its author."""
    stream = _JsonStream(handle, int(start["offset"]), int(start["line"]))
    for line, document, offset, next_line in stream.values(in_array=False):
        tweets = list(_api_tweets(document))
        if not tweets:
            yield line, {"unknown": _describe(document)}, offset, next_line
        # A document's tweets share its end offset: resuming re-reads the document, never skips part.
        for tweet in tweets:
            yield line, tweet, offset, next_line


def _api_tweets(document: Any) -> Iterator[dict[str, Any]]:
    """Each tweet of a v1.1 or v2 response as {"v1": tweet} or {"v2": tweet, "user": its author}."""
    if isinstance(document, list):
        for item in document:
            yield from _api_tweets(item)
    elif isinstance(document, dict):
        if "data" in document:
            data = document["data"]
            users = {}
            includes = document.get("includes")
            if isinstance(includes, dict):
                users = {u.get("id"): u for u in includes.get("users") or [] if isinstance(u, dict)}
            for tweet in data if isinstance(data, list) else [data]:
                author = users.get(tweet.get("author_id")) if isinstance(tweet, dict) else None
                yield {"v2": tweet, "user": author}
        elif isinstance(document.get("statuses"), list):
            for tweet in document["statuses"]:
                yield {"v1": tweet}
        elif "id_str" in document or "full_text" in document or ("text" in document and "user" in document):
            yield {"v1": document}


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "an object with keys " + ", ".join(sorted(map(str, value))[:8])
    return type(value).__name__


class _JsonStream:
    """Successive JSON values from a byte stream (or the items of one array), with byte offsets and lines."""

    def __init__(self, handle: IO[bytes], offset: int, line: int) -> None:
        handle.seek(offset)
        self.handle = handle
        # Bytes that are not UTF-8 become U+FFFD rather than ending the import.
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.json = json.JSONDecoder()
        self.buffer = ""
        self.index = 0
        self.offset = offset  # of buffer[0]
        self.line = line  # of buffer[0]
        self.eof = False
        if offset == 0:
            head = handle.read(3)
            if head == b"\xef\xbb\xbf":
                self.offset = 3
            else:
                handle.seek(0)

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.handle.read(_CHUNK)
        self.eof = not chunk
        self.buffer += self.decoder.decode(chunk, final=self.eof)
        return bool(chunk)

    def _compact(self) -> None:
        """Drop what has been read from the buffer, moving the offset and line past it."""
        consumed = self.buffer[: self.index]
        self.offset += len(consumed.encode("utf-8"))
        self.line += consumed.count("\n")
        self.buffer = self.buffer[self.index :]
        self.index = 0

    def _skip_space(self, extra: str = "") -> str | None:
        """The next character that is not whitespace (or in `extra`), or None at the end."""
        while True:
            while self.index < len(self.buffer) and (
                self.buffer[self.index].isspace() or self.buffer[self.index] in extra
            ):
                self.index += 1
            if self.index < len(self.buffer):
                return self.buffer[self.index]
            if not self._fill():
                return None

    def skip_past(self, mark: str) -> bool:
        while True:
            found = self.buffer.find(mark, self.index)
            if found >= 0:
                self.index = found + 1
                self._compact()
                return True
            self.index = len(self.buffer)
            self._compact()
            if not self._fill():
                return False

    def values(self, *, in_array: bool) -> Iterator[Record]:
        while True:
            self._compact()
            upcoming = self._skip_space("," if in_array else "")
            if upcoming is None or (in_array and upcoming == "]"):
                return
            self._compact()
            start_line = self.line
            while True:
                try:
                    value, end = self.json.raw_decode(self.buffer, self.index)
                    break
                except json.JSONDecodeError as exc:
                    if len(self.buffer) > MAX_ITEM_CHARS or not self._fill():
                        line = start_line + self.buffer.count("\n", 0, exc.pos)
                        logger.error(
                            "files: %s: line %d: %s; the rest of the file is not readable",
                            getattr(self.handle, "name", "?"),
                            line,
                            exc.msg,
                        )
                        return
            self.index = end
            self._compact()
            yield start_line, value, self.offset, self.line


def _archive_account(path: str) -> str | None:
    """The archive owner's username, from `account.js` beside `tweets.js` (tweets do not name it)."""
    account = Path(path).with_name("account.js")
    try:
        text = account.read_text(encoding="utf-8-sig")
        items = json.loads(text[text.index("[") :])
        name = items[0]["account"]["username"]
    except (OSError, ValueError, LookupError, TypeError):
        return None
    return name if isinstance(name, str) and name else None


_READERS = {"csv": _csv_rows, "jsonl": _jsonl_rows, "x-archive": _archive_rows, "x-api": _api_rows}


# --- parse -------------------------------------------------------------------------------------


class _BadRecord(ValueError):
    """One record cannot become a post; it is reported with its line and skipped."""


def parse(body: bytes | str) -> list[Post]:
    """The posts of one page of records; each bad record is logged with its file and line, and skipped."""
    try:
        envelope = json.loads(body)
    except ValueError as exc:
        raise ParseError(f"not a files page ({exc})") from exc
    if not isinstance(envelope, dict) or envelope.get("murmur_files") != ENVELOPE_VERSION:
        raise ParseError("not a files page (no murmur_files envelope)")
    fmt, rows = envelope.get("format"), envelope.get("rows")
    if fmt not in FORMATS or not isinstance(rows, list):
        raise ParseError(f"files page with format {fmt!r} and no rows list")
    mapper = _Mapper(envelope)
    posts = []
    for row in rows:
        line, record = (row[0], row[1]) if isinstance(row, list) and len(row) == 2 else ("?", None)
        try:
            post = mapper.post(record)
        except (ValueError, TypeError, LookupError) as exc:  # _BadRecord, or a shape no check foresaw
            logger.warning("files: %s line %s: %s; row skipped", envelope.get("file"), line, exc)
            continue
        posts.append(post)
    return posts


class _Mapper:
    """Turns one page's records into posts, by the page's format and column mapping."""

    def __init__(self, envelope: dict[str, Any]) -> None:
        self.format: str = envelope["format"]
        self.platform = str(envelope.get("platform") or "x")
        self.columns: dict[str, str] = envelope.get("columns") or {}
        self.header: list[str] = envelope.get("header") or []
        self.account: str | None = envelope.get("account")

    def post(self, record: Any) -> Post:
        if self.format == "csv":
            return self._mapped(self._csv_record(record))
        if self.format == "jsonl":
            return self._mapped(self._json_record(record))
        if self.format == "x-archive":
            if not isinstance(record, dict) or not isinstance(record.get("tweet"), dict):
                raise _BadRecord('expected an item {"tweet": {…}}')
            return self._v1(record["tweet"], author=self.account)
        if not isinstance(record, dict) or "unknown" in record:
            raise _BadRecord(
                f"not an X API tweet or response: {record.get('unknown') if isinstance(record, dict) else record!r}"
            )
        if "v2" in record:
            return self._v2(record["v2"], record.get("user"))
        tweet = record.get("v1")
        user = tweet.get("user") if isinstance(tweet, dict) else None
        name = user.get("screen_name") if isinstance(user, dict) else None
        return self._v1(tweet, author=name if isinstance(name, str) and name else None)

    # csv / jsonl ---------------------------------------------------------------------------

    def _csv_record(self, values: Any) -> dict[str, Any]:
        if not isinstance(values, list):
            raise _BadRecord("not a CSV row")
        if len(values) != len(self.header):
            raise _BadRecord(f"{len(values)} fields where the header has {len(self.header)}")
        return dict(zip(self.header, values, strict=True))

    def _json_record(self, text: Any) -> dict[str, Any]:
        if not isinstance(text, str):
            raise _BadRecord("the line is not UTF-8")
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise _BadRecord(f"not JSON ({exc})") from None
        if not isinstance(value, dict):
            raise _BadRecord(f"expected a JSON object, got {type(value).__name__}")
        return value

    def _mapped(self, record: dict[str, Any]) -> Post:
        values = {field: _lookup(record, column) for field, column in self.columns.items()}
        text = _string(values.get("text")) or ""
        title = _string(values.get("title"))
        if not text and not title:
            raise _BadRecord(f"no text in column {self.columns['text']!r}")
        created_at = _moment(values.get("created_at"))
        native_id = _string(values.get("id"))
        if "id" in self.columns and not native_id:
            raise _BadRecord(f"no id in column {self.columns['id']!r}")
        if native_id is None:  # no id column: the content names the row, so a re-import is no duplicate
            seed = json.dumps([text, title, created_at.isoformat(), _string(values.get("author"))])
            native_id = hashlib.sha256(seed.encode("utf-8")).hexdigest()[:24]
        author_column = self.columns.get("author")
        raw = {k: v for k, v in record.items() if k != (author_column or "").split(".")[0] and k != author_column}
        return Post(
            platform=self.platform,
            native_id=native_id,
            text=text,
            created_at=created_at,
            url=_string(values.get("url")),
            author=_string(values.get("author")),
            title=title,
            language=_string(values.get("language")),
            reply_to=_string(values.get("reply_to")),
            likes=_number(values.get("likes")),
            reposts=_number(values.get("reposts")),
            replies=_number(values.get("replies")),
            raw=raw,
        )

    # X ------------------------------------------------------------------------------------

    def _v1(self, tweet: Any, *, author: str | None) -> Post:
        """A v1.1 tweet (API or archive): id_str, full_text or text, created_at in Twitter's format."""
        if not isinstance(tweet, dict):
            raise _BadRecord("a tweet that is not an object")
        native_id = _tweet_id(tweet.get("id_str"), tweet.get("id"))
        extended = tweet.get("extended_tweet")
        text = (
            (extended.get("full_text") if isinstance(extended, dict) else None)
            or tweet.get("full_text")
            or tweet.get("text")
        )
        if not isinstance(text, str):
            raise _BadRecord(f"tweet {native_id}: no text")
        try:
            created_at = datetime.strptime(str(tweet.get("created_at")), V1_TIME_FORMAT).astimezone(UTC)
        except ValueError:
            raise _BadRecord(
                f"tweet {native_id}: created_at {tweet.get('created_at')!r} is not "
                "like 'Wed Oct 10 20:19:24 +0000 2018'"
            ) from None
        raw = {k: v for k, v in tweet.items() if k != "user"}
        return Post(
            platform=self.platform,
            native_id=native_id,
            text=html.unescape(text),
            created_at=created_at,
            url=X_STATUS_URL.format(author, native_id) if author else X_ANONYMOUS_STATUS_URL.format(native_id),
            author=author,
            language=_language(tweet.get("lang")),
            reply_to=_optional_id(tweet.get("in_reply_to_status_id_str")),
            quote_of=_optional_id(tweet.get("quoted_status_id_str")),
            likes=_number(tweet.get("favorite_count")),
            reposts=_number(tweet.get("retweet_count")),
            replies=_number(tweet.get("reply_count")),
            raw=raw,
        )

    def _v2(self, tweet: Any, user: Any) -> Post:
        """A v2 tweet: string id, ISO created_at, public_metrics, the author from includes.users."""
        if not isinstance(tweet, dict):
            raise _BadRecord("a tweet that is not an object")
        native_id = _tweet_id(tweet.get("id"), None)
        note = tweet.get("note_tweet")
        text = (note.get("text") if isinstance(note, dict) else None) or tweet.get("text")
        if not isinstance(text, str):
            raise _BadRecord(f"tweet {native_id}: no text")
        created_at = _moment(tweet.get("created_at"))
        username = user.get("username") if isinstance(user, dict) else None
        author = username if isinstance(username, str) and username else _optional_id(tweet.get("author_id"))
        references = {
            ref.get("type"): _optional_id(ref.get("id"))
            for ref in tweet.get("referenced_tweets") or []
            if isinstance(ref, dict)
        }
        metrics = tweet.get("public_metrics")
        if not isinstance(metrics, dict):
            metrics = {}
        return Post(
            platform=self.platform,
            native_id=native_id,
            text=html.unescape(text),
            created_at=created_at,
            url=X_STATUS_URL.format(username, native_id)
            if isinstance(username, str) and username
            else X_ANONYMOUS_STATUS_URL.format(native_id),
            author=author,
            language=_language(tweet.get("lang")),
            reply_to=references.get("replied_to"),
            quote_of=references.get("quoted"),
            thread_id=_optional_id(tweet.get("conversation_id")),
            likes=_number(metrics.get("like_count")),
            reposts=_number(metrics.get("retweet_count")),
            replies=_number(metrics.get("reply_count")),
            raw={k: v for k, v in tweet.items() if k != "author_id"},
        )


def _lookup(record: dict[str, Any], column: str) -> Any:
    """A column's value: the key itself, else a dotted path into nested objects (jsonl)."""
    if column in record:
        return record[column]
    value: Any = record
    for part in column.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _string(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = str(value).strip()
    return text or None


def _moment(value: Any) -> datetime:
    """ISO 8601 (a time without a zone is UTC) or epoch seconds, as a number or digits."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _epoch(value)
    text = _string(value)
    if text is None:
        raise _BadRecord("no created_at")
    try:
        return _epoch(float(text))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _BadRecord(f"created_at {text!r} is neither ISO 8601 nor epoch seconds") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _epoch(seconds: float) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise _BadRecord(f"created_at {seconds!r} is out of range for epoch seconds") from None


def _number(value: Any) -> int | None:
    """A count from a number or a string of digits ("12", "12.0"); None where absent or unreadable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(str(value).strip().replace(",", ""))
    except ValueError:
        return None
    return int(number) if number.is_integer() and number >= 0 else None


def _tweet_id(value: Any, fallback: Any) -> str:
    """A tweet's id as the string X gives; a bare JSON number only when no string is given."""
    if isinstance(value, str) and value.strip().isdigit():
        return value.strip()
    if isinstance(fallback, str) and fallback.strip().isdigit():
        return fallback.strip()
    if isinstance(fallback, int) and not isinstance(fallback, bool) and fallback > 0:
        return str(fallback)
    raise _BadRecord(f"id {value!r} is not a tweet id")


def _optional_id(value: Any) -> str | None:
    if isinstance(value, str) and value.strip().isdigit():
        return value.strip()
    return None


def _language(value: Any) -> str | None:
    """X's BCP-47 `lang`; "und" and X's private codes (qme, qht, …) are no language."""
    if not isinstance(value, str) or not value or value == "und" or (value.startswith("q") and len(value) == 3):
        return None
    return value
