"""Concurrent writers of one folder (two devices of one account, or an owner and a member
of a shared folder): each round, every writer puts a file of its own and the same
`shared.txt` at once; the tally counts what won, what was refused as a conflict, and any
other error."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from blindvault.client.vault import Vault
from blindvault.errors import BlindvaultError, ConflictError


@dataclass
class Tally:
    """What the writers did, shared by their threads."""

    tmp: Path
    shared_ok: list[bytes] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    own: dict[str, bytes] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def write(self, name: str, vault: Vault, where: str, r: int, gate: threading.Barrier) -> None:
        folder = self.tmp / f"{name}-{r}"
        folder.mkdir()
        mine = folder / f"{name}-{r}.txt"
        mine.write_bytes(os.urandom(100 + r))
        shared = folder / "shared.txt"
        shared.write_bytes(f"{name} round {r}".encode())
        gate.wait(timeout=30)
        try:
            vault.put(mine, where)
            with self.lock:
                self.own[mine.name] = mine.read_bytes()
        except BlindvaultError as exc:
            with self.lock:
                self.errors.append(f"{name} own r{r}: {type(exc).__name__}: {exc}")
        try:
            vault.put(shared, where)
            with self.lock:
                self.shared_ok.append(shared.read_bytes())
        except ConflictError as exc:  # documented: a concurrent change won (exit 5)
            with self.lock:
                self.refused.append(f"{name} r{r}: {exc}")
        except BlindvaultError as exc:
            with self.lock:
                self.errors.append(f"{name} shared r{r}: {type(exc).__name__}: {exc}")


def run_rounds(tally: Tally, writers: dict[str, tuple[Vault, str]], count: int) -> int:
    """`count` rounds; in each, every writer puts its own file and the shared one at once."""
    rounds = 0
    while rounds < count:
        gate = threading.Barrier(2)
        threads = [
            threading.Thread(target=tally.write, args=(n, v, w, rounds, gate))
            for n, (v, w) in writers.items()
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads), f"round {rounds} hung"
        rounds += 1
    return rounds
