"""core/apps.py: container derivation, the account's attestation of an app key, ids."""

from __future__ import annotations

import os

import pytest

from blindvault.core.apps import (
    app_email,
    attest,
    check_attestation,
    container_key,
    container_node,
    envelope_id,
    manifest_key_version,
)
from blindvault.core.identity import Identity
from blindvault.core.keys import FolderKey, VaultKey
from blindvault.core.manifest import ManifestBody, seal_manifest
from blindvault.errors import FormatError, IntegrityError
from blindvault.wire.apps import app_id_problem

OWNER = bytes(range(16))


def test_containers_are_per_app_and_per_version() -> None:
    vault = VaultKey(os.urandom(32))
    assert container_node(vault, "com.a.x") != container_node(vault, "com.a.y")
    assert container_node(vault, "com.a.x") == container_node(vault, "com.a.x")
    assert container_node(VaultKey(os.urandom(32)), "com.a.x") != container_node(vault, "com.a.x")
    keys = {container_key(vault, "com.a.x", v).material for v in (1, 2, 3)}
    keys.add(container_key(vault, "com.a.y", 1).material)
    assert len(keys) == 4
    assert envelope_id("com.a.x") != envelope_id("com.a.y") and len(envelope_id("com.a.x")) == 16


def test_attestation_binds_account_app_and_key(alice: Identity, bob: Identity) -> None:
    app = Identity.generate(app_email("com.example.notes"), 1)
    other = Identity.generate(app_email("com.example.notes"), 2)
    sig = attest(alice, OWNER, "com.example.notes", app.bundle)
    check_attestation(alice.bundle, OWNER, "com.example.notes", app.bundle, sig)
    with pytest.raises(IntegrityError):  # another key under the same signature
        check_attestation(alice.bundle, OWNER, "com.example.notes", other.bundle, sig)
    with pytest.raises(IntegrityError):  # signed by someone else
        check_attestation(bob.bundle, OWNER, "com.example.notes", app.bundle, sig)
    with pytest.raises(IntegrityError):  # another account id
        check_attestation(alice.bundle, bytes(16), "com.example.notes", app.bundle, sig)


def test_attestation_refuses_a_key_named_for_another_app(alice: Identity) -> None:
    """A key whose bundle names app B is not app A's, even with A's name in the signature."""
    b_key = Identity.generate(app_email("com.example.b"), 1)
    sig = attest(alice, OWNER, "com.example.a", b_key.bundle)
    with pytest.raises(IntegrityError):
        check_attestation(alice.bundle, OWNER, "com.example.a", b_key.bundle, sig)


def test_manifest_key_version_is_read_from_the_head(alice: Identity) -> None:
    node = os.urandom(16)
    sealed = seal_manifest(ManifestBody(), FolderKey.generate(), node_id=node, version=3,
                           key_version=7, prev_hash=b"\x01" * 32, writer=alice)  # fmt: skip
    assert manifest_key_version(sealed) == 7
    with pytest.raises(FormatError):
        manifest_key_version(b"XXXX" + sealed[4:])


@pytest.mark.parametrize(
    "value",
    ["com.example.notes", "org.a", "io.x-y.z9", "a" * 63 + ".b"],
)
def test_good_app_ids(value: str) -> None:
    assert app_id_problem(value) is None


@pytest.mark.parametrize(
    "value",
    ["notes", "", ".com.example", "com.example.", "com..example", "../etc", "com/example.x",
     "Com.example", "com.exam_ple", "9com.example", "com.-x", "com.x-", "c\u043em.example",
     "com.example\u200b", "\uff43om.example", "a" * 64 + ".b", ("a." * 127) + "bc"],
)  # fmt: skip
def test_bad_app_ids(value: str) -> None:
    assert app_id_problem(value) is not None
