"""The HTTP API, on SQLite + local disk and on PostgreSQL + SeaweedFS."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from blindvault.server.app import build
from blindvault.server.context import Limits
from blindvault.server.domain.audit import entry_hash
from blindvault.server.domain.credentials import totp
from helpers.servers import s3_spec

MIB = 1 << 20
LIMITS = Limits(part_size=5 * MIB, default_quota=40 * MIB, login_failures=5)


@pytest.fixture(scope="module", params=["sqlite-local", "postgres-s3"])
def client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("server")
    if request.param == "sqlite-local":
        app = build(data, None, None, LIMITS)
    else:
        app = build(
            data,
            request.getfixturevalue("pg_url"),
            s3_spec(request.getfixturevalue("weed")),
            LIMITS,
        )
    with TestClient(app) as c:
        yield c
    app.state.ctx.engine.dispose()


@pytest.fixture(autouse=True)
def _fresh_rate_limits(client: TestClient) -> None:
    """Failed logins of one test must not rate-limit the next (same test address)."""
    from sqlalchemy import delete

    from blindvault.server.storage.schema import login_failures

    with client.app.state.ctx.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(delete(login_failures))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def new_id() -> str:
    return secrets.token_hex(16)


class User:
    def __init__(self, client: TestClient) -> None:
        self.c = client
        self.email = f"u{secrets.token_hex(5)}@example.org"
        self.auth = os.urandom(32)
        r = client.post(
            "/v1/accounts",
            json={
                "email": self.email,
                "kdf": {"alg": "argon2id", "m": 65536, "t": 3, "p": 4},
                "auth_key": b64(self.auth),
                "recovery_auth_key": b64(b"r" * 32),
                "key_bundle": b64(b"bundle-v1"),
                "identity_bundle": b64(b"identity"),
            },
        )
        assert r.status_code == 201, r.text
        self.token = self.login()

    def login(self, **extra: Any) -> str:
        r = self.c.post(
            "/v1/sessions",
            json={"email": self.email, "auth_key": b64(self.auth), "device_name": "test", **extra},
        )
        assert r.status_code == 201, r.text
        return str(r.json()["token"])

    @property
    def h(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def error_code(r: Any) -> str:
    return str(r.json()["error"]["code"])


def test_prelogin_signup_login_logout(client: TestClient) -> None:
    unknown = client.post("/v1/prelogin", json={"email": "nobody@example.org"}).json()
    assert unknown["kdf"] == {"alg": "argon2id", "m": 65536, "t": 3, "p": 4}
    u = User(client)
    assert client.post("/v1/prelogin", json={"email": u.email.upper()}).json()["kdf"]["m"] == 65536
    me = client.get("/v1/account", headers=u.h).json()
    assert me["email"] == u.email
    assert base64.b64decode(me["key_bundle"]) == b"bundle-v1"
    bad = client.post("/v1/sessions", json={"email": u.email, "auth_key": b64(os.urandom(32))})
    assert bad.status_code == 401
    assert error_code(bad) == "unauthorized"
    nobody = client.post("/v1/sessions", json={"email": "x" + u.email, "auth_key": b64(u.auth)})
    assert nobody.status_code == 401
    assert nobody.json() == bad.json()  # no account-existence oracle
    dup = client.post(
        "/v1/accounts",
        json={
            "email": u.email,
            "kdf": {"alg": "pbkdf2-sha256", "i": 600000},
            "auth_key": b64(u.auth),
            "key_bundle": b64(b"x"),
            "identity_bundle": b64(b"y"),
        },
    )
    assert dup.status_code == 409
    assert client.delete("/v1/sessions/current", headers=u.h).status_code == 204
    assert client.get("/v1/account", headers=u.h).status_code == 401


def test_devices_listed_and_revoked(client: TestClient) -> None:
    u = User(client)
    other = u.login()
    devices = client.get("/v1/devices", headers=u.h).json()["devices"]
    assert len(devices) == 2
    victim = next(d for d in devices if not d["current"])
    assert client.delete(f"/v1/devices/{victim['id']}", headers=u.h).status_code == 204
    assert (
        client.get("/v1/account", headers={"Authorization": f"Bearer {other}"}).status_code == 401
    )
    stranger = User(client)
    assert client.delete(f"/v1/devices/{devices[0]['id']}", headers=stranger.h).status_code == 404


def test_records_compare_and_swap(client: TestClient) -> None:
    u, v = User(client), User(client)
    rid = new_id()
    url = f"/v1/records/manifest/{rid}"
    assert (
        client.put(url, headers=u.h, json={"expected_version": 0, "data": b64(b"v1")}).json()[
            "version"
        ]
        == 1
    )
    stale = client.put(url, headers=u.h, json={"expected_version": 0, "data": b64(b"again")})
    assert stale.status_code == 409
    assert stale.json()["error"] == {
        "code": "stale_version",
        "message": "the record changed meanwhile",
        "current_version": 1,
    }
    assert (
        client.put(url, headers=u.h, json={"expected_version": 1, "data": b64(b"v2")}).json()[
            "version"
        ]
        == 2
    )
    assert (
        client.put(url, headers=u.h, json={"expected_version": 1, "data": b64(b"x")}).status_code
        == 409
    )
    got = client.get(url, headers=u.h).json()
    assert (got["version"], base64.b64decode(got["data"])) == (2, b"v2")
    # another user's record: 404, exactly like a missing one
    assert client.get(url, headers=v.h).status_code == 404
    assert (
        client.get(f"/v1/records/manifest/{new_id()}", headers=v.h).json()
        == client.get(url, headers=v.h).json()
    )
    batch = client.post(
        "/v1/records/batch-get",
        headers=u.h,
        json={"items": [{"kind": "manifest", "id": rid}, {"kind": "manifest", "id": new_id()}]},
    ).json()
    assert [r["id"] for r in batch["records"]] == [rid]
    assert client.get("/v1/records/manifest", headers=u.h).json()["records"] == [
        {"id": rid, "version": 2}
    ]
    assert client.delete(url, headers=u.h, params={"expected_version": 1}).status_code == 409
    assert client.delete(url, headers=u.h, params={"expected_version": 2}).status_code == 204
    assert client.get(url, headers=u.h).status_code == 404


def test_small_blob_and_ranges(client: TestClient) -> None:
    u, v = User(client), User(client)
    bid, data = new_id(), os.urandom(100_000)
    assert client.put(f"/v1/blobs/{bid}", headers=u.h, content=data).status_code == 201
    assert client.put(f"/v1/blobs/{bid}", headers=u.h, content=data).status_code == 409
    assert client.get(f"/v1/blobs/{bid}", headers=u.h).content == data
    r = client.get(f"/v1/blobs/{bid}", headers={**u.h, "Range": "bytes=10-19"})
    assert (r.status_code, r.content, r.headers["content-range"]) == (
        206,
        data[10:20],
        "bytes 10-19/100000",
    )
    assert client.get(f"/v1/blobs/{bid}", headers={**u.h, "Range": "bytes=-5"}).content == data[-5:]
    assert (
        client.get(f"/v1/blobs/{bid}", headers={**u.h, "Range": "bytes=999999-"}).status_code == 416
    )
    assert client.get(f"/v1/blobs/{bid}", headers=v.h).status_code == 404
    assert client.head(f"/v1/blobs/{bid}", headers=u.h).headers["content-length"] == "100000"
    assert client.get("/v1/account", headers=u.h).json()["used_bytes"] == 100_000
    assert client.delete(f"/v1/blobs/{bid}", headers=u.h).status_code == 204
    assert client.get(f"/v1/blobs/{bid}", headers=u.h).status_code == 404
    assert client.get("/v1/account", headers=u.h).json()["used_bytes"] == 0


def test_resumable_upload_is_atomic(client: TestClient) -> None:
    u = User(client)
    bid, data = new_id(), os.urandom(11 * MIB + 3)
    start = client.post("/v1/uploads", headers=u.h, json={"blob_id": bid, "size": len(data)}).json()
    up, part = start["upload_id"], start["part_size"]
    assert start["parts"] == 3
    assert (
        client.put(f"/v1/uploads/{up}/parts/1", headers=u.h, content=data[:part]).status_code == 200
    )
    # interrupted: the blob is not visible, commit refuses, status tells what is missing
    assert client.get(f"/v1/blobs/{bid}", headers=u.h).status_code == 404
    missing = client.post(f"/v1/uploads/{up}/commit", headers=u.h)
    assert (missing.status_code, missing.json()["error"]["missing"]) == (409, [2, 3])
    status = client.get(f"/v1/uploads/{up}", headers=u.h).json()
    assert [p["number"] for p in status["received"]] == [1]
    # resume; a wrong-sized part is refused
    assert client.put(f"/v1/uploads/{up}/parts/3", headers=u.h, content=b"short").status_code in (
        400,
        413,
    )
    client.put(f"/v1/uploads/{up}/parts/3", headers=u.h, content=data[2 * part :])
    client.put(f"/v1/uploads/{up}/parts/2", headers=u.h, content=data[part : 2 * part])
    assert client.post(f"/v1/uploads/{up}/commit", headers=u.h).status_code == 201
    got = client.get(f"/v1/blobs/{bid}", headers=u.h).content
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    assert client.get(f"/v1/uploads/{up}", headers=u.h).status_code == 404


def test_quota(client: TestClient) -> None:
    u = User(client)
    r = client.post("/v1/uploads", headers=u.h, json={"blob_id": new_id(), "size": 41 * MIB})
    assert (r.status_code, error_code(r)) == (507, "quota_exceeded")
    ok = client.post(
        "/v1/uploads", headers=u.h, json={"blob_id": new_id(), "size": 30 * MIB}
    ).json()
    assert (
        client.post(
            "/v1/uploads", headers=u.h, json={"blob_id": new_id(), "size": 20 * MIB}
        ).status_code
        == 507
    )
    assert client.delete(f"/v1/uploads/{ok['upload_id']}", headers=u.h).status_code == 204
    assert client.get("/v1/account", headers=u.h).json()["used_bytes"] == 0


def test_bad_input_is_a_clear_4xx(client: TestClient) -> None:
    u = User(client)
    cases = [
        (client.get("/v1/account"), 401),
        (client.get("/v1/account", headers={"Authorization": "Bearer nope"}), 401),
        (client.get("/v1/records/manifest/not-an-id", headers=u.h), 400),
        (client.get(f"/v1/records/BAD/{new_id()}", headers=u.h), 400),
        (
            client.post(
                "/v1/sessions", content=b"{not json", headers={"content-type": "application/json"}
            ),
            422,
        ),
        (client.post("/v1/accounts", json={"email": "a@b.c"}), 422),
        (
            client.put(
                f"/v1/records/manifest/{new_id()}",
                headers=u.h,
                json={"expected_version": 0, "data": "!!"},
            ),
            400,
        ),
        (
            client.put(
                f"/v1/records/manifest/{new_id()}",
                headers=u.h,
                json={"expected_version": -1, "data": ""},
            ),
            422,
        ),
        (client.put(f"/v1/blobs/{new_id()}", headers=u.h, content=b"x" * (8 * MIB + 1)), 413),
        (client.post("/v1/uploads", headers=u.h, json={"blob_id": new_id(), "size": 2**50}), 413),
        (client.get("/v1/nowhere"), 404),
    ]
    for response, status in cases:
        assert response.status_code == status, response.text
        body = response.json()
        assert set(body) == {"error"}
        assert body["error"]["code"] and body["error"]["message"]
        assert "Traceback" not in response.text


def test_key_bundle_change_is_cas_and_signs_out_other_devices(client: TestClient) -> None:
    u = User(client)
    other = u.login()
    new_auth = os.urandom(32)
    r = client.put(
        "/v1/account/keys",
        headers=u.h,
        json={
            "expected_version": 1,
            "key_bundle": b64(b"bundle-v2"),
            "auth_key": b64(new_auth),
            "proof": {"auth_key": b64(u.auth)},
        },
    )
    assert r.json() == {"key_bundle_version": 2}
    stale = client.put(
        "/v1/account/keys",
        headers=u.h,
        json={"expected_version": 1, "key_bundle": b64(b"x"), "proof": {"auth_key": b64(new_auth)}},
    )
    assert (stale.status_code, stale.json()["error"]["current_version"]) == (409, 2)
    assert (
        client.get("/v1/account", headers={"Authorization": f"Bearer {other}"}).status_code == 401
    )
    assert (
        client.post("/v1/sessions", json={"email": u.email, "auth_key": b64(u.auth)}).status_code
        == 401
    )
    u.auth = new_auth
    u.login()
    changed = [
        e["detail"]
        for e in client.get("/v1/audit", headers=u.h).json()["entries"]
        if e["event"] == "key_bundle_changed"
    ]
    assert changed[-1]["password"] is True  # the audit log says the password changed
    entries = client.get("/v1/audit", headers=u.h).json()["entries"]
    said = [e["detail"] for e in entries if e["event"] == "password_changed"]
    assert said == [{"proof": "password"}]  # its own event, right after the key change


def test_recovery_login(client: TestClient) -> None:
    u = User(client)
    r = client.post(
        "/v1/recovery/sessions", json={"email": u.email, "recovery_auth_key": b64(b"r" * 32)}
    )
    assert r.status_code == 201
    assert (
        client.post(
            "/v1/recovery/sessions", json={"email": u.email, "recovery_auth_key": b64(b"q" * 32)}
        ).status_code
        == 401
    )


def test_totp(client: TestClient) -> None:
    u = User(client)
    secret = base64.b32encode(os.urandom(20)).decode().rstrip("=")
    assert (
        client.put(
            "/v1/account/totp",
            headers=u.h,
            json={"secret": secret, "code": "000000" if totp(secret) != "000000" else "111111"},
        ).status_code
        == 400
    )
    # enabled with the previous step's code (the current one is then still unused)
    enable = {"secret": secret, "code": totp(secret, time.time() - 30)}
    assert (
        client.put(
            "/v1/account/totp", headers=u.h, json={**enable, "proof": {"auth_key": b64(u.auth)}}
        ).status_code
        == 204
    )
    r = client.post("/v1/sessions", json={"email": u.email, "auth_key": b64(u.auth)})
    assert (r.status_code, error_code(r)) == (401, "totp_required")
    u.login(totp=totp(secret))


def test_login_rate_limit(client: TestClient) -> None:
    u = User(client)
    for _ in range(5):
        client.post("/v1/sessions", json={"email": u.email, "auth_key": b64(os.urandom(32))})
    r = client.post("/v1/sessions", json={"email": u.email, "auth_key": b64(u.auth)})
    assert (r.status_code, error_code(r)) == (429, "rate_limited")
    assert int(r.headers["retry-after"]) > 0


def test_audit_log_is_a_hash_chain(client: TestClient) -> None:
    u = User(client)
    client.put(
        f"/v1/records/manifest/{new_id()}",
        headers=u.h,
        json={"expected_version": 0, "data": b64(b"x")},
    )
    entries = client.get("/v1/audit", headers=u.h).json()["entries"]
    assert [e["event"] for e in entries][:3] == ["signup", "key_bundle_changed", "login"]
    prev = "0" * 64
    for e in entries:
        assert e["prev_hash"] == prev
        detail = json.dumps(e["detail"], sort_keys=True, separators=(",", ":"))
        assert e["hash"] == entry_hash(prev, e["seq"], e["at"], e["event"], detail)
        prev = e["hash"]


def test_identity_lookup_and_openapi(client: TestClient) -> None:
    u = User(client)
    r = client.get(f"/v1/identities/{u.email}", headers=u.h).json()
    assert base64.b64decode(r["identity_bundle"]) == b"identity"
    assert client.get("/v1/identities/none@example.org", headers=u.h).status_code == 404
    spec = client.get("/openapi.json").json()
    assert "/v1/records/{kind}/{record_id}" in spec["paths"]
    assert client.get("/v1/health").json()["status"] == "ok"


def test_no_plaintext_structure_in_the_schema() -> None:
    """P-MINMETA: no column can hold a name, a path, a parent link or a plaintext size."""
    from blindvault.server.storage.schema import metadata

    columns = {c.name for t in metadata.tables.values() for c in t.columns}
    for banned in (
        "name_plain",
        "filename",
        "path",
        "parent",
        "parent_id",
        "child",
        "plaintext_size",
    ):
        assert banned not in columns


def test_abandoned_uploads_are_swept(tmp_path: Path) -> None:
    app = build(
        tmp_path, None, None, Limits(part_size=5 * MIB, default_quota=40 * MIB, upload_ttl=0.0)
    )
    with TestClient(app) as c:
        u = User(c)
        first = c.post(
            "/v1/uploads", headers=u.h, json={"blob_id": new_id(), "size": 30 * MIB}
        ).json()
        c.put(f"/v1/uploads/{first['upload_id']}/parts/1", headers=u.h, content=b"x" * (5 * MIB))
        # the next upload sweeps the abandoned one: its quota comes back, its parts go away
        second = c.post("/v1/uploads", headers=u.h, json={"blob_id": new_id(), "size": 30 * MIB})
        assert second.status_code == 201
        assert c.get(f"/v1/uploads/{first['upload_id']}", headers=u.h).status_code == 404
        assert c.get("/v1/account", headers=u.h).json()["used_bytes"] == 30 * MIB
        assert len(list((tmp_path / "blobstore" / "uploads").iterdir())) == 1  # only the second
    app.state.ctx.engine.dispose()


def _grant(client: TestClient, owner: User, member: User, space: str, role: str) -> str:
    member_id = client.get(f"/v1/identities/{member.email}", headers=owner.h).json()["account_id"]
    r = client.put(
        "/v1/shares",
        headers=owner.h,
        json={"id": new_id(), "space": space, "member": member_id, "role": role,
              "envelope": b64(b"sealed")},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


def test_shared_spaces_enforce_roles_without_an_oracle(client: TestClient) -> None:
    owner, reader, writer, stranger = (User(client) for _ in range(4))
    space, private, rec = new_id(), new_id(), new_id()
    owner_id = client.get("/v1/account", headers=owner.h).json()["account_id"]
    # one record in the space, one private
    put = {"expected_version": 0, "data": b64(b"in space")}
    assert (
        client.put(
            f"/v1/records/manifest/{rec}?space={space}", headers=owner.h, json=put
        ).status_code
        == 200
    )
    assert (
        client.put(f"/v1/records/manifest/{private}", headers=owner.h, json=put).status_code == 200
    )
    assert (
        client.put(f"/v1/blobs/{rec}?space={space}", headers=owner.h, content=b"blob").status_code
        == 201
    )
    share_r = _grant(client, owner, reader, space, "read")
    _grant(client, owner, writer, space, "write")
    scope = f"owner={owner_id}&space={space}"

    got = client.get(f"/v1/records/manifest/{rec}?{scope}", headers=reader.h)
    assert got.status_code == 200 and base64.b64decode(got.json()["data"]) == b"in space"
    assert client.get(f"/v1/blobs/{rec}?{scope}", headers=reader.h).content == b"blob"
    # the reader cannot write; the writer can, only inside the space
    w = {"expected_version": 1, "data": b64(b"changed")}
    r = client.put(f"/v1/records/manifest/{rec}?{scope}", headers=reader.h, json=w)
    assert (r.status_code, error_code(r)) == (403, "forbidden")
    assert (
        client.put(f"/v1/blobs/{new_id()}?{scope}", headers=reader.h, content=b"x").status_code
        == 403
    )
    assert (
        client.put(f"/v1/records/manifest/{rec}?{scope}", headers=writer.h, json=w).status_code
        == 200
    )
    assert (
        client.put(f"/v1/blobs/{new_id()}?{scope}", headers=writer.h, content=b"w").status_code
        == 201
    )

    # outside the space, or without a grant: exactly like a missing object
    missing = client.get(f"/v1/records/manifest/{new_id()}?{scope}", headers=reader.h)
    for r in (
        client.get(f"/v1/records/manifest/{private}?{scope}", headers=reader.h),
        client.get(f"/v1/records/manifest/{rec}?{scope}", headers=stranger.h),
        client.get(f"/v1/records/manifest/{rec}?owner={owner_id}", headers=reader.h),
        missing,
    ):
        assert (r.status_code, r.json()) == (404, missing.json())
    listed = client.get(f"/v1/records/manifest?{scope}", headers=reader.h).json()["records"]
    assert [x["id"] for x in listed] == [rec]

    shares = client.get("/v1/shares", headers=reader.h).json()
    assert [s["id"] for s in shares["incoming"]] == [share_r] and shares["outgoing"] == []
    assert client.post(f"/v1/shares/{share_r}/accept", headers=reader.h).json()["accepted"]
    assert client.post(f"/v1/shares/{share_r}/accept", headers=stranger.h).status_code == 404
    assert client.delete(f"/v1/shares/{share_r}", headers=stranger.h).status_code == 404
    assert client.delete(f"/v1/shares/{share_r}", headers=owner.h).status_code == 204
    assert client.get(f"/v1/records/manifest/{rec}?{scope}", headers=reader.h).status_code == 404


def _link_id() -> str:
    return base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()


def test_links_enforce_token_expiry_limits_and_revocation(client: TestClient) -> None:
    import time

    owner = User(client)
    blob, folder = new_id(), new_id()
    assert (
        client.put(f"/v1/blobs/{blob}", headers=owner.h, content=b"ciphertext").status_code == 201
    )
    put = {"expected_version": 0, "data": b64(b"manifest")}
    assert (
        client.put(f"/v1/records/manifest/{folder}", headers=owner.h, json=put).status_code == 200
    )
    token = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    link = _link_id()
    body = {"id": link, "token": token, "descriptor": b64(b"BVLK"), "kind": "folder",
            "snapshot": {folder: b64(b"manifest")}, "blobs": [blob], "max_downloads": 2}  # fmt: skip
    assert client.post("/v1/links", headers=owner.h, json=body).status_code == 201
    assert client.post("/v1/links", headers=owner.h, json=body).status_code == 409
    t = {"X-Link-Token": token}
    opened = client.get(f"/v1/l/{link}", headers=t).json()
    assert opened["downloads_left"] == 2 and base64.b64decode(opened["descriptor"]) == b"BVLK"
    other = ("B" if token[0] == "A" else "A") + token[1:]
    wrong = client.get(f"/v1/l/{link}", headers={"X-Link-Token": other})
    unknown = client.get(f"/v1/l/{_link_id()}", headers=t)
    assert wrong.status_code == unknown.status_code == 404 and wrong.json() == unknown.json()
    assert client.get(f"/v1/l/{link}/manifest/{folder}", headers=t).json()["version"] == 1
    assert client.get(f"/v1/l/{link}/manifest/{new_id()}", headers=t).status_code == 404
    assert client.get(f"/v1/l/{link}/blob/{new_id()}", headers=t).status_code == 404
    # the limit counts bytes: a download resumed with a Range is one use in all; two, then 410
    part = client.get(f"/v1/l/{link}/blob/{blob}", headers={**t, "Range": "bytes=4-"})
    assert (part.status_code, part.content) == (206, b"ertext")
    head = client.get(f"/v1/l/{link}/blob/{blob}", headers={**t, "Range": "bytes=0-3"})
    assert (head.status_code, head.content) == (206, b"ciph")
    assert client.get(f"/v1/l/{link}/blob/{blob}", headers=t).content == b"ciphertext"
    r = client.get(f"/v1/l/{link}/blob/{blob}", headers=t)
    assert (r.status_code, error_code(r)) == (410, "link_exhausted")
    assert error_code(client.get(f"/v1/l/{link}", headers=t)) == "link_exhausted"

    expiring = {**body, "id": _link_id(), "max_downloads": None, "expires_at": time.time() + 60}
    assert client.post("/v1/links", headers=owner.h, json=expiring).status_code == 201
    assert client.delete(f"/v1/links/{expiring['id']}", headers=User(client).h).status_code == 404
    assert client.delete(f"/v1/links/{expiring['id']}", headers=owner.h).status_code == 204
    assert error_code(client.get(f"/v1/l/{expiring['id']}", headers=t)) == "link_revoked"
    past = {**body, "id": _link_id(), "expires_at": time.time() - 1}
    assert client.post("/v1/links", headers=owner.h, json=past).status_code == 400
    listed = client.get("/v1/links", headers=owner.h).json()["links"]
    assert {x["id"]: x["revoked"] for x in listed} == {link: False, expiring["id"]: True}


def test_only_the_owner_writes_a_roster_or_root(client: TestClient) -> None:
    """Issue 11, item 7 (P-ROSTERFRESH): a read-write member may write the space's folders
    but never its roster (nor a root), new or existing: 403, the record unchanged."""
    owner, writer = User(client), User(client)
    space = new_id()
    owner_id = client.get("/v1/account", headers=owner.h).json()["account_id"]
    put = {"expected_version": 0, "data": b64(b"roster v1")}
    url = f"/v1/records/roster/{space}?space={space}"
    assert client.put(url, headers=owner.h, json=put).status_code == 200
    _grant(client, owner, writer, space, "write")
    scope = f"owner={owner_id}&space={space}"
    for kind, rid, version in (
        ("roster", space, 1),
        ("roster", new_id(), 0),
        ("root", owner_id, 0),
    ):
        body = {"expected_version": version, "data": b64(b"forged")}
        r = client.put(f"/v1/records/{kind}/{rid}?{scope}", headers=writer.h, json=body)
        assert (r.status_code, error_code(r)) == (403, "forbidden"), (kind, r.text)
    r = client.delete(f"/v1/records/roster/{space}?{scope}&expected_version=1", headers=writer.h)
    assert r.status_code == 403
    manifest = {"expected_version": 0, "data": b64(b"a folder")}
    assert (
        client.put(
            f"/v1/records/manifest/{new_id()}?{scope}", headers=writer.h, json=manifest
        ).status_code
        == 200
    )
    got = client.get(f"/v1/records/roster/{space}", headers=owner.h).json()
    assert (got["version"], base64.b64decode(got["data"])) == (1, b"roster v1")


def test_folder_links_serve_their_snapshot_only(client: TestClient) -> None:
    """Issue 11, item 4: a link holder reads the snapshot stored with the link, never a live
    record of the owner under the same id; a folder link needs a snapshot, a file link has
    none; a snapshot past 44 MiB is refused with 413 and nothing is stored."""
    owner = User(client)
    live, snap = new_id(), new_id()
    put = {"expected_version": 0, "data": b64(b"live manifest")}
    assert client.put(f"/v1/records/manifest/{live}", headers=owner.h, json=put).status_code == 200
    token = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    t = {"X-Link-Token": token}
    body = {"id": _link_id(), "token": token, "descriptor": b64(b"BVLK"), "kind": "folder",
            "snapshot": {snap: b64(b"snapshot manifest")}}  # fmt: skip
    assert client.post("/v1/links", headers=owner.h, json=body).status_code == 201
    got = client.get(f"/v1/l/{body['id']}/manifest/{snap}", headers=t).json()
    assert base64.b64decode(got["data"]) == b"snapshot manifest"
    assert client.get(f"/v1/l/{body['id']}/manifest/{live}", headers=t).status_code == 404
    for bad in (
        {**body, "snapshot": {}},
        {**body, "kind": "file"},
        {**body, "snapshot": {"x": "y"}},
    ):
        r = client.post("/v1/links", headers=owner.h, json={**bad, "id": _link_id()})
        assert r.status_code == 400, r.text
    big = {**body, "id": _link_id(), "snapshot": {new_id(): b64(bytes(23 << 20)) for _ in range(2)}}
    r = client.post("/v1/links", headers=owner.h, json=big)
    assert (r.status_code, error_code(r)) == (413, "too_large")
    assert client.get(f"/v1/l/{big['id']}", headers=t).status_code == 404
    assert client.delete(f"/v1/links/{body['id']}", headers=owner.h).status_code == 204
    assert client.get(f"/v1/l/{body['id']}/manifest/{snap}", headers=t).status_code == 410


def _frame(items: list[tuple[str, bytes]]) -> bytes:
    return b"".join(i.encode() + len(d).to_bytes(4, "big") + d for i, d in items)


def test_blob_batches_are_all_or_nothing(client: TestClient) -> None:
    u, other = User(client), User(client)
    items = [(new_id(), os.urandom(n)) for n in (0, 1, 5000, 70_000)]
    r = client.post("/v1/blobs/batch", headers=u.h, content=_frame(items))
    assert r.status_code == 201 and r.json()["stored"] == 4, r.text
    for i, d in items:
        assert client.get(f"/v1/blobs/{i}", headers=u.h).content == d
    used = client.get("/v1/account", headers=u.h).json()["used_bytes"]

    # one id taken: nothing of the batch is stored, no quota is spent
    fresh = [(new_id(), b"new"), items[2]]
    r = client.post("/v1/blobs/batch", headers=u.h, content=_frame(fresh))
    assert r.status_code == 409
    assert client.get(f"/v1/blobs/{fresh[0][0]}", headers=u.h).status_code == 404
    assert client.get("/v1/account", headers=u.h).json()["used_bytes"] == used

    for bad in (b"", b"x" * 35, _frame(items[:1])[:-1], _frame([items[0], items[0]]),
                b"Z" * 32 + b"\x00\x00\x00\x00"):  # fmt: skip
        r = client.post("/v1/blobs/batch", headers=u.h, content=bad)
        assert r.status_code == 400 and error_code(r) == "invalid_request", bad[:40]

    # batch-get: present ids framed, missing and other users' ids left out
    want = [items[1][0], items[3][0], new_id()]
    r = client.post("/v1/blobs/batch-get", headers=u.h, json={"ids": want})
    assert r.content == _frame([items[1], items[3]]) or r.content == _frame([items[3], items[1]])
    r = client.post("/v1/blobs/batch-get", headers=other.h, json={"ids": want})
    assert (r.status_code, r.content) == (200, b"")
    assert client.post("/v1/blobs/batch", content=_frame(items)).status_code == 401


def test_blob_batches_respect_shared_space_roles(client: TestClient) -> None:
    owner, reader = User(client), User(client)
    space, blob = new_id(), (new_id(), b"in the space")
    r = client.post(f"/v1/blobs/batch?space={space}", headers=owner.h, content=_frame([blob]))
    assert r.status_code == 201
    _grant(client, owner, reader, space, "read")
    owner_id = client.get("/v1/account", headers=owner.h).json()["account_id"]
    scope = f"owner={owner_id}&space={space}"
    got = client.post(f"/v1/blobs/batch-get?{scope}", headers=reader.h, json={"ids": [blob[0]]})
    assert got.content == _frame([blob])
    r = client.post(
        f"/v1/blobs/batch?{scope}", headers=reader.h, content=_frame([(new_id(), b"x")])
    )
    assert r.status_code == 403
