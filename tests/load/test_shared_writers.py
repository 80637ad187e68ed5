"""Two users of one shared folder (the owner and a read-write member) writing at the same
moment, round after round: each their own file and both the same file. No update is lost,
every write is signed by a roster writer, and both verify a clean folder afterwards.
Exactly ROUNDS rounds (no timing window), each counted."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from blindvault.client.state import StateStore
from blindvault.client.vault import Vault
from blindvault.core.kdf import KdfParams
from blindvault.core.manifest import FileEntry
from helpers.budgets import LONG
from helpers.servers import start_server, stop
from helpers.writers import Tally, run_rounds

ROUNDS = 200 if LONG else 50  # a fixed count: no timing window (flaky on 2 cores)
FAST = KdfParams.argon2id(19456, 2, 1)


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc, u = start_server(tmp_path_factory.mktemp("shared-writers") / "data")
    try:
        yield u
    finally:
        stop(proc)


def _check_listings(tally: Tally, writers: dict[str, tuple[Vault, str]]) -> None:
    for vault, where in writers.values():
        listing = {e.name: e for e in vault.ls(where)}
        assert set(listing) == {*tally.own, "shared.txt"}
        entry = vault.stat(f"{where}/shared.txt")
        assert isinstance(entry, FileEntry)
        # each winning write: one version; a write that found its version's blob taken by
        # the other writer moves on to the next free number, so numbers may skip, never repeat
        won = 1 + len(tally.shared_ok)
        assert won <= entry.content_version <= 1 + len(tally.shared_ok) + len(tally.refused)
        _, files, problems = vault.verify(where)
        assert problems == []
        assert files == len(tally.own) + 1


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
    tally = Tally(tmp_path)
    start = time.monotonic()
    rounds = run_rounds(tally, writers, ROUNDS)
    took = time.monotonic() - start
    print(
        f"\nshared folder, two users: {rounds} rounds in {took:.1f} s; shared file: "
        f"{len(tally.shared_ok)} writes won, {len(tally.refused)} refused as conflicts"
    )
    assert rounds == ROUNDS
    # each writer: won or refused, each round; at least one write of each round won
    assert len(tally.shared_ok) + len(tally.refused) == 2 * ROUNDS
    assert len(tally.shared_ok) >= ROUNDS
    assert tally.errors == []
    _check_listings(tally, writers)
    for name, content in tally.own.items():  # no lost file, each with its own bytes
        out = tmp_path / "check" / name
        bob.get(f"@team/{name}", out)
        assert out.read_bytes() == content
    # entries carry no author (issue 11, item 9): who wrote a listing is its signed writer
    assert all(not hasattr(e, "author") for e in alice.ls("/team"))
    alice.close()
    bob.close()
