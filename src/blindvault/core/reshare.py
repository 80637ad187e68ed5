"""Re-shares: a member the owner lets re-share adds a person to a shared folder.

    addition = body || Sign(signer seed, "blindvault/v1/reshare-sig" || 0x00 || body)
    body     = "BVRA" || 0x01 || owner_account[16] || node_id[16] || roster_hash[32]
               || signer_fp[32] || fp[32] || role u8 || text16(email)
    list     = "BVRL" || 0x01 || n u16 || n times var16(addition)   (record "reshares")

The owner-signed roster (core/roster.py) marks the members who may re-share (bit 0x80 of
the role byte). An addition counts only on top of the very roster whose hash it names, and
only if that roster names its signer with the re-share bit; it adds one person who is not
the owner and not yet a member, with a role no higher than the signer's and no right to
re-share in turn (P-RESHARE). A server cannot make one (it holds no member's signing key),
and one from a member without the right, or naming another folder, fails `check_addition`.
An addition naming an older roster is obsolete: the owner folds the additions into the
next roster it signs, so a replayed addition grants nothing once the roster moved on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from blindvault.core.constants import (
    ED25519_SIGNATURE_SIZE,
    FINGERPRINT_SIZE,
    HASH_SIZE,
    ID_SIZE,
    LABEL_RESHARE_SIG,
    MAGIC_RESHARE,
    MAGIC_RESHARE_LIST,
    MAX_ROSTER_MEMBERS,
    ROLE_READ,
    ROLE_WRITE,
)
from blindvault.core.encoding import Reader, Writer, check_header, header
from blindvault.core.identity import Identity, IdentityBundle
from blindvault.core.kdf import account_id
from blindvault.core.roster import Member, Roster
from blindvault.errors import FormatError, IntegrityError, UsageError

__all__ = [
    "Addition",
    "apply_additions",
    "check_addition",
    "decode_list",
    "encode_list",
    "open_addition",
    "seal_addition",
]

_MAX_EMAIL = 320
_MAX_ADDITION = 5 + 2 * ID_SIZE + HASH_SIZE + 2 * FINGERPRINT_SIZE + 1 + 2 + _MAX_EMAIL * 4 + 64


@dataclass(frozen=True, slots=True)
class Addition:
    """A parsed, not yet verified addition."""

    owner: bytes
    node_id: bytes
    roster_hash: bytes
    signer: bytes  # the re-sharing member's fingerprint
    member: Member  # the person added (never with the re-share right)
    body: bytes
    signature: bytes


def seal_addition(roster: Roster, member: Member, signer: Identity) -> bytes:
    """Sign an addition of `member` on top of `roster`, as the re-sharing member."""
    if member.role not in (ROLE_READ, ROLE_WRITE) or member.reshare:
        raise UsageError("a re-shared member reads or writes, and may not re-share")
    w = Writer(header(MAGIC_RESHARE)).fixed(roster.owner, ID_SIZE).fixed(roster.node_id, ID_SIZE)
    w.fixed(roster.hash, HASH_SIZE).fixed(signer.bundle.fingerprint, FINGERPRINT_SIZE)
    w.fixed(member.fingerprint, FINGERPRINT_SIZE).u8(member.role).text16(member.email)
    body = w.bytes()
    return body + signer.sign(LABEL_RESHARE_SIG + b"\x00" + body)


def open_addition(data: bytes) -> Addition:
    """Parse strictly; the signature and the right are checked by `check_addition`."""
    r = Reader(data)
    check_header(r, MAGIC_RESHARE)
    owner, node, rhash = r.take(ID_SIZE), r.take(ID_SIZE), r.take(HASH_SIZE)
    signer, fp, role = r.take(FINGERPRINT_SIZE), r.take(FINGERPRINT_SIZE), r.u8()
    email = r.text16(max_size=_MAX_EMAIL)
    body_len = r.position
    signature = r.take(ED25519_SIGNATURE_SIZE)
    r.finish()
    if role not in (ROLE_READ, ROLE_WRITE):
        raise FormatError("bad role in a re-share")
    member = Member(fp, role, email)
    return Addition(owner, node, rhash, signer, member, data[:body_len], signature)


def check_addition(
    add: Addition, roster: Roster, bundle_of: Callable[[Member], IdentityBundle]
) -> Member:
    """The member `add` adds to `roster`, or `IntegrityError`: it must name this roster,
    be signed by a member the owner-signed roster lets re-share (whose key `bundle_of`
    returns, matching the roster), give no more than that member's role, and add someone
    new."""
    if add.owner != roster.owner or add.node_id != roster.node_id:
        raise IntegrityError("a re-share for another folder")
    if add.roster_hash != roster.hash:
        raise IntegrityError("a re-share on top of another member list")
    granter = roster.member(add.signer)
    # mutant: core.reshare-right
    if granter is None or not granter.reshare:
        raise IntegrityError("someone without the right to re-share added a member")
    if add.member.role > granter.role:  # mutant: core.reshare-role
        raise IntegrityError("a re-share gives more than the re-sharing member has")
    new = add.member
    try:  # the owner by key or by address (the roster names the owner's account, §15c)
        owners_address = account_id(new.email) == roster.owner
    except UsageError:
        raise IntegrityError("a re-share names no email address") from None
    # mutant: core.reshare-someone-new
    if (
        new.fingerprint == roster.owner_fingerprint
        or owners_address
        or any(m.fingerprint == new.fingerprint or m.email == new.email for m in roster.members)
    ):
        raise IntegrityError("a re-share adds someone who is a member already")
    bundle = bundle_of(granter)
    if bundle.fingerprint != granter.fingerprint:
        raise IntegrityError("the re-sharing member's key is not the member list's")
    # mutant: core.reshare-signature
    bundle.verify(LABEL_RESHARE_SIG + b"\x00" + add.body, add.signature)
    return new


def apply_additions(
    roster: Roster, additions: list[Addition], bundle_of: Callable[[Member], IdentityBundle]
) -> Roster:
    """`roster` with the members `additions` add: one naming another roster is obsolete
    and skipped; every other one must pass `check_addition`, and nobody is added twice, or
    the whole list is an `IntegrityError`."""
    if not any(m.reshare for m in roster.members):
        return roster  # nobody may re-share: additions, if the server serves any, count not
    added: list[Member] = []
    by: list[tuple[bytes, bytes]] = []
    for add in additions:
        if add.roster_hash != roster.hash:
            continue  # obsolete: the owner signed a newer roster since
        new = check_addition(add, roster, bundle_of)
        if any(m.fingerprint == new.fingerprint or m.email == new.email for m in added):
            raise IntegrityError("a re-share adds someone twice")
        added.append(new)
        by.append((new.fingerprint, add.signer))
    if not added:
        return roster
    members = tuple(sorted((*roster.members, *added), key=lambda m: m.fingerprint))
    return dataclasses.replace(roster, members=members, added_by=tuple(by))


def encode_list(additions: list[bytes]) -> bytes:
    if len(additions) > MAX_ROSTER_MEMBERS:
        raise UsageError("too many re-shares")
    w = Writer(header(MAGIC_RESHARE_LIST)).u16(len(additions))
    for a in additions:
        w.var16(a)
    return w.bytes()


def decode_list(data: bytes) -> list[bytes]:
    r = Reader(data)
    check_header(r, MAGIC_RESHARE_LIST)
    n = r.u16()
    if n > MAX_ROSTER_MEMBERS:
        raise FormatError("too many re-shares")
    out = [r.var16(max_size=_MAX_ADDITION) for _ in range(n)]
    r.finish()
    return out
