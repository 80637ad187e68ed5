"""The in-process transport of tests/helpers/inprocess.py: real routes, database and blob
store, no server process."""

from __future__ import annotations

import base64
import os
import secrets
from concurrent.futures import ThreadPoolExecutor

import httpx

from helpers.inprocess import InProcess, inprocess

__all__ = ["inprocess"]


def test_health_and_a_typed_error(inprocess: InProcess) -> None:
    with httpx.Client(base_url=inprocess.url, transport=inprocess.transport) as c:
        assert c.get("/v1/health").status_code == 200
        r = c.get(f"/v1/blobs/{secrets.token_hex(16)}")
        assert r.status_code == 401
        assert r.json()["error"]["code"]
    assert inprocess.transport.requests[0] == ("GET", "/v1/health")


def test_an_account_writes_and_reads_blobs_from_threads(inprocess: InProcess) -> None:
    auth = base64.b64encode(os.urandom(32)).decode()
    with httpx.Client(base_url=inprocess.url, transport=inprocess.transport) as c:
        signup = {
            "email": "inprocess@example.org",
            "kdf": {"alg": "argon2id", "m": 65536, "t": 3, "p": 4},
            "auth_key": auth,
            "recovery_auth_key": base64.b64encode(os.urandom(32)).decode(),
            "key_bundle": "eA==",
            "identity_bundle": "eQ==",
        }
        assert c.post("/v1/accounts", json=signup).status_code == 201, "signup"
        r = c.post("/v1/sessions", json={"email": signup["email"], "auth_key": signup["auth_key"]})
        c.headers["Authorization"] = f"Bearer {r.json()['token']}"
        blobs = {secrets.token_hex(16): os.urandom(1000 + i) for i in range(16)}

        def roundtrip(item: tuple[str, bytes]) -> bool:
            blob, body = item
            assert c.put(f"/v1/blobs/{blob}", content=body).status_code == 201
            return c.get(f"/v1/blobs/{blob}").content == body

        with ThreadPoolExecutor(4) as pool:
            assert all(pool.map(roundtrip, blobs.items()))
        listed = {b["id"]: b["size"] for b in c.get("/v1/blobs").json()["blobs"]}
    assert listed == {blob: len(body) for blob, body in blobs.items()}
