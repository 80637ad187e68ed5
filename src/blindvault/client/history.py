"""File versions (issue 14): list a file's versions and restore one.

Every version a listing shows comes from the signed folder manifest (the live entry and its
`history`, manifest body 0x03), never from the server. A restore into the vault writes a
NEW version with the old content (downloaded, checked, sent again under a fresh key), so
the content version only grows and every device's rollback checks stay sound; the version
it replaced goes into the history like any other.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from blindvault.client.files import Files
from blindvault.client.net import transfer
from blindvault.client.tree.paths import split
from blindvault.client.uploads import Uploads
from blindvault.core.manifest import FileEntry, FileVersion
from blindvault.errors import IntegrityError, NotFoundError, PathNotFoundError, UsageError

__all__ = ["History", "Version", "parse_time"]


@dataclass(frozen=True)
class Version:
    """One version of a file, as the signed manifest states it."""

    version: int
    size: int
    mtime_ms: int
    written_ms: int
    writer: str  # hex fingerprint of the identity that wrote it
    current: bool


def parse_time(text: str) -> int:
    """`--at TIME`: ISO 8601 (UTC unless it names a zone) or seconds since the epoch; ms."""
    try:
        return int(float(text) * 1000)
    except ValueError:
        pass
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"not a time: {text!r} (ISO 8601 or seconds since 1970)") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return int(at.timestamp() * 1000)


class History:
    def __init__(self, files: Files, uploads: Uploads) -> None:
        self.files = files
        self.uploads = uploads

    def _file(self, path: str) -> FileEntry:
        entry = self.files.stat(path)
        if not isinstance(entry, FileEntry):
            raise UsageError(f"{path} is not a file")
        return entry

    def versions(self, path: str) -> list[Version]:
        """The file's versions, newest (the current one) first."""
        e = self._file(path)
        return [
            Version(v.content_version, v.size, v.mtime_ms, v.written_ms, v.writer.hex(), i == 0)
            for i, v in enumerate((e.as_version(), *e.history))
        ]

    def pick(self, path: str, *, version: int | None, at_ms: int | None) -> FileVersion:
        """The version numbered `version`, or the newest written at or before `at_ms`."""
        e = self._file(path)
        every = (e.as_version(), *e.history)
        if version is not None:
            found = [v for v in every if v.content_version == version]
        elif at_ms is not None:
            found = [v for v in every if (v.written_ms or v.mtime_ms) <= at_ms][:1]
        else:
            raise UsageError("name a version (--version N) or a time (--at TIME)")
        if not found:
            raise PathNotFoundError(f"{path} has no such version (see `blindvault versions`)")
        return found[0]

    def fetch(self, path: str, picked: FileVersion, dest: Path) -> Path:
        """Download and verify one version of the file to `dest` (its final name only once
        all of it verified), with the version's own mtime."""
        e = self._file(path)
        space = self.files.spaces.file_space(split(path))  # a shared file: its holder's
        try:
            transfer.download(
                space.api, dest, key=picked.file_key, node_id=e.node_id,
                version=picked.content_version, size=picked.size, progress=lambda n: None,
            )  # fmt: skip
        except NotFoundError:  # the signed manifest keeps it: a server that lost it lies
            raise IntegrityError from None  # mutant: history.version-missing
        os.utime(dest, ns=(picked.mtime_ms * 1_000_000, picked.mtime_ms * 1_000_000))
        return dest

    def restore(
        self, path: str, *, version: int | None = None, at_ms: int | None = None
    ) -> tuple[int, int]:
        """Write the picked version's content as a new version of the file.

        Returns (the restored version, the new version)."""
        picked = self.pick(path, version=version, at_ms=at_ms)
        if picked.content_version == self._file(path).content_version:
            raise UsageError(f"version {picked.content_version} is the current one already")
        with tempfile.TemporaryDirectory(dir=self.files.session.store.home) as tmp:
            local = self.fetch(path, picked, Path(tmp) / "restore")
            self.uploads.put(local, path)
        return picked.content_version, self._file(path).content_version
