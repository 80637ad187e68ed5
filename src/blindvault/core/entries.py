"""The entries of a folder manifest body: files (with their history), folders, tombstones.

file   = 0x01 || name || node_id[16] || file_key[32] || content_version u64
         || size u64 || mtime_ms u64 || written_ms u64 || writer fingerprint[32]
         || history (core/history.py)
folder = 0x02 || name || node_id[16] || folder_key[32] || key_version u64
         || mtime_ms u64
tomb   = node_id[16] || deleted_ms u64
name   = u16 length || UTF-8 (NFC, 1..255 bytes, no "/", no NUL, not "." or "..")
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from blindvault.core.constants import (
    FINGERPRINT_SIZE,
    ID_SIZE,
    KEY_SIZE,
    MAX_MANIFEST_ENTRIES,
    MAX_NAME_BYTES,
    NODE_FILE,
    NODE_FOLDER,
)
from blindvault.core.encoding import Reader, Writer
from blindvault.core.history import FileVersion, read_history, write_history
from blindvault.core.keys import FileKey, FolderKey
from blindvault.errors import FormatError, UsageError

__all__ = [
    "Entry",
    "FileEntry",
    "FolderEntry",
    "Tombstone",
    "check_name",
    "read_count",
    "read_entry",
    "read_tombstones",
    "write_entry",
    "write_tombstones",
]


def check_name(name: str) -> str:
    """Return `name` if it is a valid entry name, else raise `UsageError`."""
    raw = name.encode("utf-8", errors="strict") if isinstance(name, str) else b""
    if not raw or len(raw) > MAX_NAME_BYTES or name in (".", "..") or "/" in name or "\x00" in name:
        raise UsageError("invalid entry name")
    return name


@dataclass(frozen=True, slots=True)
class FileEntry:
    name: str
    node_id: bytes
    file_key: FileKey
    content_version: int
    size: int
    mtime_ms: int
    written_ms: int = 0  # when this version was written (the writing device's clock)
    writer: bytes = bytes(FINGERPRINT_SIZE)  # fingerprint of the identity that wrote it
    history: tuple[FileVersion, ...] = ()  # newest first, all older than content_version

    def as_version(self) -> FileVersion:
        """The live version as a history item (when a newer one replaces it)."""
        return FileVersion(
            self.content_version, self.file_key, self.size, self.mtime_ms, self.written_ms,
            self.writer,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class FolderEntry:
    name: str
    node_id: bytes
    folder_key: FolderKey
    key_version: int
    mtime_ms: int


@dataclass(frozen=True, slots=True)
class Tombstone:
    node_id: bytes
    deleted_ms: int


Entry = FileEntry | FolderEntry


def read_count(r: Reader) -> int:
    """A u32 count of a folder's listed items, bounded by the format and the bytes left."""
    n = r.u32()
    if n > MAX_MANIFEST_ENTRIES or n > r.remaining():
        raise FormatError("entry count out of range")
    return n


def write_tombstones(w: Writer, tombs: list[Tombstone]) -> None:
    """A folder's tombstones (already sorted by node id, no duplicates)."""
    w.u32(len(tombs))
    for t in tombs:
        w.fixed(t.node_id, ID_SIZE).u64(t.deleted_ms)


def read_tombstones(r: Reader) -> list[Tombstone]:
    tombs = [Tombstone(r.take(ID_SIZE), r.u64()) for _ in range(read_count(r))]
    if any(a.node_id >= b.node_id for a, b in pairwise(tombs)):
        raise FormatError("tombstones not in canonical order")
    return tombs


def write_entry(w: Writer, e: Entry) -> None:
    if isinstance(e, FileEntry):
        w.u8(NODE_FILE).text16(check_name(e.name)).fixed(e.node_id, ID_SIZE)
        w.fixed(e.file_key.material, KEY_SIZE).u64(e.content_version).u64(e.size)
        w.u64(e.mtime_ms).u64(e.written_ms).fixed(e.writer, FINGERPRINT_SIZE)
        write_history(w, e.content_version, e.history)
    else:
        w.u8(NODE_FOLDER).text16(check_name(e.name)).fixed(e.node_id, ID_SIZE)
        w.fixed(e.folder_key.material, KEY_SIZE).u64(e.key_version)
        w.u64(e.mtime_ms)


def read_entry(r: Reader) -> Entry:
    kind = r.u8()
    name = r.text16(max_size=MAX_NAME_BYTES)
    try:
        check_name(name)
    except UsageError:
        raise FormatError("invalid entry name") from None
    node_id = r.take(ID_SIZE)
    key = r.take(KEY_SIZE)
    if kind == NODE_FILE:
        cv, size, mtime, written = r.u64(), r.u64(), r.u64(), r.u64()
        writer = r.take(FINGERPRINT_SIZE)
        history = read_history(r, cv)
        return FileEntry(name, node_id, FileKey(key), cv, size, mtime, written, writer, history)
    if kind == NODE_FOLDER:
        kv = r.u64()
        return FolderEntry(name, node_id, FolderKey(key), kv, r.u64())
    raise FormatError("unknown entry kind")
