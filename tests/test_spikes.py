"""Spike detection: the robust rule on plain counts, a demo-shaped month, the store, and `murmur spikes`."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from analyze.embeddings import MINILM_NAME
from analyze.pipeline import analyze_monitor
from analyze.spikes import DAILY, HOURLY, SpikeSettings, baseline, detect_spikes, find_bursts, upper_tail
from monitor.config import load_monitor
from murmur.spikes import main as spikes_main
from store.analysis import PostVerdict, save_embeddings, save_verdicts
from store.collection import finish_run, save_posts, start_run
from store.post import Post
from store.schema import posts
from store.spikes import PostEvent, stored_spikes
from store.topic_models import TopicRecord, save_topic_model
from tests.conftest import ROOT, SORA_MONITOR

START = datetime(2024, 11, 12, tzinfo=timezone.utc)
LEAK = datetime(2024, 11, 26, tzinfo=timezone.utc)
LAUNCH = datetime(2024, 12, 9, tzinfo=timezone.utc)
# topic id → what its posts say (the launch topic only appears with the launch)
TOPIC_TEXT = {
    "0": "Artists leaked Sora on Hugging Face, calling themselves PR puppets",
    "1": "Sora video quality: the physics and the hands",
    "2": "OpenAI launches Sora Turbo for ChatGPT Plus subscribers after the leak",
}
LANGUAGES = ("en", "en", "en", "ar", "fr", "de", "es")


def demo_shaped_events() -> list[PostEvent]:
    """A month shaped like the demo corpus: a quiet background of 8-20 posts a day, the leak on
    26 Nov (25-41 posts an hour from 12:00 to 21:00 UTC, mostly the leak topic, in many languages) and
    the launch on 9 Dec (about 25 an hour from 18:00 to 23:00, mostly the launch topic)."""
    rng = np.random.default_rng(7)
    events: list[PostEvent] = []

    def add(moment: datetime, topic: str, language: str, source: str, sentiment: float) -> None:
        events.append(
            PostEvent(
                id=len(events) + 1,
                created_at=moment,
                source=source,
                language=language,
                topic=topic,
                narratives=("leak-and-security",) if topic == "0" else (),
                sentiment=sentiment,
                engagement=int(rng.integers(0, 50)),
                url=f"https://example.org/{len(events) + 1}",
                snippet=TOPIC_TEXT[topic],
            )
        )

    for day in range(29):
        for _ in range(int(rng.integers(8, 21))):
            moment = START + timedelta(days=day, seconds=int(rng.integers(0, 86400)))
            add(moment, str(rng.choice(["0", "1"], p=[0.3, 0.7])), "en", "hackernews", 0.1)
    for hour in range(12, 21):
        for _ in range(int(rng.integers(25, 42))):
            moment = LEAK + timedelta(hours=hour, seconds=int(rng.integers(0, 3600)))
            topic = str(rng.choice(["0", "1"], p=[0.85, 0.15]))
            add(moment, topic, str(rng.choice(LANGUAGES)), str(rng.choice(["mastodon", "bluesky"])), -0.5)
    for hour in range(18, 23):
        for _ in range(int(rng.integers(22, 30))):
            moment = LAUNCH + timedelta(hours=hour, seconds=int(rng.integers(0, 3600)))
            add(moment, str(rng.choice(["2", "1"], p=[0.8, 0.2])), "en", "hackernews", 0.3)
    return events


def test_a_planted_burst_is_found_where_it_was_planted():
    rng = np.random.default_rng(1)
    counts = rng.poisson(12, 24 * 14)
    counts[200:203] = [48, 52, 50]
    bursts = {(b.first, b.last): b for b in find_bursts(counts, HOURLY, SpikeSettings())}
    # (Noise may add a rare lone hour elsewhere, 27 posts against 12 here: bench/eval_spikes.py
    # measures how rare; this test is about where and how big the planted burst is.)
    assert [span for span in bursts if span[0] <= 202 and span[1] >= 200] == [(200, 202)]
    assert bursts[200, 202].posts == 150 and 30 <= bursts[200, 202].baseline <= 42


def test_a_handful_of_posts_over_an_empty_baseline_is_not_a_spike():
    counts = np.zeros(24 * 7, dtype=int)
    counts[100] = 6  # infinitely more than the baseline, but six posts
    assert find_bursts(counts, HOURLY, SpikeSettings()) == []
    counts[100] = 30
    assert [(b.first, b.last) for b in find_bursts(counts, HOURLY, SpikeSettings())] == [(100, 100)]


def test_the_baseline_is_robust_to_an_earlier_burst():
    counts = np.full(40, 20.0)
    counts[10:13] = 400  # a huge burst inside the window of later bins
    later = baseline(counts, DAILY)
    assert later.expected[20] == pytest.approx(20) and later.dispersion[20] == 1.0
    counts[30] = 90
    assert [(b.first, b.last) for b in find_bursts(counts, DAILY, SpikeSettings())] == [(10, 12), (30, 30)]


def test_a_burst_on_a_sparse_series_is_judged_by_its_count():
    counts = np.tile([3, 2, 4, 3, 1, 5, 3, 2], 42)  # three posts an hour, two weeks
    assert upper_tail(14, 3.0, 1.0) < 1e-5  # the chance of 14 posts in an hour that expects 3
    counts[200] = 14
    assert [(b.first, b.last) for b in find_bursts(counts, HOURLY, SpikeSettings())] == [(200, 200)]
    counts[200] = 9  # six more than expected: a handful, however unlikely
    assert find_bursts(counts, HOURLY, SpikeSettings()) == []


def test_a_daily_rhythm_is_learnt_not_flagged_and_a_burst_at_night_is_found():
    hours = np.arange(24 * 28)
    rates = 20 * (1 + 0.8 * np.sin(2 * np.pi * (hours - 9) / 24))  # 4 posts an hour at 03:00, 36 at 15:00
    counts = np.random.default_rng(5).poisson(rates)
    assert find_bursts(counts, HOURLY, SpikeSettings()) == []
    night = 24 * 20 + 3
    counts[night] = 30  # seven times the quiet hour, but fewer than the afternoons: a flat baseline misses it
    assert counts[night] < rates.max() < 2 * rates.mean()
    assert [(b.first, b.last) for b in find_bursts(counts, HOURLY, SpikeSettings())] == [(night, night)]


def test_an_unchanged_level_is_not_overestimated():
    counts = np.random.default_rng(3).poisson(10, 24 * 28)  # ten posts an hour, four weeks, no rhythm
    expected = baseline(counts, HOURLY).expected[24 * 7 :]
    # The larger of the level and a recent median of the same level would sit some 5 % above it.
    assert 0.97 <= expected.mean() / 10 <= 1.03


def test_the_first_weekend_is_judged_by_the_weekend_and_the_monday_after_by_the_weekdays():
    days = np.arange(24 * 7) // 24  # Monday 00:00 UTC to Sunday 24:00
    counts = np.random.default_rng(4).poisson(np.where(days >= 5, 5.0, 20.0))  # quiet weekend
    assert find_bursts(counts, HOURLY, SpikeSettings()) == []
    sunday = 24 * 6 + 12
    counts[sunday] = 28  # over five times the weekend's hours, fewer than twice the weekdays'
    assert [(b.first, b.last) for b in find_bursts(counts, HOURLY, SpikeSettings())] == [(sunday, sunday)]
    # A monitor that starts on a Wednesday: the Monday after its first weekend is four times that
    # weekend's hours, and only as busy as the weekdays before it.
    weekdays = (np.arange(24 * 7) // 24 + 2) % 7
    counts = np.random.default_rng(6).poisson(np.where(weekdays >= 5, 5.0, 20.0))
    assert find_bursts(counts, HOURLY, SpikeSettings(), offset=48) == []
    assert find_bursts(counts, HOURLY, SpikeSettings()) != []  # the same counts, read as starting on a Monday


def test_a_lasting_rise_becomes_the_level_instead_of_one_endless_spike():
    counts = np.concatenate([np.full(28, 15.0), [400.0], np.full(30, 60.0)])  # a leak, then four times the talk
    assert [(b.first, b.last) for b in find_bursts(counts, DAILY, SpikeSettings())] == [(28, 31)]


def test_the_leak_and_the_launch_are_found_and_explained_by_their_topics():
    labels = {"topic:0": "leak, hugging, puppets", "topic:1": "physics, hands", "topic:2": "turbo, launch, plus"}
    spikes = detect_spikes(demo_shaped_events(), labels=labels, typicality=lambda ids: {i: 1.0 / i for i in ids})
    overall = [s for s in spikes if s.series == "all"]
    hourly = [s for s in overall if s.granularity == "hour"]
    daily = [s for s in overall if s.granularity == "day"]
    # Newest first.
    assert [s.start for s in spikes] == sorted((s.start for s in spikes), reverse=True)

    leak = next(s for s in hourly if s.start.date() == LEAK.date())
    assert leak.start == LEAK + timedelta(hours=12) and leak.end == LEAK + timedelta(hours=21)
    assert leak.posts > 10 * leak.baseline
    topic_drivers = [d for d in leak.drivers if d["kind"] == "topic"]
    assert topic_drivers[0]["value"] == "0" and topic_drivers[0]["label"] == "leak, hugging, puppets"
    assert topic_drivers[0]["share"] > 0.7 > 0.4 > topic_drivers[0]["share_before"]
    assert {d["value"] for d in leak.drivers if d["kind"] == "language"} & {"ar", "fr", "de", "es"}
    assert {d["value"] for d in leak.drivers if d["kind"] == "source"} == {"mastodon", "bluesky"}
    during, before, change = (leak.sentiment[k] for k in ("during", "before", "change"))
    assert during is not None and before is not None and change is not None
    assert during < before and change < -0.3
    assert len(leak.top_posts["engagement"]) == 5
    engagement = [p["engagement"] for p in leak.top_posts["engagement"]]
    assert engagement == sorted(engagement, reverse=True)
    assert leak.top_posts["typicality"][0]["typicality"] >= leak.top_posts["typicality"][-1]["typicality"]

    launch = next(s for s in hourly if s.start.date() == LAUNCH.date())
    assert launch.start == LAUNCH + timedelta(hours=18) and launch.end == LAUNCH + timedelta(hours=23)
    assert next(d for d in launch.drivers if d["kind"] == "topic")["value"] == "2"

    assert {s.start for s in daily} >= {LEAK, LAUNCH}
    # The quiet weeks before the leak hold no spike in any series.
    assert all(s.start >= LEAK for s in spikes)
    assert any(s.series == "topic:2" and s.start.date() == LAUNCH.date() for s in spikes)
    assert any(s.series == "language:ar" and s.start.date() == LEAK.date() for s in spikes)
    assert any(s.series == "narrative:leak-and-security" and s.start == LEAK + timedelta(hours=12) for s in spikes)
    assert any(d["kind"] == "narrative" and d["value"] == "leak-and-security" for d in leak.drivers)


def without_narratives(write_monitor) -> Path:
    """The Sora monitor without its narratives: the stored vectors here are not a real model's."""
    text = SORA_MONITOR.read_text(encoding="utf-8")
    return write_monitor(
        text[: text.index("[[narratives]]")].replace('"../demo/sora-leak"', f'"{ROOT / "demo/sora-leak"}"')
    )


def store_events(engine, events: list[PostEvent], embedding_model: str) -> None:
    """Write the events as posts with verdicts, a topic model and embeddings, as an analysis would."""
    with engine.begin() as conn:
        run = start_run(conn, "sora-leak", "demo")
        items = [
            Post(
                platform=e.source,
                native_id=str(e.id),
                text=e.snippet,
                created_at=e.created_at,
                author="someone",
                url=e.url,
                likes=e.engagement,
            )
            for e in events
        ]
        save_posts(conn, items, run_id=run, source="demo", demo=True)
        finish_run(conn, run, "ok", {}, [])
        by_native = dict(conn.execute(select(posts.c.native_id, posts.c.id)).all())
        ids = [by_native[str(e.id)] for e in events]
        save_verdicts(
            conn,
            [
                PostVerdict(pid, e.language or "und", 0.9, None, e.sentiment, "test")
                for pid, e in zip(ids, events, strict=True)
            ],
        )
        vectors = np.eye(8, dtype=np.float32)[[int(e.topic or 0) for e in events]]
        save_embeddings(conn, embedding_model, ids, vectors)
        save_topic_model(
            conn,
            monitor="sora-leak",
            embedding_model=embedding_model,
            settings={},
            topic_records=[TopicRecord(int(t), f"label {t}", [], 1, []) for t in TOPIC_TEXT],
            assignments=[(pid, int(e.topic or -1), None) for pid, e in zip(ids, events, strict=True)],
        )


def test_analysis_stores_spikes_and_murmur_spikes_lists_them(engine, capsys, write_monitor):
    path = without_narratives(write_monitor)
    store_events(engine, demo_shaped_events(), MINILM_NAME)

    def must_not_load():
        raise AssertionError("nothing to analyse: no model should load")

    monitor = load_monitor(path)
    report = analyze_monitor(
        engine, monitor, sentiment=must_not_load, embedder=must_not_load, embedding_name=MINILM_NAME
    )
    with engine.connect() as conn:
        stored = stored_spikes(conn, monitor.name)
    assert report.spikes == len(stored) > 0

    db = str(engine.url)
    assert spikes_main(["--monitor", str(path), "--db", db, "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == len(stored)
    assert {"series", "start", "end", "posts", "baseline", "drivers"} <= set(records[0])
    assert [r["start"] for r in records] == sorted((r["start"] for r in records), reverse=True)
    leak = next(r for r in records if r["series"] == "all" and r["start"] == "2024-11-26T12:00:00Z")
    assert leak["end"] == "2024-11-26T21:00:00Z"
    assert next(d for d in leak["drivers"] if d["kind"] == "topic")["label"] == "label 0"
    assert leak["top_posts"]["typicality"][0]["url"].startswith("https://example.org/")

    assert spikes_main(["--monitor", str(path), "--db", db, "--since", "2024-12-01"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text and all("2024-12-09" in line for line in text)
    assert any(line.startswith("2024-12-09 18:00 → 2024-12-09 23:00 UTC  all (hour)") for line in text)
    assert any('topic 2 "label 2"' in line for line in text)

    assert spikes_main(["--monitor", str(path), "--db", db, "--since", "2030-01-01", "--json"]) == 0
    quiet = capsys.readouterr()
    assert quiet.out == "" and "no spikes in sora-leak" in quiet.err

    # A second analysis recomputes the same spikes, it does not add to them.
    analyze_monitor(engine, monitor, sentiment=must_not_load, embedder=must_not_load, embedding_name=MINILM_NAME)
    with engine.connect() as conn:
        assert [s.key for s in stored_spikes(conn, monitor.name)] == [s.key for s in stored]
