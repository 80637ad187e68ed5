"""The short path's own token check (`domain.batchtokens`, PostgreSQL's path in
`server/fastwrite.py`), without a server: a record write handed to the group commit the
way `FastRecordPut` hands it (no scope, the bearer token's hash and life), on a real
database made by the migrations. Every device row here was seen "in the future", so none
is ever due for the `last_seen` refresh that sends a write to the application: only the
token check itself can refuse these writes (tests/mutation_map.toml: batchtokens.*)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select

from blindvault.server.domain.batchtokens import NotHereError
from blindvault.server.domain.credentials import new_id, token_hash
from blindvault.server.domain.recordwrite import Cas, apply
from blindvault.server.errors import ApiError
from blindvault.server.storage.db import make_engine, migrate
from blindvault.server.storage.groupcommit import GroupCommit
from blindvault.server.storage.schema import accounts, devices, records

TTL = 3600.0  # the token life the short path hands on (--token-ttl)
HOUR = 3600.0


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'blindvault.sqlite3'}")
    migrate(eng)
    try:
        yield eng
    finally:
        eng.dispose()


def _device(engine: Engine, *, age: float = 0.0, revoked: bool = False) -> tuple[str, str]:
    """A new account with one device signed in `age` seconds ago: (account id, token)."""
    account, token, now = new_id(), new_id(), time.time()
    with engine.begin() as conn:
        conn.execute(
            insert(accounts).values(
                id=account, email=f"{account}@example.org", kdf="{}", auth_hash="x",
                key_bundle=b"x", key_bundle_version=1, identity_bundle=b"x",
                quota_bytes=1 << 20, used_bytes=0, created_at=now - age,
            )
        )  # fmt: skip
        conn.execute(
            insert(devices).values(
                id=new_id(), account_id=account, name="laptop", token_hash=token_hash(token),
                created_at=now - age, last_seen=now + HOUR, revoked=revoked,
            )
        )  # fmt: skip
    return account, token


def _write(engine: Engine, token: str) -> tuple[str, ApiError | None]:
    """One short-path write of a new manifest with `token`: (its record id, its refusal)."""
    record_id = new_id()
    cas = Cas(None, "manifest", record_id, 0, b"sealed", token_hash(token), TTL)
    try:
        GroupCommit(engine, apply).run(cas)
    except ApiError as exc:
        return record_id, exc
    return record_id, None


def _stored(engine: Engine, record_id: str) -> int:
    with engine.connect() as conn:
        found = conn.execute(select(func.count()).where(records.c.id == record_id)).scalar()
    return int(found or 0)


def test_a_live_token_writes_in_its_own_namespace(engine: Engine) -> None:
    account, token = _device(engine)
    record_id, refused = _write(engine, token)
    assert refused is None
    with engine.connect() as conn:
        owner = conn.execute(select(records.c.owner).where(records.c.id == record_id)).scalar()
    assert owner == account


@pytest.mark.parametrize("how", ["unknown", "revoked"])
def test_an_unknown_or_revoked_token_writes_nothing(engine: Engine, how: str) -> None:
    _, token = _device(engine, revoked=how == "revoked")
    record_id, refused = _write(engine, token if how == "revoked" else new_id())
    assert refused is not None and not isinstance(refused, NotHereError)
    assert (refused.status, refused.body()["error"]["code"]) == (401, "unauthorized")
    assert _stored(engine, record_id) == 0


def test_an_expired_token_writes_nothing(engine: Engine) -> None:
    _, token = _device(engine, age=TTL + 60)
    record_id, refused = _write(engine, token)
    assert refused is not None and not isinstance(refused, NotHereError)
    assert refused.status == 401 and "expired" in refused.body()["error"]["message"]
    assert _stored(engine, record_id) == 0
