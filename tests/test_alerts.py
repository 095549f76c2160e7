"""Spike alerts over a real socket: the Slack message, never twice, retries, never fatal."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

import httpx
import pytest
from sqlalchemy import func, select

from analyze.alerts import WEBHOOK_ENV, announce_new_spikes
from analyze.cli import main as analyze_main
from analyze.embeddings import embedding_model_name
from collect import cli as collect_cli
from collect.http import make_client
from monitor.config import load_monitor
from store.db import open_store
from store.schema import manifests
from store.spikes import Spike, save_spikes, stored_spikes
from tests.loopback import LoopbackServer
from tests.test_spikes import demo_shaped_events, store_events, without_narratives

HOSTILE = "<!channel> *bold* <https://evil.example|click> & more"


def a_spike(hour: int, series: str = "all") -> Spike:
    return Spike(
        series=series,
        granularity="hour",
        start=datetime(2024, 11, 26, hour, tzinfo=timezone.utc),
        end=datetime(2024, 11, 26, hour + 3, tzinfo=timezone.utc),
        posts=120,
        baseline=4.0,
        peak=45,
        drivers=[{"kind": "topic", "value": "0", "label": "leak <b>", "posts": 90, "share": 0.8, "share_before": 0.1}],
        top_posts={
            "engagement": [
                {"id": 1, "url": "https://news.ycombinator.com/item?id=1", "text": HOSTILE, "engagement": 40},
                {"id": 2, "url": "javascript:alert(1)", "text": "second", "engagement": 10},
            ]
        },
        sentiment={"before": 0.1, "during": -0.4, "change": -0.5},
    )


def recorder(statuses: list[int]):
    """A handler answering the given statuses in turn (then 200)."""

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(statuses.pop(0) if statuses else 200, text="ok")

    return handle


def test_a_new_spike_is_announced_once_as_a_slack_message(engine):
    with engine.begin() as conn:
        save_spikes(conn, "sora-leak", [a_spike(12), a_spike(18, "language:ar")])
    with LoopbackServer(recorder([])) as server:
        webhook = server.url + "/services/T000/B000/secret"
        assert announce_new_spikes(engine, "sora-leak", webhook=webhook) == 2
        assert announce_new_spikes(engine, "sora-leak", webhook=webhook) == 0  # never twice
    assert len(server.requests) == 1
    request = server.requests[0]
    assert request.method == "POST" and request.url.path == "/services/T000/B000/secret"
    message = json.loads(request.content)
    assert "2 new spikes in sora-leak" in message["text"]
    assert message["blocks"][0]["type"] == "header"
    sections = [b for b in message["blocks"] if b["type"] == "section"]
    assert sections[0]["text"]["text"].startswith("*language:ar (hour): 120 posts")  # newest first
    mrkdwn = sections[1]["text"]["text"]
    assert "2024-11-26 12:00 → 2024-11-26 15:00 UTC" in mrkdwn
    assert "topic leak &lt;b&gt; 10%→80%" in mrkdwn
    assert "<https://news.ycombinator.com/item?id=1|post 1>" in mrkdwn
    assert "javascript:" not in json.dumps(message) and "<!channel>" not in mrkdwn
    context = next(b for b in message["blocks"] if b["type"] == "context")
    assert context["elements"][0] == {"type": "plain_text", "text": f"1. {HOSTILE}", "emoji": False}

    # A spike found later (the same key survives the next analysis rewriting the spikes) is announced alone.
    with engine.begin() as conn:
        save_spikes(conn, "sora-leak", [a_spike(12), a_spike(18, "language:ar"), a_spike(20, "source:mastodon")])
    with LoopbackServer(recorder([])) as server:
        assert announce_new_spikes(engine, "sora-leak", webhook=server.url + "/hook") == 1
    assert "source:mastodon" in json.loads(server.requests[0].content)["text"]


def test_a_failing_webhook_is_retried_logged_and_never_fatal(engine, caplog):
    with engine.begin() as conn:
        save_spikes(conn, "sora-leak", [a_spike(12)])
    waits: list[float] = []
    with LoopbackServer(recorder([500, 503])) as server:
        assert announce_new_spikes(engine, "sora-leak", webhook=server.url + "/hook", sleep=waits.append) == 1
    assert len(server.requests) == 3 and waits == [2.0, 4.0]

    with engine.begin() as conn:
        save_spikes(conn, "sora-leak", [a_spike(12), a_spike(18)])
    caplog.set_level(logging.WARNING, logger="analyze.alerts")
    with LoopbackServer(recorder([500, 500, 500])) as server:
        secret = server.url + "/services/T000/B000/secret"
        assert announce_new_spikes(engine, "sora-leak", webhook=secret, sleep=waits.append) == 0
    assert "HTTP 500" in caplog.text and "not sent after 3 attempts" in caplog.text
    assert "secret" not in caplog.text  # the webhook URL carries a token

    # Nothing listens there any more: a connection error, logged, not raised.
    assert announce_new_spikes(engine, "sora-leak", webhook=secret, sleep=waits.append) == 0
    assert "ConnectError" in caplog.text
    # The unsent spike waits for the next run that reaches the webhook.
    with LoopbackServer(recorder([])) as server:
        assert announce_new_spikes(engine, "sora-leak", webhook=server.url + "/hook") == 1


def test_an_analysis_run_announces_the_spikes_it_found(engine, monkeypatch, write_monitor):
    path = without_narratives(write_monitor)
    monitor = load_monitor(path)
    store_events(engine, demo_shaped_events(), embedding_model_name(monitor.analysis.embeddings))
    with LoopbackServer(recorder([])) as server:
        monkeypatch.setenv(WEBHOOK_ENV, server.url + "/hook")
        for _ in range(6):
            assert analyze_main(["--monitor", str(path), "--db", str(engine.url), "-q"]) == 0
    with engine.connect() as conn:
        found = stored_spikes(conn, monitor.name)
    # Ten spikes a message at most; once all are announced, further runs send nothing.
    assert len(server.requests) == -(-len(found) // 10) < 6
    sections = [json.loads(r.content)["blocks"] for r in server.requests]
    announced = [b["text"]["text"].split("\n")[0:2] for blocks in sections for b in blocks if b["type"] == "section"]
    assert len(announced) == len(found) and len({tuple(a) for a in announced}) == len(found)
    assert any(a[0].startswith("*all (hour)") and "2024-11-26 12:00" in a[1] for a in announced)


def test_the_scheduled_collector_with_analyze_announces_new_spikes(tmp_path, monkeypatch, write_monitor):
    """`murmur collect --every 30m --analyze`: every collection is followed by an analysis (its own
    process), which sends the new spikes; the second round finds nothing new to send."""
    path = without_narratives(write_monitor)
    monitor = load_monitor(path)
    db = f"sqlite:///{tmp_path / 'scheduled.db'}"
    engine = open_store(db)
    store_events(engine, demo_shaped_events(), embedding_model_name(monitor.analysis.embeddings))

    def offline(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("offline", request=request)

    monkeypatch.setattr(
        collect_cli, "make_client", lambda **_: make_client(transport=httpx.MockTransport(offline), sleep=lambda s: 0)
    )
    rounds: list[float] = []

    def sleep(seconds: float) -> None:
        rounds.append(seconds)
        if len(rounds) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(collect_cli.time, "sleep", sleep)
    with LoopbackServer(recorder([])) as server:
        monkeypatch.setenv(WEBHOOK_ENV, server.url + "/hook")
        with pytest.raises(KeyboardInterrupt):
            collect_cli.main(["--monitor", str(path), "--db", db, "--every", "30m", "--analyze", "-q"])
    with engine.connect() as conn:
        found = stored_spikes(conn, monitor.name)
        analyses = conn.execute(select(func.count()).select_from(manifests).where(manifests.c.kind == "analyze"))
        assert analyses.scalar() == 2
    engine.dispose()
    assert len(found) > 0 and len(rounds) == 2
    announced = [
        b["text"]["text"].split("\n")[0:2]
        for r in server.requests
        for b in json.loads(r.content)["blocks"]
        if b["type"] == "section"
    ]
    # Ten spikes a message, one message a round; none twice.
    assert len(server.requests) == min(2, -(-len(found) // 10))
    assert len(announced) == min(len(found), 20) == len({tuple(a) for a in announced})
