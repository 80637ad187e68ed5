"""Folder-link snapshots (P-LINKSNAP): a link never carries a live folder key.

At link creation the owner's client reads the linked subtree (verified like any read),
and re-seals a copy of every folder's manifest under a fresh random folder key and a
fresh random id: files keep their entries (their per-version file keys only open the
content that existed then), sub-folders point to their own snapshot copies, tombstones are
dropped. The descriptor names the snapshot root's id and key. The server stores the copies
under the link (`link_records`) and serves a link holder only those; the live manifests
and the live folder keys, including the root key for `link /`, are never reachable from
the link, so nothing written after the link was made is either.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

from blindvault.client.spaces import Spaces
from blindvault.client.tree import Space
from blindvault.core.constants import ID_SIZE
from blindvault.core.content import blob_id
from blindvault.core.keys import FolderKey
from blindvault.core.manifest import (
    ZERO_HASH,
    FileEntry,
    FolderEntry,
    ManifestBody,
    seal_manifest,
)
from blindvault.errors import UsageError

__all__ = ["MAX_SNAPSHOT_BYTES", "Snapshot", "take_snapshot"]

MAX_SNAPSHOT_BYTES = 44 << 20  # the server's limit for one link's snapshot


@dataclass
class Snapshot:
    node_id: bytes
    key: FolderKey
    records: dict[str, bytes] = field(default_factory=dict)  # snapshot id hex -> manifest
    blobs: list[str] = field(default_factory=list)
    size: int = 0


def take_snapshot(
    spaces: Spaces, node: bytes, key: FolderKey, key_version: int, space: Space
) -> Snapshot:
    """Copy the subtree at `node` as it is now, under fresh keys; nothing is written."""
    snap = Snapshot(b"", FolderKey.generate())
    snap.node_id = _copy(spaces, snap, node, key, key_version, space, snap.key)
    return snap


NO_WRITER = bytes(32)  # a link holder learns no writer's fingerprint


def _copy(
    spaces: Spaces,
    snap: Snapshot,
    node: bytes,
    key: FolderKey,
    key_version: int,
    space: Space,
    new_key: FolderKey,
) -> bytes:
    folder, _ = spaces.session.tree.read(node, key, key_version, space)
    new_node = os.urandom(ID_SIZE)
    entries: list[FileEntry | FolderEntry] = []
    for e in folder.body.entries:
        if isinstance(e, FolderEntry):
            sub_space = spaces.below(space, e.node_id)
            sub_key = FolderKey.generate()
            sub = _copy(spaces, snap, e.node_id, e.folder_key, e.key_version, sub_space, sub_key)
            entries.append(FolderEntry(e.name, sub, sub_key, 1, e.mtime_ms))
        else:  # the live version only: no earlier keys, writers or times (issue 14)
            # mutant: snapshot.live-version-only
            entries.append(dataclasses.replace(e, history=(), written_ms=0, writer=NO_WRITER))
            snap.blobs.append(blob_id(e.node_id, e.content_version).hex())
    sealed = seal_manifest(
        ManifestBody(tuple(entries)),
        new_key,
        node_id=new_node,
        version=1,
        key_version=1,
        prev_hash=ZERO_HASH,
        writer=spaces.session.identity,
    )
    snap.size += len(sealed)
    if snap.size > MAX_SNAPSHOT_BYTES:
        raise UsageError("this folder is too large for one link; link its sub-folders instead")
    snap.records[new_node.hex()] = sealed
    return new_node
