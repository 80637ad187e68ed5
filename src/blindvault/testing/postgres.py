"""A throw-away PostgreSQL database on a server the caller names (trust auth on loopback)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator

import psycopg

__all__ = ["DEFAULT_ADMIN", "pg_database"]

DEFAULT_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextlib.contextmanager
def pg_database(admin_url: str = DEFAULT_ADMIN, prefix: str = "bv_test") -> Iterator[str]:
    """Create a fresh database next to `admin_url`'s, yield its URL, drop it afterwards."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
