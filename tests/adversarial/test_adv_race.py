"""A benign race must not look like an attack. Device B starts writing a new version of a
file; device A writes two versions meanwhile (before issue 14 the second deleted the first
one's blob, so B's blob id was free again; now A's version 2 is kept in the history). B's
write must then be retried or refused as a conflict (exit 5) — not reported as tampering
(exit 10) — must not leave an orphan blob, and must not replace a version A keeps."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from blindvault.client.state import StateStore
from blindvault.client.vault import Vault
from blindvault.core.content import blob_id
from blindvault.core.manifest import FileEntry
from blindvault.errors import BlindvaultError, ConflictError, IntegrityError
from helpers.adversarial import FAST_KDF, PASSWORD, make_account
from helpers.proxy import Exchange, Proxy


def test_a_lost_race_is_a_conflict_not_an_integrity_failure(proxy: Proxy, tmp_path: Path) -> None:
    email = f"race{os.urandom(3).hex()}@example.org"
    acc = make_account(proxy, tmp_path / "a", email, {"/f.txt": b"v1"}, [])
    entry = acc.entries["/f.txt"]
    assert isinstance(entry, FileEntry)
    v2 = blob_id(entry.node_id, 2).hex()
    a = acc.vault(proxy.url)
    b = Vault.open(proxy.url, email, PASSWORD, store=StateStore(tmp_path / "b"), min_kdf=FAST_KDF)
    held, release = threading.Event(), threading.Event()

    def hold_b(ex: Exchange) -> None:  # B's upload of version 2 waits for A
        if (
            ex.method == "PUT"
            and ex.path == f"/v1/blobs/{v2}"
            and b.api.token in ex.request_headers.get("authorization", "")
        ):
            held.set()
            release.wait(timeout=60)

    proxy.before(hold_b)
    outcome: list[BaseException | None] = []

    def b_writes() -> None:
        local = tmp_path / "b" / "f.txt"
        local.write_bytes(b"from B")
        try:
            b.put(local, "/")
            outcome.append(None)
        except BlindvaultError as exc:
            outcome.append(exc)

    t = threading.Thread(target=b_writes)
    t.start()
    try:
        assert held.wait(timeout=60)
        for n in (2, 3):  # A writes v2, then v3 (deleting v2's blob)
            local = tmp_path / "a" / "f.txt"
            local.write_bytes(f"from A {n}".encode())
            a.put(local, "/")
    finally:
        release.set()
        t.join(timeout=60)
    assert not t.is_alive(), "B's write did not finish"
    proxy.reset()
    exc = outcome[0]
    assert not isinstance(exc, IntegrityError), f"a lost race reported as tampering: {exc}"
    assert exc is None or isinstance(exc, ConflictError)
    final = a.stat("/f.txt")
    assert isinstance(final, FileEntry)
    every = (final.as_version(), *final.history)  # issue 14: earlier versions are kept
    referenced = {blob_id(final.node_id, v.content_version).hex() for v in every}
    stored = {x["id"] for x in a.api.get_json("/v1/blobs")["blobs"]}
    assert stored == referenced, "orphan blobs left behind"
    for v in every:  # and B's lost write replaced none of A's kept versions
        got = a.history.fetch("/f.txt", v, tmp_path / f"v{v.content_version}")
        won = (b"from B",) if exc is None else ()  # B took the next free version: it won
        assert got.read_bytes() in (b"v1", b"from A 2", b"from A 3", *won)
    a.close()
    b.close()
