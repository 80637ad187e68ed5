"""Single-file shares (issue 19): a shared space holding exactly one file.

A file shared with people lives in a *holder*: a folder manifest whose node id is the
file's own node id and whose body names exactly that one file as its only entry (no
other file, no folder). Everything else is the folder-share machinery: the
owner-signed roster of the holder names the members, roles and key version; the
envelope seals the holder key; a new version of the file is a new holder manifest signed
by the owner or a read-write member of the roster.

    holder key(kv) = HKDF-SHA-256(root folder key, salt="",
                                  info = LABEL_FILE_SHARE_KEY || 0x00 || node_id[16] || kv u64,
                                  32)

The owner's devices derive the holder key from the account's root folder key (which they
hold and no member ever does) and the key version of the owner-signed roster, so nothing
new is stored; removing a member makes key version kv+1, whose key the removed member
cannot derive. Members receive it sealed in their envelope, like a folder key.
"""

from __future__ import annotations

from blindvault.core import primitives
from blindvault.core.constants import ID_SIZE, KEY_SIZE, LABEL_FILE_SHARE_KEY
from blindvault.core.encoding import Writer
from blindvault.core.entries import FileEntry
from blindvault.core.keys import FolderKey
from blindvault.core.manifest import ManifestBody
from blindvault.errors import IntegrityError, UsageError

__all__ = ["holder_body", "holder_key", "the_file"]


def holder_key(root_key: FolderKey, node_id: bytes, key_version: int) -> FolderKey:
    """The key of the holder of file `node_id` at `key_version` (owner's devices only)."""
    if len(node_id) != ID_SIZE or key_version < 1:
        raise UsageError("a holder key needs a node id and a key version >= 1")
    info = Writer(LABEL_FILE_SHARE_KEY + b"\x00").fixed(node_id, ID_SIZE).u64(key_version)
    material = primitives.hkdf_sha256(
        root_key.material, salt=b"", info=info.bytes(), length=KEY_SIZE
    )
    return FolderKey(material)


def holder_body(entry: FileEntry) -> ManifestBody:
    """The body of a holder: the one file, nothing else."""
    return ManifestBody((entry,), ())


def the_file(body: ManifestBody, node_id: bytes) -> FileEntry:
    """The single file of holder `node_id`; anything else is an integrity error (a holder
    naming another node's file, a folder, or more than one entry: a server or a writer
    cannot turn a shared file into another file or a folder)."""
    entries = body.entries
    # mutant: fileshare.holder-holds-its-file
    if len(entries) != 1 or not isinstance(entries[0], FileEntry) or entries[0].node_id != node_id:
        raise IntegrityError("a shared file's holder does not hold exactly that file")
    return entries[0]
