"""Holders of single-file shares (core/fileshare.py): create one, read and verify one.

A holder is read like any folder of a shared space (signature by a roster writer,
freshness against this device's marks and, on the owner's devices, the signed root), then
must hold exactly its own file (`the_file`). The owner's devices derive the holder key
from the root folder key and the key version of the owner-signed roster.
"""

from __future__ import annotations

from dataclasses import dataclass

from blindvault.client.session import Session
from blindvault.client.tree import Space
from blindvault.core.content import blob_id
from blindvault.core.fileshare import holder_body, holder_key, the_file
from blindvault.core.keys import FolderKey
from blindvault.core.manifest import FileEntry, ManifestBody
from blindvault.errors import IntegrityError

__all__ = ["Holder", "create_holder", "own_holder", "read_holder"]


@dataclass(frozen=True)
class Holder:
    """A verified holder: where it lives, its key, and the file it holds (its own name)."""

    node_id: bytes
    key: FolderKey
    key_version: int
    space: Space
    entry: FileEntry


def read_holder(session: Session, node: bytes, key: FolderKey, kv: int, space: Space) -> Holder:
    folder, _ = session.tree.read(node, key, kv, space)
    return Holder(node, key, folder.key_version, space, the_file(folder.body, node))


def own_holder(session: Session, node: bytes, kv: int, space: Space) -> Holder:
    """The holder of one of this account's files, at the roster's key version `kv`; a
    rotation cut short between the holder and the roster (kv + 1) is read too (the key
    derived for it must open it, so a server cannot pick the version)."""
    root_key = session.keys().root_key
    try:
        return read_holder(session, node, holder_key(root_key, node, kv), kv, space)
    except IntegrityError:
        return read_holder(session, node, holder_key(root_key, node, kv + 1), kv + 1, space)


def create_holder(session: Session, entry: FileEntry, space: Space) -> Holder:
    """The holder of a file being shared for the first time (key version 1): its manifest
    in the file's space, and the blobs of every kept version moved there (no byte copied)."""
    node = entry.node_id
    key = holder_key(session.keys().root_key, node, 1)

    def first(body: ManifestBody) -> ManifestBody:
        return body if body.entries else holder_body(entry)  # a holder made before stays

    session.tree.update(node, key, first, 1, space, create=True)
    versions = [entry.content_version, *(v.content_version for v in entry.history)]
    session.api.post_json(
        f"/v1/spaces/{node.hex()}/adopt",
        {"records": [], "blobs": [blob_id(node, v).hex() for v in versions]},
    )
    return read_holder(session, node, key, 1, space)
