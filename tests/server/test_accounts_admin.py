"""Issue 12 item 4, operator controls: `blindvault server --signup closed|open|invite`,
`blindvault admin invite`, `blindvault admin quota EMAIL SIZE`. Real server processes,
SQLite and PostgreSQL; the admin command runs against the same database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.accounts import Server, code, new_account, run_server, server, signup_body

__all__ = ["server"]


def _server(request: pytest.FixtureRequest, tmp: Path, mode: str) -> Iterator[Server]:
    yield from run_server(request, tmp, request.param, "--signup", mode)


@pytest.fixture(params=["sqlite", "postgres"])
def closed_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    yield from _server(request, tmp_path, "closed")


@pytest.fixture(params=["sqlite", "postgres"])
def invite_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    yield from _server(request, tmp_path, "invite")


def _body() -> dict[str, object]:
    return signup_body(f"n{os.urandom(5).hex()}@example.org", os.urandom(32), os.urandom(32))


def test_closed_signup(closed_server: Server) -> None:
    with closed_server.client() as c:
        r = c.post("/v1/accounts", json=_body())
    assert (r.status_code, code(r)) == (403, "signup_closed")


def test_invite_codes_are_single_use(invite_server: Server) -> None:
    with invite_server.client() as c:
        r = c.post("/v1/accounts", json=_body())
        assert (r.status_code, code(r)) == (403, "invite_required")
        r = c.post("/v1/accounts", json={**_body(), "invite": "inv_made-up"})
        assert (r.status_code, code(r)) == (403, "invite_invalid")
        made = invite_server.admin("invite")
        assert made.returncode == 0, made.stderr
        invite = made.stdout.strip()
        assert invite.startswith("inv_")
        first = _body()
        assert c.post("/v1/accounts", json={**first, "invite": invite}).status_code == 201
        # a failed signup does not use a code up; a used code makes no second account
        r = c.post("/v1/accounts", json={**first, "invite": invite})
        assert (r.status_code, code(r)) == (409, "conflict")
        r = c.post("/v1/accounts", json={**_body(), "invite": invite})
        assert (r.status_code, code(r)) == (403, "invite_invalid")


def test_admin_sets_a_quota(server: Server) -> None:
    with server.client() as c:
        acct = new_account(c)
        done = server.admin("quota", acct.email, "1MiB")
        assert done.returncode == 0, done.stderr
        assert c.get("/v1/account", headers=acct.h).json()["quota_bytes"] == 1 << 20
        r = c.put(
            "/v1/blobs/" + os.urandom(16).hex(),
            headers={**acct.h, "Content-Type": "application/octet-stream"},
            content=os.urandom(2 << 20),
        )
        assert (r.status_code, code(r)) == (507, "quota_exceeded"), r.text
    assert server.admin("quota", acct.email, "lots").returncode == 2
    assert server.admin("quota", "nobody@example.org", "1G").returncode == 4
