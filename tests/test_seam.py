"""The source seam: endpoints under base_url, cursor keys, credentials from the environment."""

from __future__ import annotations

import logging
import types
from datetime import UTC, datetime

import httpx
import pytest

from collect import plan as plan_module
from collect.errors import ParseError
from collect.http import make_client
from collect.plan import plan_sources
from collect.runner import collect_monitor
from collect.sources.base import Page, cursor_key, display_url, endpoint
from monitor.config import load_monitor
from monitor.errors import ConfigError
from monitor.options import Option

START = datetime(2024, 11, 20, tzinfo=UTC)


def test_endpoint_keeps_the_platform_path_under_the_base_url() -> None:
    url = "https://hn.algolia.com/api/v1/search_by_date"
    assert endpoint(url, "http://127.0.0.1:8080") == "http://127.0.0.1:8080/api/v1/search_by_date"
    assert endpoint(url, "http://proxy.example/hn/") == "http://proxy.example/hn/api/v1/search_by_date"
    assert endpoint(url, None) == url
    assert endpoint("wss://jetstream2.us-east.bsky.network/subscribe", "ws://127.0.0.1:9") == (
        "ws://127.0.0.1:9/subscribe"
    )


def test_display_url_drops_query_fragment_and_user_info() -> None:
    assert display_url("https://me:pw@api.example/v3/search?key=SECRET&q=sora#x") == "https://api.example/v3/search"


def test_cursor_key_changes_with_the_result_set_not_with_list_order() -> None:
    base = cursor_key({"tags": ["a", "b"], "limit": 40}, ("tags",), START)
    assert base == cursor_key({"tags": ["b", "a"], "limit": 10}, ("tags",), START)
    assert base != cursor_key({"tags": ["a", "c"], "limit": 40}, ("tags",), START)
    assert base != cursor_key({"tags": ["a", "b"], "limit": 40}, ("tags",), START.replace(day=1))


def fake_source(**attributes: object) -> types.ModuleType:
    """A source module that needs a key and answers one page of nothing."""
    module = types.ModuleType("secretive")
    defaults: dict[str, object] = {
        "NAME": "secretive",
        "OPTIONS": {"lists": Option(list, [], "lists")},
        "ENV": {"SECRETIVE_KEY": "API key", "SECRETIVE_TOKEN": "optional token"},
        "REQUIRED_ENV": ("SECRETIVE_KEY",),
        "CURSOR_OPTIONS": ("lists",),
        "translate": lambda query: ["sora"],
        "parse": lambda body: [],
        "fetch": lambda ctx: iter([Page(b"[]", "https://api.example/x?key=" + ctx.env["SECRETIVE_KEY"])]),
    }
    for name, value in {**defaults, **attributes}.items():
        setattr(module, name, value)
    return module


MONITOR = """
    name = "seam"
    query = "sora leak"
    start = 2024-11-20
    [sources.secretive]
"""


@pytest.fixture
def secretive(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = fake_source()
    monkeypatch.setitem(plan_module.SOURCES, "secretive", module)
    return module


def test_credentials_come_from_the_environment_only_when_set(secretive, write_monitor) -> None:
    monitor = load_monitor(write_monitor(MONITOR))
    [plan] = plan_sources(monitor, {"SECRETIVE_KEY": "k-123", "SECRETIVE_TOKEN": "", "HOME": "/root"})
    assert plan.env == {"SECRETIVE_KEY": "k-123"} and plan.missing_env == ()
    assert "k-123" not in repr(plan)
    [plan] = plan_sources(monitor, {})
    assert plan.missing_env == ("SECRETIVE_KEY",)


def test_a_source_without_its_credentials_is_skipped_in_one_line(secretive, write_monitor, engine, caplog) -> None:
    monitor = load_monitor(write_monitor(MONITOR))
    with (
        make_client(transport=httpx.MockTransport(lambda r: httpx.Response(500))) as client,
        caplog.at_level(logging.WARNING),
    ):
        result = collect_monitor(engine, monitor, plan_sources(monitor, {}), client, now=START.replace(day=30))
    assert result.tallies["secretive"].pages == 0
    lines = [r.getMessage() for r in caplog.records if "secretive" in r.getMessage()]
    assert lines == ["secretive: skipped: set SECRETIVE_KEY in the environment (see README)"]


def test_a_base_url_is_checked_like_any_option(secretive, write_monitor) -> None:
    good = load_monitor(write_monitor(MONITOR + '    base_url = "http://127.0.0.1:8080"\n'))
    assert plan_sources(good, {})[0].options["base_url"] == "http://127.0.0.1:8080"
    assert plan_sources(load_monitor(write_monitor(MONITOR)), {})[0].options["base_url"] is None
    bad = load_monitor(write_monitor(MONITOR + '    base_url = "127.0.0.1:8080"\n'))
    with pytest.raises(ConfigError, match=r"sources\.secretive\.base_url.*expected an http"):
        plan_sources(bad, {})


def test_a_secret_in_a_page_url_never_reaches_errors_logs_or_the_store(monkeypatch, write_monitor, engine, caplog):
    def broken(body: bytes) -> list:
        raise ParseError("not the documented format")

    monkeypatch.setitem(plan_module.SOURCES, "secretive", fake_source(parse=broken))
    monitor = load_monitor(write_monitor(MONITOR))
    with (
        make_client(transport=httpx.MockTransport(lambda r: httpx.Response(500))) as client,
        caplog.at_level(logging.DEBUG),
    ):
        result = collect_monitor(
            engine, monitor, plan_sources(monitor, {"SECRETIVE_KEY": "k-123"}), client, now=START.replace(day=30)
        )
    assert result.errors == ["secretive: https://api.example/x: not the documented format"]
    assert "k-123" not in caplog.text
    with engine.connect() as conn:
        dump = "\n".join(
            str(row) for table in ("runs", "cursors") for row in conn.exec_driver_sql(f"SELECT * FROM {table}")
        )
    assert "k-123" not in dump and "not the documented format" in dump


HN_MONITOR = """
    name = "keyed"
    query = "sora leak"
    start = 2024-11-20
    [sources.hackernews]
    window_days = 30
    tags = {tags}
"""


def test_changing_what_a_source_returns_backfills_instead_of_resuming(engine, write_monitor) -> None:
    from tests.fake_hn import FakeAlgolia

    now = START.replace(day=30)
    first = int(START.timestamp())

    def run(tags: str) -> FakeAlgolia:
        monitor = load_monitor(write_monitor(HN_MONITOR.format(tags=tags)))
        api = FakeAlgolia([])
        with make_client(transport=api.transport(), sleep=lambda s: None) as client:
            collect_monitor(engine, monitor, plan_sources(monitor, {}), client, now=now)
        return api

    assert run('["comment"]').filters_asked()[0].startswith(f"created_at_i>{first},")
    resumed = run('["comment"]').filters_asked()[0]  # same options: from the cursor, less an hour
    assert resumed.startswith(f"created_at_i>{int(now.timestamp()) - 3600},")
    assert run('["story", "comment"]').filters_asked()[0].startswith(f"created_at_i>{first},")
