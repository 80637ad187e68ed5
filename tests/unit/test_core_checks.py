"""One attack per core check that the other unit tests reach only together with another
check (scripts/mutants found them surviving alone): each forges exactly what that check
alone refuses."""

from __future__ import annotations

import os
import types

import pytest

from blindvault.core import primitives
from blindvault.core.constants import ROLE_READ
from blindvault.core.envelope import open_envelope, seal_envelope
from blindvault.core.identity import Identity
from blindvault.core.keys import FolderKey
from blindvault.core.manifest import (
    ZERO_HASH,
    ManifestBody,
    ManifestHead,
    open_manifest,
    seal_manifest,
)
from blindvault.core.root import check_root_fresh, open_root, seal_root
from blindvault.errors import IntegrityError, RollbackError

OWNER = b"\x05" * 16
ZERO = bytes(32)


def _posing(as_fingerprint: bytes, signer: Identity) -> Identity:
    """Names `as_fingerprint` as its identity but signs with `signer`'s key."""
    return types.SimpleNamespace(  # type: ignore[return-value]
        bundle=types.SimpleNamespace(fingerprint=as_fingerprint), sign=signer.sign
    )


def test_ed25519_verify_refuses_another_keys_signature(alice: Identity, bob: Identity) -> None:
    message = b"blindvault" + os.urandom(8)
    alice.bundle.verify(message, alice.sign(message))
    with pytest.raises(IntegrityError):
        alice.bundle.verify(message, bob.sign(message))
    with pytest.raises(IntegrityError):
        primitives.ed25519_verify(alice.bundle.sign_public, message, bytes(64))


def test_manifest_naming_the_owner_but_signed_by_a_key_holder(
    alice: Identity, bob: Identity
) -> None:
    """Bob holds the folder key (a former member) and names Alice as the writer."""
    key, node = FolderKey.generate(), os.urandom(16)
    forged = seal_manifest(
        ManifestBody(), key, node_id=node, version=1, key_version=1, prev_hash=ZERO_HASH,
        writer=_posing(alice.bundle.fingerprint, bob),
    )  # fmt: skip
    with pytest.raises(IntegrityError):
        open_manifest(forged, key, node, {alice.bundle.fingerprint: alice.bundle})


def test_envelope_naming_the_owner_but_signed_by_the_server(
    alice: Identity, bob: Identity, carol_pq: Identity
) -> None:
    """Anyone can HPKE-seal a key to Bob; only Alice's signature makes it hers."""
    forged = seal_envelope(
        FolderKey.generate(), share_id=os.urandom(16), node_id=os.urandom(16), key_version=1,
        role=ROLE_READ, sender=_posing(alice.bundle.fingerprint, carol_pq), recipient=bob.bundle,
    )  # fmt: skip
    with pytest.raises(IntegrityError):
        open_envelope(forged, bob, alice.bundle)


def test_envelope_for_another_recipient_name(alice: Identity, bob: Identity) -> None:
    """Sealed to Bob's HPKE key but naming another recipient: not Bob's envelope."""
    other = types.SimpleNamespace(
        suite=bob.bundle.suite, hpke_public=bob.bundle.hpke_public, fingerprint=os.urandom(32)
    )
    env = seal_envelope(
        FolderKey.generate(), share_id=os.urandom(16), node_id=os.urandom(16), key_version=1,
        role=ROLE_READ, sender=alice, recipient=other,  # type: ignore[arg-type]
    )  # fmt: skip
    with pytest.raises(IntegrityError):
        open_envelope(env, bob, alice.bundle)


def _heads(*pairs: tuple[int, int]) -> list[ManifestHead]:
    return [ManifestHead(bytes([n]) * 16, v, bytes([v]) * 32) for n, v in pairs]


def test_root_replayed_with_the_same_folder_versions(alice: Identity) -> None:
    """Root 3 only added a folder; root 2 replayed names no older version of any folder
    root 3 names: only the sequence shows the rollback."""
    r1 = open_root(seal_root(OWNER, 1, ZERO, _heads((1, 1)), alice), OWNER, alice.bundle)
    r2 = open_root(seal_root(OWNER, 2, r1.hash, _heads((1, 2)), alice), OWNER, alice.bundle)
    r3 = open_root(seal_root(OWNER, 3, r2.hash, _heads((1, 2), (2, 1)), alice), OWNER, alice.bundle)
    check_root_fresh(r2, r3)
    with pytest.raises(RollbackError):
        check_root_fresh(r3, r2)


def test_root_next_sequence_must_chain(alice: Identity) -> None:
    """Root n+1 whose prev_hash is not the hash of the root n seen: a fork."""
    r1 = open_root(seal_root(OWNER, 1, ZERO, _heads((1, 1)), alice), OWNER, alice.bundle)
    other = open_root(seal_root(OWNER, 1, ZERO, _heads((1, 1), (2, 1)), alice), OWNER, alice.bundle)
    r2 = open_root(seal_root(OWNER, 2, other.hash, _heads((1, 1)), alice), OWNER, alice.bundle)
    with pytest.raises(RollbackError):
        check_root_fresh(r1, r2)
