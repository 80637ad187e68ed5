"""The roster of a shared folder: who may read it and who may write it, signed by its owner.

    body   = "BVRS" || 0x02 || owner_account[16] || node_id[16] || version u64
             || key_version u64 || prev_hash[32] || owner_fp[32] || n u16 || n times member
             || var16(name_box)
    member = fp[32] || role u8 || text16(email)         (ascending fp; never the owner)
             role: 1 read, 2 read-write; | 0x80 when the owner lets the member re-share
    name_box = nonce[12] || AEAD(nk, nonce, pad(UTF-8(folder name)),
                                 aad = "BVRS" || 0x02 || node_id[16] || key_version u64)
    pad(x) = x || 0x80 || 0x00... to Padmé(258) = 272 bytes: every name seals to one size
    nk     = HKDF(folder key, "", "blindvault/v1/roster-name", 32)
    roster = body || Sign(owner seed, "blindvault/v1/roster-sig" || 0x00 || body)
    hash   = SHA-256("blindvault/v1/roster-hash" || 0x00 || roster)

Version 1 has an all-zero prev_hash; version n+1 names the hash of version n, so the
rosters of a folder form one owner-signed chain (P-ROSTERFRESH). Readers of a shared folder
accept a manifest only from the owner or a member with role read-write *in the roster*
(P-ROSTER); a server that adds a member or raises a role is caught because only the owner
signs; one that replays an older roster or serves a fork (another roster at a version a
device has seen) is caught by `check_roster_fresh` against the (version, hash) the device
remembers and, on the owner's devices, against the roster head in the owner's signed root.
The folder's name travels sealed under the folder key, so the server never learns it.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from blindvault.core import primitives
from blindvault.core.constants import (
    ED25519_SIGNATURE_SIZE,
    FINGERPRINT_SIZE,
    GCM_NONCE_SIZE,
    GCM_TAG_SIZE,
    HASH_SIZE,
    ID_SIZE,
    KEY_SIZE,
    LABEL_ROSTER_HASH,
    LABEL_ROSTER_NAME,
    LABEL_ROSTER_SIG,
    MAGIC_ROSTER,
    MAX_ROSTER_MEMBERS,
    PAD_ROSTER_NAME,
    ROLE_READ,
    ROLE_WRITE,
)
from blindvault.core.encoding import Reader, Writer, check_header, header
from blindvault.core.identity import Identity, IdentityBundle
from blindvault.core.keys import FolderKey
from blindvault.core.manifest import ManifestHead, check_name
from blindvault.core.padme import pad_block, padme, unpad_block
from blindvault.errors import FormatError, IntegrityError, RollbackError, UsageError

__all__ = [
    "RESHARE_BIT",
    "Member",
    "Roster",
    "check_chain_start",
    "check_roster_fresh",
    "open_name_box",
    "open_roster",
    "roster_hash",
    "seal_name_box",
    "seal_roster",
]

_MAX_EMAIL = 320
_ZERO = bytes(HASH_SIZE)
_NAME_BOX_SIZE = GCM_NONCE_SIZE + padme(PAD_ROSTER_NAME) + GCM_TAG_SIZE


RESHARE_BIT = 0x80  # in a member's role byte: the owner lets this member re-share


@dataclass(frozen=True, slots=True)
class Member:
    fingerprint: bytes
    role: int
    email: str
    reshare: bool = False  # may add members (`core/reshare.py`), owner-signed here


@dataclass(frozen=True, slots=True)
class Roster:
    owner: bytes
    node_id: bytes
    version: int
    key_version: int
    prev_hash: bytes
    owner_fingerprint: bytes
    members: tuple[Member, ...]
    name_box: bytes
    hash: bytes
    # members added by re-sharing members (core/reshare.py), as (member fp, granter fp);
    # not part of the signed body: filled in by the client after checking each addition
    added_by: tuple[tuple[bytes, bytes], ...] = ()

    @property
    def head(self) -> ManifestHead:
        """(node id, version, hash): what a device and the owner's root remember."""
        return ManifestHead(self.node_id, self.version, self.hash)

    def member(self, fingerprint: bytes) -> Member | None:
        for m in self.members:
            if m.fingerprint == fingerprint:
                return m
        return None

    def granter(self, fingerprint: bytes) -> bytes | None:
        """Who re-shared to the member `fingerprint`, if a checked addition added them."""
        return dict(self.added_by).get(fingerprint)

    def writer_fingerprints(self) -> set[bytes]:
        """The owner and every read-write member."""
        out = {self.owner_fingerprint}
        out.update(m.fingerprint for m in self.members if m.role == ROLE_WRITE)
        return out

    def name(self, key: FolderKey) -> str:
        """The folder's name, opened with the folder key of this roster's key version."""
        return open_name_box(
            _name_key(key), self.name_box, _name_aad(self.node_id, self.key_version)
        )


def seal_name_box(name_key: bytes, nonce: bytes, name: str, aad: bytes) -> bytes:
    """nonce || AEAD(name_key, nonce, pad(UTF-8(name)), aad): a roster's (and a group
    roster's, `core.group`) sealed name."""
    padded = pad_block(check_name(name).encode("utf-8"), PAD_ROSTER_NAME)
    return nonce + primitives.aes256gcm_seal(name_key, nonce, padded, aad)


def open_name_box(name_key: bytes, box: bytes, aad: bytes) -> str:
    """The name `seal_name_box` sealed; anything else is an `IntegrityError`."""
    nonce, sealed = box[:GCM_NONCE_SIZE], box[GCM_NONCE_SIZE:]
    plain = primitives.aes256gcm_open(name_key, nonce, sealed, aad)
    try:
        return check_name(unpad_block(plain, PAD_ROSTER_NAME).decode("utf-8"))
    except (UnicodeDecodeError, UsageError, FormatError):
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


def check_chain_start(version: int, key_version: int, prev_hash: bytes) -> None:
    """A signed member list's versions start at 1, and version 1 (only) has a zero
    `prev_hash` (folder rosters here, group rosters in core/group.py)."""
    if version < 1 or key_version < 1:
        raise UsageError("versions start at 1")
    if (version == 1) != (prev_hash == _ZERO):
        raise UsageError("version 1 has a zero prev_hash, later versions a real one")


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
    prev_hash: bytes = _ZERO,
) -> bytes:
    """Sign a roster as the owner; members are sorted here. Version n+1 names the hash of
    version n in `prev_hash`; version 1 has a zero one."""
    nonce = primitives.random_bytes(GCM_NONCE_SIZE)
    return _seal_roster_from_parts(
        owner, node_id, version, key_version, members, name, key, signer, nonce, prev_hash
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
    prev_hash: bytes = _ZERO,
) -> bytes:
    """`seal_roster` with a given nonce (deterministic test vectors only)."""
    check_chain_start(version, key_version, prev_hash)
    ordered = tuple(sorted(members, key=lambda m: m.fingerprint))
    owner_fp = signer.bundle.fingerprint
    _check_members(ordered, owner_fp)
    box = seal_name_box(_name_key(key), nonce, name, _name_aad(node_id, key_version))
    w = Writer(header(MAGIC_ROSTER)).fixed(owner, ID_SIZE).fixed(node_id, ID_SIZE)
    w.u64(version).u64(key_version).fixed(prev_hash, HASH_SIZE)
    w.fixed(owner_fp, FINGERPRINT_SIZE).u16(len(ordered))
    for m in ordered:
        role = m.role | (RESHARE_BIT if m.reshare else 0)
        w.fixed(m.fingerprint, FINGERPRINT_SIZE).u8(role).text16(m.email)
    body = w.var16(box).bytes()
    return body + signer.sign(LABEL_ROSTER_SIG + b"\x00" + body)


def open_roster(data: bytes, owner: bytes, node_id: bytes, signer: IdentityBundle) -> Roster:
    """Parse strictly and verify the owner's signature; for this owner and folder only."""
    r = Reader(data)
    check_header(r, MAGIC_ROSTER)
    got_owner, got_node = r.take(ID_SIZE), r.take(ID_SIZE)
    version, key_version = r.u64(), r.u64()
    prev = r.take(HASH_SIZE)
    owner_fp = r.take(FINGERPRINT_SIZE)
    count = r.u16()
    if count > MAX_ROSTER_MEMBERS:
        raise FormatError("too many members")
    members = []
    for _ in range(count):
        fp, role = r.take(FINGERPRINT_SIZE), r.u8()
        email = r.text16(max_size=_MAX_EMAIL)
        members.append(Member(fp, role & ~RESHARE_BIT, email, bool(role & RESHARE_BIT)))
    box = r.var16(max_size=_NAME_BOX_SIZE)
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
    if version < 1 or key_version < 1 or len(box) != _NAME_BOX_SIZE:
        raise IntegrityError
    if (version == 1) != (prev == _ZERO):
        raise IntegrityError
    return Roster(
        owner, node_id, version, key_version, prev, owner_fp, tuple(members), box, roster_hash(data)
    )


def roster_hash(data: bytes) -> bytes:
    return primitives.sha256(LABEL_ROSTER_HASH + b"\x00" + data)


def check_roster_fresh(seen: ManifestHead | None, roster: Roster) -> None:
    """Refuse a roster older than, or forked from, one already seen (P-ROSTERFRESH).

    Older: a replay could revive a removed member. Same version, other hash, or the next
    version not naming the seen one as its predecessor: a fork the server made of two
    owner-signed rosters (or of rosters from two of the owner's devices)."""
    if seen is None:
        return
    if roster.version < seen.version:  # mutant: core.roster-fresh
        raise RollbackError("the share's member list was rolled back")
    if roster.version == seen.version and roster.hash != seen.hash:
        raise RollbackError("the share's member list was forked")
    if roster.version == seen.version + 1 and roster.prev_hash != seen.hash:
        raise RollbackError("the share's member list was forked")
