"""`mv` into and out of a shared folder (issue 19): what moves is re-keyed.

Inside one space a move is a rename of manifest entries (`Files.mv`): nothing is
re-encrypted. Across spaces (a private folder and a shared one, or two shares) the keys
must change, or whoever could read the old place would read the new one with keys they
already hold, and members of the new place would need keys of the old one. So a move
across spaces is a verified copy under the destination: every file is downloaded
(verified), uploaded as a new node with a fresh file key, every folder made with a fresh
folder key (in the destination's space), and only then is the source removed for good
(its blobs and manifests deleted). The old ciphertext is gone and never opened with a
key of the new place. A failure before the source is removed leaves a copy, never a
loss. Kept versions (history) of what moves are not carried over.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from blindvault.client.downloads import Downloads
from blindvault.client.files import Files
from blindvault.client.tree.paths import display
from blindvault.client.uploads import Uploads
from blindvault.core.constants import ROLE_READ
from blindvault.core.manifest import Entry, FileEntry, FolderEntry
from blindvault.errors import UsageError

__all__ = ["Moves"]


class Moves:
    def __init__(self, files: Files, uploads: Uploads, downloads: Downloads) -> None:
        self.files = files
        self.spaces = files.spaces
        self.uploads = uploads
        self.downloads = downloads

    def mv(self, src: str, dst: str) -> None:
        self.files.mv(src, dst, across=self._across)

    def _across(self, s: list[str], d: list[str], entry: Entry) -> None:
        """Move `entry` at `s` to `d` (a free name) in another space: re-keyed."""
        self._check(s, d, entry)
        with tempfile.TemporaryDirectory(prefix="bv-move-") as tmp:
            local = Path(tmp) / "moving"
            local.mkdir()
            item = local / d[-1]
            self.downloads.get(display(s), item)
            self._times(s, item, entry)
            self.uploads.put(item, display(d[:-1]))
        self.files.rm(display(s), recursive=True)

    def _check(self, s: list[str], d: list[str], entry: Entry) -> None:
        """Refuse, before anything changes, what cannot move across spaces."""
        if self.files.exists(display(d)):
            raise UsageError(f"{display(d)} exists already")
        if s[0].startswith("@") and self.spaces.mount(s[0][1:]).role == ROLE_READ:
            raise UsageError("this share is read-only for you: get a copy instead")
        own = not s[0].startswith("@")
        if own and isinstance(entry, FileEntry) and self.spaces.is_shared(entry.node_id):
            raise UsageError("this file is shared on its own: unshare it before moving it")
        if own and isinstance(entry, FolderEntry):
            space = self.spaces.below(self.spaces.space(s[:-1]), entry.node_id)
            for item in self.files.subtree(entry.node_id, entry.folder_key, entry.key_version,
                                           space):  # fmt: skip
                node = item if isinstance(item, bytes) else item.node_id
                if self.spaces.is_shared(node):
                    raise UsageError(
                        "a shared folder or file cannot move into or out of another share"
                    )

    def _times(self, s: list[str], item: Path, entry: Entry) -> None:
        """The files' modification times as the signed listing has them."""
        if isinstance(entry, FileEntry):
            _utime(item, entry.mtime_ms)
            return
        base = display(s).rstrip("/") + "/"
        for e in self.files.walk(display(s)):
            if e.kind == "file":
                _utime(item / e.path.removeprefix(base), e.mtime_ms)


def _utime(path: Path, mtime_ms: int) -> None:
    os.utime(path, ns=(mtime_ms * 1_000_000, mtime_ms * 1_000_000))
