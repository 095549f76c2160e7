"""Progress off a terminal: a heartbeat log line with the step, its count and its rate."""

from __future__ import annotations

import logging
import threading

import pytest

from monitor import cli


def test_off_a_terminal_a_long_step_logs_its_count_and_rate(monkeypatch, caplog) -> None:  # noqa: ANN001
    monkeypatch.setattr(cli, "HEARTBEAT_S", 0.05)
    beat = threading.Event()

    class Notify(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            beat.set()

    logging.getLogger("murmur.progress").addHandler(notify := Notify())
    try:
        with caplog.at_level(logging.INFO, logger="murmur.progress"), cli.progress_reporter() as report:
            report("embeddings", 0, 1653)
            report("embeddings", 512, 1653)
            assert beat.wait(5), "no heartbeat line"
    finally:
        logging.getLogger("murmur.progress").removeHandler(notify)
    line = caplog.records[0].getMessage()
    assert line.startswith("embeddings: 512/1653 done, ") and line.endswith("/s")


def test_quiet_reports_nothing(monkeypatch, caplog) -> None:  # noqa: ANN001
    monkeypatch.setattr(cli, "HEARTBEAT_S", 0.01)
    with caplog.at_level(logging.INFO, logger="murmur.progress"), cli.progress_reporter(enabled=False) as report:
        report("embeddings", 1, 2)
        threading.Event().wait(0.1)
    assert not caplog.records


@pytest.mark.parametrize(("text", "until", "expected"), [
    ("2024-11-26", False, "2024-11-26T00:00:00+00:00"),
    ("2024-11-26", True, "2024-11-27T00:00:00+00:00"),
    ("2024-11-26T12:30:00Z", True, "2024-11-26T12:30:00+00:00"),
    ("2024-11-26T14:30:00+02:00", False, "2024-11-26T12:30:00+00:00"),
])
def test_since_and_until_read_days_and_instants_as_utc(text: str, until: bool, expected: str) -> None:
    parse = cli.until_arg if until else cli.since_arg
    assert parse(text).isoformat() == expected
