"""Issue 13: single PUTs and batches of new blobs share one write path (domain.blobwrite).
Racing writers of the same new blob id, some alone and some inside a batch: exactly one
wins each round, the others get 409, and nothing is left behind — no second object, no
quota charged for a loser, no half of a losing batch. Real server processes, SQLite +
local disk and PostgreSQL + SeaweedFS; many rounds, counts printed."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from helpers.real_server import Account, Real, new_id, real_server
from helpers.servers import s3_spec

ROUNDS = 40
RACERS = 6


@pytest.fixture(scope="module", params=["sqlite-local", "postgres-s3"])
def real(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Real]:
    data = tmp_path_factory.mktemp("blobwrite") / "data"
    if request.param == "sqlite-local":
        with real_server(data, None) as r:
            yield r
    else:
        blobs = s3_spec(request.getfixturevalue("weed"))
        with real_server(data, request.getfixturevalue("pg_url"), "--blobs", blobs) as r:
            yield r


def _frame(items: list[tuple[str, bytes]]) -> bytes:
    return b"".join(i.encode() + len(d).to_bytes(4, "big") + d for i, d in items)


def _write(c: httpx.Client, racer: int, blob_id: str) -> int:
    """Racer i writes `blob_id` with (i + 1) * 100 bytes: alone when even, else in a batch
    with a fresh id of its own."""
    data = bytes([racer]) * ((racer + 1) * 100)
    if racer % 2 == 0:
        return c.put(f"/v1/blobs/{blob_id}", content=data).status_code
    body = _frame([(new_id(), b"z" * 50), (blob_id, data)])
    return c.post("/v1/blobs/batch", content=body).status_code


def _round(clients: list[httpx.Client], blob_id: str) -> list[int]:
    gate = threading.Barrier(RACERS)
    codes: list[int] = [0] * RACERS

    def go(i: int) -> None:
        gate.wait()
        codes[i] = _write(clients[i], i, blob_id)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return codes


def _stored_files(real: Real) -> int:
    """Objects in the local store: files and packed rows (`LocalBlobStore.keys`)."""
    from blindvault.server.storage.blobstore import LocalBlobStore

    store = LocalBlobStore(real.data / "blobstore")
    return sum(len(batch) for batch in store.keys(float("inf")))


def test_racing_single_and_batch_writes_have_one_winner(real: Real) -> None:
    acct: Account = real.account()
    clients = [acct.client() for _ in range(RACERS)]
    bad_rounds = 0
    try:
        for _ in range(ROUNDS):
            blob_id = new_id()
            codes = _round(clients, blob_id)
            assert set(codes) <= {201, 409}, codes
            if codes.count(201) != 1:
                bad_rounds += 1
                continue
            winner = codes.index(201)
            got = clients[0].get(f"/v1/blobs/{blob_id}")
            assert got.content == bytes([winner]) * ((winner + 1) * 100)
    finally:
        for c in clients:
            c.close()
    rows = real.sql("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM blobs WHERE owner = ?", acct.id)
    count, size = int(rows[0][0]), int(rows[0][1])
    print(
        f"blob writes: {ROUNDS} rounds x {RACERS} racers, {bad_rounds} rounds without exactly "
        f"one winner; {count} blobs, {size} bytes, used_bytes {acct.used()}"
    )
    assert bad_rounds == 0
    assert acct.used() == size  # no loser's bytes stay charged
    if real.db_url is None:  # local disk: every stored object has its row, no orphan
        assert _stored_files(real) == count
