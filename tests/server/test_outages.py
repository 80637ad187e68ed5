"""The database going away: a clean 503, then service again once it is back."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient

from blindvault.server.app import build, create_app
from blindvault.server.context import Limits, ServerContext
from blindvault.server.storage.blobstore import LocalBlobStore
from blindvault.server.storage.db import make_engine


def test_unreachable_database_is_a_503(tmp_path: Path) -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:9/nowhere")
    app = create_app(ServerContext(engine, LocalBlobStore(tmp_path), Limits()))
    with TestClient(app) as client:
        r = client.post("/v1/prelogin", json={"email": "a@example.org"})
        assert r.status_code == 503
        assert r.json()["error"]["code"] == "unavailable"
        assert "Traceback" not in r.text
    engine.dispose()


def test_terminated_connections_recover(tmp_path: Path, pg_url: str) -> None:
    app = build(tmp_path, pg_url, None)
    with TestClient(app) as client:
        email = f"pg{secrets.token_hex(4)}@example.org"
        auth = base64.b64encode(os.urandom(32)).decode()
        body = {
            "email": email,
            "kdf": {"alg": "argon2id", "m": 65536, "t": 3, "p": 4},
            "auth_key": auth,
            "key_bundle": "eA==",
            "identity_bundle": "eQ==",
        }
        assert client.post("/v1/accounts", json=body).status_code == 201
        dbname = pg_url.rsplit("/", 1)[1]
        with psycopg.connect(pg_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (dbname,),
            )
        # the pool notices dead connections (pre-ping) and the next requests succeed
        for _ in range(3):
            r = client.post("/v1/prelogin", json={"email": email})
            assert r.status_code in (200, 503)
        assert client.post("/v1/prelogin", json={"email": email}).status_code == 200
        assert (
            client.post("/v1/sessions", json={"email": email, "auth_key": auth}).status_code == 201
        )
    app.state.ctx.engine.dispose()
