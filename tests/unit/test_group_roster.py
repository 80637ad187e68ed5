"""Group rosters (issue 19): owner-signed, bound to one owner and group, chained, and the
group key pair derived from the group key."""

from __future__ import annotations

import os

import pytest

from blindvault.core.constants import ROLE_READ
from blindvault.core.envelope import open_envelope, seal_envelope
from blindvault.core.group import (
    GroupMember,
    check_group_fresh,
    group_email,
    group_identity,
    group_key,
    is_group_email,
    open_group_roster,
    seal_group_roster,
)
from blindvault.core.identity import Identity
from blindvault.core.keys import FolderKey
from blindvault.errors import IntegrityError, RollbackError, UsageError

OWNER = os.urandom(16)
GROUP = os.urandom(16)
ALICE = Identity.generate("alice@example.org", 1)
BOB = Identity.generate("bob@example.org", 1)
CAROL = Identity.generate("carol@example.org", 1)
ROOT = FolderKey.generate()


def _seal(version: int = 1, kv: int = 1, members: list[GroupMember] | None = None,
          prev: bytes | None = None, signer: Identity = ALICE) -> bytes:  # fmt: skip
    return seal_group_roster(
        owner=OWNER,
        group_id=GROUP,
        version=version,
        key_version=kv,
        members=members if members is not None else [GroupMember(BOB.bundle.fingerprint, "b@x")],
        name="team",
        key=group_key(ROOT, GROUP, kv),
        signer=signer,
        prev_hash=prev if prev is not None else (bytes(32) if version == 1 else b"\x07" * 32),
    )


def test_round_trip_name_and_group_fingerprint() -> None:
    r = open_group_roster(_seal(), OWNER, GROUP, ALICE.bundle)
    assert r.version == 1 and r.key_version == 1
    assert r.name(group_key(ROOT, GROUP, 1)) == "team"
    ident = group_identity(group_key(ROOT, GROUP, 1), GROUP)
    assert r.group_fingerprint == ident.bundle.fingerprint
    assert ident.bundle.email == group_email(GROUP) and is_group_email(ident.bundle.email)
    assert (
        r.member(BOB.bundle.fingerprint) is not None and r.member(CAROL.bundle.fingerprint) is None
    )
    # a new key version is a new key pair
    assert group_identity(group_key(ROOT, GROUP, 2), GROUP).bundle.fingerprint != (
        ident.bundle.fingerprint
    )
    with pytest.raises(IntegrityError):
        r.name(group_key(ROOT, GROUP, 2))


def test_a_member_added_by_anyone_but_the_owner_is_refused() -> None:
    """The server (or a member) rewrites the roster with one more member: the signature fails;
    a roster the member signs itself is not the owner's."""
    data = bytearray(_seal())
    data[-70] ^= 1  # inside the signed body (the name box)
    with pytest.raises(IntegrityError):
        open_group_roster(bytes(data), OWNER, GROUP, ALICE.bundle)
    forged = _seal(members=[GroupMember(CAROL.bundle.fingerprint, "c@x")], signer=BOB)
    with pytest.raises(IntegrityError):
        open_group_roster(forged, OWNER, GROUP, ALICE.bundle)


def test_bound_to_owner_and_group() -> None:
    for owner, group in ((os.urandom(16), GROUP), (OWNER, os.urandom(16))):
        with pytest.raises(IntegrityError):
            open_group_roster(_seal(), owner, group, ALICE.bundle)


def test_the_owner_is_never_a_member_and_versions_chain() -> None:
    with pytest.raises(UsageError):
        _seal(members=[GroupMember(ALICE.bundle.fingerprint, "a@x")])
    with pytest.raises(UsageError):
        _seal(version=2, prev=bytes(32))


def test_fresh_refuses_rollback_and_fork() -> None:
    v1 = open_group_roster(_seal(), OWNER, GROUP, ALICE.bundle)
    v2 = open_group_roster(_seal(2, 2, prev=v1.hash), OWNER, GROUP, ALICE.bundle)
    check_group_fresh(None, v1)
    check_group_fresh((1, v1.hash), v2)
    check_group_fresh((2, v2.hash), v2)
    with pytest.raises(RollbackError):
        check_group_fresh((2, v2.hash), v1)  # replayed
    other = open_group_roster(_seal(2, 2, prev=v1.hash), OWNER, GROUP, ALICE.bundle)
    with pytest.raises(RollbackError):
        check_group_fresh((2, v2.hash), other)  # forked at the same version
    with pytest.raises(RollbackError):
        check_group_fresh((1, b"\x01" * 32), v2)  # the next one not naming the seen one


def test_a_share_key_sealed_to_the_group_opens_with_the_group_key_pair() -> None:
    group = group_identity(group_key(ROOT, GROUP, 1), GROUP)
    folder_key = FolderKey.generate()
    node = os.urandom(16)
    env = seal_envelope(folder_key, share_id=GROUP, node_id=node, key_version=3, role=ROLE_READ,
                        sender=ALICE, recipient=group.bundle)  # fmt: skip
    opened = open_envelope(env, group, ALICE.bundle)
    assert opened.key.material == folder_key.material and opened.node_id == node
    stale = group_identity(group_key(ROOT, GROUP, 2), GROUP)
    with pytest.raises(IntegrityError):
        open_envelope(env, stale, ALICE.bundle)  # a removed member's old or new guesses fail
