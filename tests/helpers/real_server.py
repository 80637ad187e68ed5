"""A real `blindvault server` process for the hardening tests, on SQLite + local disk or on
PostgreSQL (+ local disk or SeaweedFS), with direct database access for checks."""

from __future__ import annotations

import base64
import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from helpers.servers import start_server, stop


@dataclass
class Real:
    url: str
    data: Path
    db_url: str | None

    def sql(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        """Run one statement (`?` placeholders) directly on the server's database.

        On SQLite the server's processes keep checked tokens in memory; like any edit made
        behind the server's back (docs/server.md), this one then grows the revocation file
        so that they read every token's row again."""
        if self.db_url is None:
            with sqlite3.connect(self.data / "blindvault.sqlite3", timeout=30) as conn:
                rows = conn.execute(query, args).fetchall()
            with (self.data / "token-revocations").open("ab") as epoch:
                epoch.write(b"\0")
            return rows
        with psycopg.connect(self.db_url, autocommit=True) as pg:
            cur = pg.execute(query.replace("?", "%s"), args)  # type: ignore[arg-type]
            return cur.fetchall() if cur.description else []

    def account(self, quota: int | None = None) -> Account:
        email = f"hard{secrets.token_hex(5)}@example.org"
        auth = base64.b64encode(os.urandom(32)).decode()
        r = httpx.post(
            self.url + "/v1/accounts",
            json={
                "email": email,
                "kdf": {"alg": "argon2id", "m": 65536, "t": 3, "p": 4},
                "auth_key": auth,
                "recovery_auth_key": base64.b64encode(os.urandom(32)).decode(),
                "key_bundle": "eA==",
                "identity_bundle": "eQ==",
            },
            timeout=60,
        )
        assert r.status_code == 201, r.text
        r = httpx.post(
            self.url + "/v1/sessions", json={"email": email, "auth_key": auth}, timeout=60
        )
        assert r.status_code == 201, r.text
        acct = Account(self, str(r.json()["token"]))
        acct.id = self.sql("SELECT id FROM accounts WHERE email = ?", email)[0][0]
        if quota is not None:
            self.sql("UPDATE accounts SET quota_bytes = ? WHERE id = ?", quota, acct.id)
        return acct


class Account:
    def __init__(self, real: Real, token: str) -> None:
        self.real = real
        self.token = token
        self.id = ""

    @property
    def h(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def used(self) -> int:
        return int(self.real.sql("SELECT used_bytes FROM accounts WHERE id = ?", self.id)[0][0])

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.real.url, headers=self.h, timeout=60)


@contextmanager
def real_server(data: Path, db_url: str | None, *extra: str) -> Iterator[Real]:
    args = ["--db", db_url] if db_url else []
    proc, url = start_server(data, *args, *extra)
    try:
        yield Real(url, data, db_url)
    finally:
        stop(proc)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def shared_real(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Real]:
    """One default server per backend (SQLite + disk, PostgreSQL + disk) for the whole run,
    for the modules that need no server of their own: each test makes its own random
    accounts and checks only its own rows (tests/server/conftest.py provides it)."""
    db = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    with real_server(tmp_path_factory.mktemp(f"shared-{request.param}") / "data", db) as r:
        yield r


def new_id() -> str:
    return secrets.token_hex(16)
