"""The roster of a shared folder: who may read it and who may write it, signed by its owner.

    body   = "BVRS" || 0x01 || owner_account[16] || node_id[16] || version u64
             || key_version u64 || owner_fp[32] || n u16 || n times member || var16(name_box)
    member = fp[32] || role u8 || text16(email)         (ascending fp; never the owner)
    name_box = nonce[12] || AEAD(nk, nonce, UTF-8(folder name),
                                 aad = "BVRS" || 0x01 || node_id[16] || key_version u64)
    nk     = HKDF(folder key, "", "blindvault/v1/roster-name", 32)
    roster = body || Sign(owner seed, "blindvault/v1/roster-sig" || 0x00 || body)

Readers of a shared folder accept a manifest only from the owner or a member with role
read-write *in the roster* (P-ROSTER); a server that adds a member, raises a role or
replays an older roster (lower version) is caught because only the owner signs it and
clients remember the highest version seen. The folder's name travels sealed under the
folder key, so the server never learns it.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from blindvault.core import primitives
from blindvault.core.constants import (
    ED25519_SIGNATURE_SIZE,
    FINGERPRINT_SIZE,
    GCM_NONCE_SIZE,
    ID_SIZE,
    KEY_SIZE,
    LABEL_ROSTER_NAME,
    LABEL_ROSTER_SIG,
    MAGIC_ROSTER,
    MAX_NAME_BYTES,
    MAX_ROSTER_MEMBERS,
    ROLE_READ,
    ROLE_WRITE,
)
from blindvault.core.encoding import Reader, Writer, check_header, header
from blindvault.core.identity import Identity, IdentityBundle
from blindvault.core.keys import FolderKey
from blindvault.core.manifest import check_name
from blindvault.errors import FormatError, IntegrityError, RollbackError, UsageError

__all__ = ["Member", "Roster", "check_roster_fresh", "open_roster", "seal_roster"]

_MAX_EMAIL = 320


@dataclass(frozen=True, slots=True)
class Member:
    fingerprint: bytes
    role: int
    email: str


@dataclass(frozen=True, slots=True)
class Roster:
    owner: bytes
    node_id: bytes
    version: int
    key_version: int
    owner_fingerprint: bytes
    members: tuple[Member, ...]
    name_box: bytes

    def member(self, fingerprint: bytes) -> Member | None:
        for m in self.members:
            if m.fingerprint == fingerprint:
                return m
        return None

    def writer_fingerprints(self) -> set[bytes]:
        """The owner and every read-write member."""
        out = {self.owner_fingerprint}
        out.update(m.fingerprint for m in self.members if m.role == ROLE_WRITE)
        return out

    def name(self, key: FolderKey) -> str:
        """The folder's name, opened with the folder key of this roster's key version."""
        nonce, sealed = self.name_box[:GCM_NONCE_SIZE], self.name_box[GCM_NONCE_SIZE:]
        plain = primitives.aes256gcm_open(
            _name_key(key), nonce, sealed, _name_aad(self.node_id, self.key_version)
        )
        try:
            return check_name(plain.decode("utf-8"))
        except (UnicodeDecodeError, UsageError):
            raise IntegrityError from None


def _name_key(key: FolderKey) -> bytes:
    return primitives.hkdf_sha256(key.material, salt=b"", info=LABEL_ROSTER_NAME, length=KEY_SIZE)


def _name_aad(node_id: bytes, key_version: int) -> bytes:
    return Writer(header(MAGIC_ROSTER)).fixed(node_id, ID_SIZE).u64(key_version).bytes()


def _check_members(members: tuple[Member, ...], owner_fp: bytes) -> None:
    if len(members) > MAX_ROSTER_MEMBERS:
        raise UsageError("too many members")
    for m in members:
        if len(m.fingerprint) != FINGERPRINT_SIZE or m.role not in (ROLE_READ, ROLE_WRITE):
            raise UsageError("bad member")
        if m.fingerprint == owner_fp:
            raise UsageError("the owner is not a member")
    if any(a.fingerprint >= b.fingerprint for a, b in pairwise(members)):
        raise UsageError("members must be in strictly ascending fingerprint order")


def seal_roster(
    *,
    owner: bytes,
    node_id: bytes,
    version: int,
    key_version: int,
    members: list[Member],
    name: str,
    key: FolderKey,
    signer: Identity,
) -> bytes:
    """Sign a roster as the owner; members are sorted here."""
    nonce = primitives.random_bytes(GCM_NONCE_SIZE)
    return _seal_roster_from_parts(
        owner, node_id, version, key_version, members, name, key, signer, nonce
    )


def _seal_roster_from_parts(
    owner: bytes,
    node_id: bytes,
    version: int,
    key_version: int,
    members: list[Member],
    name: str,
    key: FolderKey,
    signer: Identity,
    nonce: bytes,
) -> bytes:
    """`seal_roster` with a given nonce (deterministic test vectors only)."""
    if version < 1 or key_version < 1:
        raise UsageError("versions start at 1")
    ordered = tuple(sorted(members, key=lambda m: m.fingerprint))
    owner_fp = signer.bundle.fingerprint
    _check_members(ordered, owner_fp)
    box = nonce + primitives.aes256gcm_seal(
        _name_key(key), nonce, check_name(name).encode("utf-8"), _name_aad(node_id, key_version)
    )
    w = Writer(header(MAGIC_ROSTER)).fixed(owner, ID_SIZE).fixed(node_id, ID_SIZE)
    w.u64(version).u64(key_version).fixed(owner_fp, FINGERPRINT_SIZE).u16(len(ordered))
    for m in ordered:
        w.fixed(m.fingerprint, FINGERPRINT_SIZE).u8(m.role).text16(m.email)
    body = w.var16(box).bytes()
    return body + signer.sign(LABEL_ROSTER_SIG + b"\x00" + body)


def open_roster(data: bytes, owner: bytes, node_id: bytes, signer: IdentityBundle) -> Roster:
    """Parse strictly and verify the owner's signature; for this owner and folder only."""
    r = Reader(data)
    check_header(r, MAGIC_ROSTER)
    got_owner, got_node = r.take(ID_SIZE), r.take(ID_SIZE)
    version, key_version = r.u64(), r.u64()
    owner_fp = r.take(FINGERPRINT_SIZE)
    count = r.u16()
    if count > MAX_ROSTER_MEMBERS:
        raise FormatError("too many members")
    members = []
    for _ in range(count):
        fp, role = r.take(FINGERPRINT_SIZE), r.u8()
        members.append(Member(fp, role, r.text16(max_size=_MAX_EMAIL)))
    box = r.var16(max_size=GCM_NONCE_SIZE + MAX_NAME_BYTES + 16)
    body_len = r.position
    signature = r.take(ED25519_SIGNATURE_SIZE)
    r.finish()
    # mutant: core.roster-owner-node
    if got_owner != owner or got_node != node_id or owner_fp != signer.fingerprint:
        raise IntegrityError
    # mutant: core.roster-signature
    signer.verify(LABEL_ROSTER_SIG + b"\x00" + data[:body_len], signature)
    try:
        _check_members(tuple(members), owner_fp)
    except UsageError:
        raise IntegrityError from None
    if version < 1 or key_version < 1 or len(box) < GCM_NONCE_SIZE + 16:
        raise IntegrityError
    return Roster(owner, node_id, version, key_version, owner_fp, tuple(members), box)


def check_roster_fresh(seen_version: int | None, roster: Roster) -> None:
    """Refuse a roster older than one already seen (a replay could revive a member)."""
    if seen_version is not None and roster.version < seen_version:  # mutant: core.roster-fresh
        raise RollbackError("the share's member list was rolled back")
