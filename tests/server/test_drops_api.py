"""Upload-only links (issue 19), the server's side, on SQLite + local disk and on
PostgreSQL + SeaweedFS: a drop is staged then committed (visible whole or not at all),
counted against the link's limit and the owner's quota, refused when oversized, malformed,
for another link, replayed, past the count, after revocation; the owner reads and removes
it; the bytes go with it."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from blindvault.server.app import build
from blindvault.server.context import Limits
from blindvault.server.storage.schema import accounts, link_drops
from helpers.servers import s3_spec

LIMITS = Limits(default_quota=1 << 20, max_drop=200_000)


@pytest.fixture(scope="module", params=["sqlite-local", "postgres-s3"])
def client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("drops")
    if request.param == "sqlite-local":
        app = build(data, None, None, LIMITS)
    else:
        pg, s3 = request.getfixturevalue("pg_url"), s3_spec(request.getfixturevalue("weed"))
        app = build(data, pg, s3, LIMITS)
    with TestClient(app) as c:
        yield c
    app.state.ctx.engine.dispose()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _owner(c: TestClient) -> dict[str, str]:
    email, auth = f"o{os.urandom(5).hex()}@example.org", b64(os.urandom(32))
    body = {"email": email, "kdf": {"alg": "argon2id", "m": 65536, "t": 3, "p": 4},
            "auth_key": auth, "key_bundle": b64(b"kb"), "identity_bundle": b64(b"id")}  # fmt: skip
    assert c.post("/v1/accounts", json=body).status_code == 201
    r = c.post("/v1/sessions", json={"email": email, "auth_key": auth})
    # the email rides along as a harmless extra header; _quota_used reads it
    return {"Authorization": f"Bearer {r.json()['token']}", "email": email}


def _link(c: TestClient, h: dict[str, str], **extra: object) -> tuple[bytes, str]:
    raw, token = os.urandom(16), b64u(os.urandom(32))
    body = {"id": b64u(raw), "token": token, "descriptor": b64(b"d" * 80), "kind": "drop",
            "owner_note": b64(b"n" * 80), **extra}  # fmt: skip
    r = c.post("/v1/links", json=body, headers=h)
    assert r.status_code == 201, r.text
    return raw, token


def _drop(raw: bytes, size: int = 300) -> bytes:
    return b"BVDP\x01" + raw + os.urandom(16) + os.urandom(size)


def _rows(c: TestClient) -> int:
    with c.app.state.ctx.engine.begin() as conn:  # type: ignore[attr-defined]
        return int(conn.execute(select(func.count()).select_from(link_drops)).scalar_one())


def _quota_used(c: TestClient, h: dict[str, str]) -> int:
    with c.app.state.ctx.engine.begin() as conn:  # type: ignore[attr-defined]
        used = conn.execute(select(accounts.c.used_bytes).where(accounts.c.email == h["email"]))
        return int(used.scalar_one())


def test_a_drop_is_taken_whole_counted_and_removed(client: TestClient) -> None:
    h = _owner(client)
    raw, token = _link(client, h, max_uploads=2, max_drop_size=100_000)
    where, holder = f"/v1/l/{b64u(raw)}/drops", {"X-Link-Token": token}
    before_rows, before_used = _rows(client), _quota_used(client, h)
    body = _drop(raw, 5000)
    r = client.post(where, content=body, headers=holder)
    assert r.status_code == 201, r.text
    drop = r.json()["id"]
    assert r.json()["size"] == len(body)
    assert _quota_used(client, h) == before_used + len(body)
    listed = client.get("/v1/drops", headers=h).json()["drops"]
    assert [(d["id"], d["link"], d["size"]) for d in listed] == [(drop, b64u(raw), len(body))]
    assert base64.b64decode(listed[0]["note"]) == b"n" * 80
    assert client.get(f"/v1/drops/{drop}", headers=h).content == body
    # refused, and nothing left of them: replay, oversized, malformed, other link
    assert client.post(where, content=body, headers=holder).status_code == 409
    assert client.post(where, content=_drop(raw, 150_000), headers=holder).status_code == 413
    assert client.post(where, content=b"BVDP\x01" + raw, headers=holder).status_code == 400
    assert client.post(where, content=_drop(os.urandom(16)), headers=holder).status_code == 400
    assert _rows(client) == before_rows + 1
    assert _quota_used(client, h) == before_used + len(body)
    # the count: one more, then 410
    assert client.post(where, content=_drop(raw), headers=holder).status_code == 201
    r = client.post(where, content=_drop(raw), headers=holder)
    assert r.status_code == 410 and r.json()["error"]["code"] == "link_exhausted"
    # the owner removes them: row, bytes, quota
    for d in client.get("/v1/drops", headers=h).json()["drops"]:
        assert client.delete(f"/v1/drops/{d['id']}", headers=h).status_code == 204
    assert client.get(f"/v1/drops/{drop}", headers=h).status_code == 404
    assert client.get("/v1/drops", headers=h).json()["drops"] == []
    assert _quota_used(client, h) == before_used


def test_revoked_link_and_full_quota_refuse(client: TestClient) -> None:
    h = _owner(client)
    raw, token = _link(client, h)
    where, holder = f"/v1/l/{b64u(raw)}/drops", {"X-Link-Token": token}
    # the quota (1 MiB here) counts drops: the sixth 190 kB drop does not fit
    codes = [client.post(where, content=_drop(raw, 190_000), headers=holder).status_code
             for _ in range(6)]  # fmt: skip
    assert codes == [201] * 5 + [507]
    assert len(client.get("/v1/drops", headers=h).json()["drops"]) == 5
    assert client.delete(f"/v1/links/{b64u(raw)}", headers=h).status_code == 204
    r = client.post(where, content=_drop(raw), headers=holder)
    assert r.status_code == 410 and r.json()["error"]["code"] == "link_revoked"
    # drops received before the revocation stay the owner's to take
    assert len(client.get("/v1/drops", headers=h).json()["drops"]) == 5
