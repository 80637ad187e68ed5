"""The trash (issue 14): `rm` moves an entry into its folder's trash; list, restore, empty.

A trash item lives in the signed manifest of the folder it was deleted from (manifest
body 4, core/trash.py): the entry itself (key, every kept version; a folder with its key,
its subtree left in place), when it was deleted and its path then. So the trash is as
authentic and as fresh as the folder listing: a server that drops a trash item must roll
the folder's manifest back, which every device refuses (P-FRESH), and a member of a shared
folder trashes into the shared space's own manifests. Nothing is deleted on the server
until the trash is emptied (or `forget` drops the item, then `prune` collects its blobs).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

from blindvault.client.files import Files, no_shared_file
from blindvault.client.tree import Folder, Space, edits, now_ms
from blindvault.client.tree.paths import display, no_mount_name, split
from blindvault.core.manifest import (
    Entry,
    FileEntry,
    FolderEntry,
    ManifestBody,
    Tombstone,
    TrashItem,
)
from blindvault.errors import PathNotFoundError, UsageError

__all__ = ["Trash", "TrashEntry", "parse_age", "to_trash"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}


def parse_age(text: str) -> int:
    """`30d`, `12h`, `2w`, `90m`, `45s`, `1y` (or plain seconds) as milliseconds."""
    unit = text[-1:].lower()
    number = text[:-1] if unit in _UNITS else text
    if not number.isdigit():
        raise UsageError(f"not a duration: {text!r} (e.g. 30d, 12h, 2w)")
    return int(number) * _UNITS.get(unit, 1) * 1000


@dataclass(frozen=True)
class TrashEntry:
    """One trashed item, as the signed manifest states it."""

    path: str  # where it was when deleted
    deleted_at: int  # ms since the epoch (the deleting device's clock)
    size: int
    kind: str  # "file" or "folder"
    id: str  # the node id, hex


def to_trash(body: ManifestBody, name: str, item: TrashItem) -> ManifestBody:
    """Pure edit: the entry `name` taken out of the listing, tombstoned, and into the trash."""
    node = item.entry.node_id
    rest = tuple(e for e in body.entries if e.name != name)
    tombs = tuple(t for t in body.tombstones if t.node_id != node)
    trash = tuple(t for t in body.trash if t.entry.node_id != node)
    return ManifestBody(rest, (*tombs, Tombstone(node, item.deleted_ms)), (*trash, item))


def _restore_here(body: ManifestBody, node: bytes, entry: Entry, where: str) -> ManifestBody:
    if not any(t.entry.node_id == node for t in body.trash):
        raise PathNotFoundError("that item is no longer in the trash")
    if body.find(entry.name) is not None:
        raise UsageError(f"{where.rstrip('/')}/{entry.name} exists already (use --to)")
    return ManifestBody(
        (*body.entries, entry),
        tuple(t for t in body.tombstones if t.node_id != node),
        tuple(t for t in body.trash if t.entry.node_id != node),
    )


def _drop_items(body: ManifestBody, nodes: frozenset[bytes]) -> ManifestBody:
    return dataclasses.replace(
        body, trash=tuple(t for t in body.trash if t.entry.node_id not in nodes)
    )


def describe(item: TrashItem, parts: list[str]) -> TrashEntry:
    """`path` is where it was deleted from as seen from this device now (the folder holding
    the trash item, which may have moved since, or be a share mounted as `@name`)."""
    e = item.entry
    size, kind = (e.size, "file") if isinstance(e, FileEntry) else (0, "folder")
    return TrashEntry(display([*parts, e.name]), item.deleted_ms, size, kind, e.node_id.hex())


class Trash:
    def __init__(self, files: Files) -> None:
        self.files = files

    def folders(self, path: str = "/") -> Iterator[tuple[list[str], Folder]]:
        """Every live folder (the one at `path` and each below it, mounts included)."""
        parts = split(path)
        yield parts, self.files.spaces.folder(parts)
        for e in self.files.walk(path):
            if e.kind == "folder":
                sub = split(e.path)
                yield sub, self.files.spaces.folder(sub)

    def items(self) -> Iterator[tuple[list[str], TrashItem]]:
        for parts, folder in self.folders():
            for item in folder.body.trash:
                yield parts, item

    def listing(self) -> list[TrashEntry]:
        """Everything in the trash, the most recently deleted first."""
        found = [describe(item, parts) for parts, item in self.items()]
        return sorted(found, key=lambda t: (-t.deleted_at, t.path))

    def move_in(self, path: str, entry: Entry) -> None:
        """`rm` (not permanent): the entry into its folder's trash; nothing leaves the server."""
        parts = split(path)
        item = TrashItem(now_ms(), display(parts), entry)
        self.files.update(parts[:-1], partial(to_trash, name=parts[-1], item=item))

    def _find(self, path: str) -> tuple[list[str], TrashItem]:
        """The trash item deleted from `path` (the latest one; the path it had then or the
        one its folder has now), or with the node id `path`."""
        is_id = len(path) == 32 and all(c in "0123456789abcdef" for c in path)
        wanted = None if is_id else display(split(path))
        found = [
            (parts, item)
            for parts, item in self.items()
            if wanted in (item.path, display([*parts, item.entry.name]))
            or item.entry.node_id.hex() == path
        ]
        if not found:
            raise PathNotFoundError(f"not in the trash: {path} (see `blindvault trash`)")
        return max(found, key=lambda f: f[1].deleted_ms)

    def restore(self, path: str, *, to: str | None = None) -> str:
        """Put a trashed entry back at its path (or at `to`); returns where it went.

        A name that is taken meanwhile is a clear error (nothing changes): restore `--to`
        another path. Restoring into another space is refused, as `mv` refuses it."""
        parts, item = self._find(path)
        dest = split(to) if to is not None else [*parts, item.entry.name]
        if self.files.is_folder(display(dest)) and to is not None:
            dest = [*dest, item.entry.name]
        if not dest:
            raise UsageError("cannot restore over the root folder")
        no_mount_name(dest)
        node, where = item.entry.node_id, display(dest[:-1])
        entry = dataclasses.replace(item.entry, name=dest[-1])
        if dest[:-1] == parts:
            self.files.update(parts, partial(_restore_here, node=node, entry=entry, where=where))
            return display(dest)
        if self.files.spaces.space(dest[:-1]).node_id != self.files.spaces.space(parts).node_id:
            raise UsageError("restoring into or out of a shared folder: restore it, then copy it")
        if self.files.exists(display(dest)):
            raise UsageError(f"{display(dest)} exists already (use --to)")
        # add first, then take out of the trash: a crash in between leaves a live copy and
        # its trash item, never a loss (`empty` keeps the blobs of a node that is live)
        self.files.update(dest[:-1], partial(edits.add, entry=entry, where=where))
        self.files.update(parts, partial(_drop_items, nodes=frozenset({node})))
        return display(dest)

    def empty(self, *, older_than_ms: int | None = None) -> list[TrashEntry]:
        """Delete for good what was trashed at least `older_than_ms` ago (all without it)."""
        cutoff = now_ms() - (older_than_ms or 0)
        gone: list[TrashEntry] = []
        by_folder: dict[tuple[str, ...], list[TrashItem]] = {}
        live: set[bytes] = set()  # a restore --to that stopped halfway left a live copy
        for parts, folder in self.folders():
            live |= {e.node_id for e in folder.body.entries}
            for item in folder.body.trash:
                if older_than_ms is None or item.deleted_ms <= cutoff:
                    by_folder.setdefault(tuple(parts), []).append(item)
        for key, items in by_folder.items():
            parts = list(key)
            nodes = frozenset(i.entry.node_id for i in items)
            self.files.update(parts, partial(_drop_items, nodes=nodes))
            space = self.files.spaces.space(parts)
            for item in items:
                if item.entry.node_id not in live:  # its blobs are still named: kept
                    self.destroy(item.entry, space)
                gone.append(describe(item, parts))
        return gone

    def remove(self, path: str, *, recursive: bool = False) -> None:
        """`rm PATH` into the trash (a non-empty folder needs `recursive`)."""
        no_shared_file(split(path))
        entry = self.files.stat(path)
        if entry is None:
            raise UsageError("cannot remove the root folder")
        if isinstance(entry, FolderEntry) and not recursive and self.files.ls(path):
            raise UsageError(f"{path} is a folder that is not empty (use -r)")
        self.move_in(path, entry)
        spaces = self.files.spaces
        shares = spaces.listing()["outgoing"] or self.files.session.state.rosters
        if isinstance(entry, FileEntry) and shares:  # a trashed shared file: shared no more
            spaces.end_grants(entry.node_id)
        if isinstance(entry, FolderEntry) and shares:  # a trashed shared folder: shared no more
            around = spaces.space(split(path)[:-1])
            # the members of a shared folder around it still read it (in its trash): theirs stay
            keep = spaces.members(around)
            space = spaces.below(around, entry.node_id)
            for node in list(
                self.files.subtree(entry.node_id, entry.folder_key, entry.key_version, space)
            ):
                if isinstance(node, bytes):
                    spaces.end_grants(node, keep)

    def destroy(self, entry: Entry, space: Space) -> None:
        """The server objects of an entry no signed listing names any more: every version's
        blob, and for a folder its whole subtree (live and trashed) and its manifests."""
        if isinstance(entry, FileEntry):
            self.files.delete_blob(entry, space)
            return
        space = self.files.spaces.below(space, entry.node_id)  # its own, if it was shared
        folder, _ = self.files.session.tree.read(
            entry.node_id, entry.folder_key, entry.key_version, space
        )
        for child in (*folder.body.entries, *(t.entry for t in folder.body.trash)):
            self.destroy(child, space)
        self.files.session.tree.drop(entry.node_id, space, folder)
        self.files.spaces.end_grants(entry.node_id)
        self.files.session.save()
