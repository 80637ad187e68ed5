"""Pure edits of a folder's manifest body: what `put`, `mkdir`, `mv`, `rm` and key rotation
change in one folder, as functions from the current body to the next.

`Tree.update` re-reads the folder and re-applies the edit on a lost race, so an edit
decides from the body it is given only; none does I/O, so each is testable on its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from blindvault.core.keys import FolderKey
from blindvault.core.manifest import (
    MAX_HISTORY,
    Entry,
    FileEntry,
    FolderEntry,
    ManifestBody,
    Tombstone,
)
from blindvault.errors import ConflictError, UsageError

__all__ = [
    "NEWER",
    "add",
    "add_folder",
    "all_versions",
    "delete",
    "move",
    "newer_meanwhile",
    "rekey",
    "remove",
    "renamed",
    "replaced_files",
    "upsert",
    "with_history",
]

NEWER = "newer_version"


def newer_meanwhile() -> ConflictError:
    """Another device wrote a newer version of the file while this one uploaded."""
    return ConflictError(409, NEWER, "a newer version was written meanwhile; run put again")


def upsert(body: ManifestBody, files: Sequence[FileEntry], *, where: str) -> ManifestBody:
    """`files` in the folder at `where`, replacing files of the same names.

    Refused if a name is a folder, or if another device meanwhile wrote the same file at
    this version or later (`newer_meanwhile`: nothing names what was uploaded)."""
    for new in files:
        current = body.find(new.name)
        if isinstance(current, FolderEntry):
            raise UsageError(f"{where.rstrip('/')}/{new.name} is a folder")
        if (
            isinstance(current, FileEntry)
            and current.node_id == new.node_id
            and current.content_version >= new.content_version
        ):
            raise newer_meanwhile()
    names = {f.name for f in files}
    others = tuple(e for e in body.entries if e.name not in names)
    kept = tuple(with_history(f, body.find(f.name)) for f in files)
    return dataclasses.replace(body, entries=(*others, *kept))


def with_history(new: FileEntry, current: Entry | None) -> FileEntry:
    """`new` carrying the versions of `current` (same node) as its history (issue 14):
    the replaced version first, at most MAX_HISTORY, the oldest dropped."""
    if not isinstance(current, FileEntry) or current.node_id != new.node_id:
        return new
    history = (current.as_version(), *current.history)[:MAX_HISTORY]
    return dataclasses.replace(new, history=history)


def replaced_files(before: ManifestBody, files: Sequence[FileEntry]) -> list[tuple[bytes, int]]:
    """What an `upsert` of `files` dropped from `before` (their blobs go): a whole file
    replaced under another node, or the versions that fell out of a file's history."""
    out: list[tuple[bytes, int]] = []
    for f in files:
        current = before.find(f.name)
        if not isinstance(current, FileEntry):
            continue
        every = all_versions(current)
        out.extend(every[MAX_HISTORY:] if current.node_id == f.node_id else every)
    return out


def all_versions(entry: FileEntry) -> list[tuple[bytes, int]]:
    """(node id, content version) of the live version and every kept one: their blobs."""
    return [(entry.node_id, v.content_version) for v in (entry.as_version(), *entry.history)]


def add(body: ManifestBody, entry: Entry, *, where: str) -> ManifestBody:
    """`entry` added; its name must be free."""
    if body.find(entry.name) is not None:
        raise UsageError(f"{where.rstrip('/')}/{entry.name} exists already")
    return dataclasses.replace(body, entries=(*body.entries, entry))


def add_folder(
    body: ManifestBody, entry: FolderEntry, *, where: str, exist_ok: bool
) -> ManifestBody:
    """A new folder; with `exist_ok`, a folder already there under the name is kept."""
    current = body.find(entry.name)
    if isinstance(current, FolderEntry) and exist_ok:
        return body
    return add(body, entry, where=where)


def remove(body: ManifestBody, name: str, node_id: bytes) -> ManifestBody:
    """The entry `name` for node `node_id` taken out (no tombstone: it lives on elsewhere)."""
    kept = tuple(e for e in body.entries if e.node_id != node_id or e.name != name)
    return dataclasses.replace(body, entries=kept)


def move(body: ManifestBody, entry: Entry, new_name: str, *, where: str) -> ManifestBody:
    """A rename inside one folder."""
    return add(remove(body, entry.name, entry.node_id), renamed(entry, new_name), where=where)


def delete(body: ManifestBody, name: str, tomb: Tombstone) -> ManifestBody:
    """The entry `name` removed, with a tombstone for its node (replacing an older one)."""
    rest = tuple(e for e in body.entries if e.name != name)
    tombs = tuple(t for t in body.tombstones if t.node_id != tomb.node_id)
    return ManifestBody(rest, (*tombs, tomb))


def rekey(body: ManifestBody, fresh: Mapping[bytes, tuple[FolderKey, int]]) -> ManifestBody:
    """Sub-folders named in `fresh` (node -> new key, key version) with their new keys."""
    return dataclasses.replace(
        body,
        entries=tuple(
            dataclasses.replace(e, folder_key=fresh[e.node_id][0], key_version=fresh[e.node_id][1])
            if isinstance(e, FolderEntry) and e.node_id in fresh
            else e
            for e in body.entries
        ),
    )


def renamed(entry: Entry, name: str) -> Entry:
    return dataclasses.replace(entry, name=name)
