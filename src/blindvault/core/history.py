"""File history inside a folder manifest (issue 14): a file's earlier content versions.

    earlier = content_version u64 || file_key[32] || size u64 || mtime_ms u64
              || written_ms u64 || writer fingerprint[32]
    history = h u8 || h earlier versions (strictly descending content_version, all below
              the live one, h <= MAX_HISTORY)

The blob of version v is blob_id(node_id, v), as for the live one. Kept in the signed
manifest body, so a server that drops a version is caught by the signed chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from blindvault.core.constants import FINGERPRINT_SIZE, KEY_SIZE
from blindvault.core.encoding import Reader, Writer
from blindvault.core.keys import FileKey
from blindvault.errors import FormatError, UsageError

__all__ = ["MAX_HISTORY", "FileVersion", "check_history", "read_history", "write_history"]

MAX_HISTORY = 64  # earlier versions kept per file entry (bounded: a u8 count)


@dataclass(frozen=True, slots=True)
class FileVersion:
    """An earlier content version of a file, kept in the signed manifest (issue 14)."""

    content_version: int
    file_key: FileKey
    size: int
    mtime_ms: int
    written_ms: int
    writer: bytes  # fingerprint of the identity that wrote this version


def check_history(live: int, history: tuple[FileVersion, ...]) -> bool:
    """Newest first, strictly descending, all below the live version, at most MAX_HISTORY."""
    versions = [live, *(h.content_version for h in history)]
    return len(history) <= MAX_HISTORY and all(a > b for a, b in pairwise(versions))


def write_history(w: Writer, live: int, history: tuple[FileVersion, ...]) -> None:
    if not check_history(live, history):
        raise UsageError("file history out of order or too long")
    w.u8(len(history))
    for h in history:
        w.u64(h.content_version).fixed(h.file_key.material, KEY_SIZE).u64(h.size)
        w.u64(h.mtime_ms).u64(h.written_ms).fixed(h.writer, FINGERPRINT_SIZE)


def read_history(r: Reader, live: int) -> tuple[FileVersion, ...]:
    out = []
    for _ in range(r.u8()):
        cv, key, size = r.u64(), FileKey(r.take(KEY_SIZE)), r.u64()
        mtime, written = r.u64(), r.u64()
        out.append(FileVersion(cv, key, size, mtime, written, r.take(FINGERPRINT_SIZE)))
    history = tuple(out)
    if not check_history(live, history):  # mutant: core.manifest-history-order
        raise FormatError("file history not in canonical order")
    return history
