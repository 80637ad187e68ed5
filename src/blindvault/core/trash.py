"""The trash of a folder (issue 14): what was deleted from it, inside its signed manifest.

    trash = k u32 || k items (strictly ascending node id)
    item  = deleted_ms u64 || path (u16 length || UTF-8, 1..MAX_TRASH_PATH bytes,
            the original path at deletion, for display) || entry (core/entries.py)

A trash item keeps the whole entry: a file with its key and every kept version, a folder
with its key (its subtree's manifests stay on the server until the trash is emptied).
Being part of the folder's signed, hash-chained manifest, a trash item a server drops
is caught like a dropped version or tombstone: only a rollback of the whole manifest
could hide it, and that is refused (P-FRESH, P-TOMBSTONE).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from blindvault.core.encoding import Reader, Writer
from blindvault.core.entries import Entry, read_entry, write_entry
from blindvault.errors import FormatError, UsageError

__all__ = ["MAX_TRASH_PATH", "TrashItem", "read_trash", "write_trash"]

MAX_TRASH_PATH = 4096


@dataclass(frozen=True, slots=True)
class TrashItem:
    """A deleted entry, with when (the deleting device's clock) and from where."""

    deleted_ms: int
    path: str
    entry: Entry


def _path_ok(path: str) -> bool:
    raw = path.encode("utf-8")
    return 0 < len(raw) <= MAX_TRASH_PATH and "\x00" not in path


def write_trash(w: Writer, items: tuple[TrashItem, ...]) -> None:
    ordered = sorted(items, key=lambda t: t.entry.node_id)
    if any(a.entry.node_id == b.entry.node_id for a, b in pairwise(ordered)):
        raise UsageError("duplicate node id in trash")
    w.u32(len(ordered))
    for t in ordered:
        if not _path_ok(t.path):
            raise UsageError("invalid trash path")
        w.u64(t.deleted_ms).text16(t.path)
        write_entry(w, t.entry)


def read_trash(r: Reader, count: int) -> tuple[TrashItem, ...]:
    out = []
    for _ in range(count):
        deleted = r.u64()
        path = r.text16(max_size=MAX_TRASH_PATH)
        if not _path_ok(path):
            raise FormatError("invalid trash path")
        out.append(TrashItem(deleted, path, read_entry(r)))
    ids = [t.entry.node_id for t in out]
    if any(a >= b for a, b in pairwise(ids)):  # mutant: core.trash-order
        raise FormatError("trash not in canonical order")
    return tuple(out)
