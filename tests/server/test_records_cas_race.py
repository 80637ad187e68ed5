"""Issue 18: record compare-and-swap under group commit (`storage.groupcommit`,
`domain.recordwrite`). Many clients race on the same record, version after version, on a
real server process (SQLite and PostgreSQL): exactly one winner per version, every loser
told the version that won, one change-feed entry per version and the quota charged for
the stored bytes only. Then the batch rules themselves, in process: a write that would
pass the quota is refused alone while the rest of its batch commits, and a write that
fails unexpectedly does not take its batch with it."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Connection, Engine

from blindvault.server.domain.recordwrite import Cas, apply
from blindvault.server.domain.scopes import Scope
from blindvault.server.errors import ApiError
from blindvault.server.storage.db import make_engine, transaction
from blindvault.server.storage.groupcommit import GroupCommit
from helpers.real_server import Real, new_id

CLIENTS = 16
VERSIONS = 25


@pytest.fixture(scope="module")
def real(shared_real: Real) -> Real:
    return shared_real


def _engine(real: Real) -> Engine:
    return make_engine(real.db_url or f"sqlite:///{real.data / 'blindvault.sqlite3'}")


def _cas(c: httpx.Client, rid: str, expected: int, data: bytes) -> httpx.Response:
    body = {"expected_version": expected, "data": base64.b64encode(data).decode()}
    return c.put(f"/v1/records/manifest/{rid}", json=body)


def _round(clients: list[httpx.Client], rid: str, expected: int) -> list[httpx.Response]:
    """Every client writes `rid` over version `expected` at once, each its own bytes."""
    gate = threading.Barrier(len(clients))
    answers: list[httpx.Response | None] = [None] * len(clients)

    def go(i: int) -> None:
        gate.wait()
        answers[i] = _cas(clients[i], rid, expected, f"{expected}:{i}".encode() * (i + 1))

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [a for a in answers if a is not None]


def test_racing_writers_of_one_record_have_one_winner_per_version(real: Real) -> None:
    acct = real.account()
    clients = [acct.client() for _ in range(CLIENTS)]
    rid = new_id()
    winners: list[int] = []
    try:
        for version in range(VERSIONS):  # version 0: everyone tries to create it
            answers = _round(clients, rid, version)
            codes = [a.status_code for a in answers]
            assert len(codes) == CLIENTS
            assert sorted(set(codes)) == [200, 409], codes
            assert codes.count(200) == 1, codes  # exactly one winner of this version
            for a in answers:
                if a.status_code == 409:  # every loser is told the version that won
                    assert a.json()["error"]["current_version"] == version + 1
            winners.append(codes.index(200))
        got = clients[0].get(f"/v1/records/manifest/{rid}").json()
        last = winners[-1]
        final = f"{VERSIONS - 1}:{last}".encode() * (last + 1)
        assert got["version"] == VERSIONS
        assert base64.b64decode(got["data"]) == final  # the last winner's bytes
        feed = clients[0].get("/v1/changes", params={"since": 0}).json()["changes"]
        assert [e["version"] for e in feed if e["id"] == rid] == list(range(1, VERSIONS + 1))
    finally:
        for c in clients:
            c.close()
    assert acct.used() == len(final)  # no loser's bytes stay charged


def _own(account_id: str) -> Scope:
    return Scope(account_id, "", account_id, True)


def test_a_batch_refuses_only_the_write_that_passes_the_quota(real: Real) -> None:
    acct = real.account(quota=100)
    a, b, c = (f"{n:032x}" for n in (1, 2, 3))  # applied in key order: a, b, c
    writes = [
        Cas(_own(acct.id), "manifest", a, 0, b"x" * 60),
        Cas(_own(acct.id), "manifest", b, 0, b"y" * 60),  # 120 > 100: refused, alone
        Cas(_own(acct.id), "manifest", c, 0, b"z" * 40),  # 100: fits
    ]
    engine = _engine(real)
    try:
        with transaction(engine) as conn:
            outcomes = apply(conn, writes[::-1])  # the outcomes come in the order given
    finally:
        engine.dispose()
    refused = {w.record_id: o for w, o in zip(writes[::-1], outcomes, strict=True)}
    assert refused[a] is None and refused[c] is None
    assert isinstance(refused[b], ApiError) and refused[b].status == 507
    assert acct.used() == 100
    rows = real.sql("SELECT id FROM records WHERE owner = ? ORDER BY id", acct.id)
    assert [r[0] for r in rows] == sorted([a, c])
    feed = real.sql("SELECT id, version FROM changes WHERE owner = ? ORDER BY seq", acct.id)
    assert sorted(feed) == sorted([(a, 1), (c, 1)])


def test_one_failing_write_does_not_fail_its_batch(tmp_path: Path) -> None:
    """The batch rolls back and each write runs again alone: only the bad one fails."""
    engine = make_engine(f"sqlite:///{tmp_path / 'gc.sqlite3'}")
    started = threading.Event()
    seen: list[int] = []

    def apply_some(conn: Connection, units: Sequence[int]) -> list[ApiError | None]:
        seen.append(len(units))
        if not started.is_set():
            started.set()
            time.sleep(0.3)  # the others queue meanwhile: the next batch holds them all
        if -1 in units:
            raise RuntimeError("a bug in one write")
        return [ApiError(409, "stale_version", "no") if u == 0 else None for u in units]

    gc: GroupCommit[int] = GroupCommit(engine, apply_some)
    results: dict[int, BaseException | None] = {}

    def go(unit: int) -> None:
        try:
            gc.run(unit)
            results[unit] = None
        except BaseException as exc:  # recorded for the asserts
            results[unit] = exc

    first = threading.Thread(target=go, args=(100,))
    first.start()
    started.wait(5)
    threads = [threading.Thread(target=go, args=(u,)) for u in [1, 2, -1, 0, 3]]
    for t in threads:
        t.start()
    for t in [first, *threads]:
        t.join(10)
    engine.dispose()
    assert results[100] is None and results[1] is None and results[2] is None
    assert results[3] is None
    assert isinstance(results[-1], RuntimeError)
    assert isinstance(results[0], ApiError) and results[0].status == 409
    assert 5 in seen  # the five queued writes went in one batch first
