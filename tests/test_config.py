"""Monitor files: the default loads; every mistake is one message naming file and key, exit 2."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone

import pytest

from collect.plan import plan_sources
from monitor.config import load_monitor
from monitor.errors import ConfigError
from tests.conftest import ROOT, SORA_MONITOR

GOOD = """
    name = "test-monitor"
    query = '"Sora" AND leak'
    start = 2024-11-12
    [sources.hackernews]
    hits_per_page = 50
"""


def test_the_default_monitor_loads_with_its_sources_and_demo():
    monitor = load_monitor(SORA_MONITOR)
    assert monitor.name == "sora-leak"
    assert monitor.start == datetime(2024, 11, 12, tzinfo=timezone.utc)
    assert monitor.query.matches("Le leak de Sora par les PR-Puppets")
    assert not monitor.query.matches("Water leak at the Sora Bay hotel")
    assert monitor.demo_corpus is not None and monitor.demo_corpus.is_dir()
    plans = plan_sources(monitor, {})
    assert [p.name for p in plans] == ["hackernews", "mastodon", "bluesky"]  # jetstream is disabled
    assert plans[0].options["hits_per_page"] == 200
    assert len(plans[0].searches) == 8
    assert plans[1].options["tags"][0] == "Sora" and plans[1].searches == ("#Sora #leak #تسريب #PRPuppets #سورا",)
    assert plans[2].missing_env == ("MURMUR_BLUESKY_HANDLE", "MURMUR_BLUESKY_APP_PASSWORD")


def test_defaults_fill_what_a_minimal_monitor_leaves_out(write_monitor):
    monitor = load_monitor(write_monitor(GOOD))
    assert monitor.title == "test-monitor"
    assert monitor.keep_handles is False
    assert monitor.analysis.embeddings == "use-multilingual" and monitor.analysis.sentiment == "multilingual"
    assert plan_sources(monitor)[0].options == {
        "tags": ["story", "comment"],
        "hits_per_page": 50,
        "window_days": 7.0,
        "max_pages": 50,
        "base_url": None,
    }


@pytest.mark.parametrize(
    ("toml", "key", "message"),
    [
        ("colour = 'blue'\n" + GOOD, "colour", "unknown key"),
        (GOOD.replace('name = "test-monitor"', ""), "name", "missing"),
        (GOOD.replace("start = 2024-11-12", "start = '12 Nov'"), "start", "expected a TOML date"),
        (GOOD.replace("'\"Sora\" AND leak'", "'(\"Sora\" AND leak'"), "query", "at character 1"),
        (GOOD.replace("'\"Sora\" AND leak'", "'\"Sora\" AND'"), "query", "character"),
        (GOOD + "[privacy]\nkeep_handles = 'yes'\n", "privacy.keep_handles", "expected true or false"),
        (GOOD + "[analysis]\nmin_topic_size = -3\n", "analysis.min_topic_size", "at least 0"),
        (GOOD + "[analysis]\nembedings = 'minilm'\n", "analysis.embedings", "unknown key"),
        ("end = 2024-11-01\n" + GOOD, "end", "after start"),
        (GOOD.replace('name = "test-monitor"', 'name = "sora leak!"'), "name", "letters, digits"),
    ],
)
def test_mistakes_name_the_file_the_key_and_what_is_expected(write_monitor, toml, key, message):
    path = write_monitor(toml)
    with pytest.raises(ConfigError) as caught:
        load_monitor(path)
    assert caught.value.key == key
    assert str(path) in str(caught.value) and message in str(caught.value)


@pytest.mark.parametrize(
    ("extra", "key", "message"),
    [
        ("[sources.twitter]\n", "sources.twitter", "unknown source"),
        ("[sources.hackernews]\nhits_per_page = 'ten'\n", "sources.hackernews.hits_per_page", "expected an integer"),
        ("[sources.hackernews]\nhits_per_page = 5000\n", "sources.hackernews.hits_per_page", "at most 1000"),
        ("[sources.hackernews]\ntags = ['story', 'tweet']\n", "sources.hackernews.tags", "'tweet' is not one of"),
        ("[sources.hackernews]\nenabled = false\n", "sources", "every source is disabled"),
    ],
)
def test_source_options_are_checked_against_the_source(write_monitor, extra, key, message):
    base = GOOD.split("[sources.hackernews]")[0]
    path = write_monitor(base + extra)
    with pytest.raises(ConfigError) as caught:
        plan_sources(load_monitor(path))
    assert caught.value.key == key and message in str(caught.value)


def test_unreadable_files_are_named(tmp_path, write_monitor):
    with pytest.raises(ConfigError, match="no such monitor file"):
        load_monitor(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_monitor(write_monitor("name = [unclosed"))


@pytest.mark.parametrize("program", ["collect", "analyze"])
def test_the_entry_points_report_a_bad_monitor_in_one_line_with_exit_code_2(write_monitor, tmp_path, program):
    path = write_monitor(GOOD + "[analysis]\nsentiment = 42\n")
    completed = subprocess.run(
        [sys.executable, "-m", program, "--monitor", str(path), "--db", f"sqlite:///{tmp_path / 'x.db'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert f"{path}: analysis.sentiment: expected a string" in completed.stderr


def test_an_unknown_model_setting_is_a_config_error(write_monitor, tmp_path):
    path = write_monitor(GOOD + "[analysis]\nembeddings = 'word2vec'\n")
    completed = subprocess.run(
        [sys.executable, "-m", "analyze", "--monitor", str(path), "--db", f"sqlite:///{tmp_path / 'x.db'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert completed.returncode == 2 and "Traceback" not in completed.stderr
    assert "analysis.embeddings: expected 'use-multilingual', 'e5-small', 'minilm'" in completed.stderr


# --- issue 9: non-finite numbers and the last day --------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "+nan"])
def test_non_finite_numbers_are_refused(write_monitor, value):
    base = 'name = "m"\nquery = "sora leak"\nstart = 2024-11-20\n'
    with pytest.raises(ConfigError, match=r"analysis\.language_min_score: expected a finite number"):
        load_monitor(write_monitor(base + f"[sources.hackernews]\n[analysis]\nlanguage_min_score = {value}\n"))
    monitor = load_monitor(write_monitor(base + f"[sources.hackernews]\nwindow_days = {value}\n"))
    with pytest.raises(ConfigError, match=r"sources\.hackernews\.window_days: expected a finite number"):
        plan_sources(monitor)


def test_end_includes_its_whole_day(write_monitor):
    monitor = load_monitor(
        write_monitor('name = "m"\nquery = "sora"\nstart = 2024-11-20\nend = 2024-11-26\n[sources.hackernews]\n')
    )
    assert monitor.end == datetime(2024, 11, 26, 23, 59, 59, 999999, tzinfo=timezone.utc)


def test_a_toml_file_nested_too_deeply_is_a_config_error(write_monitor):
    with pytest.raises(ConfigError, match=r"nested too deeply|not valid TOML"):
        load_monitor(write_monitor("x = " + "[" * 100_000 + "]" * 100_000 + "\n"))


def test_the_readme_shows_the_sora_monitor_file_as_it_is():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = readme.split("shows every key:\n\n```toml\n", 1)[1].split("```\n", 1)[0]
    assert shown == SORA_MONITOR.read_text(encoding="utf-8")
