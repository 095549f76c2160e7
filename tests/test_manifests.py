"""Run manifests: every collection and analysis run records one, `murmur status` shows them."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re

import pytest

from analyze.cli import main as analyze_main
from analyze.embeddings import embedding_model_name
from collect.cli import main as collect_main
from monitor.config import load_monitor
from monitor.errors import ConfigError
from monitor.manifest import source_options
from murmur import __version__, status
from store.manifests import recent_manifests
from store.spikes import stored_spikes
from tests.conftest import SORA_MONITOR
from tests.test_spikes import demo_shaped_events, store_events, without_narratives


def test_a_demo_collection_records_its_manifest(engine):
    assert collect_main(["--monitor", str(SORA_MONITOR), "--demo", "--db", str(engine.url), "-q"]) == 0
    with engine.connect() as conn:
        [record] = recent_manifests(conn, "sora-leak", kind="collect")
    manifest = record.manifest
    assert record.run_id == 1 and record.finished_at >= record.started_at
    assert manifest["murmur"]["version"] == __version__
    assert manifest["monitor"]["sha256"] == hashlib.sha256(SORA_MONITOR.read_bytes()).hexdigest()
    assert manifest["monitor"]["query"] == load_monitor(SORA_MONITOR).query.source
    assert manifest["sources"]["hackernews"]["hits_per_page"] == 200
    assert manifest["sources"]["jetstream"] == {"enabled": False}
    assert manifest["mode"] == "demo" and manifest["counts"]["hackernews"]["new"] > 0
    assert manifest["durations"]["total_s"] >= 0


def test_credential_like_options_never_reach_a_manifest():
    monitor = load_monitor(SORA_MONITOR)
    source = dataclasses.replace(monitor.sources[0], options={"api_token": "x", "password": "y", "tags": ["story"]})
    options = source_options(dataclasses.replace(monitor, sources=(source,)))
    assert options == {"hackernews": {"enabled": True, "tags": ["story"]}}


def test_an_analysis_records_its_manifest_and_status_shows_it(engine, capsys, write_monitor):
    path = without_narratives(write_monitor)
    monitor = load_monitor(path)
    store_events(engine, demo_shaped_events(), embedding_model_name(monitor.analysis.embeddings))
    db = str(engine.url)
    assert analyze_main(["--monitor", str(path), "--db", db, "-q"]) == 0
    with engine.connect() as conn:
        [record] = recent_manifests(conn, "sora-leak", kind="analyze")
        spikes = stored_spikes(conn, "sora-leak")
    manifest = record.manifest
    assert manifest["backends"]["embeddings"] == embedding_model_name(monitor.analysis.embeddings)
    assert manifest["backends"]["sentiment"] and manifest["seed"] == 42
    assert manifest["packages"]["numpy"] and "bertopic" in manifest["packages"]
    assert manifest["parameters"]["analysis"]["seed"] == 42
    assert manifest["parameters"]["spikes"]["granularities"][0]["alpha"] > 0
    assert manifest["counts"]["spikes"] == len(spikes) > 0
    assert "spikes" in manifest["durations"]["steps_s"]

    assert status.main(["--db", db]) == 0
    text = capsys.readouterr().out
    assert f"analysis {record.id} · sora-leak · finished" in text
    assert "seed 42" in text and f"{len(spikes)} spikes" in text
    assert f"manifest: murmur {__version__}" in text
    assert status.main(["--db", db, "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    run = next(line for line in lines if line["kind"] == "run")
    assert run["manifest"] is None  # stored by hand, no manifest
    assert lines[-1]["kind"] == "analysis" and lines[-1]["manifest"]["seed"] == 42

    # The same seed on the same store: a second analysis finds exactly the same spikes.
    assert analyze_main(["--monitor", str(path), "--db", db, "-q"]) == 0
    with engine.connect() as conn:
        again = stored_spikes(conn, "sora-leak")
    assert [(s.key, s.posts, s.drivers) for s in again] == [(s.key, s.posts, s.drivers) for s in spikes]


@pytest.mark.parametrize("seed", ["-1", "1.5", '"42"'])
def test_the_seed_is_checked(write_monitor, seed):
    text = re.sub(r"(?m)^seed = .*$", f"seed = {seed}", SORA_MONITOR.read_text(encoding="utf-8"))
    assert f"seed = {seed}" in text
    with pytest.raises(ConfigError) as caught:
        load_monitor(write_monitor(text))
    assert "analysis.seed" in str(caught.value)
