"""Rosters: owner-signed, bound to one owner and folder, every byte authenticated."""

from __future__ import annotations

import os

import pytest

from blindvault.core.constants import ROLE_READ, ROLE_WRITE
from blindvault.core.identity import Identity
from blindvault.core.keys import FolderKey
from blindvault.core.manifest import ManifestHead
from blindvault.core.roster import Member, check_roster_fresh, open_roster, seal_roster
from blindvault.errors import FormatError, IntegrityError, RollbackError, UsageError

OWNER = os.urandom(16)
NODE = os.urandom(16)
ALICE = Identity.generate("alice@example.org", 1)
BOB = Identity.generate("bob@example.org", 1)
CAROL = Identity.generate("carol@example.org", 1)
KEY = FolderKey.generate()


def _seal(
    version: int = 1, members: list[Member] | None = None, prev: bytes | None = None
) -> bytes:
    return seal_roster(
        prev_hash=prev if prev is not None else (bytes(32) if version == 1 else b"\x07" * 32),
        owner=OWNER,
        node_id=NODE,
        version=version,
        key_version=2,
        members=members
        if members is not None
        else [
            Member(BOB.bundle.fingerprint, ROLE_WRITE, "bob@example.org"),
            Member(CAROL.bundle.fingerprint, ROLE_READ, "carol@example.org"),
        ],
        name="Plans 2027",
        key=KEY,
        signer=ALICE,
    )


def test_round_trip_and_writers() -> None:
    r = open_roster(_seal(), OWNER, NODE, ALICE.bundle)
    assert r.version == 1 and r.key_version == 2
    assert r.name(KEY) == "Plans 2027"
    assert r.writer_fingerprints() == {ALICE.bundle.fingerprint, BOB.bundle.fingerprint}
    assert r.member(CAROL.bundle.fingerprint) == Member(
        CAROL.bundle.fingerprint, ROLE_READ, "carol@example.org"
    )
    with pytest.raises(IntegrityError):
        r.name(FolderKey.generate())


def test_every_flipped_byte_and_every_truncation_fails() -> None:
    data = _seal()
    for i in range(len(data)):
        bad = bytearray(data)
        bad[i] ^= 0x20
        with pytest.raises((IntegrityError, FormatError)):
            open_roster(bytes(bad), OWNER, NODE, ALICE.bundle)
    for n in range(len(data)):
        with pytest.raises((IntegrityError, FormatError)):
            open_roster(data[:n], OWNER, NODE, ALICE.bundle)


def test_bound_to_owner_folder_and_signer() -> None:
    data = _seal()
    with pytest.raises(IntegrityError):
        open_roster(data, os.urandom(16), NODE, ALICE.bundle)
    with pytest.raises(IntegrityError):
        open_roster(data, OWNER, os.urandom(16), ALICE.bundle)
    with pytest.raises(IntegrityError):
        open_roster(data, OWNER, NODE, BOB.bundle)


def test_owner_is_never_a_member_and_versions_do_not_go_back() -> None:
    with pytest.raises(UsageError):
        _seal(members=[Member(ALICE.bundle.fingerprint, ROLE_WRITE, "alice@example.org")])
    with pytest.raises(UsageError):
        _seal(version=0)
    newer = open_roster(_seal(version=3), OWNER, NODE, ALICE.bundle)
    check_roster_fresh(newer.head, newer)
    check_roster_fresh(None, newer)
    with pytest.raises(RollbackError):
        check_roster_fresh(ManifestHead(NODE, 4, os.urandom(32)), newer)


def test_rosters_chain_and_forks_are_refused() -> None:
    """P-ROSTERFRESH: same version with another hash, or a successor that does not name the
    seen roster as its predecessor, is a fork."""
    v1 = open_roster(_seal(version=1), OWNER, NODE, ALICE.bundle)
    v2 = open_roster(_seal(version=2, prev=v1.hash), OWNER, NODE, ALICE.bundle)
    check_roster_fresh(v1.head, v2)
    fork = open_roster(_seal(version=1, members=[]), OWNER, NODE, ALICE.bundle)
    with pytest.raises(RollbackError):
        check_roster_fresh(v1.head, fork)
    other = open_roster(_seal(version=2, prev=fork.hash), OWNER, NODE, ALICE.bundle)
    with pytest.raises(RollbackError):
        check_roster_fresh(v1.head, other)
    with pytest.raises(UsageError):
        _seal(version=2, prev=bytes(32))
    with pytest.raises(UsageError):
        _seal(version=1, prev=v1.hash)


def test_version_1_rosters_are_refused_and_names_are_padded() -> None:
    data = _seal()
    with pytest.raises(FormatError):
        open_roster(data[:4] + b"\x01" + data[5:], OWNER, NODE, ALICE.bundle)
    short = seal_roster(
        owner=OWNER, node_id=NODE, version=1, key_version=2, members=[], name="a", key=KEY,
        signer=ALICE,
    )  # fmt: skip
    long = seal_roster(
        owner=OWNER, node_id=NODE, version=1, key_version=2, members=[], name="a" * 255,
        key=KEY, signer=ALICE,
    )  # fmt: skip
    assert len(short) == len(long)
