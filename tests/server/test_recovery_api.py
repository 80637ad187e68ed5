"""Issue 17, server side: the social recovery relay and the organisation key routes on real
server processes, SQLite and PostgreSQL. The server relays opaque objects; these tests check
who may do what, the states, the audit log, and that bad input is a 4xx, never a 500."""

from __future__ import annotations

import os
import secrets
from typing import Any

import httpx

from helpers.accounts import Account, Server, b64, code, new_account


def _setup(c: httpx.Client, owner: Account, contacts: list[Account], proof: Any) -> httpx.Response:
    body: dict[str, Any] = {
        "setup": b64(b"signed-setup"),
        "shares": [
            {"contact": x.email, "share": b64(b"share-" + x.email.encode())} for x in contacts
        ],
    }
    if proof is not None:
        body["proof"] = proof
    return c.put("/v1/recovery/setup", headers=owner.h, json=body)


def _start(c: httpx.Client, email: str) -> tuple[str, httpx.Response]:
    rid = secrets.token_hex(16)
    r = c.post("/v1/recovery/requests",
               json={"email": email, "request_id": rid, "device_key": b64(os.urandom(32))})  # fmt: skip
    return rid, r


def test_social_recovery_relay(server: Server) -> None:
    with server.client() as c:
        owner, a, b, stranger = (new_account(c) for _ in range(4))
        proof = {"auth_key": b64(owner.auth)}
        assert (_setup(c, owner, [a, b], None).status_code, code(_setup(c, owner, [a], None))) == (
            403, "proof_required")  # fmt: skip
        assert _setup(c, owner, [owner], proof).status_code == 400  # not one's own contact
        assert _setup(c, owner, [a, a], proof).status_code == 400
        r = c.put("/v1/recovery/setup", headers=owner.h, json={
            "setup": b64(b"x"), "shares": [{"contact": "nobody@example.org", "share": b64(b"s")}],
            "proof": proof})  # fmt: skip
        assert r.status_code == 404
        assert _setup(c, owner, [a, b], proof).status_code == 204
        got = c.get("/v1/recovery/setup", headers=owner.h).json()
        assert sorted(got["contacts"]) == sorted([a.email, b.email])

        # no setup, malformed key or id: refused
        assert _start(c, stranger.email)[1].status_code == 404
        bad = c.post("/v1/recovery/requests",
                     json={"email": owner.email, "request_id": "x", "device_key": b64(b"k")})  # fmt: skip
        assert bad.status_code in (400, 422)
        bad = c.post("/v1/recovery/requests", json={
            "email": owner.email, "request_id": secrets.token_hex(16), "device_key": b64(b"k")})  # fmt: skip
        assert bad.status_code == 400
        rid, r = _start(c, owner.email)
        assert r.status_code == 201
        token = r.json()["token"]
        assert c.post("/v1/recovery/requests", json={"email": owner.email, "request_id": rid,
                      "device_key": b64(os.urandom(32))}).status_code == 409  # fmt: skip

        # contacts see it with their own share; a stranger sees nothing and cannot approve
        seen = c.get("/v1/recovery/incoming", headers=a.h).json()["requests"]
        assert [(s["request_id"], s["approved"]) for s in seen] == [(rid, False)]
        assert c.get("/v1/recovery/incoming", headers=stranger.h).json()["requests"] == []
        url = f"/v1/recovery/requests/{rid}"
        assert c.post(f"{url}/approval", headers=stranger.h,
                      json={"approval": b64(b"a")}).status_code == 404  # fmt: skip
        assert (
            c.post(f"{url}/approval", headers=a.h, json={"approval": b64(b"a")}).status_code == 204
        )
        assert (
            c.post(f"{url}/approval", headers=a.h, json={"approval": b64(b"a")}).status_code == 409
        )

        # the requester polls with its token only
        assert c.post(f"{url}/poll", json={"token": "wrong"}).status_code == 404
        polled = c.post(f"{url}/poll", json={"token": token}).json()
        assert [x["contact"] for x in polled["approvals"]] == [a.email]
        pending = c.get("/v1/recovery/pending", headers=owner.h).json()["requests"]
        assert [(p["request_id"], p["approvals"]) for p in pending] == [(rid, 1)]

        # a contact cannot veto; the owner can; then approvals stop, the veto is shown
        assert c.post(f"{url}/veto", headers=a.h, json={"veto": b64(b"v")}).status_code == 404
        assert c.post(f"{url}/veto", headers=owner.h, json={"veto": b64(b"v")}).status_code == 204
        assert (
            c.post(f"{url}/approval", headers=b.h, json={"approval": b64(b"b")}).status_code == 409
        )
        seen = c.get("/v1/recovery/incoming", headers=b.h).json()["requests"]
        assert seen[0]["state"] == "vetoed" and seen[0]["veto"] == b64(b"v")
        assert c.post(f"{url}/cancel", json={"token": token}).status_code == 204
        assert c.post(f"{url}/cancel", json={"token": token}).status_code == 409
        assert c.get("/v1/recovery/incoming", headers=b.h).json()["requests"] == []

        # re-setup replaces the shares: a is no longer a contact
        assert _setup(c, owner, [b], proof).status_code == 204
        rid2, _ = _start(c, owner.email)
        assert c.get("/v1/recovery/incoming", headers=a.h).json()["requests"] == []
        events = [e["event"] for e in c.get("/v1/audit", headers=owner.h).json()["entries"]]
        for event in ("social_recovery_setup", "social_recovery_requested",
                      "social_recovery_approved", "social_recovery_vetoed",
                      "social_recovery_cancelled"):  # fmt: skip
            assert event in events
        assert rid2


def test_org_key_routes_without_a_key(server: Server) -> None:
    with server.client() as c:
        acct = new_account(c)
        assert c.get("/v1/org-key").json() == {"org_key": None, "document": None}
        assert c.get("/v1/account/escrow", headers=acct.h).status_code == 404
        body = {"org_key": secrets.token_hex(16), "escrow": b64(b"e")}
        r = c.put("/v1/account/escrow", headers=acct.h, json=body)
        assert (r.status_code, code(r)) == (403, "proof_required")
        r = c.put("/v1/account/escrow", headers=acct.h,
                  json={**body, "proof": {"auth_key": b64(acct.auth)}})  # fmt: skip
        assert r.status_code == 409  # not the active key (there is none)
