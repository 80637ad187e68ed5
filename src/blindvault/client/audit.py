"""The account's audit log, verified on the device (issue 20).

The server chains every entry: hash_n = SHA-256(JSON [hash_{n-1}, seq, repr(at), event,
detail]) with hash_0 = 64 zeros (`server.domain.audit`). The device recomputes every hash
from the fields it shows, and keeps the last head it verified in its `AccountState`: a log
that is shorter than that head (truncated, rewound) or whose entry at the pinned seq has
another hash (edited) is an `IntegrityError` (exit 10).

What the pin cannot catch: a server that rewrites history this device never saw and
recomputes the chain consistently (docs/threat-model.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from blindvault.client.local.state import AccountState
from blindvault.core.primitives import constant_time_equal, sha256
from blindvault.errors import IntegrityError
from blindvault.wire.audit import AuditEntry

__all__ = ["ZERO", "AuditCheck", "entry_hash", "verify_log"]

ZERO = "0" * 64


def entry_hash(prev: str, seq: int, at: float, event: str, detail: dict[str, Any]) -> str:
    text = json.dumps(detail, sort_keys=True, separators=(",", ":"))
    material = json.dumps([prev, seq, repr(float(at)), event, text], separators=(",", ":"))
    return sha256(material.encode("utf-8")).hex()


@dataclass(frozen=True)
class AuditCheck:
    entries: list[AuditEntry]
    head: tuple[int, str]  # (seq, hash) of the last entry, (0, ZERO) when empty
    new_since_pin: int  # entries this device had not verified before


def _check_chain(entries: list[AuditEntry]) -> None:
    """Each entry's hash matches its own fields, and each follows on from the one before."""
    prev = ZERO
    for n, e in enumerate(entries, start=1):
        want = entry_hash(e.prev_hash, e.seq, e.at, e.event, e.detail)
        # mutant: client.audit-chain-hash
        if not constant_time_equal(want.encode(), e.hash.encode()):
            raise IntegrityError(f"the audit log is broken at entry {n}: its hash is wrong")
        if e.seq != n or e.prev_hash != prev:  # mutant: client.audit-chain-links
            raise IntegrityError(f"the audit log is broken at entry {n}: it does not follow on")
        prev = e.hash


def verify_log(entries: list[AuditEntry], state: AccountState) -> AuditCheck:
    """Check the whole chain and the pinned head; pin the new head in `state` (the caller
    saves it). Raises IntegrityError and leaves the pin as it was."""
    _check_chain(entries)
    pinned_seq, pinned_hash = (
        (int(state.audit_head[0]), str(state.audit_head[1])) if (state.audit_head) else (0, ZERO)
    )
    if pinned_seq > len(entries):  # mutant: client.audit-head-rewind
        raise IntegrityError(
            f"the server's audit log was rewound: this device saw {pinned_seq} entries, "
            f"the server now shows {len(entries)}"
        )
    seen = entries[pinned_seq - 1].hash if 0 < pinned_seq <= len(entries) else pinned_hash
    if seen != pinned_hash:  # mutant: client.audit-head-edit
        raise IntegrityError(
            f"the server's audit log was rewritten: entry {pinned_seq} differs from the one "
            "this device verified before"
        )
    head = (entries[-1].seq, entries[-1].hash) if entries else (0, ZERO)
    state.audit_head = [head[0], head[1]]
    return AuditCheck(entries, head, len(entries) - pinned_seq)
