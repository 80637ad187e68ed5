"""What every vector generator shares (tests/vectors/generate.py and the modules it
imports): the fixed seed, `det`, the `Case` record and the fixed identities."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from blindvault.core import primitives
from blindvault.core.identity import Identity
from blindvault.core.kdf import account_id

__all__ = ["ALICE", "BOB", "CAROL", "OWNER", "SEED", "Case", "det", "flip", "hexd", "identity"]

SEED = b"blindvault format v1 test vectors"


def det(label: str, size: int = 32) -> bytes:
    """Deterministic pseudo-random bytes for one named input."""
    if size == 0:
        return b""
    return primitives.hkdf_sha256(SEED, salt=b"", info=label.encode(), length=size)


def hexd(data: bytes) -> str:
    return data.hex()


@dataclass
class Case:
    type: str
    case: str
    description: str
    expect: str
    inputs: dict[str, Any]
    data: bytes
    output: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "case": self.case,
            "description": self.description,
            "expect": self.expect,
            "inputs": self.inputs,
            "data": hexd(self.data),
            "output": self.output,
        }


def flip(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


def identity(name: str, *, pq: bool = False) -> Identity:
    size = 128 if pq else 64
    return Identity(det(f"identity/{name}", size), f"{name}@example.org", 1_700_000_000_000)


ALICE = identity("alice")
BOB = identity("bob")
CAROL = identity("carol", pq=True)
OWNER = account_id("alice@example.org")
