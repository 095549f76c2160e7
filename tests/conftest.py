"""Shared fixtures: a fresh store per test on SQLite and on PostgreSQL, monitor files written on the fly.

Every test that takes `engine` or `db_url` runs twice, once per backend. PostgreSQL is a throwaway
cluster this session starts itself (tests/pg.py); without a PostgreSQL server installed those cases
are skipped with the reason, except under CI (`CI=true`), where a missing server fails the run.
"""

from __future__ import annotations

import itertools
import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from store.db import open_store
from tests.pg import Cluster, server_binaries

# Tests never reach a model hub: a model that is not on disk must fail, not download.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SORA_MONITOR = ROOT / "monitors" / "sora-leak.toml"
BACKENDS = ("sqlite", "postgresql")
_database_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def author_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's own pseudonymisation key file; nothing is written to the user's config folder."""
    path = tmp_path / "keys" / "author.key"
    monkeypatch.setenv("MURMUR_AUTHOR_KEY_FILE", str(path))
    monkeypatch.delenv("MURMUR_AUTHOR_KEY", raising=False)
    return path


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """The session's own PostgreSQL cluster on a free loopback port."""
    binaries = server_binaries()
    if binaries is None:
        message = "PostgreSQL server binaries (initdb, pg_ctl) not found; apt-get install postgresql"
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(message)
        pytest.skip(message)
    cluster = Cluster(binaries)
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a new, empty store: a SQLite file, or a fresh database on the session's cluster."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'murmur.db'}"
    cluster: Cluster = request.getfixturevalue("postgres_cluster")
    return cluster.create_database(f"murmur_test_{os.getpid()}_{next(_database_numbers)}")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a fresh store (see `db_url`), with the schema created."""
    engine = open_store(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def write_monitor(tmp_path: Path) -> Callable[[str], Path]:
    """Write a monitor file from TOML text (dedented) and return its path."""

    def write(text: str, name: str = "monitor.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write
