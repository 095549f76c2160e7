"""The `murmur` command: dispatch, help, export, status and the dashboard's port check."""

from __future__ import annotations

import csv
import io
import json
import socket
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from murmur import dashboard_command, export, status
from murmur.cli import COMMANDS
from tests.conftest import ROOT, SORA_MONITOR
from tests.seed import POSTS, seed_store


def murmur(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "murmur", *args], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=120)


def test_help_lists_every_command() -> None:
    done = murmur("--help")
    assert done.returncode == 0
    for name in COMMANDS:
        assert f"  {name} " in done.stdout


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_has_help_naming_itself(name: str) -> None:
    done = murmur(name, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: murmur {name}")


def test_unknown_command_is_one_line_and_exit_2() -> None:
    done = murmur("colect")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "murmur: unknown command 'colect'; expected one of: " + ", ".join(COMMANDS)]


def test_bad_monitor_file_is_one_line_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nquery = "a"\nstart = 2024-01-01\nsurprise = 1\n')
    done = murmur("export", "--monitor", str(bad), "--format", "csv", "--db", f"sqlite:///{tmp_path / 'm.db'}")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and "surprise" in done.stderr


def _export(engine, capsysbinary, *options: str) -> bytes:  # noqa: ANN001
    code = export.main(["--monitor", str(SORA_MONITOR), "--db", str(engine.url), *options])
    assert code == 0
    return capsysbinary.readouterr().out


def test_export_jsonl_has_every_post_with_its_analysis(engine, capsysbinary) -> None:  # noqa: ANN001
    seed_store(engine)
    rows = [json.loads(line) for line in _export(engine, capsysbinary, "--format", "jsonl").decode().splitlines()]
    assert len(rows) == len(POSTS)
    first = rows[0]
    assert first["platform"] == "hackernews" and first["native_id"] == "1000"
    assert first["created_at"] == "2024-11-26T08:00:00Z"
    assert (first["language"], first["sentiment"], first["topic_id"]) == ("en", "negative", 0)
    assert first["topic_label"] == "unpaid, artists, labour"
    assert "author" not in first and len(first["author_hash"]) == 32
    assert all("author_handle" not in row for row in rows)


def test_export_filters_by_day_language_and_source(engine, capsysbinary) -> None:  # noqa: ANN001
    seed_store(engine)
    out = _export(engine, capsysbinary, "--format", "csv", "--since", "2024-11-26", "--until", "2024-11-26")
    days = [row["created_at"][:10] for row in csv.DictReader(io.StringIO(out.decode()))]
    expected = sum(1 for *_rest, day in POSTS if day == 2)
    assert days == ["2024-11-26"] * expected
    arabic = _export(engine, capsysbinary, "--format", "jsonl", "--language", "ar")
    assert [json.loads(line)["language"] for line in arabic.decode().splitlines()] == ["ar"]
    assert _export(engine, capsysbinary, "--format", "jsonl", "--source", "mastodon") == b""


def test_export_parquet_to_a_file(engine, tmp_path, capsysbinary) -> None:  # noqa: ANN001
    seed_store(engine)
    target = tmp_path / "out" / "posts.parquet"
    _export(engine, capsysbinary, "--format", "parquet", "--output", str(target))
    table = pq.read_table(target)
    assert table.num_rows == len(POSTS)
    assert str(table.schema.field("likes").type) == "int64"
    assert sorted(set(table.column("language").to_pylist())) == ["ar", "de", "en", "fr"]


def test_export_of_an_empty_store_is_a_header_only(engine, capsysbinary) -> None:  # noqa: ANN001
    out = _export(engine, capsysbinary, "--format", "csv")
    assert out.decode().splitlines()[0].startswith("platform,native_id,url,created_at")
    assert len(out.decode().splitlines()) == 1


def test_status_shows_runs_and_source_health(engine, capsys) -> None:  # noqa: ANN001
    seed_store(engine)
    assert status.main(["--db", str(engine.url)]) == 0
    text = capsys.readouterr().out
    assert "sora-leak · live · ok" in text
    assert "hackernews  ok" in text
    assert f"sora-leak: posts stored: hackernews {len(POSTS)}" in text and "  hackernews: ok (run" in text
    assert status.main(["--db", str(engine.url), "--json"]) == 0
    health, run = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert health["kind"] == "health" and health["posts"] == {"hackernews": len(POSTS)}
    assert health["sources"][0]["source"] == "hackernews" and health["sources"][0]["status"] == "ok"
    assert run["kind"] == "run" and run["status"] == "ok" and run["sources"][0]["health"] == "ok"


def test_status_on_an_empty_store_says_collect_first(engine, capsys) -> None:  # noqa: ANN001
    assert status.main(["--db", str(engine.url)]) == 0
    assert "murmur collect --monitor" in capsys.readouterr().out


def test_busy_port_is_one_line_naming_it_and_another(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = murmur("dashboard", "--address", "127.0.0.1", "--port", str(port),
                      "--db", f"sqlite:///{tmp_path / 'm.db'}")
    assert done.returncode == 2
    assert done.stderr.strip() == (f"murmur dashboard: error: port {port} is busy (another dashboard?); pick another "
                                   f"with `murmur dashboard --port {port + 1}` (or `make run PORT={port + 1}`)")
    assert "http://" not in done.stderr  # nothing announced that will not answer


def test_dashboard_settings_come_from_the_one_config_file() -> None:
    flags = dashboard_command.streamlit_flags(dashboard_command.SETTINGS)
    assert flags["--server.fileWatcherType"] == "none"
    assert flags["--client.toolbarMode"] == "minimal"
    assert flags["--browser.gatherUsageStats"] == "false"
    assert (ROOT / ".streamlit" / "config.toml").resolve() == dashboard_command.SETTINGS.resolve()
