"""The pairing relay's rules (issue 17), on SQLite and PostgreSQL: a mailbox takes one
join, ever; only its account drives it; only the joiner (with its claim) collects the
payload, once; a failed or abandoned pairing revokes the device row made for it."""

from __future__ import annotations

import base64
import os

import httpx

from helpers.accounts import Account, Server, b64, code, new_account


def _open(c: httpx.Client, acct: Account) -> str:
    r = c.post("/v1/pairings", json={"message": b64(os.urandom(33))}, headers=acct.h)
    assert r.status_code == 201, r.text
    channel = str(r.json()["channel"])
    assert channel.isdigit() and len(channel) == 5
    return channel


def _join(c: httpx.Client, channel: str, name: str = "phone") -> httpx.Response:
    body = {"message": b64(os.urandom(33)), "confirm": b64(os.urandom(32)), "device_name": name}
    return c.post(f"/v1/pairings/{channel}/join", json=body)


def _devices(c: httpx.Client, acct: Account) -> list[tuple[str, bool]]:
    r = c.get("/v1/devices", headers=acct.h)
    return [(d["name"], d["revoked"]) for d in r.json()["devices"]]


def test_one_join_then_the_mailbox_is_used(server: Server) -> None:
    with server.client() as c:
        acct = new_account(c)
        channel = _open(c, acct)
        assert c.get(f"/v1/pairings/{channel}").status_code == 200  # no token needed
        first = _join(c, channel)
        assert first.status_code == 200, first.text
        # a second join (a replay, a guess after the first try) and a late read: 410
        again = _join(c, channel, "intruder")
        assert (again.status_code, code(again)) == (410, "pairing_gone")
        r = c.get(f"/v1/pairings/{channel}")
        assert (r.status_code, code(r)) == (410, "pairing_gone")
        status = c.get(f"/v1/pairings/{channel}/status", headers=acct.h).json()
        assert status["state"] == "joined"
        assert status["device_name"] == "phone"  # the first joiner's, unchanged
        assert (c.post("/v1/pairings/00000/join").status_code) in (404, 422)


def test_only_the_account_drives_and_only_the_joiner_collects(server: Server) -> None:
    with server.client() as c:
        acct, other = new_account(c), new_account(c)
        channel = _open(c, acct)
        # before the join: nothing to accept or seal
        r = c.post(f"/v1/pairings/{channel}/accept", headers=acct.h)
        assert (r.status_code, code(r)) == (410, "pairing_gone")
        claim = _join(c, channel).json()["claim"]
        for path in ("status", "accept", "fail"):
            method = c.get if path == "status" else c.post
            r = method(f"/v1/pairings/{channel}/{path}", headers=other.h)
            assert r.status_code == 404, path  # another account: as if it did not exist
        r = c.post(f"/v1/pairings/{channel}/receive", json={"claim": "x" * 32})
        assert r.status_code == 404  # a wrong claim
        r = c.post(f"/v1/pairings/{channel}/receive", json={"claim": claim})
        assert r.json() == {"state": "waiting", "sealed": None}
        made = c.post(f"/v1/pairings/{channel}/accept", headers=acct.h)
        assert made.status_code == 201, made.text
        assert ("phone", False) in _devices(c, acct)
        sealed = b64(os.urandom(100))
        r = c.put(f"/v1/pairings/{channel}/payload", json={"sealed": sealed}, headers=acct.h)
        assert r.status_code == 204
        r = c.post(f"/v1/pairings/{channel}/receive", json={"claim": claim})
        assert r.json() == {"state": "sealed", "sealed": sealed}
        r = c.post(f"/v1/pairings/{channel}/receive", json={"claim": claim})
        assert (r.status_code, code(r)) == (410, "pairing_gone")  # delivered once
        # the new device's token works
        token = made.json()["token"]
        assert c.get("/v1/account", headers={"Authorization": f"Bearer {token}"}).is_success
        # and abandoning after delivery revokes it
        r = c.post(f"/v1/pairings/{channel}/abandon", json={"claim": claim})
        assert r.status_code == 204
        assert c.get("/v1/account", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_fail_closes_the_mailbox_and_revokes_the_new_row(server: Server) -> None:
    with server.client() as c:
        acct = new_account(c)
        channel = _open(c, acct)
        claim = _join(c, channel).json()["claim"]
        assert c.post(f"/v1/pairings/{channel}/accept", headers=acct.h).status_code == 201
        assert c.post(f"/v1/pairings/{channel}/fail", headers=acct.h).status_code == 204
        assert ("phone", True) in _devices(c, acct)
        r = c.post(f"/v1/pairings/{channel}/receive", json={"claim": claim})
        assert (r.status_code, code(r)) == (410, "pairing_failed")
        r = c.put(f"/v1/pairings/{channel}/payload", json={"sealed": b64(b"abcd")}, headers=acct.h)
        assert r.status_code == 410


def test_bad_input(server: Server) -> None:
    with server.client() as c:
        acct = new_account(c)
        r = c.post("/v1/pairings", json={"message": "not base64!"}, headers=acct.h)
        assert r.status_code == 400
        r = c.post("/v1/pairings", json={"message": b64(b"x" * 30)})
        assert r.status_code == 401
        big = base64.b64encode(os.urandom(290)).decode()
        r = c.post("/v1/pairings", json={"message": big}, headers=acct.h)
        assert r.status_code == 413
        assert c.get("/v1/pairings/12").status_code == 400
        assert c.get("/v1/pairings/99999999").status_code == 404
        channel = _open(c, acct)
        r = c.post(f"/v1/pairings/{channel}/join", json={"message": "x"})
        assert r.status_code in (400, 422)
        assert c.get(f"/v1/pairings/{channel}").status_code == 200  # still open


def test_joins_are_limited_per_address(server: Server) -> None:
    """Each join spends somebody's code: one address cannot sweep every open mailbox."""
    with server.client() as owner:
        acct = new_account(owner)
        channels = [_open(owner, acct) for _ in range(31)]
    with server.client() as sweeper:  # one client address
        answers = [_join(sweeper, ch).status_code for ch in channels]
    assert answers[:30] == [200] * 30
    assert answers[30] == 429
