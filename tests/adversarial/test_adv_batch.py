"""Small files travel in `POST /v1/blobs/batch-get` answers: the server leaves one out,
repeats one, or answers with another file's blob (P-TOMBSTONE, P-FAILCLOSED, P-BIND).
`get` of a folder must refuse the answer and write no file of it."""

from __future__ import annotations

import os
from pathlib import Path

from helpers.adversarial import Account, Runner, attack
from helpers.proxy import BATCH_GET, BatchItems, Proxy, on_batch


def _files(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())


def _get(bv: Runner, proxy: Proxy, tmp_path: Path, code: int | set[int]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    sent = attack(bv, proxy, ["get", "/", str(out)], code)
    assert _files(out) == []  # not one file of the refused answer, no partial
    reads = ("GET", "HEAD")
    assert [r for r in sent if r[0] not in reads and r[1] != BATCH_GET] == []  # reads only


def test_p_tombstone_batch_get_leaves_a_file_out(
    bv: Runner, proxy: Proxy, victim: Account, tmp_path: Path
) -> None:
    """The server drops b.txt from the root folder's batch: exit 10 (the signed listing
    names it), and neither a.txt nor small.txt of the same answer is written."""
    dropped = victim.blobs["/b.txt"]
    proxy.add(on_batch(lambda items: [(i, b) for i, b in items if i != dropped]))
    _get(bv, proxy, tmp_path, 10)


def test_p_failclosed_batch_get_repeats_an_id(
    bv: Runner, proxy: Proxy, victim: Account, tmp_path: Path
) -> None:
    """The server sends a.txt's id twice, first with garbage then with the real blob (a
    client that keeps the last copy would accept it): a malformed answer, refused."""
    target = victim.blobs["/a.txt"]

    def repeat(items: BatchItems) -> BatchItems:
        real = dict(items)[target]
        return [(target, os.urandom(len(real))), *items]

    proxy.add(on_batch(repeat))
    _get(bv, proxy, tmp_path, {9, 10})


def test_p_bind_batch_get_swaps_two_blobs(
    bv: Runner, proxy: Proxy, victim: Account, tmp_path: Path
) -> None:
    """a.txt's and b.txt's blobs (the same size) under each other's id: refused."""
    a, b = victim.blobs["/a.txt"], victim.blobs["/b.txt"]

    def swap(items: BatchItems) -> BatchItems:
        blobs = dict(items)
        return [(i, blobs[{a: b, b: a}.get(i, i)]) for i, _ in items]

    proxy.add(on_batch(swap))
    _get(bv, proxy, tmp_path, 10)
