"""The per-user signed root: one signed statement over the heads of all folders.

    root = "BVRT" || 0x02 || owner[16] || sequence u64 || prev_hash[32] || n u32
           || n times (node_id[16] || version u64 || manifest hash[32])  (ascending node id)
           || r u32 || r times (node_id[16] || version u64 || roster hash[32])  (ascending)
           || Ed25519 signature[64] by the owner over LABEL_ROOT_SIG || 0x00 || all before it
    hash = SHA-256(LABEL_ROOT_HASH || 0x00 || root)

A client that has seen root n refuses a root with a lower sequence or a different hash
at the same sequence, and any folder head below the one its root names (P-FRESH). The
roster heads (version 2) bind the owner's shared-folder rosters into the same chain: an
owner's device refuses a roster older than, or at the root's version but different from,
the one its root names (P-ROSTERFRESH). Version-1 roots are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from blindvault.core import primitives
from blindvault.core.constants import (
    ED25519_SIGNATURE_SIZE,
    HASH_SIZE,
    ID_SIZE,
    LABEL_ROOT_HASH,
    LABEL_ROOT_SIG,
    MAGIC_ROOT,
    MAX_MANIFEST_ENTRIES,
)
from blindvault.core.encoding import Reader, Writer, check_header, header
from blindvault.core.identity import Identity, IdentityBundle
from blindvault.core.manifest import ManifestHead
from blindvault.errors import FormatError, IntegrityError, RollbackError, UsageError

__all__ = ["SignedRoot", "check_root_fresh", "open_root", "seal_root"]

_ZERO = bytes(HASH_SIZE)


@dataclass(frozen=True, slots=True)
class SignedRoot:
    owner: bytes
    sequence: int
    prev_hash: bytes
    heads: tuple[ManifestHead, ...]
    hash: bytes
    rosters: tuple[ManifestHead, ...] = ()

    def head_of(self, node_id: bytes) -> ManifestHead | None:
        for h in self.heads:
            if h.node_id == node_id:
                return h
        return None

    def roster_of(self, node_id: bytes) -> ManifestHead | None:
        for h in self.rosters:
            if h.node_id == node_id:
                return h
        return None


def _body(
    owner: bytes,
    sequence: int,
    prev: bytes,
    heads: list[ManifestHead],
    rosters: list[ManifestHead],
) -> bytes:
    w = Writer(header(MAGIC_ROOT)).fixed(owner, ID_SIZE).u64(sequence).fixed(prev, HASH_SIZE)
    for group in (heads, rosters):
        w.u32(len(group))
        for h in group:
            w.fixed(h.node_id, ID_SIZE).u64(h.version).fixed(h.hash, HASH_SIZE)
    return w.bytes()


def _ordered(heads: list[ManifestHead]) -> list[ManifestHead]:
    ordered = sorted(heads, key=lambda h: h.node_id)
    if any(a.node_id == b.node_id for a, b in pairwise(ordered)):
        raise UsageError("one head per folder")
    return ordered


def _read_heads(r: Reader) -> tuple[ManifestHead, ...]:
    n = r.u32()
    if n > MAX_MANIFEST_ENTRIES or n > r.remaining():
        raise FormatError("too many heads")
    heads = tuple(ManifestHead(r.take(ID_SIZE), r.u64(), r.take(HASH_SIZE)) for _ in range(n))
    if any(a.node_id >= b.node_id for a, b in pairwise(heads)):
        raise FormatError("heads not in canonical order")
    return heads


def seal_root(
    owner: bytes,
    sequence: int,
    prev_hash: bytes,
    heads: list[ManifestHead],
    signer: Identity,
    rosters: list[ManifestHead] | None = None,
) -> bytes:
    """Sign the current heads (folders, and rosters of shared folders); sequence 1 has a
    zero prev_hash, n+1 the hash of n."""
    if sequence < 1 or (sequence == 1) != (prev_hash == _ZERO):
        raise UsageError("sequence 1 has a zero prev_hash, later ones a real one")
    body = _body(owner, sequence, prev_hash, _ordered(heads), _ordered(rosters or []))
    return body + signer.sign(LABEL_ROOT_SIG + b"\x00" + body)


def open_root(data: bytes, owner: bytes, signer: IdentityBundle) -> SignedRoot:
    """Parse strictly and verify the owner's signature over a root."""
    r = Reader(data)
    check_header(r, MAGIC_ROOT)
    got_owner = r.take(ID_SIZE)
    sequence = r.u64()
    prev = r.take(HASH_SIZE)
    heads = _read_heads(r)
    rosters = _read_heads(r)
    body_len = r.position
    signature = r.take(ED25519_SIGNATURE_SIZE)
    r.finish()
    # mutant: core.root-signature
    signer.verify(LABEL_ROOT_SIG + b"\x00" + data[:body_len], signature)
    # mutant: core.root-owner
    if got_owner != owner or sequence < 1 or (sequence == 1) != (prev == _ZERO):
        raise IntegrityError
    root_hash = primitives.sha256(LABEL_ROOT_HASH + b"\x00" + data)
    return SignedRoot(owner, sequence, prev, heads, root_hash, rosters)


def check_root_fresh(seen: SignedRoot | None, new: SignedRoot) -> None:
    """Refuse an older root, a fork at the same sequence, or a broken chain (P-FRESH)."""
    if seen is None:
        return
    if new.sequence < seen.sequence:  # mutant: core.root-fresh-rollback
        raise RollbackError
    if new.sequence == seen.sequence and new.hash != seen.hash:  # mutant: core.root-fresh-fork
        raise RollbackError
    # mutant: core.root-fresh-chain
    if new.sequence == seen.sequence + 1 and new.prev_hash != seen.hash:
        raise RollbackError
    for old in seen.heads:
        head = new.head_of(old.node_id)
        if head is not None and head.version < old.version:  # mutant: core.root-fresh-head-versions
            raise RollbackError
    for old in seen.rosters:
        head = new.roster_of(old.node_id)
        if head is not None and head.version < old.version:
            raise RollbackError
