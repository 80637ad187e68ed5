"""Helpers of the accounts tests: a real server process per backend, clients that connect
from chosen loopback addresses (the server sees each as a different client), accounts."""

from __future__ import annotations

import base64
import itertools
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers.servers import start_server, stop

PG_ADMIN = os.environ.get("BLINDVAULT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
DEFAULT_KDF = {"alg": "argon2id", "m": 65536, "t": 3, "p": 4}
_addresses = itertools.count(2)


def fresh_address() -> str:
    """A loopback address no other test of this run uses (127.0.0.0/8 all reach the server)."""
    n = next(_addresses) + (os.getpid() % 200) * 250
    return f"127.{40 + n // 62500 % 200}.{n // 250 % 250}.{n % 250 + 2}"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass
class Server:
    url: str
    data: Path
    db: str | None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def client(self, address: str | None = None) -> httpx.Client:
        transport = httpx.HTTPTransport(local_address=address or fresh_address())
        return httpx.Client(base_url=self.url, transport=transport, timeout=60.0)

    def admin(self, *args: str) -> subprocess.CompletedProcess[str]:
        db = ["--db", self.db] if self.db else []
        return subprocess.run(
            [sys.executable, "-m", "blindvault", "admin", "--data", str(self.data), *db, *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def run_server(
    request: pytest.FixtureRequest, tmp: Path, backend: str, *extra: str
) -> Iterator[Server]:
    data = tmp / "data"
    db = request.getfixturevalue("pg_url") if backend == "postgres" else None
    args = [*extra, *(["--db", db] if db else [])]
    proc, url = start_server(data, *args)
    try:
        yield Server(url, data, db, proc)
    finally:
        stop(proc)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """An open-signup server on each backend (signups per address raised for the tests)."""
    tmp = tmp_path_factory.mktemp(f"accounts-{request.param}")
    yield from run_server(request, tmp, request.param, "--signups-per-address", "100000")


@dataclass
class Account:
    email: str
    auth: bytes
    recovery: bytes
    token: str = ""

    @property
    def h(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def signup_body(email: str, auth: bytes, recovery: bytes, **extra: Any) -> dict[str, Any]:
    return {
        "email": email,
        "kdf": DEFAULT_KDF,
        "auth_key": b64(auth),
        "recovery_auth_key": b64(recovery),
        "key_bundle": b64(b"bundle-v1"),
        "identity_bundle": b64(b"identity"),
        **extra,
    }


def new_account(c: httpx.Client, *, login: bool = True, **extra: Any) -> Account:
    acct = Account(f"u{secrets.token_hex(6)}@example.org", os.urandom(32), os.urandom(32))
    r = c.post("/v1/accounts", json=signup_body(acct.email, acct.auth, acct.recovery, **extra))
    assert r.status_code == 201, r.text
    if login:
        acct.token = log_in(c, acct)
    return acct


def log_in(c: httpx.Client, acct: Account, **extra: Any) -> str:
    r = c.post("/v1/sessions", json={"email": acct.email, "auth_key": b64(acct.auth), **extra})
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


def code(r: httpx.Response) -> str:
    return str(r.json()["error"]["code"])
