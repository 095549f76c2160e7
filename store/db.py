"""Opening the one database: SQLite file by default, any SQLAlchemy URL through `MURMUR_DB`.

SQLite runs in WAL mode with a busy timeout so a collection run can write while the dashboard
reads. The URL is never logged with its password.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from monitor.errors import MurmurError
from store.migrations import migrate

DEFAULT_URL = "sqlite:///data/murmur.db"
ENV_VAR = "MURMUR_DB"


def database_url() -> str:
    """The configured database URL: `MURMUR_DB`, or a SQLite file under ./data."""
    return os.environ.get(ENV_VAR) or DEFAULT_URL


class StoreUnavailable(MurmurError):
    """The database URL is malformed, its driver is missing, or the server cannot be reached."""


def display_url(url: str) -> str:
    """The URL with any password masked, safe to print."""
    return make_url(url).render_as_string(hide_password=True)


def open_store(url: str | None = None) -> Engine:
    """An engine on an up-to-date schema (created or migrated as needed)."""
    url = url or database_url()
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite_engine(url, parsed.database)
        else:
            engine = create_engine(url, pool_pre_ping=True)
        migrate(engine)
    except (NoSuchModuleError, ImportError) as error:
        raise StoreUnavailable(
            f"{ENV_VAR}: no driver for this database ({error}); install it, e.g. "
            "pip install 'psycopg[binary]' for PostgreSQL"
        ) from None
    except ArgumentError:
        raise StoreUnavailable(
            f"{ENV_VAR}: not a database URL (expected e.g. sqlite:///murmur.db "
            "or postgresql+psycopg://user@host/murmur)"
        ) from None
    except OperationalError as error:
        raise StoreUnavailable(f"cannot open the store {display_url(url)}: {error.orig}") from None
    return engine


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=30000")  # first: switching to WAL itself may wait for a peer
        if database and database != ":memory:":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine
