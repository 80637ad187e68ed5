"""Re-shares (core/reshare.py): a member-signed addition counts only on top of the roster
it names and only from a member the owner-signed roster lets re-share (P-RESHARE)."""

from __future__ import annotations

import os

import pytest

from blindvault.core.constants import ROLE_READ, ROLE_WRITE
from blindvault.core.identity import Identity, IdentityBundle
from blindvault.core.kdf import account_id
from blindvault.core.keys import FolderKey
from blindvault.core.reshare import (
    check_addition,
    decode_list,
    encode_list,
    open_addition,
    seal_addition,
)
from blindvault.core.roster import Member, Roster, open_roster, seal_roster
from blindvault.errors import FormatError, IntegrityError, UsageError

OWNER = os.urandom(16)
NODE = os.urandom(16)
ALICE = Identity.generate("alice@example.org", 1)
BOB = Identity.generate("bob@example.org", 1)  # read-only, may re-share
DAVE = Identity.generate("dave@example.org", 1)  # read-write, may not re-share
CAROL = Identity.generate("carol@example.org", 1)
KEY = FolderKey.generate()
IDS = {i.bundle.fingerprint: i.bundle for i in (ALICE, BOB, DAVE, CAROL)}


def _roster(bob_reshares: bool = True) -> Roster:
    data = seal_roster(
        owner=OWNER,
        node_id=NODE,
        version=1,
        key_version=1,
        members=[
            Member(BOB.bundle.fingerprint, ROLE_READ, "bob@example.org", bob_reshares),
            Member(DAVE.bundle.fingerprint, ROLE_WRITE, "dave@example.org"),
        ],
        name="team",
        key=KEY,
        signer=ALICE,
    )
    return open_roster(data, OWNER, NODE, ALICE.bundle)


def _bundle_of(m: Member) -> IdentityBundle:
    return IDS[m.fingerprint]


def _carol(role: int = ROLE_READ) -> Member:
    return Member(CAROL.bundle.fingerprint, role, "carol@example.org")


def test_the_reshare_bit_is_signed_by_the_owner() -> None:
    roster = _roster()
    bob = roster.member(BOB.bundle.fingerprint)
    assert bob is not None and bob.reshare and bob.role == ROLE_READ
    dave = roster.member(DAVE.bundle.fingerprint)
    assert dave is not None and not dave.reshare


def test_an_allowed_member_adds_someone() -> None:
    roster = _roster()
    add = open_addition(seal_addition(roster, _carol(), BOB))
    assert check_addition(add, roster, _bundle_of) == _carol()
    assert decode_list(encode_list([add.body + add.signature])) == [add.body + add.signature]


def test_a_member_without_the_right_is_refused() -> None:
    roster = _roster()
    add = open_addition(seal_addition(roster, _carol(), DAVE))
    with pytest.raises(IntegrityError, match="without the right"):
        check_addition(add, roster, _bundle_of)
    # nor after the owner withdrew the right (a roster without the bit)
    plain = _roster(bob_reshares=False)
    add = open_addition(seal_addition(plain, _carol(), BOB))
    with pytest.raises(IntegrityError):
        check_addition(add, plain, _bundle_of)


def test_a_non_member_or_forged_signature_is_refused() -> None:
    roster = _roster()
    with pytest.raises(IntegrityError):  # the server's own key: not in the roster
        check_addition(open_addition(seal_addition(roster, _carol(), CAROL)), roster, _bundle_of)
    data = bytearray(seal_addition(roster, _carol(), BOB))
    data[-70] ^= 1  # the added person's email: the signature no longer covers it
    with pytest.raises((IntegrityError, FormatError)):
        check_addition(open_addition(bytes(data)), roster, _bundle_of)
    # a key the server serves for Bob that is not the roster's
    with pytest.raises(IntegrityError):
        check_addition(
            open_addition(seal_addition(roster, _carol(), BOB)), roster, lambda _: CAROL.bundle
        )


def test_no_more_than_the_resharing_members_role() -> None:
    roster = _roster()
    add = open_addition(seal_addition(roster, _carol(ROLE_WRITE), BOB))
    with pytest.raises(IntegrityError, match="more than"):
        check_addition(add, roster, _bundle_of)


def test_only_on_top_of_the_named_roster_and_folder() -> None:
    roster = _roster()
    other = _roster()  # the same members, another signature: another hash
    add = open_addition(seal_addition(other, _carol(), BOB))
    with pytest.raises(IntegrityError, match="another member list"):
        check_addition(add, roster, _bundle_of)


def test_an_existing_member_or_the_owner_is_not_added_again() -> None:
    roster = _roster()
    for who in (
        Member(DAVE.bundle.fingerprint, ROLE_READ, "dave@example.org"),
        Member(ALICE.bundle.fingerprint, ROLE_READ, "alice@example.org"),
    ):
        add = open_addition(seal_addition(roster, who, BOB))
        with pytest.raises(IntegrityError, match="already"):
            check_addition(add, roster, _bundle_of)


def test_the_owners_address_is_not_added_under_another_key() -> None:
    """§15c: neither the owner's key nor the owner's address (its account id is the
    roster's owner) is added; nor a string that is no address."""
    owner = account_id("alice@example.org")
    data = seal_roster(
        owner=owner, node_id=NODE, version=1, key_version=1,
        members=[Member(BOB.bundle.fingerprint, ROLE_READ, "bob@example.org", True)],
        name="team", key=KEY, signer=ALICE,
    )  # fmt: skip
    roster = open_roster(data, owner, NODE, ALICE.bundle)
    for email in (" Alice@Example.org", "not an address"):
        who = Member(CAROL.bundle.fingerprint, ROLE_READ, email)
        add = open_addition(seal_addition(roster, who, BOB))
        with pytest.raises(IntegrityError):
            check_addition(add, roster, _bundle_of)
    fine = open_addition(seal_addition(roster, _carol(), BOB))
    assert check_addition(fine, roster, _bundle_of) == _carol()


def test_a_reshared_member_gets_no_reshare_right() -> None:
    with pytest.raises(UsageError):
        seal_addition(_roster(), Member(CAROL.bundle.fingerprint, ROLE_READ, "c@x.org", True), BOB)
    data = bytearray(seal_addition(_roster(), _carol(), BOB))
    data[5 + 16 + 16 + 32 + 32 + 32] |= 0x80  # the role byte with a re-share bit
    with pytest.raises(FormatError):
        open_addition(bytes(data))


def test_strict_parsing() -> None:
    data = seal_addition(_roster(), _carol(), BOB)
    for cut in (0, 5, 40, len(data) - 1):
        with pytest.raises(FormatError):
            open_addition(data[:cut])
    with pytest.raises(FormatError):
        open_addition(data + b"\x00")
    with pytest.raises(FormatError):
        decode_list(encode_list([data]) + b"\x00")


def test_the_bytes_are_those_of_the_spec() -> None:
    """docs/spec/format-v1.md §15c by hand: the body's fields in order, the signature an
    Ed25519 signature over the label, a zero byte and the body; the list's framing."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    roster = _roster()
    email = b"carol@example.org"
    body = (
        b"BVRA\x01" + OWNER + NODE + roster.hash + BOB.bundle.fingerprint
        + CAROL.bundle.fingerprint + bytes([ROLE_READ]) + len(email).to_bytes(2, "big") + email
    )  # fmt: skip
    data = seal_addition(roster, _carol(), BOB)
    assert data[: len(body)] == body and len(data) == len(body) + 64
    Ed25519PublicKey.from_public_bytes(BOB.bundle.sign_public).verify(
        data[len(body) :], b"blindvault/v1/reshare-sig\x00" + body
    )
    listed = encode_list([data, data])
    framed = len(data).to_bytes(2, "big") + data
    assert listed == b"BVRL\x01" + (2).to_bytes(2, "big") + framed + framed
