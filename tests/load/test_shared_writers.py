"""Two users of one shared folder (the owner and a read-write member) writing at the same
moment, round after round: each their own file and both the same file. No update is lost,
every write is signed by a roster writer, and both verify a clean folder afterwards.
Exactly ROUNDS rounds (no timing window), each counted."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from blindvault.client.state import StateStore
from blindvault.client.vault import Vault
from blindvault.core.kdf import KdfParams
from blindvault.core.manifest import FileEntry
from blindvault.errors import BlindvaultError, ConflictError
from helpers.budgets import LONG
from helpers.servers import start_server, stop

ROUNDS = 200 if LONG else 50  # a fixed count: no timing window (flaky on 2 cores)
FAST = KdfParams.argon2id(19456, 2, 1)


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc, u = start_server(tmp_path_factory.mktemp("shared-writers") / "data")
    try:
        yield u
    finally:
        stop(proc)


def test_owner_and_member_write_a_shared_folder_at_once(url: str, tmp_path: Path) -> None:
    tag = os.urandom(3).hex()
    alice, _ = Vault.signup(
        url, f"alice{tag}@example.org", "pw", store=StateStore(tmp_path / "a"), params=FAST
    )
    bob, _ = Vault.signup(
        url, f"bob{tag}@example.org", "pw", store=StateStore(tmp_path / "b"), params=FAST
    )
    alice.mkdir("/team")
    seed = tmp_path / "shared.txt"
    seed.write_text("seed")
    alice.put(seed, "/team")
    share = alice.shares.share("/team", bob.state.email, write=True, trust_on_first_use=True)
    assert bob.shares.accept(share, trust_on_first_use=True) == "@team"
    writers = {"alice": (alice, "/team"), "bob": (bob, "@team")}
    shared_ok: list[bytes] = []
    refused: list[str] = []
    errors: list[str] = []
    own: dict[str, bytes] = {}
    lock = threading.Lock()
    start = time.monotonic()
    rounds = 0

    def write(name: str, vault: Vault, where: str, r: int, gate: threading.Barrier) -> None:
        folder = tmp_path / f"{name}-{r}"
        folder.mkdir()
        mine = folder / f"{name}-{r}.txt"
        mine.write_bytes(os.urandom(100 + r))
        shared = folder / "shared.txt"
        shared.write_bytes(f"{name} round {r}".encode())
        gate.wait(timeout=30)
        try:
            vault.put(mine, where)
            with lock:
                own[mine.name] = mine.read_bytes()
        except BlindvaultError as exc:
            with lock:
                errors.append(f"{name} own r{r}: {type(exc).__name__}: {exc}")
        try:
            vault.put(shared, where)
            with lock:
                shared_ok.append(shared.read_bytes())
        except ConflictError as exc:  # documented: a concurrent change won (exit 5)
            with lock:
                refused.append(f"{name} r{r}: {exc}")
        except BlindvaultError as exc:
            with lock:
                errors.append(f"{name} shared r{r}: {type(exc).__name__}: {exc}")

    while rounds < ROUNDS:
        gate = threading.Barrier(2)
        threads = [
            threading.Thread(target=write, args=(n, v, w, rounds, gate))
            for n, (v, w) in writers.items()
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads), f"round {rounds} hung"
        rounds += 1
    took = time.monotonic() - start
    print(
        f"\nshared folder, two users: {rounds} rounds in {took:.1f} s; shared file: "
        f"{len(shared_ok)} writes won, {len(refused)} refused as conflicts"
    )
    assert rounds == ROUNDS
    assert len(shared_ok) + len(refused) == 2 * ROUNDS  # each writer: won or refused, each round
    assert len(shared_ok) >= ROUNDS  # at least one write of each round won
    assert errors == []
    for vault, where in writers.values():
        listing = {e.name: e for e in vault.ls(where)}
        assert set(listing) == {*own, "shared.txt"}
        entry = vault.stat(f"{where}/shared.txt")
        assert isinstance(entry, FileEntry)
        assert entry.content_version == 1 + len(shared_ok)  # each winning write: one version
        _, files, problems = vault.verify(where)
        assert problems == []
        assert files == len(own) + 1
    for name, content in own.items():  # no lost file, each with its own bytes
        out = tmp_path / "check" / name
        bob.get(f"@team/{name}", out)
        assert out.read_bytes() == content
    # entries carry no author (issue 11, item 9): who wrote a listing is its signed writer
    assert all(not hasattr(e, "author") for e in alice.ls("/team"))
    alice.close()
    bob.close()
