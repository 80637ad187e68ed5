"""core/fileshare.py: holder keys and the one-file rule of a single-file share's holder."""

from __future__ import annotations

import os

import pytest

from blindvault.core.fileshare import holder_body, holder_key, the_file
from blindvault.core.keys import FileKey, FolderKey
from blindvault.core.manifest import FileEntry, FolderEntry, ManifestBody
from blindvault.errors import IntegrityError, UsageError


def _file(node: bytes, name: str = "report.pdf") -> FileEntry:
    return FileEntry(name, node, FileKey.generate(), 1, 10, 1)


def test_holder_keys_differ_per_node_version_and_account() -> None:
    root, node = FolderKey.generate(), os.urandom(16)
    k1 = holder_key(root, node, 1)
    assert holder_key(root, node, 1) == k1  # every device of the owner derives the same
    others = {
        holder_key(root, node, 2).material,  # a rotation: the removed member cannot derive it
        holder_key(root, os.urandom(16), 1).material,
        holder_key(FolderKey.generate(), node, 1).material,
    }
    assert k1.material not in others and len(others) == 3
    assert k1.material != root.material
    for bad_node, kv in ((b"short", 1), (node, 0)):
        with pytest.raises(UsageError):
            holder_key(root, bad_node, kv)


def test_a_holder_holds_exactly_its_own_file() -> None:
    node = os.urandom(16)
    entry = _file(node)
    assert the_file(holder_body(entry), node) == entry
    folder = FolderEntry("x", node, FolderKey.generate(), 1, 1)
    for body in (
        ManifestBody(),
        ManifestBody((_file(os.urandom(16)),)),  # another node's file
        ManifestBody((entry, _file(os.urandom(16), "second.txt"))),
        ManifestBody((folder,)),
    ):
        with pytest.raises(IntegrityError):
            the_file(body, node)
