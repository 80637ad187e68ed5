from __future__ import annotations

import pytest

from blindvault.core.constants import ROLE_READ, ROLE_WRITE
from blindvault.core.envelope import open_envelope, seal_envelope
from blindvault.core.identity import Identity
from blindvault.core.keys import FileKey, FolderKey
from blindvault.errors import IntegrityError

SHARE = b"\x0a" * 16
NODE = b"\x0b" * 16


@pytest.mark.parametrize("pq", [False, True])
def test_round_trip(alice: Identity, bob: Identity, carol_pq: Identity, pq: bool) -> None:
    recipient = carol_pq if pq else bob
    key = FolderKey.generate()
    env = seal_envelope(
        key,
        share_id=SHARE,
        node_id=NODE,
        key_version=2,
        role=ROLE_WRITE,
        sender=alice,
        recipient=recipient.bundle,
    )
    opened = open_envelope(env, recipient, alice.bundle)
    assert opened.key == key
    assert (opened.share_id, opened.node_id, opened.key_version, opened.role) == (
        SHARE,
        NODE,
        2,
        ROLE_WRITE,
    )
    assert opened.sender == alice.bundle.fingerprint


def test_file_key_kind(alice: Identity, bob: Identity) -> None:
    key = FileKey.generate()
    env = seal_envelope(
        key,
        share_id=SHARE,
        node_id=NODE,
        key_version=1,
        role=ROLE_READ,
        sender=alice,
        recipient=bob.bundle,
    )
    assert open_envelope(env, bob, alice.bundle).key == key


def test_wrong_sender_or_recipient(alice: Identity, bob: Identity, carol_pq: Identity) -> None:
    env = seal_envelope(
        FolderKey.generate(),
        share_id=SHARE,
        node_id=NODE,
        key_version=1,
        role=ROLE_READ,
        sender=alice,
        recipient=bob.bundle,
    )
    with pytest.raises(IntegrityError):
        open_envelope(env, bob, carol_pq.bundle)  # pinned sender is someone else
    with pytest.raises(IntegrityError):
        open_envelope(env, alice, alice.bundle)  # not for alice


def test_role_upgrade_detected(alice: Identity, bob: Identity) -> None:
    env = bytearray(
        seal_envelope(
            FolderKey.generate(),
            share_id=SHARE,
            node_id=NODE,
            key_version=1,
            role=ROLE_READ,
            sender=alice,
            recipient=bob.bundle,
        )
    )
    role_at = 5 + 1 + 16 + 16 + 1 + 8
    assert env[role_at] == ROLE_READ
    env[role_at] = ROLE_WRITE
    with pytest.raises(IntegrityError):
        open_envelope(bytes(env), bob, alice.bundle)
