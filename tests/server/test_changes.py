"""Issue 14: the blind change feed. Real server processes on SQLite and PostgreSQL: write
order, paging, scoping (own spaces, a member's one space, nobody else's), compaction with
the 410 `feed_reset` horizon, and same-transaction writes (a lost CAS or a full quota adds
no entry)."""

from __future__ import annotations

import base64
import subprocess
import sys
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from blindvault.server.domain.changes import PAGE, compact
from blindvault.server.storage.db import make_engine, transaction
from blindvault.server.storage.schema import changes
from helpers.real_server import Account, Real, new_id


@pytest.fixture(scope="module")
def real(shared_real: Real) -> Real:
    """The run's shared server on each backend (SQLite, PostgreSQL): fresh accounts only."""
    return shared_real


def _put(c: httpx.Client, rid: str, expected: int, data: bytes = b"x", **q: str) -> int:
    body = {"expected_version": expected, "data": base64.b64encode(data).decode()}
    return c.put(f"/v1/records/manifest/{rid}", json=body, params=q).status_code


def _feed(c: httpx.Client, since: int = 0, **q: str) -> dict[str, Any]:
    r = c.get("/v1/changes", params={"since": since, **q})
    assert r.status_code == 200, r.text
    return dict(r.json())


def _all(c: httpx.Client, since: int = 0, **q: str) -> tuple[list[dict[str, Any]], int, int]:
    out: list[dict[str, Any]] = []
    requests = 0
    while True:
        page = _feed(c, since, **q)
        requests += 1
        out += page["changes"]
        since = page["next"]
        if not page["more"]:
            return out, since, requests


def _engine(real: Real) -> Any:
    return make_engine(real.db_url or f"sqlite:///{real.data / 'blindvault.sqlite3'}")


def test_entries_come_in_write_order_with_nothing_else(real: Real) -> None:
    with real.account().client() as c:
        a, b = new_id(), new_id()
        assert _put(c, a, 0) == 200 and _put(c, b, 0) == 200 and _put(c, a, 1) == 200
        assert (
            c.delete(f"/v1/records/manifest/{b}", params={"expected_version": 1}).status_code == 204
        )
        got, last, _ = _all(c)
        assert [(e["id"], e["version"], e["deleted"]) for e in got] == [
            (a, 1, False), (b, 1, False), (a, 2, False), (b, 1, True),
        ]  # fmt: skip
        assert [e["seq"] for e in got] == sorted(e["seq"] for e in got)
        assert set(got[0]) == {"seq", "kind", "id", "version", "deleted"}
        unchanged = _feed(c, last)
        assert unchanged["changes"] == [] and unchanged["next"] == last and not unchanged["more"]
        assert unchanged["root"] is None


def test_the_owner_gets_its_signed_root_in_the_same_answer(real: Real) -> None:
    acct = real.account()
    with acct.client() as c:
        body = {"expected_version": 0, "data": base64.b64encode(b"signed-root").decode()}
        assert c.put(f"/v1/records/root/{acct.id}", json=body).status_code == 200
        assert _feed(c)["root"] is None  # not asked for
        page = _feed(c, root=acct.id)
        assert page["root"] == {"version": 1, "data": base64.b64encode(b"signed-root").decode()}


def test_pages_are_capped_and_resume_from_next(real: Real) -> None:
    acct = real.account()
    n = PAGE + 7
    ids = [new_id() for _ in range(n)]
    # bulk entries straight into the table (as n record writes would leave them)
    real.sql(
        "INSERT INTO changes (owner, space, kind, id, version, deleted) VALUES "
        + ", ".join(["(?, '', 'manifest', ?, 1, ?)"] * n),
        *[v for rid in ids for v in (acct.id, rid, False)],
    )
    with acct.client() as c:
        first = _feed(c)
        assert len(first["changes"]) == PAGE and first["more"]
        got, _, requests = _all(c)
    assert [e["id"] for e in got] == ids and requests == 2


def test_a_failed_write_adds_no_entry(real: Real) -> None:
    acct = real.account(quota=10_000)
    with acct.client() as c:
        rid = new_id()
        assert _put(c, rid, 0) == 200
        _, last, _ = _all(c)
        assert _put(c, rid, 0) == 409  # create of an existing record: CAS lost
        assert _put(c, rid, 5) == 409  # stale replace
        assert (
            c.delete(f"/v1/records/manifest/{rid}", params={"expected_version": 9}).status_code
            == 409
        )
        assert _put(c, new_id(), 0, b"y" * 20_000) in (413, 507)  # over quota: rolled back
        assert _put(c, rid, 1, b"y" * 20_000) in (413, 507)
        assert _feed(c, last)["changes"] == []
    rows = real.sql("SELECT COUNT(*) FROM changes WHERE owner = ?", acct.id)
    assert rows[0][0] == 1


def _grant(owner: Account, member: Account, space: str, role: str) -> None:
    with owner.client() as c:
        body = {"id": new_id(), "space": space, "member": member.id, "role": role,
                "envelope": base64.b64encode(b"sealed").decode()}  # fmt: skip
        assert c.put("/v1/shares", json=body).status_code == 200


def test_a_member_sees_its_space_only_and_a_stranger_nothing(real: Real) -> None:
    owner, member, stranger = real.account(), real.account(), real.account()
    space, other = new_id(), new_id()
    _grant(owner, member, space, "write")
    private, shared, elsewhere = new_id(), new_id(), new_id()
    with owner.client() as c:
        assert _put(c, private, 0) == 200
        assert _put(c, shared, 0, space=space) == 200
        assert _put(c, elsewhere, 0, space=other) == 200
        mine, _, _ = _all(c)
        assert {e["id"] for e in mine} == {private, shared, elsewhere}
        assert [e["id"] for e in _all(c, space=space)[0]] == [shared]
    with member.client() as m:
        assert _put(m, shared, 1, owner=owner.id, space=space) == 200
        seen, _, _ = _all(m, owner=owner.id, space=space)
        assert [(e["id"], e["version"]) for e in seen] == [(shared, 1), (shared, 2)]
        assert _feed(m, owner=owner.id, space=space, root=owner.id)["root"] is None
        assert _all(m)[0] == []  # its own feed holds none of the owner's writes
    with stranger.client() as s:
        for q in ({"owner": owner.id, "space": space}, {"owner": owner.id}):
            r = s.get("/v1/changes", params={"since": 0, **q})
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        assert _all(s)[0] == []


def test_adopting_into_a_space_shows_the_records_to_members(real: Real) -> None:
    owner, member = real.account(), real.account()
    space, rid = new_id(), new_id()
    _grant(owner, member, space, "read")
    with owner.client() as c:
        assert _put(c, rid, 0) == 200
        r = c.post(
            f"/v1/spaces/{space}/adopt",
            json={"records": [{"kind": "manifest", "id": rid}], "blobs": []},
        )
        assert r.status_code == 200, r.text
    with member.client() as m:
        seen, _, _ = _all(m, owner=owner.id, space=space)
        assert [(e["id"], e["version"]) for e in seen] == [(rid, 1)]


def test_compaction_keeps_the_newest_and_older_readers_get_feed_reset(real: Real) -> None:
    acct = real.account()
    a, b = new_id(), new_id()
    with acct.client() as c:
        for v in range(3):
            assert _put(c, a, v) == 200
        assert _put(c, b, 0) == 200
        assert (
            c.delete(f"/v1/records/manifest/{b}", params={"expected_version": 1}).status_code == 204
        )
        before, last, _ = _all(c)
        engine = _engine(real)
        try:
            with transaction(engine) as conn:
                dropped = compact(conn, acct.id, last)
                left = conn.execute(select(func.count()).where(changes.c.owner == acct.id)).scalar()
        finally:
            engine.dispose()
        assert dropped == 4 and left == 1  # a@1, a@2 superseded; b's entries end in a delete
        r = c.get("/v1/changes", params={"since": before[0]["seq"]})
        assert r.status_code == 410 and r.json()["error"]["code"] == "feed_reset"
        assert r.json()["error"]["horizon"] == last  # where to ask from after a full walk
        assert _feed(c, last)["changes"] == []
        assert _put(c, a, 3) == 200
        assert [(e["id"], e["version"]) for e in _feed(c, last)["changes"]] == [(a, 4)]


def test_compacting_superseded_entries_only_needs_no_reset(real: Real) -> None:
    acct = real.account()
    a = new_id()
    with acct.client() as c:
        for v in range(3):
            assert _put(c, a, v) == 200
        got, last, _ = _all(c)
        engine = _engine(real)
        try:
            with transaction(engine) as conn:
                assert compact(conn, acct.id, last) == 2
        finally:
            engine.dispose()
        for since in (0, got[0]["seq"]):  # any old reader: still served, sees the newest
            assert [(e["id"], e["version"]) for e in _feed(c, since)["changes"]] == [(a, 3)]


def _admin(real: Real, *args: str) -> subprocess.CompletedProcess[str]:
    db = ["--db", real.db_url] if real.db_url else []
    return subprocess.run(
        [sys.executable, "-m", "blindvault", "admin", "--data", str(real.data), *db, *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_admin_compact_feed_keeps_the_newest_and_resets_older_readers(real: Real) -> None:
    acct = real.account()
    a, b = new_id(), new_id()
    with acct.client() as c:
        assert _put(c, b, 0) == 200
        assert (
            c.delete(f"/v1/records/manifest/{b}", params={"expected_version": 1}).status_code == 204
        )
        for v in range(3):
            assert _put(c, a, v) == 200
        got, last, _ = _all(c)
        assert _admin(real, "compact-feed", "--keep", "-1").returncode == 2
        done = _admin(real, "compact-feed", "--keep", "1")
        assert done.returncode == 0, done.stderr
        assert "entries dropped" in done.stdout
        r = c.get("/v1/changes", params={"since": 0})
        assert r.status_code == 410 and r.json()["error"]["code"] == "feed_reset"
        horizon = got[-2]["seq"]  # the newest entry is kept whole, everything else compacted
        assert [(e["id"], e["version"]) for e in _feed(c, horizon)["changes"]] == [(a, 3)]
        assert _feed(c, last)["changes"] == []
