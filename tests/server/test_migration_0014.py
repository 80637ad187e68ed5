"""Revision 0014 (re-shares) on a database made before it: the grant columns `reshare`
(false for every existing grant) and `granted_by` (null) are added (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from blindvault.server.app import build
from blindvault.server.storage.db import make_engine

PG_ADMIN = os.environ.get("BLINDVAULT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None
        return
    name = f"bv_mig_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_upgrade_from_0011(db_url: str | None, tmp_path: Path) -> None:
    url = db_url
    app = build(tmp_path, url, None)
    engine = app.state.ctx.engine
    with engine.begin() as conn:  # make it look like a database of revision 0011
        for column in ("reshare", "granted_by"):
            conn.execute(text(f"ALTER TABLE grants DROP COLUMN {column}"))
        conn.execute(text("UPDATE alembic_version SET version_num = '0011'"))
        conn.execute(
            text(
                "INSERT INTO grants (id, owner, space, member, role, envelope, accepted, "
                "created_at, updated_at) VALUES (:i, :o, :s, :m, 'read', :e, false, 0, 0)"
            ),
            {"i": "a" * 32, "o": "b" * 32, "s": "c" * 32, "m": "d" * 32, "e": b"x"},
        )
    engine.dispose()
    app = build(tmp_path, url, None)  # migrates to head again
    engine = make_engine(url or f"sqlite:///{tmp_path / 'blindvault.sqlite3'}")
    with engine.begin() as conn:
        row = conn.execute(
            text("SELECT reshare, granted_by FROM grants WHERE id = :i"), {"i": "a" * 32}
        ).one()
    assert not row.reshare and row.granted_by is None
    engine.dispose()
    app.state.ctx.engine.dispose()
