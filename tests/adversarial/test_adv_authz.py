"""The authorization matrix: every operation of the published OpenAPI, called with no
token, a garbage token, a signed-out token and a revoked device's token (401 each), and with
another user's token on the first user's real objects versus on ids that do not exist — the
answers must be identical (status and body, ids aside): no existence oracle, no access. The
same holds for an app credential's token (issue 16) on its own account's objects outside its
container (the private tree, another app's container): they look missing, and the account,
device, share, link, lock and TOTP routes refuse it.
Runs on the ASGI app (SQLite + local disk); new endpoints are picked up from the schema."""

from __future__ import annotations

import base64
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from blindvault.server.app import build
from blindvault.server.context import Limits

PUBLIC = {
    "POST /v1/prelogin",
    "POST /v1/accounts",
    "POST /v1/sessions",
    "POST /v1/recovery/sessions",
    "GET /v1/health",
    "GET /v1/ca",  # the CA's self-signed descriptor: clients pin it before they have a token
    "GET /v1/org-key",  # the organisation key's self-signed document, shown before signup
}
LINK_ACCESS = re.compile(r"^GET /v1/l/")  # capability URLs: the link token is the credential
# capability routes: the caller has no account token yet (a new device). The pairing code's
# digits (the channel) plus the claim got by joining, or the recovery request id plus the
# token got on opening it, are the credential. A wrong claim/token answers as a missing
# channel/request (test_capabilities_do_not_leak). By design the offer and the join tell an
# open channel from a used or unknown one (the digits are public; one join burns the code),
# and opening a request tells whether an email has a social recovery setup (rate-limited
# per address): docs/security.md, "What blindvault does not protect".
CAPABILITY = {
    "GET /v1/pairings/{channel}",
    "POST /v1/pairings/{channel}/join",
    "POST /v1/pairings/{channel}/receive",
    "POST /v1/pairings/{channel}/abandon",
    "POST /v1/recovery/requests",
    "POST /v1/recovery/requests/{request_id}/cancel",
    "POST /v1/recovery/requests/{request_id}/finish",
    "POST /v1/recovery/requests/{request_id}/poll",
    # an upload-only link (issue 19): the link token is the credential, as for GET /v1/l/…;
    # a wrong token answers as a missing link (test_drop_capability_does_not_leak)
    "POST /v1/l/{link_id}/drops",
}
EXISTENCE_BY_DESIGN = {"GET /v1/identities/{email}"}  # peers look each other up to share
OWN_SESSION = {"DELETE /v1/sessions/current"}  # no object id: nothing of another user's
# the caller's own account settings: no object id in them, so a refused body names nobody else
OWN_ACCOUNT = {
    "PUT /v1/account/keys",
    "PUT /v1/account/totp",
    "DELETE /v1/account/totp",
    "POST /v1/sessions/check",
    "PUT /v1/account/escrow",  # refused without the caller's own proof, before any id is read
    "PUT /v1/recovery/setup",
}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class User:
    def __init__(self, client: TestClient) -> None:
        self.c = client
        self.email = f"z{secrets.token_hex(5)}@example.org"
        self.auth = b64(os.urandom(32))
        r = client.post(
            "/v1/accounts",
            json={
                "email": self.email,
                "kdf": {"alg": "argon2id", "m": 65536, "t": 3, "p": 4},
                "auth_key": self.auth,
                "key_bundle": b64(b"kb"),
                "identity_bundle": b64(b"id"),
            },
        )
        assert r.status_code == 201, r.text
        self.token, self.device = self.login()

    def login(self) -> tuple[str, str]:
        r = self.c.post("/v1/sessions", json={"email": self.email, "auth_key": self.auth})
        assert r.status_code == 201, r.text
        return r.json()["token"], r.json()["device_id"]

    @property
    def h(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    app = build(
        tmp_path_factory.mktemp("authz"),
        None,
        None,
        Limits(part_size=1 << 20, signups_per_address=100_000),
    )
    with TestClient(app) as c:
        alice, bob = User(c), User(c)
        signed_out, _ = alice.login()
        assert (
            c.delete(
                "/v1/sessions/current", headers={"Authorization": f"Bearer {signed_out}"}
            ).status_code
            == 204
        )
        revoked, revoked_device = alice.login()
        assert c.delete(f"/v1/devices/{revoked_device}", headers=alice.h).status_code == 204
        ids: dict[str, str] = {
            "kind": "manifest",
            "record_id": secrets.token_hex(16),
            "blob_id": secrets.token_hex(16),
            "resource": secrets.token_hex(16),
            "device_id": alice.device,
            "number": "1",
            "email": alice.email,
        }
        r = c.put(
            f"/v1/records/manifest/{ids['record_id']}",
            json={"expected_version": 0, "data": b64(b"m")},
            headers=alice.h,
        )
        assert r.status_code in (200, 201), r.text
        assert (
            c.put(f"/v1/blobs/{ids['blob_id']}", content=b"b" * 64, headers=alice.h).status_code
            == 201
        )
        r = c.post(
            "/v1/uploads", json={"blob_id": secrets.token_hex(16), "size": 3 << 20}, headers=alice.h
        )
        assert r.status_code == 201, r.text
        ids["upload_id"] = r.json()["upload_id"]
        r = c.post(f"/v1/locks/{ids['resource']}", json={"lease_seconds": 600}, headers=alice.h)
        assert r.status_code in (200, 201), r.text
        link_id = b64u(os.urandom(16))
        r = c.post(
            "/v1/links",
            json={
                "id": link_id,
                "token": b64u(os.urandom(32)),
                "descriptor": b64(b"d" * 80),
                "kind": "file",
            },
            headers=alice.h,
        )
        assert r.status_code == 201, r.text
        ids["link_id"] = link_id
        ids["drop"] = _drop_of(c, alice)  # a drop waiting in Alice's upload-only link
        ids["space"] = ids["record_id"]  # adopt into a space named after the victim's folder
        ids["group_id"] = _group_of(c, alice, ids["space"])  # issue 19
        app_tokens = {}
        for app_id in ("com.alice.notes", "com.alice.photos"):
            space = secrets.token_hex(16)
            r = c.post("/v1/apps", json=_app_body(app_id, space), headers=alice.h)
            assert r.status_code == 201, r.text
            app_tokens[app_id] = r.json()["token"]
            ids.setdefault("app_space", space)
        # the photos app keeps a record in its own container (notes must not reach it)
        photos = {"Authorization": f"Bearer {app_tokens['com.alice.photos']}"}
        ids["photo_record"] = secrets.token_hex(16)
        r = c.put(f"/v1/records/manifest/{ids['photo_record']}",
                  json={"expected_version": 0, "data": b64(b"p")}, headers=photos)  # fmt: skip
        assert r.status_code in (200, 201), r.text
        ids["app_id"] = ids["to_app"] = "com.alice.photos"
        ids.update(_pairing_and_recovery(c, alice, bob))
        ids["from_app"] = "com.alice.notes"
        yield {
            "client": c,
            "app": app,
            "alice": alice,
            "bob": bob,
            "ids": ids,
            "app_tokens": app_tokens,
            "bad_tokens": {
                "none": None,
                "garbage": "x" * 43,
                "signed-out": signed_out,
                "revoked-device": revoked,
            },
        }
    app.state.ctx.engine.dispose()


def _group_of(c: TestClient, owner: User, space: str) -> str:
    """A group of `owner` (no members) that `space` is shared with (issue 19)."""
    group_id = secrets.token_hex(16)
    body = {"expected_version": 0, "roster": b64(b"r" * 64), "members": []}
    r = c.put(f"/v1/groups/{group_id}", json=body, headers=owner.h)
    assert r.status_code == 200, r.text
    r = c.put(f"/v1/groups/{group_id}/spaces/{space}", headers=owner.h,
              json={"role": "read", "envelope": b64(b"e" * 64)})  # fmt: skip
    assert r.status_code == 204, r.text
    return group_id


def _drop_link(c: TestClient, owner: User) -> tuple[str, str]:
    """An upload-only link of `owner`: (link id, link token)."""
    link_id, token = b64u(os.urandom(16)), b64u(os.urandom(32))
    body = {"id": link_id, "token": token, "descriptor": b64(b"d" * 80), "kind": "drop",
            "owner_note": b64(b"n" * 80), "max_uploads": 1000}  # fmt: skip
    r = c.post("/v1/links", json=body, headers=owner.h)
    assert r.status_code == 201, r.text
    return link_id, token


def _sealed_drop(link_id: str) -> bytes:
    raw = base64.urlsafe_b64decode(link_id + "==")
    return b"BVDP\x01" + raw + os.urandom(16) + os.urandom(200)


def _drop_of(c: TestClient, owner: User) -> str:
    link_id, token = _drop_link(c, owner)
    r = c.post(f"/v1/l/{link_id}/drops", content=_sealed_drop(link_id),
               headers={"X-Link-Token": token})  # fmt: skip
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _pairing_and_recovery(c: TestClient, alice: User, bob: User) -> dict[str, str]:
    """A pairing channel Alice opened, and a recovery request against Alice (Bob her contact)."""
    r = c.post("/v1/pairings", json={"message": b64(os.urandom(32))}, headers=alice.h)
    assert r.status_code == 201, r.text
    setup = {"setup": b64(b"s" * 64), "shares": [{"contact": bob.email, "share": b64(b"x" * 64)}],
             "proof": {"auth_key": alice.auth}}  # fmt: skip
    assert c.put("/v1/recovery/setup", json=setup, headers=alice.h).status_code == 204
    request_id, channel = secrets.token_hex(16), r.json()["channel"]
    r = c.post("/v1/recovery/requests", json=_start_body(alice.email, request_id))
    assert r.status_code == 201, r.text
    return {"channel": channel, "request_id": request_id}


def _start_body(email: str, request_id: str) -> dict[str, str]:
    return {"email": email, "request_id": request_id, "device_key": b64(os.urandom(32))}


def _app_body(app_id: str, space: str) -> dict[str, str]:
    return {"app_id": app_id, "space": space, "bundle": b64(b"bundle"),
            "attestation": b64(b"sig"), "envelope": b64(b"env")}  # fmt: skip


def _operations() -> list[str]:
    from blindvault.server.app import create_app
    from blindvault.server.context import ServerContext
    from blindvault.server.storage.blobstore import LocalBlobStore
    from blindvault.server.storage.db import make_engine

    app = create_app(
        ServerContext(make_engine("sqlite://"), LocalBlobStore(Path("/nonexistent")), Limits())
    )
    ops = [
        f"{m.upper()} {p}"
        for p, item in app.openapi()["paths"].items()
        for m in item
        if m in ("get", "put", "post", "delete", "head", "patch")
    ]
    app.state.ctx.engine.dispose()
    return sorted(ops)


OPERATIONS = _operations()
PROTECTED = [op for op in OPERATIONS if op not in PUBLIC | CAPABILITY and not LINK_ACCESS.match(op)]


def _random_ids() -> dict[str, str]:
    return {
        "kind": "manifest",
        "record_id": secrets.token_hex(16),
        "blob_id": secrets.token_hex(16),
        "resource": secrets.token_hex(16),
        "device_id": secrets.token_hex(16),
        "number": "1",
        "email": f"nobody{secrets.token_hex(4)}@example.org",
        "upload_id": secrets.token_hex(16),
        "link_id": b64u(os.urandom(16)),
        "space": secrets.token_hex(16),
        "share_id": secrets.token_hex(16),
        "app_id": f"org.nobody.x{secrets.token_hex(4)}",
        "from_app": f"org.nobody.y{secrets.token_hex(4)}",
        "to_app": f"org.nobody.z{secrets.token_hex(4)}",
        "app_space": secrets.token_hex(16),
        "photo_record": secrets.token_hex(16),
        "channel": str(10**7 + secrets.randbelow(9 * 10**7)),  # 8 digits: never handed out
        "request_id": secrets.token_hex(16),
        "drop": secrets.token_hex(16),
        "group_id": secrets.token_hex(16),
    }


_RAW_BODY = ("/v1/blobs/{blob_id}", "/v1/uploads/{upload_id}/parts/{number}")


def _json_body(template: str, ids: dict[str, str]) -> Any:
    if "/records/{kind}/" in template:
        return {"expected_version": 1, "data": b64(b"overwrite")}
    bodies: dict[str, Any] = {
        "/v1/locks/{resource}": {"lease_seconds": 60},
        "/v1/records/batch-get": {"items": [{"kind": "manifest", "id": ids["record_id"]}]},
        "/v1/blobs/batch-get": {"ids": [ids["blob_id"]]},
        "/v1/uploads": {"blob_id": ids["blob_id"], "size": 3 << 20},
        "/v1/links": {  # a link naming the victim's record and blob
            "id": b64u(os.urandom(16)),
            "token": b64u(os.urandom(32)),
            "descriptor": b64(b"d" * 80),
            "kind": "folder",
            "snapshot": {ids["record_id"]: b64(b"s" * 64)},
            "blobs": [ids["blob_id"]],
        },
        "/v1/shares": {  # a grant on the victim's record as a space
            "id": secrets.token_hex(16),
            "space": ids["record_id"],
            "member": secrets.token_hex(16),
            "role": "read",
            "envelope": b64(b"e" * 200),
        },
        "/v1/apps": _app_body(ids.get("app_id", "org.nobody.app"), ids.get("app_space", "0" * 32)),
        "/v1/apps/{app_id}/envelope": {"envelope": b64(b"e" * 64)},
        "/v1/apps/grants": {
            "from_app": ids.get("from_app", "org.a.b"),
            "to_app": ids.get("to_app", "org.c.d"),
            "role": "read",
            "envelope": b64(b"e" * 64),
            "totp": "123456",
        },
        "/v1/pairings": {"message": b64(os.urandom(32))},
        "/v1/pairings/{channel}/payload": {"sealed": b64(os.urandom(64))},
        "/v1/recovery/requests/{request_id}/approval": {"approval": b64(os.urandom(64))},
        "/v1/recovery/requests/{request_id}/veto": {"veto": b64(os.urandom(64))},
        "/v1/recovery/setup": {  # naming the victim as a contact (no proof: refused first)
            "setup": b64(os.urandom(64)),
            "shares": [{"contact": ids["email"], "share": b64(os.urandom(64))}],
        },
        "/v1/account/escrow": {"org_key": secrets.token_hex(16), "escrow": b64(os.urandom(64))},
        # groups (issue 19): replace the victim's group roster and members, share a space
        "/v1/groups/{group_id}": {
            "expected_version": 1,
            "roster": b64(b"forged" * 10),
            "members": [],
        },
        "/v1/groups/{group_id}/spaces/{space}": {"role": "read", "envelope": b64(b"e" * 64)},
        "/v1/spaces/{space}/adopt": {
            "records": [{"kind": "manifest", "id": ids["record_id"]}],
            "blobs": [ids["blob_id"]],
        },
    }
    return bodies.get(template, {})


def _body(method: str, template: str, ids: dict[str, str]) -> tuple[Any, bytes | None]:
    """(JSON body, raw body) of a write; neither for a read."""
    if method not in ("PUT", "POST"):
        return None, None
    if template in _RAW_BODY:
        return None, b"x" * 64
    if template == "/v1/blobs/batch":  # a blob under the victim's blob id
        return None, ids["blob_id"].encode() + (64).to_bytes(4, "big") + b"x" * 64
    return _json_body(template, ids), None


def _path(op: str, ids: dict[str, str]) -> str:
    template = op.split(" ", 1)[1]
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), secrets.token_hex(16)), template)


def _call(c: TestClient, op: str, ids: dict[str, str], token: str | None) -> Any:
    method, template = op.split(" ", 1)
    path = _path(op, ids)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    params: dict[str, Any] = {}
    if method == "DELETE" and "/records/" in template:
        params["expected_version"] = 1
    if method == "DELETE" and "/locks/" in template:
        headers["X-Lock-Token"] = "t" * 32
    body, content = _body(method, template, ids)
    return c.request(method, path, headers=headers, params=params, json=body, content=content)


def _normal(r: Any, ids: dict[str, str]) -> tuple[int, Any]:
    if r.status_code < 300 and r.headers.get("content-type", "").startswith("application/json"):
        doc = r.json()  # fresh values (tokens, times) of the caller's own new object
        return r.status_code, sorted(doc) if isinstance(doc, dict) else type(doc).__name__
    text = r.text
    for v in ids.values():
        if len(v) > 8:
            text = text.replace(v, "ID")
    return r.status_code, text


def test_the_matrix_covers_the_schema() -> None:
    assert len(PROTECTED) >= 30
    assert "GET /v1/records/{kind}/{record_id}" in PROTECTED


@pytest.mark.parametrize("op", PROTECTED)
def test_bad_tokens_get_401(world: dict[str, Any], op: str) -> None:
    c = world["client"]
    for name, token in world["bad_tokens"].items():
        r = _call(c, op, world["ids"], token)
        assert r.status_code == 401, f"{name}: {r.status_code} {r.text}"
        if not op.startswith("HEAD "):
            assert r.json()["error"]["code"] == "unauthorized", name


@pytest.mark.parametrize(
    "op", [op for op in PROTECTED if op not in EXISTENCE_BY_DESIGN | OWN_SESSION]
)
def test_another_users_objects_look_missing(world: dict[str, Any], op: str) -> None:
    c, alice, ids = world["client"], world["alice"], world["ids"]
    bob = User(c)  # a new one per operation: none of his own objects shares an id with hers
    missing = _random_ids()
    fake = _call(c, op, missing, bob.token)
    real = _call(c, op, ids, bob.token)
    assert real.status_code < 500 and fake.status_code < 500
    assert fake.status_code != 401, "Bob's own token must still work"
    assert _normal(real, ids) == _normal(fake, missing)
    if op not in OWN_ACCOUNT:  # the victim's ids were looked at: not refused as malformed
        assert real.status_code not in (400, 422), f"{real.status_code} {real.text}"
    # and nothing of Alice's moved
    r = c.get(f"/v1/records/manifest/{ids['record_id']}", headers=alice.h)
    assert r.status_code == 200 and base64.b64decode(r.json()["data"]) == b"m"
    (group,) = [g for g in c.get("/v1/groups", headers=alice.h).json()["owned"]
                if g["id"] == ids["group_id"]]  # fmt: skip
    assert group["version"] == 1 and base64.b64decode(group["roster"]) == b"r" * 64
    assert [s["space"] for s in group["spaces"]] == [ids["space"]]
    assert c.get(f"/v1/blobs/{ids['blob_id']}", headers=alice.h).content == b"b" * 64
    assert c.get(f"/v1/uploads/{ids['upload_id']}", headers=alice.h).status_code == 200
    assert any(
        d["id"] == alice.device and not d["revoked"]
        for d in c.get("/v1/devices", headers=alice.h).json()["devices"]
    )
    r = c.get(f"/v1/pairings/{ids['channel']}/status", headers=alice.h)
    assert r.status_code == 200 and r.json()["state"] == "open"
    assert [p["state"] for p in c.get("/v1/recovery/pending", headers=alice.h).json()["requests"]
            if p["request_id"] == ids["request_id"]] == ["open"]  # fmt: skip
    assert c.get(f"/v1/drops/{ids['drop']}", headers=alice.h).status_code == 200


# an app token reaches records, blobs, uploads and the change feed (its container only)
# creating a blob (or an upload) at an id the account already uses elsewhere answers 409:
# blob ids are one namespace per account, so an app — like a read-write share member —
# learns whether a 128-bit id it names is taken; it cannot list, read or replace it
# (docs/threat-model.md, "App containers")
ID_TAKEN = {"POST /v1/blobs/batch", "POST /v1/uploads", "PUT /v1/blobs/{blob_id}"}
APP_ROUTES = re.compile(r"^\w+ /v1/(records|blobs|uploads|changes)\b|^GET /v1/app$")


@pytest.mark.parametrize("op", PROTECTED)
def test_app_token_outside_its_container(world: dict[str, Any], op: str) -> None:
    """The notes app's token on the account's private objects and on the photos app's
    container answers exactly as on ids that exist nowhere; the account's own routes refuse
    it with 403; nothing of the account's or of the photos app's changes."""
    c, alice, ids = world["client"], world["alice"], world["ids"]
    token = world["app_tokens"]["com.alice.notes"]
    missing = _random_ids()
    fake = _call(c, op, missing, token)
    for target in (ids, {**ids, "record_id": ids["photo_record"]}):
        real = _call(c, op, target, token)
        assert real.status_code < 500 and fake.status_code < 500
        assert real.status_code != 401, "the app's token works"
        if op in ID_TAKEN and target["blob_id"] == ids["blob_id"]:
            assert real.status_code == 409 and real.json()["error"]["code"] == "conflict"
            continue
        assert _normal(real, target) == _normal(fake, missing), f"{real.text} / {fake.text}"
        if not APP_ROUTES.match(op):
            assert real.status_code == 403, f"{op}: {real.status_code} {real.text}"
    # in the photos container, by space id: missing too
    r = c.get(f"/v1/records/manifest/{ids['photo_record']}",
              params={"space": _space_of(c, alice, "com.alice.photos")},
              headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert r.status_code == 404 and r.json()["error"]["message"] == _missing_message(c, token)
    r = c.get(f"/v1/records/manifest/{ids['record_id']}", headers=alice.h)
    assert r.status_code == 200 and base64.b64decode(r.json()["data"]) == b"m"
    photos = {"Authorization": f"Bearer {world['app_tokens']['com.alice.photos']}"}
    r = c.get(f"/v1/records/manifest/{ids['photo_record']}", headers=photos)
    assert r.status_code == 200 and base64.b64decode(r.json()["data"]) == b"p"
    assert c.get(f"/v1/blobs/{ids['blob_id']}", headers=alice.h).content == b"b" * 64


def _space_of(c: TestClient, alice: User, app_id: str) -> str:
    apps = c.get("/v1/apps", headers=alice.h).json()["apps"]
    return next(str(a["space"]) for a in apps if a["app_id"] == app_id)


def _missing_message(c: TestClient, token: str) -> str:
    r = c.get(f"/v1/records/manifest/{secrets.token_hex(16)}",
              params={"space": secrets.token_hex(16)},
              headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert r.status_code == 404
    return str(r.json()["error"]["message"])


def test_revoked_app_token_is_401_everywhere(world: dict[str, Any]) -> None:
    c, alice = world["client"], world["alice"]
    space = secrets.token_hex(16)
    r = c.post("/v1/apps", json=_app_body("com.alice.gone", space), headers=alice.h)
    token = r.json()["token"]
    assert c.delete("/v1/apps/com.alice.gone", headers=alice.h).status_code == 204
    for op in PROTECTED:
        r = _call(c, op, _random_ids(), token)
        assert r.status_code == 401, f"{op}: {r.status_code}"


def test_the_capability_routes_are_classified() -> None:
    assert set(OPERATIONS) >= CAPABILITY, CAPABILITY - set(OPERATIONS)
    assert not CAPABILITY & set(PROTECTED)


@pytest.mark.parametrize(
    ("op", "field"),
    [
        ("POST /v1/pairings/{channel}/receive", "claim"),
        ("POST /v1/pairings/{channel}/abandon", "claim"),
        ("POST /v1/recovery/requests/{request_id}/poll", "token"),
        ("POST /v1/recovery/requests/{request_id}/cancel", "token"),
        ("POST /v1/recovery/requests/{request_id}/finish", "token"),
    ],
)
def test_capabilities_do_not_leak(world: dict[str, Any], op: str, field: str) -> None:
    """A wrong claim on a joined channel, or a wrong token on an open request, answers
    exactly as on a channel/request that does not exist, and moves nothing: the real
    claim/token still works afterwards."""
    c, alice = world["client"], world["alice"]
    r = c.post("/v1/pairings", json={"message": b64(os.urandom(32))}, headers=alice.h)
    channel = r.json()["channel"]
    join = {"message": b64(os.urandom(32)), "confirm": b64(os.urandom(32))}
    r = c.post(f"/v1/pairings/{channel}/join", json=join)
    assert r.status_code == 200, r.text
    claim, request_id = r.json()["claim"], secrets.token_hex(16)
    r = c.post("/v1/recovery/requests", json=_start_body(alice.email, request_id))
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    real = {"channel": channel, "request_id": request_id}
    missing = _random_ids()
    other = token if field == "claim" else claim  # the other kind of credential
    for guess in (secrets.token_urlsafe(24), other):
        answers = [c.post(_path(op, i), json={field: guess}) for i in (real, missing)]
        assert answers[0].status_code == 404, answers[0].text
        assert _normal(answers[0], real) == _normal(answers[1], missing)
    r = c.post(f"/v1/pairings/{channel}/receive", json={"claim": claim})
    assert r.status_code == 200 and r.json()["state"] == "waiting"
    r = c.post(f"/v1/recovery/requests/{request_id}/poll", json={"token": token})
    assert r.status_code == 200 and r.json()["state"] == "open"


def test_drop_capability_does_not_leak(world: dict[str, Any]) -> None:
    """A drop with a wrong token (or an account's token) into a real upload-only link
    answers exactly as into a link that does not exist, and stores nothing; the right
    token works; a download link takes no drops."""
    c, alice, bob = world["client"], world["alice"], world["bob"]
    link_id, token = _drop_link(c, alice)
    missing = b64u(os.urandom(16))
    before = len(c.get("/v1/drops", headers=alice.h).json()["drops"])
    for headers in ({"X-Link-Token": b64u(os.urandom(32))}, bob.h, {}):
        answers = [
            c.post(f"/v1/l/{lid}/drops", content=_sealed_drop(lid), headers=headers)
            for lid in (link_id, missing)
        ]
        assert answers[0].status_code == 404, answers[0].text
        real, fake = _normal(answers[0], {"l": link_id}), _normal(answers[1], {"l": missing})
        assert real == fake
    assert len(c.get("/v1/drops", headers=alice.h).json()["drops"]) == before
    r = c.post(f"/v1/l/{link_id}/drops", content=_sealed_drop(link_id),
               headers={"X-Link-Token": token})  # fmt: skip
    assert r.status_code == 201, r.text
    assert len(c.get("/v1/drops", headers=alice.h).json()["drops"]) == before + 1
    # a download link's holder cannot upload through it
    file_link, file_token = b64u(os.urandom(16)), b64u(os.urandom(32))
    body = {"id": file_link, "token": file_token, "descriptor": b64(b"d" * 80), "kind": "file"}
    assert c.post("/v1/links", json=body, headers=alice.h).status_code == 201
    r = c.post(f"/v1/l/{file_link}/drops", content=_sealed_drop(file_link),
               headers={"X-Link-Token": file_token})  # fmt: skip
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", r.text
    assert len(c.get("/v1/drops", headers=alice.h).json()["drops"]) == before + 1
