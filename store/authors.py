"""Pseudonymous author ids: a keyed hash (HMAC-SHA-256), with the key kept outside the database.

The same author gets the same id across runs, sources and hosts that share the key (so "how many
distinct people" still works), while someone holding only the database cannot recover handles by
hashing guesses: without the key a guess cannot be checked. The key is `MURMUR_AUTHOR_KEY` (a secret
string, at least 32 characters) or else a key file (`MURMUR_AUTHOR_KEY_FILE`, default
~/.config/murmur/author.key) created on first use with 0600 permissions. Every collector writing
to one store needs the same key; the store keeps a fingerprint of it (an HMAC of a fixed label,
which reveals nothing about the key) and refuses a collector that brings a different one.

Stores written by older versions kept their salt in `settings`: the first collection with this
version moves it into the key file (when no key is configured yet, so pseudonyms stay stable) and
deletes it from the database.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
from pathlib import Path

from sqlalchemy import Connection, delete, select

from monitor.errors import MurmurError
from store.dialect import insert_ignore
from store.schema import settings

log = logging.getLogger(__name__)

KEY_ENV = "MURMUR_AUTHOR_KEY"
KEY_FILE_ENV = "MURMUR_AUTHOR_KEY_FILE"
MIN_KEY_LENGTH = 32
LEGACY_SALT_KEY = "author_salt"
FINGERPRINT_KEY = "author_key_fingerprint"

_verified: dict[tuple[str, str | None, str], bytes] = {}


class AuthorKeyError(MurmurError):
    """The pseudonymisation key is missing, unsafe, or not the one this store was written with."""


def key_file_path() -> Path:
    """Where the key file is: MURMUR_AUTHOR_KEY_FILE, or murmur/author.key in the user's config folder."""
    configured = os.environ.get(KEY_FILE_ENV)
    if configured:
        return Path(configured).expanduser()
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config_home / "murmur" / "author.key"


def author_key(conn: Connection) -> bytes:
    """The key for this store, checked against the store's fingerprint (recorded on first use)."""
    cache_key = (conn.engine.url.render_as_string(hide_password=True), os.environ.get(KEY_ENV), str(key_file_path()))
    if cache_key in _verified:
        return _verified[cache_key]
    legacy = conn.execute(select(settings.c.value).where(settings.c.key == LEGACY_SALT_KEY)).scalar()
    key = _configured_key(adopt=bytes.fromhex(legacy) if legacy else None)
    if legacy is not None:
        if bytes.fromhex(legacy) != key:
            log.warning(
                "this store's old in-database salt differs from the configured author key: authors "
                "collected from now on get new pseudonyms; the old salt is removed from the database"
            )
        conn.execute(delete(settings).where(settings.c.key == LEGACY_SALT_KEY))
    fingerprint = _fingerprint(key)
    conn.execute(insert_ignore(conn, settings), [{"key": FINGERPRINT_KEY, "value": fingerprint}])
    stored = conn.execute(select(settings.c.value).where(settings.c.key == FINGERPRINT_KEY)).scalar()
    if stored != fingerprint:
        raise AuthorKeyError(
            f"this store's authors were pseudonymised with a different key than the one configured here "
            f"({KEY_ENV} or {key_file_path()}); give every collector of this store the same key"
        )
    _verified[cache_key] = key
    return key


def pseudonymise(key: bytes, platform: str, author: str | None) -> str | None:
    """A stable 32-hex-digit id for (platform, author); None when the platform gave no author."""
    if not author:
        return None
    digest = hmac.new(key, f"{platform}\x00{author}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def _fingerprint(key: bytes) -> str:
    return hmac.new(key, b"murmur author key fingerprint", hashlib.sha256).hexdigest()[:32]


def _configured_key(adopt: bytes | None) -> bytes:
    """The key from the environment, else the key file (created, from `adopt` or at random, if absent)."""
    secret = os.environ.get(KEY_ENV)
    if secret is not None:
        if len(secret) < MIN_KEY_LENGTH:
            raise AuthorKeyError(
                f"{KEY_ENV}: expected a secret of at least {MIN_KEY_LENGTH} characters "
                f"(e.g. the output of: python -c 'import secrets; print(secrets.token_hex(32))')"
            )
        return secret.encode()
    path = key_file_path()
    if not path.exists():
        _create_key_file(path, (adopt or secrets.token_bytes(32)).hex())
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise AuthorKeyError(
            f"{path}: the author key file is readable by others (mode {mode:04o}); run: chmod 600 {path}"
        )
    text = path.read_text(encoding="ascii").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 16:
        raise AuthorKeyError(f"{path}: expected at least 32 hexadecimal digits, the key Murmur wrote there")
    return key


def _create_key_file(path: Path, hex_key: str) -> None:
    """Write the key file with 0600 permissions; a process that loses the race reads the winner's."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(hex_key + "\n")
    log.info("created the author key file %s (keep it secret, back it up, copy it to every collector)", path)
