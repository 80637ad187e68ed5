"""Issue 12 item 9: odd values get a clear 4xx, never a 500 or silent acceptance. Real
server processes on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import httpx
import pytest

from helpers.real_server import Account, Real, new_id

BIG = (1 << 63) - 1


@pytest.fixture(scope="module")
def real(shared_real: Real) -> Real:
    """The run's shared server on each backend (SQLite, PostgreSQL): fresh accounts only."""
    return shared_real


@pytest.fixture(scope="module")
def acct(real: Real) -> Account:
    return real.account()


def _4xx(r: httpx.Response) -> None:
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:200])
    assert r.json()["error"]["code"]


def test_huge_numbers(acct: Account) -> None:
    with acct.client() as c:
        bid = new_id()
        assert c.put(f"/v1/blobs/{bid}", content=b"abc").status_code == 201
        _4xx(c.get(f"/v1/blobs/{bid}", headers={"Range": "bytes=" + "9" * 4300 + "-"}))
        _4xx(c.get(f"/v1/blobs/{bid}", headers={"Range": "bytes=0-" + "9" * 4301}))
        rid = new_id()
        data = base64.b64encode(b"x").decode()
        _4xx(c.put(f"/v1/records/manifest/{rid}", json={"expected_version": BIG, "data": data}))
        _4xx(c.put(f"/v1/records/manifest/{rid}", json={"expected_version": BIG + 1, "data": data}))
        _4xx(c.delete(f"/v1/records/manifest/{rid}", params={"expected_version": BIG}))
        _4xx(c.delete(f"/v1/records/manifest/{rid}", params={"expected_version": BIG + 1}))
        _4xx(c.post(f"/v1/locks/{new_id()}", json={"lease_seconds": BIG + 1}))
        _4xx(c.post("/v1/uploads", json={"blob_id": new_id(), "size": BIG + 1}))
        link = {
            "id": base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode(),
            "token": base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode(),
            "descriptor": "eA==",
            "kind": "file",
            "blobs": [bid],
        }
        _4xx(c.post("/v1/links", json={**link, "max_downloads": BIG + 1}))
        for bad in ("NaN", "Infinity", "-Infinity", "1e999"):
            raw = httpx.Request("POST", "/v1/links", json=link).content.decode()
            body = raw[:-1] + f', "expires_at": {bad}}}'
            r = c.post("/v1/links", content=body, headers={"Content-Type": "application/json"})
            _4xx(r)


def test_batch_get_of_a_thousand_records(acct: Account) -> None:
    with acct.client() as c:
        ids = [new_id() for _ in range(1000)]
        for rid in ids[:3]:
            r = c.put(f"/v1/records/manifest/{rid}", json={"expected_version": 0, "data": "eA=="})
            assert r.status_code == 200
        items = [{"kind": "manifest", "id": i} for i in ids]
        r = c.post("/v1/records/batch-get", json={"items": items})
        assert r.status_code == 200, r.text
        assert sorted(x["id"] for x in r.json()["records"]) == sorted(ids[:3])
        _4xx(c.post("/v1/records/batch-get", json={"items": items + items[:1]}))


def test_adopt_of_many_rows(acct: Account) -> None:
    with acct.client() as c:
        blobs = [new_id() for _ in range(100_000)]
        r = c.post(f"/v1/spaces/{new_id()}/adopt", json={"blobs": blobs})
        assert r.status_code == 200, r.text
        _4xx(c.post(f"/v1/spaces/{new_id()}/adopt", json={"blobs": [*blobs, new_id()]}))


def test_unsolicited_shares_are_capped(real: Real) -> None:
    victim = real.account()
    sender = real.account()
    with sender.client() as c:
        codes = []
        for _ in range(25):
            share = {"id": new_id(), "space": new_id(), "member": victim.id, "role": "read",
                     "envelope": "eA=="}  # fmt: skip
            codes.append(c.put("/v1/shares", json=share).status_code)
    assert codes.count(200) == 20 and set(codes[20:]) == {429}, codes
    with victim.client() as v:
        incoming = v.get("/v1/shares").json()["incoming"]
        assert len(incoming) == 20
        assert v.delete(f"/v1/shares/{incoming[0]['id']}").status_code == 204  # declined
    with sender.client() as c:
        share = {"id": new_id(), "space": new_id(), "member": victim.id, "role": "read",
                 "envelope": "eA=="}  # fmt: skip
        assert c.put("/v1/shares", json=share).status_code == 200  # its place is free again


def test_pending_shares_from_everyone_are_capped(tmp_path: Path) -> None:
    """In process: the per-recipient total (default 500) with a small `Limits`."""
    from fastapi.testclient import TestClient

    from blindvault.server.app import build
    from blindvault.server.context import Limits

    app = build(tmp_path, None, None, Limits(pending_shares=6, pending_per_sender=4))
    with TestClient(app) as tc:

        def account() -> tuple[str, dict[str, str]]:
            email = f"p{new_id()[:10]}@example.org"
            auth = base64.b64encode(os.urandom(32)).decode()
            body = {"email": email, "kdf": {"alg": "argon2id", "m": 65536, "t": 3, "p": 4},
                    "auth_key": auth, "recovery_auth_key": auth, "key_bundle": "eA==",
                    "identity_bundle": "eQ=="}  # fmt: skip
            made = tc.post("/v1/accounts", json=body).json()
            token = tc.post("/v1/sessions", json={"email": email, "auth_key": auth}).json()
            return str(made["account_id"]), {"Authorization": f"Bearer {token['token']}"}

        victim, _ = account()
        codes = []
        for _ in range(2):
            _, h = account()
            for _ in range(5):
                share = {"id": new_id(), "space": new_id(), "member": victim, "role": "read",
                         "envelope": "eA=="}  # fmt: skip
                codes.append(tc.put("/v1/shares", json=share, headers=h).status_code)
        assert codes == [200] * 4 + [429] + [200] * 2 + [429] * 3, codes
    app.state.ctx.engine.dispose()
