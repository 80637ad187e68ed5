"""Issue 12 items 1, 2 and 9 (object limit): quotas cannot be bypassed and a repeated commit
never destroys a committed blob. Real server processes; SQLite + local disk and PostgreSQL
(+ SeaweedFS where storage matters); races run many rounds and print their counts."""

from __future__ import annotations

import base64
import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from helpers.budgets import rounds as budget
from helpers.real_server import Account, Real, new_id, real_server
from helpers.servers import s3_spec

MIB = 1 << 20
RACERS = 8


def _race(n: int, fn: Callable[[int], int]) -> list[int]:
    gate = threading.Barrier(n)
    codes: list[int] = [0] * n

    def run(i: int) -> None:
        gate.wait()
        codes[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return codes


@pytest.fixture(scope="module", params=["sqlite-local", "postgres-s3"])
def real(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Real]:
    data = tmp_path_factory.mktemp("quotas") / "data"
    if request.param == "sqlite-local":
        with real_server(data, None) as r:
            yield r
    else:
        blobs = s3_spec(request.getfixturevalue("weed"))
        with real_server(data, request.getfixturevalue("pg_url"), "--blobs", blobs) as r:
            yield r


def _charged(real: Real, acct: Account) -> int:
    """What the account's rows hold: blobs, open uploads and records."""
    blobs = real.sql("SELECT COALESCE(SUM(size), 0) FROM blobs WHERE owner = ?", acct.id)
    try:
        ups = real.sql(
            "SELECT COALESCE(SUM(size), 0) FROM uploads WHERE owner = ? AND state <> 'committed'",
            acct.id,
        )
    except (sqlite3.Error, psycopg.Error):  # a schema before 0003: every upload is open
        ups = real.sql("SELECT COALESCE(SUM(size), 0) FROM uploads WHERE owner = ?", acct.id)
    recs = real.sql("SELECT COALESCE(SUM(LENGTH(data)), 0) FROM records WHERE owner = ?", acct.id)
    return int(blobs[0][0]) + int(ups[0][0]) + int(recs[0][0])


def test_parallel_deletes_release_once(real: Real) -> None:
    acct = real.account(quota=64 * MIB)
    clients = [acct.client() for _ in range(RACERS)]
    extra = negative = 0
    try:
        for _ in range(25):
            up = clients[0].post("/v1/uploads", json={"blob_id": new_id(), "size": 4 * MIB})
            assert up.status_code == 201, up.text
            uid = up.json()["upload_id"]
            codes = _race(
                RACERS, lambda i, uid=uid: clients[i].delete(f"/v1/uploads/{uid}").status_code
            )
            assert sorted(set(codes)) in ([204], [204, 404]), codes
            extra += codes.count(204) - 1
            bid = new_id()
            assert clients[0].put(f"/v1/blobs/{bid}", content=os.urandom(MIB)).status_code == 201
            codes = _race(
                RACERS, lambda i, bid=bid: clients[i].delete(f"/v1/blobs/{bid}").status_code
            )
            assert sorted(set(codes)) in ([204], [204, 404]), codes
            extra += codes.count(204) - 1
            negative += acct.used() < 0
    finally:
        for c in clients:
            c.close()
    print(f"quota: {extra} extra releases, {negative} rounds below zero, in 25 x 2 races")
    assert acct.used() == 0 == _charged(real, acct)
    assert extra == 0 and negative == 0
    with acct.client() as c:  # and the quota still holds
        big = c.post("/v1/uploads", json={"blob_id": new_id(), "size": 65 * MIB})
        assert big.status_code == 507


def _upload(c: httpx.Client, blob_id: str, data: bytes, part: int) -> str:
    r = c.post("/v1/uploads", json={"blob_id": blob_id, "size": len(data)})
    assert r.status_code == 201, r.text
    uid = str(r.json()["upload_id"])
    size = int(r.json()["part_size"])
    for n in range(int(r.json()["parts"])):
        chunk = data[n * size : (n + 1) * size]
        assert c.put(f"/v1/uploads/{uid}/parts/{n + 1}", content=chunk).status_code == 200
    return uid


def test_commit_racing_abort_keeps_quota_and_blob_consistent(real: Real) -> None:
    acct = real.account(quota=1 << 34)
    c1, c2 = acct.client(), acct.client()
    outcomes = {"committed": 0, "aborted": 0, "inconsistent": 0}
    # each of the 10 abort delays once (3 times with BLINDVAULT_LONG_TESTS=1); before the
    # fix 24 of 30 rounds were inconsistent, so 10 rounds miss it with odds below 1e-6
    rounds = budget(10, 30)
    try:
        for rnd in range(rounds):
            data = os.urandom(16 * MIB + rnd)
            bid = new_id()
            uid = _upload(c1, bid, data, 0)
            delay = (rnd % 10) / 500  # the abort lands at different points of the commit

            def go(i: int, uid: str = uid, delay: float = delay) -> int:
                if i == 0:
                    return c1.post(f"/v1/uploads/{uid}/commit").status_code
                time.sleep(delay)
                return c2.delete(f"/v1/uploads/{uid}").status_code

            codes = _race(2, go)
            got = c1.get(f"/v1/blobs/{bid}")
            if codes[0] == 201:
                outcomes["committed"] += 1
                ok = got.status_code == 200 and got.content == data
            else:
                outcomes["aborted"] += 1
                ok = got.status_code == 404
            if not ok or acct.used() != _charged(real, acct):
                outcomes["inconsistent"] += 1
    finally:
        c1.close()
        c2.close()
    print(f"commit vs abort, {rounds} rounds: {outcomes}")
    assert outcomes["inconsistent"] == 0


def test_conflicting_commit_leaves_no_stored_bytes(real: Real) -> None:
    acct = real.account(quota=64 * MIB)
    with acct.client() as c:
        bid = new_id()
        first = _upload(c, bid, os.urandom(MIB), 0)
        second = _upload(c, bid, os.urandom(MIB), 0)
        assert c.post(f"/v1/uploads/{first}/commit").status_code == 201
        r = c.post(f"/v1/uploads/{second}/commit")
        assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
        assert acct.used() == MIB == _charged(real, acct)
    if real.db_url is None:  # local store: exactly one stored object remains
        from blindvault.server.storage.blobstore import LocalBlobStore

        store = LocalBlobStore(real.data / "blobstore")
        stored = [k for batch in store.keys(float("inf")) for k in batch]
        assert len(stored) == len(real.sql("SELECT storage_key FROM blobs"))


def test_records_count_against_the_quota(real: Real) -> None:
    acct = real.account(quota=3 * MIB)
    with acct.client() as c:
        big = base64.b64encode(os.urandom(2 * MIB)).decode()
        rid = new_id()
        r = c.put(f"/v1/records/manifest/{rid}", json={"expected_version": 0, "data": big})
        assert r.status_code == 200, r.text
        assert acct.used() == 2 * MIB
        r = c.put(f"/v1/records/manifest/{new_id()}", json={"expected_version": 0, "data": big})
        assert r.status_code == 507
        small = base64.b64encode(b"x" * 10).decode()
        r = c.put(f"/v1/records/manifest/{rid}", json={"expected_version": 1, "data": small})
        assert r.status_code == 200 and acct.used() == 10
        assert (
            c.delete(f"/v1/records/manifest/{rid}", params={"expected_version": 2}).status_code
            == 204
        )
        assert acct.used() == 0 == _charged(real, acct)


def test_repeated_commit_never_rewrites_the_blob(real: Real) -> None:
    """Item 2: commits sent together (a client retrying its POST) all succeed or say a
    commit is running; the blob always reads back intact."""
    acct = real.account(quota=1 << 34)
    clients = [acct.client() for _ in range(4)]
    damaged = answers_201 = 0
    rounds = 30
    try:
        for rnd in range(rounds):
            data = os.urandom(2 * MIB + rnd)
            bid = new_id()
            uid = _upload(clients[0], bid, data, 0)
            codes = _race(
                4, lambda i, uid=uid: clients[i].post(f"/v1/uploads/{uid}/commit").status_code
            )
            assert 201 in codes and set(codes) <= {201, 409}, codes
            answers_201 += codes.count(201)
            again = clients[0].post(f"/v1/uploads/{uid}/commit")
            assert again.status_code == 201 and again.json()["blob_id"] == bid
            got = clients[0].get(f"/v1/blobs/{bid}").content
            damaged += hashlib.sha256(got).digest() != hashlib.sha256(data).digest()
    finally:
        for c in clients:
            c.close()
    print(f"repeated commit: {damaged} of {rounds} blobs damaged, {answers_201} answers 201")
    assert damaged == 0


def test_object_limit_counts_empty_blobs(tmp_path: Path) -> None:
    """Item 9: empty objects are not free; the per-account object limit refuses them.
    In process: the limit (default 1,000,000) is a `Limits` field, not a command-line flag."""
    from fastapi.testclient import TestClient

    from blindvault.server.app import build
    from blindvault.server.context import Limits

    app = build(tmp_path / "d", None, None, Limits(max_objects=5))
    with TestClient(app) as tc:
        email = f"o{new_id()[:8]}@example.org"
        auth = base64.b64encode(os.urandom(32)).decode()
        body = {"email": email, "kdf": {"alg": "argon2id", "m": 65536, "t": 3, "p": 4},
                "auth_key": auth, "recovery_auth_key": auth, "key_bundle": "eA==",
                "identity_bundle": "eQ=="}  # fmt: skip
        assert tc.post("/v1/accounts", json=body).status_code == 201
        token = tc.post("/v1/sessions", json={"email": email, "auth_key": auth}).json()["token"]
        h = {"Authorization": f"Bearer {token}"}
        codes = [
            tc.put(f"/v1/blobs/{new_id()}", content=b"", headers=h).status_code for _ in range(7)
        ]
        assert codes == [201] * 5 + [507] * 2
    app.state.ctx.engine.dispose()
