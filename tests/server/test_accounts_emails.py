"""Issue 12 item 7: prelogin is byte-identical for unknown and known emails; one mailbox is
one account (NFKC, IDNA, trailing dot; invisible and control characters refused; NUL is a
400, never a 500 on PostgreSQL). Real server processes, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import secrets
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import httpx
import idna
import psycopg
import pytest
import sqlalchemy as sa

from helpers.accounts import PG_ADMIN, Server, b64, code, new_account, signup_body
from helpers.servers import start_server, stop


def _without_request_id(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k not in ("x-request-id", "date")}


def test_prelogin_is_byte_identical_for_unknown_and_known_emails(server: Server) -> None:
    with server.client() as c:
        known = new_account(c, login=False)
        a = c.post("/v1/prelogin", json={"email": known.email})
        b = c.post("/v1/prelogin", json={"email": f"nobody{secrets.token_hex(4)}@example.org"})
        assert a.status_code == b.status_code == 200
        assert a.content == b.content
        assert _without_request_id(dict(a.headers)) == _without_request_id(dict(b.headers))
        # other parameters: the same field order and types as the default answer
        strong = {"alg": "argon2id", "p": 4, "t": 4, "m": 131072}
        email = f"strong{secrets.token_hex(4)}@example.org"
        body = signup_body(email, os.urandom(32), os.urandom(32), kdf=strong)
        assert c.post("/v1/accounts", json=body).status_code == 201
        r = c.post("/v1/prelogin", json={"email": email})
        assert r.content == b'{"kdf":{"alg":"argon2id","m":131072,"t":4,"p":4}}'


LOOK_ALIKES = [
    "\uff21\uff2c\uff29\uff23\uff25@{d}",  # full-width letters (NFKC)
    "alice@{D}.",  # trailing dot, upper case
    "alice@{d}.".replace(
        "example", "\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45"
    ),  # full-width domain
    "ali\u200bce@{d}",  # zero-width space
    "alice\u200d@{d}",  # zero-width joiner
    "al\u00adice@{d}",  # soft hyphen
    "\ufeffalice@{d}",  # byte-order mark
    "alice@{d}\u200b",
    "alice\x01@{d}",  # control character
    "alice\x00@{d}",  # NUL
    "alice @{d}",
]


def test_look_alike_emails_map_to_one_account_or_are_refused(server: Server) -> None:
    domain = f"example{secrets.token_hex(3)}.org"
    with server.client() as c:
        original = signup_body(f"alice@{domain}", os.urandom(32), os.urandom(32))
        assert c.post("/v1/accounts", json=original).status_code == 201
        answers = {}
        for pattern in LOOK_ALIKES:
            email = pattern.format(d=domain, D=domain.upper())
            r = c.post("/v1/accounts", json={**original, "email": email})
            answers[email] = (r.status_code, code(r))
        assert all(a in {(409, "conflict"), (400, "invalid_request")} for a in answers.values()), (
            answers
        )
        assert sum(a[0] == 409 for a in answers.values()) == 3  # NFKC, dot/case, width
        # an internationalised domain: U-label, upper case and A-label are one mailbox
        idn = f"bücher{secrets.token_hex(3)}.de"
        first = {**original, "email": f"bob@{idn}"}
        assert c.post("/v1/accounts", json=first).status_code == 201
        for alias in (f"bob@{idn.upper()}", "bob@" + idna.encode(idn, uts46=True).decode()):
            r = c.post("/v1/accounts", json={**original, "email": alias})
            assert (r.status_code, code(r)) == (409, "conflict"), alias


def test_nul_and_control_characters_are_a_400_everywhere(server: Server) -> None:
    bad = "eve\x00@example.org"
    with server.client() as c:
        acct = new_account(c)
        calls = [
            c.post("/v1/prelogin", json={"email": bad}),
            c.post("/v1/sessions", json={"email": bad, "auth_key": b64(os.urandom(32))}),
            c.post(
                "/v1/recovery/sessions",
                json={"email": bad, "recovery_auth_key": b64(os.urandom(32))},
            ),
            c.post("/v1/accounts", json=signup_body(bad, os.urandom(32), os.urandom(32))),
            c.get("/v1/identities/" + urllib.parse.quote(bad), headers=acct.h),
            c.post(
                "/v1/sessions",
                json={"email": acct.email, "auth_key": b64(acct.auth), "device_name": "a\x00b"},
            ),
        ]
    assert [(r.status_code, code(r)) for r in calls] == [(400, "invalid_request")] * len(calls)


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, str | None]]:
    """A data folder and, on PostgreSQL, a database of its own (the migration is re-run)."""
    if request.param == "sqlite":
        yield tmp_path / "data", None
        return
    name = f"bv_test_mig_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield tmp_path / "data", f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_migration_makes_stored_emails_canonical(fresh_db: tuple[Path, str | None]) -> None:
    """Accounts stored before 0005 (lower-cased only) are found by their canonical address."""
    data, db = fresh_db
    extra = ["--db", db] if db else []
    stored = {
        "carol@example.org": "carol@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.org",
        "dave@xn--bcher-kva.de": "dave@bücher.de",
    }
    keys = {email: os.urandom(32) for email in stored}
    proc, url = start_server(data, *extra)
    try:
        for email, key in keys.items():
            body = signup_body(email, key, os.urandom(32))
            assert httpx.post(url + "/v1/accounts", json=body).status_code == 201
    finally:
        stop(proc)
    engine = sa.create_engine(
        db.replace("postgresql://", "postgresql+psycopg://")
        if db
        else f"sqlite:///{data / 'blindvault.sqlite3'}"
    )
    with engine.begin() as conn:  # as 63c05b2 stored them, and before revision 0005
        for canonical, old in stored.items():
            conn.execute(
                sa.text("UPDATE accounts SET email = :old WHERE email = :new"),
                {"old": old, "new": canonical},
            )
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0002'"))
    engine.dispose()
    proc, url = start_server(data, *extra)
    try:
        for canonical, old in stored.items():
            for typed in (canonical, old):
                r = httpx.post(
                    url + "/v1/sessions", json={"email": typed, "auth_key": b64(keys[canonical])}
                )
                assert r.status_code == 201, (typed, r.text)
    finally:
        stop(proc)
