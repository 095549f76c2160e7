"""Shared fixtures: a fresh SQLite store per test, monitor files written on the fly."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from store.db import open_store

# Tests never reach a model hub: a model that is not on disk must fail, not download.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SORA_MONITOR = ROOT / "monitors" / "sora-leak.toml"


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    """A fresh store: a SQLite file, or the database in MURMUR_TEST_DB (emptied first) if set."""
    url = os.environ.get("MURMUR_TEST_DB")
    if url:
        _empty(url)
    engine = open_store(url or f"sqlite:///{tmp_path / 'murmur.db'}")
    yield engine
    engine.dispose()


def _empty(url: str) -> None:
    from sqlalchemy import create_engine

    from store.schema import metadata

    scratch = create_engine(url)
    metadata.drop_all(scratch)
    scratch.dispose()


@pytest.fixture
def write_monitor(tmp_path: Path) -> Callable[[str], Path]:
    """Write a monitor file from TOML text (dedented) and return its path."""

    def write(text: str, name: str = "monitor.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write
