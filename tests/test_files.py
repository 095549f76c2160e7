"""The files source: CSV, JSON Lines, X archives and saved X API responses; bad rows, resuming,
skipping unchanged files, option checks, and a 100 MB CSV imported in bounded memory.
"""

from __future__ import annotations

import logging
import os
import shutil
import tracemalloc
from collections.abc import Generator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from collect.errors import ParseError, SourceUnavailable
from collect.sources import SOURCES, files
from collect.sources.base import FetchContext, Page
from collect.sources.files import check_options, fetch, parse
from monitor.errors import ConfigError

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "files"
CSV_COLUMNS = {
    "id": "post_id",
    "text": "body",
    "created_at": "posted",
    "author": "user",
    "url": "link",
    "language": "lang",
    "likes": "likes",
}
JSONL_COLUMNS = {
    "id": "id",
    "text": "content.text",
    "created_at": "ts",
    "author": "user.name",
    "likes": "metrics.likes",
}


def no_network(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"the files source made a request to {request.url}")


def options(paths: list[str], fmt: str, **extra: Any) -> dict[str, Any]:
    settings = {
        "paths": paths,
        "format": fmt,
        "platform": extra.pop("platform", "forum"),
        "columns": {},
        "delimiter": ",",
        "rows_per_page": 1000,
        "base_url": None,
        **extra,
    }
    return settings


def pages(settings: dict[str, Any], state: dict[str, Any] | None = None) -> Generator[Page, None, None]:
    with httpx.Client(transport=httpx.MockTransport(no_network)) as client:
        yield from fetch(
            FetchContext(
                client=client,
                search="*",
                options=settings,
                since=datetime(2024, 1, 1, tzinfo=UTC),
                until=datetime(2025, 1, 1, tzinfo=UTC),
                state=state,
                env={},
            )
        )


def posts_of(page_list: list[Page]) -> list[Any]:
    return [post for page in page_list for post in parse(page.body)]


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


# --- formats -----------------------------------------------------------------------------------


def test_csv_rows_map_through_the_columns_and_bad_rows_cost_only_themselves(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = options([str(FIXTURES / "posts.csv")], "csv", columns=CSV_COLUMNS)
    with caplog.at_level(logging.WARNING, logger="collect.sources.files"):
        got = posts_of(list(pages(settings)))
    assert [p.native_id for p in got] == ["1001", "1002", "1003", "1007"]
    first, quoted, arabic, last = got
    assert (first.platform, first.author, first.url, first.language, first.likes) == (
        "forum",
        "plume_rouge",
        "https://example.org/p/1001",
        "fr",
        12,
    )
    assert first.created_at == datetime(2024, 11, 26, 14, 2, 11, tzinfo=UTC)
    assert quoted.text == 'A quoted "leak" thread\r\nspanning two lines' or quoted.text == (
        'A quoted "leak" thread\nspanning two lines'
    )
    assert quoted.created_at == datetime.fromtimestamp(1732630931, UTC) and quoted.author is None
    assert quoted.likes is None
    assert arabic.created_at == datetime(2024, 11, 26, 16, 30, tzinfo=UTC) and arabic.likes == 1204
    assert last.created_at == datetime(2024, 11, 27, 9, 0, 0, 250000, tzinfo=UTC)
    assert "user" not in first.raw and first.raw["post_id"] == "1001"
    assert warnings(caplog) == [
        "files: posts.csv line 6: created_at 'yesterday' is neither ISO 8601 nor epoch seconds; row skipped",
        "files: posts.csv line 7: 8 fields where the header has 7; row skipped",
        "files: posts.csv line 8: no text in column 'body'; row skipped",
    ]


def test_jsonl_with_dotted_columns(caplog: pytest.LogCaptureFixture) -> None:
    settings = options([str(FIXTURES / "posts.jsonl")], "jsonl", columns=JSONL_COLUMNS)
    with caplog.at_level(logging.WARNING, logger="collect.sources.files"):
        got = posts_of(list(pages(settings)))
    assert [p.native_id for p in got] == ["a-1", "a-2", "a-6"]
    assert (got[0].author, got[0].likes, got[0].text) == ("reel_a", 4, "Sora leak: the frontend was up for three hours")
    assert got[2].created_at == datetime(2024, 11, 27, 8, tzinfo=UTC)  # no zone: UTC
    assert "user" not in got[0].raw and got[0].raw["metrics"] == {"likes": 4}
    found = warnings(caplog)
    assert len(found) == 4
    assert found[0].startswith("files: posts.jsonl line 4: not JSON")
    assert found[1] == "files: posts.jsonl line 5: expected a JSON object, got list; row skipped"
    assert found[2] == "files: posts.jsonl line 6: no created_at; row skipped"
    assert found[3] == "files: posts.jsonl line 8: the line is not UTF-8; row skipped"


def test_x_archive_tweets_js(caplog: pytest.LogCaptureFixture) -> None:
    settings = options([str(FIXTURES / "archive" / "tweets.js")], "x-archive", platform="x")
    with caplog.at_level(logging.WARNING, logger="collect.sources.files"):
        got = posts_of(list(pages(settings)))
    assert [p.native_id for p in got] == ["1861459238720012345", "1861460000000000002", "1861470000000000004"]
    first, reply, emoji = got
    assert first.text == '#Sora leaked by artists & testers: "unpaid R&D" <- their words'
    assert (first.likes, first.reposts, first.language, first.author) == (31, 7, "en", "murmur_demo")
    assert first.url == "https://x.com/murmur_demo/status/1861459238720012345"
    assert first.created_at == datetime(2024, 11, 26, 16, 4, 11, tzinfo=UTC)
    assert reply.reply_to == "1861400000000000001" and reply.language == "es"
    assert emoji.language is None  # qme: X's code for media-only posts
    (warning,) = warnings(caplog)
    assert warning.startswith("files: tweets.js line 49: tweet 1861460000000000003: created_at '26/11/2024'")


def test_x_api_v1_search_response() -> None:
    settings = options([str(FIXTURES / "x_api_v1_search.json")], "x-api", platform="x")
    first, numeric = posts_of(list(pages(settings)))
    assert first.text == "Artists leaked Sora access to protest what they call unpaid R&D for OpenAI."
    assert (first.author, first.quote_of, first.likes, first.reposts, first.replies) == (
        "reelcritic",
        "1861600000000000009",
        40,
        5,
        3,
    )
    assert "user" not in first.raw
    assert numeric.native_id == "1861700000000000002"  # no id_str: the JSON number, read exactly


def test_x_api_v2_responses_one_per_line(caplog: pytest.LogCaptureFixture) -> None:
    settings = options([str(FIXTURES / "x_api_v2.jsonl")], "x-api", platform="x")
    with caplog.at_level(logging.WARNING, logger="collect.sources.files"):
        got = posts_of(list(pages(settings)))
    assert [p.native_id for p in got] == ["1861800000000000001", "1861800000000000002", "1861800000000000004"]
    head, long_post, quote = got
    assert (head.author, head.url, head.likes, head.reposts, head.replies, head.thread_id) == (
        "xdevdemo",
        "https://x.com/xdevdemo/status/1861800000000000001",
        96,
        12,
        4,
        "1861800000000000001",
    )
    assert long_post.text.startswith("The long version") and long_post.text.endswith("& the artists.")
    assert long_post.reply_to == "1861800000000000001"
    assert (quote.author, quote.quote_of, quote.url) == (
        "777",
        "1861800000000000001",
        "https://x.com/i/web/status/1861800000000000004",
    )
    assert "author_id" not in head.raw
    found = warnings(caplog)
    assert len(found) == 2
    assert "line 2: id 1861800000000000003 is not a tweet id" in found[0]
    assert "line 3: not an X API tweet or response" in found[1]


# --- state: resuming, unchanged and changed files -----------------------------------------------


def test_pages_are_bounded_and_an_interrupted_import_resumes(tmp_path: Path) -> None:
    source = tmp_path / "posts.csv"
    shutil.copy(FIXTURES / "posts.csv", source)
    settings = options([str(source)], "csv", columns=CSV_COLUMNS, rows_per_page=2)
    walk = pages(settings)
    first = next(walk)
    walk.close()  # the run dies after storing its first page
    assert first.state is not None
    entry = first.state["files"][str(source)]
    assert entry["done"] is False and entry["line"] == 5  # the quoted row took lines 3 and 4
    rest = list(pages(settings, first.state))
    assert [len(parse(page.body)) for page in [first, *rest]] == [2, 1, 0, 1]
    ids = [p.native_id for p in posts_of([first, *rest])]
    assert ids == ["1001", "1002", "1003", "1007"]
    assert rest[-1].state is not None
    assert rest[-1].state["files"][str(source)]["done"] is True


def test_an_imported_file_is_not_read_again_until_it_changes(tmp_path: Path) -> None:
    source = tmp_path / "posts.jsonl"
    shutil.copy(FIXTURES / "posts.jsonl", source)
    settings = options([str(tmp_path / "*.jsonl")], "jsonl", columns=JSONL_COLUMNS)
    (done,) = list(pages(settings))
    assert list(pages(settings, done.state)) == []

    os.utime(source, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))  # touched, same content
    (touched,) = list(pages(settings, done.state))
    assert touched.state is not None
    assert parse(touched.body) == [] and touched.state["files"][str(source)]["mtime_ns"] == 1_700_000_000_000_000_000
    assert list(pages(settings, touched.state)) == []

    with source.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "a-7", "content": {"text": "appended"}, "ts": 1732700000}\n')
    (changed,) = list(pages(settings, touched.state))
    assert [p.native_id for p in parse(changed.body)][-1] == "a-7"


def test_an_x_archive_resumes_between_items(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "archive", tmp_path / "archive")
    settings = options([str(tmp_path / "archive" / "tweets.js")], "x-archive", platform="x", rows_per_page=1)
    first = next(pages(settings))
    rest = list(pages(settings, first.state))
    ids = [p.native_id for p in posts_of([first, *rest])]
    assert ids == ["1861459238720012345", "1861460000000000002", "1861470000000000004"]


def test_no_matching_file_is_a_warning_not_an_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="collect.sources.files"):
        assert list(pages(options([str(tmp_path / "*.csv")], "csv", columns=CSV_COLUMNS))) == []
    assert "no file matches" in caplog.text


@pytest.mark.parametrize("body", [b"", b"[]", b'{"rows": []}', b'{"murmur_files": 1, "format": "xml", "rows": []}'])
def test_parse_rejects_what_is_not_a_files_page(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse(body)


# --- options -----------------------------------------------------------------------------------


def test_check_options_resolves_globs_against_the_monitor_file(tmp_path: Path) -> None:
    checked = check_options(tmp_path / "sora.toml", options(["data/*.csv", "/abs/x.csv"], "csv", columns=CSV_COLUMNS))
    assert checked["paths"] == [str(tmp_path.resolve() / "data" / "*.csv"), "/abs/x.csv"]
    archive = check_options(tmp_path / "m.toml", options(["t.js"], "x-archive", platform=""))
    assert archive["platform"] == "x"
    assert SOURCES["files"] is files and files.CURSOR_OPTIONS == ("paths", "format", "platform", "columns")


@pytest.mark.parametrize(
    ("settings", "key", "message"),
    [
        (options([], "csv", columns=CSV_COLUMNS), "sources.files.paths", "non-empty list"),
        (options(["a.csv"], "csv", columns=CSV_COLUMNS, platform=""), "sources.files.platform", "platform name"),
        (
            options(["a.csv"], "csv", columns={**CSV_COLUMNS, "shares": "s"}),
            "sources.files.columns.shares",
            "unknown field",
        ),
        (options(["a.csv"], "csv", columns={"text": "body"}), "sources.files.columns.created_at", "created_at"),
        (options(["a.csv"], "jsonl", columns={**JSONL_COLUMNS, "url": 3}), "sources.files.columns.url", "column name"),
        (options(["a.js"], "x-archive", columns={"text": "t"}), "sources.files.columns", "remove columns"),
        (options(["a.csv"], "csv", columns=CSV_COLUMNS, delimiter=";;"), "sources.files.delimiter", "one character"),
    ],
)
def test_check_options_names_the_key(settings: dict[str, Any], key: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        check_options("/m/sora.toml", settings)
    assert key in str(raised.value) and message in str(raised.value) and "/m/sora.toml" in str(raised.value)


# --- a large file ------------------------------------------------------------------------------


def test_a_100_mb_csv_streams_in_bounded_memory(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    filler = "Sora leak discussion " * 180  # ~3.8 kB a row: few rows, so the test stays quick
    rows = 0
    with big.open("w", encoding="utf-8", newline="") as handle:
        handle.write("id,text,time\n")
        while handle.tell() < 100 * 1024 * 1024:
            handle.write(f'{rows},"{filler}{rows}",{1732600000 + rows}\n')
            rows += 1
    settings = options(
        [str(big)], "csv", columns={"id": "id", "text": "text", "created_at": "time"}, rows_per_page=1000
    )
    tracemalloc.start()
    try:
        count = 0
        last: Page | None = None
        for page in pages(settings):
            count += len(parse(page.body))
            last = page
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == rows and rows > 25_000
    assert last is not None and last.state is not None
    assert last.state["files"][str(big)]["offset"] == big.stat().st_size
    assert peak < 40 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB while importing a 100 MB file"


def test_the_planner_checks_a_monitor_files_table(write_monitor: Any) -> None:
    from collect.plan import plan_sources
    from monitor.config import load_monitor

    path = write_monitor("""
        name = "sora-files"
        query = 'sora AND leak'
        start = 2024-11-20
        [sources.files]
        paths = ["exports/*.csv"]
        platform = "forum"
        [sources.files.columns]
        text = "body"
        created_at = "posted"
    """)
    (plan,) = plan_sources(load_monitor(path))
    assert plan.options["paths"] == [str(path.parent.resolve() / "exports" / "*.csv")]
    assert plan.searches == ("*",)
    broken = write_monitor(path.read_text().replace('text = "body"', 'text = "body"\nshares = "s"'), "b.toml")
    with pytest.raises(ConfigError, match=r"sources\.files\.columns\.shares"):
        plan_sources(load_monitor(broken))


def test_json_items_split_across_reads_and_multibyte_characters(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(files, "_CHUNK", 7)  # every item, and the emoji and Arabic, cut across reads
    shutil.copytree(FIXTURES / "archive", tmp_path / "archive")
    settings = options([str(tmp_path / "archive" / "tweets.js")], "x-archive", platform="x", rows_per_page=1)
    first, second = list(pages(settings))[:2]
    resumed = list(pages(settings, second.state))  # resuming from a byte offset after multibyte text
    got = posts_of([first, second, *resumed])
    assert [p.native_id for p in got] == ["1861459238720012345", "1861460000000000002", "1861470000000000004"]
    assert got[-1].text == "🎥 سورا"


def test_an_unreadable_file_costs_only_itself(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "posts.jsonl", tmp_path / "a.jsonl")
    (tmp_path / "b.jsonl").mkdir()  # matched by name, but not a file: ignored
    locked = tmp_path / "c.jsonl"
    shutil.copy(FIXTURES / "posts.jsonl", locked)
    real_open = open

    def failing_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file) == str(locked):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    settings = options([str(tmp_path / "*.jsonl")], "jsonl", columns=JSONL_COLUMNS)
    got: list[Page] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("builtins.open", failing_open)
        with pytest.raises(SourceUnavailable, match=r"c\.jsonl cannot be read \(Permission denied\)"):
            got.extend(pages(settings))
    assert len(got) == 1 and [p.native_id for p in parse(got[0].body)] == ["a-1", "a-2", "a-6"]
