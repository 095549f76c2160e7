"""Pseudonymous author ids: a keyed hash, with the key (salt) kept in the store itself.

The same author gets the same id across runs and sources of one store (so "how many distinct
people" still works), while the handle cannot be recovered by anyone who lacks the store, and a
different store gives unrelated ids. Handles are kept only when a monitor opts in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import Connection, select

from store.schema import settings

SALT_KEY = "author_salt"


def author_salt(conn: Connection) -> bytes:
    """The store's salt, created on first use."""
    value = conn.execute(select(settings.c.value).where(settings.c.key == SALT_KEY)).scalar()
    if value is None:
        value = secrets.token_hex(32)
        conn.execute(settings.insert().values(key=SALT_KEY, value=value))
    return bytes.fromhex(value)


def pseudonymise(salt: bytes, platform: str, author: str | None) -> str | None:
    """A stable 32-hex-digit id for (platform, author); None when the platform gave no author."""
    if not author:
        return None
    digest = hmac.new(salt, f"{platform}\x00{author}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]
