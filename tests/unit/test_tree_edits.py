"""The pure manifest edits of client/tree/edits.py, without a server."""

from __future__ import annotations

import dataclasses
import os

import pytest

from blindvault.client.tree import edits
from blindvault.core.keys import FileKey, FolderKey
from blindvault.core.manifest import (
    MAX_HISTORY,
    FileEntry,
    FolderEntry,
    ManifestBody,
    Tombstone,
)
from blindvault.errors import ConflictError, UsageError


def _file(name: str, version: int = 1, node: bytes | None = None) -> FileEntry:
    return FileEntry(name, node or os.urandom(16), FileKey.generate(), version, 3, 1000)


def _folder(name: str) -> FolderEntry:
    return FolderEntry(name, os.urandom(16), FolderKey.generate(), 1, 1000)


def test_upsert_adds_and_replaces_and_reports_what_it_replaced() -> None:
    old = _file("a.txt")
    body = ManifestBody((old, _file("b.txt")))
    new = _file("a.txt", 2, old.node_id)
    after = edits.upsert(body, [new, _file("c.txt")], where="/")
    assert sorted(e.name for e in after.entries) == ["a.txt", "b.txt", "c.txt"]
    kept = after.find("a.txt")
    assert isinstance(kept, FileEntry)
    assert dataclasses.replace(kept, history=()) == new
    assert kept.history == (old.as_version(),)  # issue 14: the replaced version is kept
    assert edits.replaced_files(body, [new]) == []  # so no blob of it goes
    other = _file("a.txt", 1)  # a different node under the name: all of the old one goes
    assert edits.replaced_files(body, [other]) == [(old.node_id, 1)]
    assert body.find("a.txt") == old  # the input is not changed


def test_history_is_bounded_and_the_versions_that_fall_out_are_reported() -> None:
    entry = _file("a.txt")
    body = ManifestBody((entry,))
    for v in range(2, MAX_HISTORY + 4):
        new = _file("a.txt", v, entry.node_id)
        dropped = edits.replaced_files(body, [new])
        body = edits.upsert(body, [new], where="/")
        assert dropped == ([(entry.node_id, v - 1 - MAX_HISTORY)] if v > MAX_HISTORY + 1 else [])
    last = body.find("a.txt")
    assert isinstance(last, FileEntry) and len(last.history) == MAX_HISTORY
    assert ManifestBody.decode(body.encode()) == body


def test_upsert_refuses_a_folder_name_and_a_newer_version_written_meanwhile() -> None:
    sub, old = _folder("docs"), _file("a.txt", 3)
    body = ManifestBody((sub, old))
    with pytest.raises(UsageError, match=r"^/x/docs is a folder$"):
        edits.upsert(body, [_file("docs")], where="/x")
    with pytest.raises(ConflictError) as caught:
        edits.upsert(body, [_file("a.txt", 3, old.node_id)], where="/")
    assert caught.value.code == edits.NEWER


def test_add_folder_exist_ok_keeps_the_folder_and_refuses_a_file() -> None:
    sub = _folder("docs")
    body = ManifestBody((sub, _file("f")))
    assert edits.add_folder(body, _folder("docs"), where="/", exist_ok=True) is body
    with pytest.raises(UsageError, match="exists already"):
        edits.add_folder(body, _folder("docs"), where="/", exist_ok=False)
    with pytest.raises(UsageError, match=r"^/f exists already$"):
        edits.add_folder(body, _folder("f"), where="/", exist_ok=True)


def test_move_renames_in_place_and_remove_takes_only_that_node() -> None:
    a = _file("a")
    body = ManifestBody((a, _file("b")))
    moved = edits.move(body, a, "c", where="/")
    assert sorted(e.name for e in moved.entries) == ["b", "c"]
    assert moved.find("c").node_id == a.node_id  # type: ignore[union-attr]
    with pytest.raises(UsageError):
        edits.move(body, a, "b", where="/")
    assert edits.remove(body, "a", os.urandom(16)) == body


def test_delete_leaves_one_tombstone_per_node() -> None:
    a = _file("a")
    body = ManifestBody((a,), (Tombstone(a.node_id, 1),))
    after = edits.delete(body, "a", Tombstone(a.node_id, 2))
    assert after.entries == () and after.tombstones == (Tombstone(a.node_id, 2),)


def test_rekey_changes_only_the_named_folders() -> None:
    sub, other, f = _folder("s"), _folder("o"), _file("f")
    key = FolderKey.generate()
    after = edits.rekey(ManifestBody((sub, other, f)), {sub.node_id: (key, 2)})
    assert after.find("s") == FolderEntry("s", sub.node_id, key, 2, sub.mtime_ms)
    assert after.find("o") == other and after.find("f") == f
