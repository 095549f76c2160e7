"""`murmur dashboard`: serve the Streamlit dashboard with Murmur's settings, or say why it cannot.

The port is checked before anything is announced: a busy port is one line naming it and how to pick
another, not a Streamlit traceback after a URL that does not answer.
"""

from __future__ import annotations

import argparse
import errno
import importlib.util
import os
import socket
import sys
import tomllib
from pathlib import Path

from monitor.cli import MONITOR_ENV, MONITOR_FILE_ENV, entry_point_parser
from monitor.config import load_monitor
from monitor.errors import MurmurError
from store.db import ENV_VAR, open_store

SETTINGS = Path(__file__).with_name("streamlit.toml")


class PortBusy(MurmurError):
    """The dashboard's port is taken (another dashboard, or another program)."""


def parse_args(argv: list[str] | None, prog: str) -> argparse.Namespace:
    parser = entry_point_parser(
        prog,
        "Serve the dashboard (Streamlit) on this machine. It reads the store only; Ctrl-C stops it.",
        "2 bad option, busy port or unreachable store; otherwise Streamlit's own.",
        monitor_required=False,
    )
    parser.add_argument("--port", type=int, default=8501, help="port to serve on (default 8501)")
    parser.add_argument("--address", help="address to serve on (default: localhost only; 0.0.0.0 shares it)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, prog: str = "murmur dashboard") -> int:
    args = parse_args(argv, prog)
    settings = streamlit_flags(SETTINGS)
    address = args.address or settings["--server.address"]
    settings.update({"--server.address": address, "--server.port": str(args.port)})
    check_port_free(address, args.port, prog)
    env = dict(os.environ)
    if args.db:
        env[ENV_VAR] = args.db
    open_store(env.get(ENV_VAR)).dispose()  # an unreachable store is one line now, not an error page later
    if args.monitor:
        env[MONITOR_ENV] = load_monitor(args.monitor).name
        env[MONITOR_FILE_ENV] = str(Path(args.monitor).resolve())  # its title, description and query
    host = "localhost" if address in ("localhost", "127.0.0.1", "0.0.0.0") else address
    print(f"Murmur dashboard: http://{host}:{args.port}  (Ctrl-C stops it)", file=sys.stderr, flush=True)
    command = [sys.executable, "-m", "streamlit", "run", dashboard_script()]
    command += [item for pair in settings.items() for item in pair]
    os.execve(sys.executable, command, env)
    return 0  # not reached: the process is now Streamlit


def dashboard_script() -> str:
    """Where dashboard.py is (the repository, or site-packages when installed), found without running it."""
    spec = importlib.util.find_spec("dashboard")
    if spec is None or spec.origin is None:
        raise MurmurError("dashboard.py is not installed beside Murmur's packages; reinstall Murmur")
    return spec.origin


def streamlit_flags(path: Path) -> dict[str, str]:
    """`[server] port = 1` in Streamlit's config file → {"--server.port": "1"}."""
    with path.open("rb") as handle:
        config = tomllib.load(handle)
    return {
        f"--{section}.{key}": str(value).lower() if isinstance(value, bool) else str(value)
        for section, values in config.items()
        for key, value in values.items()
    }


def check_port_free(address: str, port: int, prog: str) -> None:
    """Raise PortBusy when something already listens on (address, port)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address, port))
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise MurmurError(f"cannot serve on {address}:{port}: {error.strerror}") from None
            raise PortBusy(
                f"port {port} is busy (another dashboard?); pick another with "
                f"`{prog} --port {port + 1}` (or `make run PORT={port + 1}`)"
            ) from None
