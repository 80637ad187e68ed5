"""Groups (issue 19): a key pair of their own and an owner-signed member roster.

    group key   = 32 random-looking bytes; on the owner's devices
                  HKDF(root folder key, "", "blindvault/v1/group-key" || 0x00 || group_id[16]
                  || key_version u64, 32), so any of them can derive it again
    group identity = Identity(HKDF(group key, "", "blindvault/v1/group-identity", 64),
                  email "g-<group id hex>@groups.blindvault.invalid", created 0): an Ed25519
                  seed and an X25519 HPKE secret; share keys are sealed to its bundle with
                  the ordinary envelope (core/envelope.py), so its fingerprint names it
    body   = "BVGR" || 0x01 || owner_account[16] || group_id[16] || version u64
             || key_version u64 || prev_hash[32] || owner_fp[32] || group_fp[32]
             || n u16 || n times member || var16(name_box)
    member = fp[32] || text16(email)                  (ascending fp; never the owner)
    name_box = nonce[12] || AEAD(nk, nonce, pad(UTF-8(group name)),
                                 aad = "BVGR" || 0x01 || group_id[16] || key_version u64)
    nk     = HKDF(group key, "", "blindvault/v1/group-name", 32)
    roster = body || Sign(owner seed, "blindvault/v1/group-roster-sig" || 0x00 || body)
    hash   = SHA-256("blindvault/v1/group-roster-hash" || 0x00 || roster)

Each member receives the group key in an envelope sealed to their pinned bundle and signed
by the owner (share id = node id = group id, key version = the roster's). Version 1 has a
zero prev_hash, version n+1 names the hash of version n: devices pin the newest (version,
hash) they verified and refuse an older roster or a fork (P-GROUPFRESH); only the owner
signs, so a server cannot add a member (P-GROUPROSTER).
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
    LABEL_GROUP_HASH,
    LABEL_GROUP_IDENTITY,
    LABEL_GROUP_KEY,
    LABEL_GROUP_NAME,
    LABEL_GROUP_SIG,
    MAGIC_GROUP_ROSTER,
    MAX_ROSTER_MEMBERS,
    PAD_ROSTER_NAME,
)
from blindvault.core.encoding import Reader, Writer, check_header, header
from blindvault.core.identity import Identity, IdentityBundle
from blindvault.core.keys import FolderKey
from blindvault.core.padme import padme
from blindvault.core.roster import check_chain_start, open_name_box, seal_name_box
from blindvault.errors import FormatError, IntegrityError, RollbackError, UsageError

__all__ = [
    "GROUP_DOMAIN",
    "GroupMember",
    "GroupRoster",
    "check_group_fresh",
    "group_email",
    "group_identity",
    "group_key",
    "is_group_email",
    "open_group_roster",
    "seal_group_roster",
]

GROUP_DOMAIN = "groups.blindvault.invalid"
_MAX_EMAIL = 320
_ZERO = bytes(HASH_SIZE)
_NAME_BOX_SIZE = GCM_NONCE_SIZE + padme(PAD_ROSTER_NAME) + GCM_TAG_SIZE


@dataclass(frozen=True, slots=True)
class GroupMember:
    fingerprint: bytes
    email: str


@dataclass(frozen=True, slots=True)
class GroupRoster:
    owner: bytes
    group_id: bytes
    version: int
    key_version: int
    prev_hash: bytes
    owner_fingerprint: bytes
    group_fingerprint: bytes
    members: tuple[GroupMember, ...]
    name_box: bytes
    hash: bytes

    def member(self, fingerprint: bytes) -> GroupMember | None:
        return next((m for m in self.members if m.fingerprint == fingerprint), None)

    def name(self, key: FolderKey) -> str:
        """The group's name, opened with the group key of this roster's key version."""
        return open_name_box(
            _name_key(key), self.name_box, _name_aad(self.group_id, self.key_version)
        )


def group_email(group_id: bytes) -> str:
    """The name a group's identity (and its entry in a folder's roster) goes by."""
    return f"g-{group_id.hex()}@{GROUP_DOMAIN}"


def is_group_email(email: str) -> bool:
    return email.endswith("@" + GROUP_DOMAIN)


def group_key(root_key: FolderKey, group_id: bytes, key_version: int) -> FolderKey:
    """The group key at `key_version` (owner's devices only)."""
    if len(group_id) != ID_SIZE or key_version < 1:
        raise UsageError("a group key needs a group id and a key version >= 1")
    info = Writer(LABEL_GROUP_KEY + b"\x00").fixed(group_id, ID_SIZE).u64(key_version)
    return FolderKey(
        primitives.hkdf_sha256(root_key.material, salt=b"", info=info.bytes(), length=KEY_SIZE)
    )


def group_identity(key: FolderKey, group_id: bytes) -> Identity:
    """The group's key pair (X25519 HPKE + Ed25519), derived from its group key."""
    secret = primitives.hkdf_sha256(
        key.material, salt=b"", info=LABEL_GROUP_IDENTITY, length=2 * KEY_SIZE
    )
    return Identity(secret, group_email(group_id), 0)


def _name_key(key: FolderKey) -> bytes:
    return primitives.hkdf_sha256(key.material, salt=b"", info=LABEL_GROUP_NAME, length=KEY_SIZE)


def _name_aad(group_id: bytes, key_version: int) -> bytes:
    return Writer(header(MAGIC_GROUP_ROSTER)).fixed(group_id, ID_SIZE).u64(key_version).bytes()


def _check_members(members: tuple[GroupMember, ...], owner_fp: bytes) -> None:
    if len(members) > MAX_ROSTER_MEMBERS:
        raise UsageError("too many members")
    for m in members:
        if len(m.fingerprint) != FINGERPRINT_SIZE or m.fingerprint == owner_fp:
            raise UsageError("bad member (the owner is not a member)")
    if any(a.fingerprint >= b.fingerprint for a, b in pairwise(members)):
        raise UsageError("members must be in strictly ascending fingerprint order")


def seal_group_roster(
    *,
    owner: bytes,
    group_id: bytes,
    version: int,
    key_version: int,
    members: list[GroupMember],
    name: str,
    key: FolderKey,
    signer: Identity,
    prev_hash: bytes = _ZERO,
) -> bytes:
    """Sign a group roster as the owner (members sorted here); the group's fingerprint is
    derived from `key`."""
    nonce = primitives.random_bytes(GCM_NONCE_SIZE)
    return _seal_group_roster_from_parts(
        owner, group_id, version, key_version, members, name, key, signer, nonce, prev_hash
    )


def _seal_group_roster_from_parts(
    owner: bytes,
    group_id: bytes,
    version: int,
    key_version: int,
    members: list[GroupMember],
    name: str,
    key: FolderKey,
    signer: Identity,
    nonce: bytes,
    prev_hash: bytes = _ZERO,
) -> bytes:
    """`seal_group_roster` with a given nonce (deterministic test vectors only)."""
    check_chain_start(version, key_version, prev_hash)
    ordered = tuple(sorted(members, key=lambda m: m.fingerprint))
    owner_fp = signer.bundle.fingerprint
    _check_members(ordered, owner_fp)
    box = seal_name_box(_name_key(key), nonce, name, _name_aad(group_id, key_version))
    w = Writer(header(MAGIC_GROUP_ROSTER)).fixed(owner, ID_SIZE).fixed(group_id, ID_SIZE)
    w.u64(version).u64(key_version).fixed(prev_hash, HASH_SIZE)
    w.fixed(owner_fp, FINGERPRINT_SIZE)
    w.fixed(group_identity(key, group_id).bundle.fingerprint, FINGERPRINT_SIZE)
    w.u16(len(ordered))
    for m in ordered:
        w.fixed(m.fingerprint, FINGERPRINT_SIZE).text16(m.email)
    body = w.var16(box).bytes()
    return body + signer.sign(LABEL_GROUP_SIG + b"\x00" + body)


def open_group_roster(
    data: bytes, owner: bytes, group_id: bytes, signer: IdentityBundle
) -> GroupRoster:
    """Parse strictly and verify the owner's signature; for this owner and group only."""
    r = Reader(data)
    check_header(r, MAGIC_GROUP_ROSTER)
    got_owner, got_group = r.take(ID_SIZE), r.take(ID_SIZE)
    version, key_version = r.u64(), r.u64()
    prev = r.take(HASH_SIZE)
    owner_fp, group_fp = r.take(FINGERPRINT_SIZE), r.take(FINGERPRINT_SIZE)
    count = r.u16()
    if count > MAX_ROSTER_MEMBERS:
        raise FormatError("too many members")
    members = []
    for _ in range(count):
        fp = r.take(FINGERPRINT_SIZE)
        members.append(GroupMember(fp, r.text16(max_size=_MAX_EMAIL)))
    box = r.var16(max_size=_NAME_BOX_SIZE)
    body_len = r.position
    signature = r.take(ED25519_SIGNATURE_SIZE)
    r.finish()
    # mutant: core.group-owner-id
    if got_owner != owner or got_group != group_id or owner_fp != signer.fingerprint:
        raise IntegrityError("the group's member list is not this owner's")
    # mutant: core.group-signature
    signer.verify(LABEL_GROUP_SIG + b"\x00" + data[:body_len], signature)
    try:
        _check_members(tuple(members), owner_fp)
    except UsageError:
        raise IntegrityError from None
    if version < 1 or key_version < 1 or len(box) != _NAME_BOX_SIZE:
        raise IntegrityError
    if (version == 1) != (prev == _ZERO):
        raise IntegrityError
    roster_hash = primitives.sha256(LABEL_GROUP_HASH + b"\x00" + data)
    return GroupRoster(
        owner, group_id, version, key_version, prev, owner_fp, group_fp, tuple(members), box,
        roster_hash,
    )  # fmt: skip


def check_group_fresh(seen: tuple[int, bytes] | None, roster: GroupRoster) -> None:
    """Refuse a group roster older than, or forked from, the (version, hash) seen."""
    if seen is None:
        return
    version, digest = seen
    if roster.version < version:  # mutant: core.group-fresh
        raise RollbackError("the group's member list was rolled back")
    if roster.version == version and roster.hash != digest:
        raise RollbackError("the group's member list was forked")
    if roster.version == version + 1 and roster.prev_hash != digest:
        raise RollbackError("the group's member list was forked")
