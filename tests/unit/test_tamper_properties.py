"""Every sealed or signed object of format v1 rejects every single-byte change.

Content streams have their own, larger, properties in test_content*.py.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blindvault.core import wrap
from blindvault.core.constants import ROLE_WRITE
from blindvault.core.envelope import open_envelope, seal_envelope
from blindvault.core.identity import Identity, IdentityBundle
from blindvault.core.keys import FileKey, FolderKey, MasterKey, VaultKey
from blindvault.core.links import (
    LinkDescriptor,
    link_key,
    open_link_descriptor,
    seal_link_descriptor,
)
from blindvault.core.manifest import (
    ZERO_HASH,
    FileEntry,
    ManifestBody,
    open_manifest,
    seal_manifest,
)
from blindvault.core.root import open_root, seal_root
from blindvault.errors import BlindvaultError, FormatError, IntegrityError

ALICE = Identity.generate("alice@example.org", 1)
BOB = Identity.generate("bob@example.org", 2)
OWNER, NODE, LINK = b"\x01" * 16, b"\x02" * 16, b"\x03" * 16
MASTER, VAULT, FOLDER = MasterKey.generate(), VaultKey.generate(), FolderKey.generate()
LINK_KEY = link_key(b"s" * 32, LINK, None)


def _manifest() -> bytes:
    entry = FileEntry("a.txt", b"\x04" * 16, FileKey.generate(), 1, 10, 1)
    return seal_manifest(
        ManifestBody((entry,)),
        FOLDER,
        node_id=NODE,
        version=1,
        key_version=1,
        prev_hash=ZERO_HASH,
        writer=ALICE,
    )


Opener = Callable[[bytes], object]
OBJECTS: dict[str, tuple[bytes, Opener]] = {
    "wrapped-vault-key": (
        wrap.wrap_vault_key(MASTER, VAULT, OWNER, 1),
        lambda b: wrap.unwrap_vault_key(MASTER, b, OWNER, 1),
    ),
    "wrapped-file-key": (
        wrap.wrap_file_key(FOLDER, FileKey.generate(), OWNER, NODE, 1),
        lambda b: wrap.unwrap_file_key(FOLDER, b, OWNER, NODE, 1),
    ),
    "identity-bundle": (ALICE.bundle.encode(), IdentityBundle.decode),
    "manifest": (
        _manifest(),
        lambda b: open_manifest(b, FOLDER, NODE, {ALICE.bundle.fingerprint: ALICE.bundle}),
    ),
    "root": (
        seal_root(OWNER, 1, ZERO_HASH, [], ALICE),
        lambda b: open_root(b, OWNER, ALICE.bundle),
    ),
    "envelope": (
        seal_envelope(
            FolderKey.generate(),
            share_id=LINK,
            node_id=NODE,
            key_version=1,
            role=ROLE_WRITE,
            sender=ALICE,
            recipient=BOB.bundle,
        ),
        lambda b: open_envelope(b, BOB, ALICE.bundle),
    ),
    "link-descriptor": (
        seal_link_descriptor(
            LinkDescriptor(NODE, FileKey.generate(), 1, 5, 6, "x.bin"), LINK_KEY, LINK
        ),
        lambda b: open_link_descriptor(b, LINK_KEY, LINK),
    ),
}


def _rejects(opener: Opener, data: bytes) -> None:
    with pytest.raises((IntegrityError, FormatError)):
        opener(data)


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_valid_objects_open(name: str) -> None:
    data, opener = OBJECTS[name]
    opener(data)


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_every_single_byte_flip_is_rejected(name: str) -> None:
    data, opener = OBJECTS[name]
    for i in range(len(data)):
        mutated = bytearray(data)
        mutated[i] ^= 0x01
        _rejects(opener, bytes(mutated))


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_every_truncation_and_extension_is_rejected(name: str) -> None:
    data, opener = OBJECTS[name]
    for n in range(len(data)):
        _rejects(opener, data[:n])
    _rejects(opener, data + b"\x00")


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(OBJECTS)), pos=st.integers(0, 10**6), mask=st.integers(1, 255))
def test_any_byte_change_is_rejected(name: str, pos: int, mask: int) -> None:
    data, opener = OBJECTS[name]
    mutated = bytearray(data)
    mutated[pos % len(data)] ^= mask
    _rejects(opener, bytes(mutated))


@settings(max_examples=200, deadline=None)
@given(junk=st.binary(max_size=400), name=st.sampled_from(sorted(OBJECTS)))
def test_garbage_only_raises_the_typed_family(junk: bytes, name: str) -> None:
    _, opener = OBJECTS[name]
    with pytest.raises(BlindvaultError):
        opener(junk)


@settings(max_examples=100, deadline=None)
@given(
    owner=st.binary(min_size=16, max_size=16),
    node=st.binary(min_size=16, max_size=16),
    version=st.integers(0, 2**64 - 1),
)
def test_a_wrapped_key_moved_to_another_slot_is_rejected(
    owner: bytes, node: bytes, version: int
) -> None:
    blob = wrap.wrap_file_key(FOLDER, FileKey.generate(), OWNER, NODE, 1)
    if (owner, node, version) == (OWNER, NODE, 1):
        return
    with pytest.raises(IntegrityError):
        wrap.unwrap_file_key(FOLDER, blob, owner, node, version)
