"""A throwaway PostgreSQL cluster for the test run: Debian's server binaries, a temp dir, a loopback port.

`initdb` refuses to run as root (CI runs as root), so the server then runs as the `postgres` system
user, which owns the temporary data and socket folder. Authentication is `trust` on loopback only;
nothing outside the machine can reach the server, and it is stopped (and its folder removed) when the
test session ends.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def server_binaries() -> Path | None:
    """The newest installed PostgreSQL bin folder holding initdb and pg_ctl, or None."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """One running cluster; `url(database)` gives a psycopg SQLAlchemy URL for a database on it."""

    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.root = Path(tempfile.mkdtemp(prefix="murmur-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as_user: Callable[[list[str]], list[str]] = lambda command: command
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self._as_user = lambda command: ["runuser", "-u", "postgres", "--", *command]
        self.root.chmod(0o700)

    def start(self) -> None:
        self._run(
            [
                str(self.binaries / "initdb"),
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            [
                str(self.binaries / "pg_ctl"),
                "-D",
                str(self.data),
                "-o",
                options,
                "-l",
                str(self.root / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ]
        )

    def stop(self) -> None:
        try:
            self._run([str(self.binaries / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"])
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        for attempt in range(20):
            try:
                with psycopg.connect(
                    f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
                ) as conn:
                    conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
                break
            except psycopg.errors.ObjectInUse:  # template busy with a concurrent CREATE DATABASE
                time.sleep(0.05 * (attempt + 1))
        return self.url(name)

    def _run(self, command: list[str]) -> None:
        completed = subprocess.run(self._as_user(command), capture_output=True, text=True, cwd=self.root)
        if completed.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{command[0]} failed ({completed.returncode}): {completed.stderr.strip()}\n{tail}")
