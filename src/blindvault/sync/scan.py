"""The local scan: stat every file first and hash only what changed since the index saw
it (size, mtime and inode). Symlinks and special files are skipped with a warning; so is
a file that changes while it is read (its stat before and after the hash differ), so a
half-written file is never taken as content."""

from __future__ import annotations

import os
import stat as st
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from blindvault.core.primitives import sha256_chunks
from blindvault.sync.ignore import Ignore
from blindvault.sync.index import Stat
from blindvault.sync.plan import Local

__all__ = ["Scan", "hash_file", "scan"]

CHUNK = 1 << 20


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


def _key(s: os.stat_result) -> tuple[int, int, int]:
    return (s.st_size, s.st_mtime_ns, s.st_ino)


def hash_file(path: Path) -> Stat | None:
    """The file's stat and content hash, or None if it changed while read."""
    before = path.stat(follow_symlinks=False)
    digest = sha256_chunks(_chunks(path))
    after = path.stat(follow_symlinks=False)
    if _key(before) != _key(after):
        return None
    return Stat(after.st_size, after.st_mtime_ns, after.st_ino, digest)


@dataclass
class Scan:
    files: dict[str, Local] = field(default_factory=dict)
    stats: dict[str, Stat] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    hashed: int = 0


def _walk(
    root: Path, ignore: Ignore, warn: Callable[[str], None]
) -> Iterator[tuple[str, str, os.stat_result]]:
    """(relative POSIX path, path, lstat) of every regular, not ignored file: one
    `os.scandir` per folder and its cached lstat, no `Path` object per file."""
    stack = [(str(root), "")]
    while stack:
        folder, prefix = stack.pop()
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
        for d in entries:
            rel = prefix + d.name
            s = d.stat(follow_symlinks=False)
            mode = s.st_mode
            if st.S_ISDIR(mode):
                if not ignore(rel, folder=True):
                    stack.append((d.path, rel + "/"))
            elif ignore(rel):
                continue
            elif st.S_ISLNK(mode):
                warn(f"skipped symlink: {rel}")
            elif not st.S_ISREG(mode):
                warn(f"skipped special file: {rel}")
            else:
                yield rel, d.path, s


def scan(root: Path, known: dict[str, Stat]) -> Scan:
    """Every regular, not ignored file under `root` (relative POSIX paths)."""
    out = Scan()
    stats, files = out.stats, out.files
    for rel, path, s in _walk(root, Ignore(root), out.warnings.append):
        old = known.get(rel)
        if (
            old is not None
            and old.size == s.st_size
            and old.mtime_ns == s.st_mtime_ns
            and old.inode == s.st_ino
        ):
            now = old
        else:
            fresh = hash_file(Path(path))
            out.hashed += 1
            if fresh is None:
                out.warnings.append(f"skipped, changed while read: {rel}")
                continue
            now = fresh
        stats[rel] = now
        files[rel] = Local(now.hash, now.size, now.inode)
    return out
