"""`Files`: the file tree by path — stat, ls, walk, mkdir, mv, rm and verify.

Uploads (`uploads.py`) and downloads (`downloads.py`) build on it. Every read is verified
(signatures, AEAD, freshness); every change is a pure edit (`tree/edits.py`) applied with
compare-and-swap, after which the new high-water marks are saved at once.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from functools import partial

from blindvault.client.session import Session
from blindvault.client.sharing.mounts import FILES
from blindvault.client.spaces import Location, Spaces
from blindvault.client.tree import Edit, Space, edits, now_ms
from blindvault.client.tree.paths import display, no_mount_name, split
from blindvault.client.verify import Problem, verify_tree
from blindvault.core.content import blob_id
from blindvault.core.keys import FolderKey
from blindvault.core.manifest import Entry as ManifestEntry
from blindvault.core.manifest import FileEntry, FolderEntry, ManifestBody, Tombstone
from blindvault.errors import ConflictError, NotFoundError, PathNotFoundError, UsageError

__all__ = ["Across", "Entry", "Files"]

Across = Callable[[list[str], list[str], ManifestEntry], None]  # (source, destination, entry)


@dataclass(frozen=True)
class Entry:
    """One listed item, with authenticated metadata only (P-META)."""

    path: str
    name: str
    kind: str  # "file" or "folder"
    size: int
    mtime_ms: int


def describe(path: str, e: ManifestEntry) -> Entry:
    if isinstance(e, FileEntry):
        return Entry(path, e.name, "file", e.size, e.mtime_ms)
    return Entry(path, e.name, "folder", 0, e.mtime_ms)


class Files:
    def __init__(self, session: Session, spaces: Spaces) -> None:
        self.session = session
        self.spaces = spaces

    # --- reading -------------------------------------------------------------------------

    def stat(self, path: str) -> FileEntry | FolderEntry | None:
        """The entry at `path` (None for the root)."""
        parts = split(path)
        if not parts:
            return None
        if parts[0] == "@" + FILES:  # a single file shared with this account
            holder = self.spaces.holder_at(parts)
            if holder is None:
                raise PathNotFoundError(f"no such file or folder: {path}")
            return dataclasses.replace(holder.entry, name=parts[-1])
        if len(parts) == 1 and parts[0].startswith("@"):
            mount = self.spaces.mount(parts[0][1:])
            return FolderEntry(parts[0], mount.node_id, mount.key, mount.key_version, 0)
        folder = self.spaces.folder(parts[:-1], names=parts[-1:])
        entry = folder.body.find(parts[-1])
        if entry is None:
            raise PathNotFoundError(f"no such file or folder: {path}")
        if isinstance(entry, FileEntry):
            return self.spaces.current(entry, folder.space)
        return entry

    def exists(self, path: str) -> bool:
        try:
            self.stat(path)
        except PathNotFoundError:
            return False
        return True

    def is_folder(self, path: str) -> bool:
        try:
            return not isinstance(self.stat(path), FileEntry)
        except PathNotFoundError:
            return False

    def ls(self, path: str = "/") -> list[Entry]:
        parts = split(path)
        if parts == ["@" + FILES]:
            return self._shared_files()
        entry = self.stat(path)
        if isinstance(entry, FileEntry):
            return [describe(display(parts), entry)]
        folder = self.spaces.folder(parts)
        base = display(parts).rstrip("/")
        own = [
            describe(f"{base}/{e.name}",
                     self.spaces.current(e, folder.space) if isinstance(e, FileEntry) else e)
            for e in folder.body.entries
        ]  # fmt: skip
        if parts:
            return own
        mounts = [f"@{n}" for n in sorted(self.spaces.mounts())]
        if self.spaces.file_mounts():
            mounts.append("@" + FILES)
        return own + [Entry(f"/{n}", n, "folder", 0, 0) for n in mounts]

    def _shared_files(self) -> list[Entry]:
        """`@shared`: the single files shared with this account (each verified)."""
        out = []
        for name in sorted(self.spaces.file_mounts()):
            holder = self.spaces.holder_at(["@" + FILES, name])
            if holder is not None:
                entry = dataclasses.replace(holder.entry, name=name)
                out.append(describe(f"/@{FILES}/{name}", entry))
        return out

    def walk(self, path: str = "/") -> Iterator[Entry]:
        for e in self.ls(path):
            yield e
            if e.kind == "folder":
                yield from self.walk(e.path)

    def subtree(
        self,
        node: bytes,
        key: FolderKey,
        key_version: int,
        space: Space,
        pages: list[bytes] | None = None,
        *,
        within: bool = False,
    ) -> Iterator[bytes | FileEntry]:
        """Every folder (as its node id) and file entry under a folder, the folder first;
        the blob ids of paged folders' pages (issue 18) go to `pages` if given. Each folder
        is read in its own space (a nested share has one); `within`: only what is in
        `space`, not the nested shares below (nor anything under them)."""
        folder, _ = self.session.tree.read(node, key, key_version, space)
        if pages is not None:
            pages += folder.page_blobs
        yield node
        for e in folder.body.entries:
            if not isinstance(e, FolderEntry):
                yield e
                continue
            below = self.spaces.below(space, e.node_id)
            if within and below.node_id != space.node_id:
                continue
            yield from self.subtree(e.node_id, e.folder_key, e.key_version, below, pages,
                                    within=within)  # fmt: skip

    # --- writing ---------------------------------------------------------------------------

    def update(
        self,
        parts: list[str],
        change: Callable[[ManifestBody], ManifestBody],
        at: Location | None = None,
        names: Collection[str] | None = None,
    ) -> Edit:
        """Apply a pure edit to the folder at `parts` (or at `at`, a shared file's holder);
        keep the new high-water marks. `names`: every name the edit looks at (a paged folder
        is then read and written page by page, `Tree.update`)."""
        at = at or self.spaces.locate(parts)
        done = self.session.tree.update(
            at.node_id, at.key, change, at.key_version, at.space, names=names
        )
        self.session.save()  # the new high-water marks, so a server cannot fork this write away
        return done

    def delete_blob(self, entry: FileEntry, space: Space) -> None:
        """The blobs of a file: its live version and every kept earlier one."""
        for node, version in edits.all_versions(entry):
            self.delete_version(node, version, space)

    def delete_version(self, node: bytes, version: int, space: Space) -> None:
        """Delete one version's blob; one a live link serves stays (409 `blob_in_link`)
        until the link is revoked, and `prune` collects it then."""
        try:
            space.api.request("DELETE", f"/v1/blobs/{blob_id(node, version).hex()}")
        except NotFoundError:
            return
        except ConflictError as exc:
            if exc.code != "blob_in_link":
                raise

    def mkdir(self, path: str, *, parents: bool = False) -> None:
        parts = split(path)
        if not parts:
            raise UsageError("the root folder exists already")
        for i in range(0 if parents else len(parts) - 1, len(parts)):
            self._mkdir_one(parts[: i + 1], exist_ok=parents)

    def _mkdir_one(self, parts: list[str], *, exist_ok: bool) -> None:
        no_mount_name(parts)
        node, key = os.urandom(16), FolderKey.generate()
        entry = FolderEntry(parts[-1], node, key, 1, now_ms())
        space = self.spaces.space(parts[:-1])
        self.session.tree.update(node, key, _same, 1, space, create=True)  # before it is named
        add = partial(edits.add_folder, entry=entry, where=display(parts[:-1]), exist_ok=exist_ok)
        done = self.update(parts[:-1], add)
        if done.before.find(parts[-1]) is not None:  # it existed: ours is named by nothing
            self.session.tree.drop(node, space)

    def mv(self, src: str, dst: str, *, across: Across | None = None) -> None:
        """Rename or move inside one space; a move into or out of a shared folder (another
        space) goes to `across` (re-keying, `client/moves.py`), refused without it."""
        s, d = split(src), split(dst)
        if not s:
            raise UsageError("cannot move the root folder")
        entry = self.stat(src)
        if entry is None:
            raise UsageError("cannot move the root folder")
        if self.is_folder(dst) or not d:
            d = [*d, s[-1]]
        if d[: len(s)] == s:
            raise UsageError("cannot move a folder into itself")
        no_mount_name(d)
        if "@" + FILES in (s[0], d[0]):
            raise UsageError("files shared with you stay in @shared: get a copy instead")
        if self.spaces.space(s[:-1]).node_id != self.spaces.space(d[:-1]).node_id:
            if across is None:
                raise UsageError("moving into or out of a shared folder: copy it (get, put)")
            across(s, d, entry)
            return
        where = display(d[:-1])
        if s[:-1] == d[:-1]:
            self.update(s[:-1], partial(edits.move, entry=entry, new_name=d[-1], where=where))
        else:  # add first, then remove: a crash in between leaves a copy, never a loss
            moved = edits.renamed(entry, d[-1])
            self.update(d[:-1], partial(edits.add, entry=moved, where=where))
            self.update(s[:-1], partial(edits.remove, name=s[-1], node_id=entry.node_id))

    def rm(self, path: str, *, recursive: bool = False) -> None:
        """Remove for good (`rm --permanent`): tombstone, blobs and manifests go now.
        A plain `rm` moves into the trash instead (`client/trash.py`)."""
        parts = split(path)
        no_shared_file(parts)
        entry = self.stat(path)
        if entry is None:
            raise UsageError("cannot remove the root folder")
        if isinstance(entry, FolderEntry):
            children = self.ls(path)
            if children and not recursive:
                raise UsageError(f"{path} is a folder that is not empty (use -r)")
            for child in children:
                self.rm(child.path, recursive=True)
        tomb = Tombstone(entry.node_id, now_ms())
        self.update(parts[:-1], partial(edits.delete, name=parts[-1], tomb=tomb))
        space = self.spaces.space(parts[:-1])
        if isinstance(entry, FileEntry):
            self.delete_blob(entry, space)
            if not space.shared and self.spaces.is_shared(entry.node_id):
                self.spaces.end_grants(entry.node_id)  # a shared file of one's own
                self.session.save()
        else:
            self.session.tree.drop(entry.node_id, space)
            self.spaces.end_grants(entry.node_id)
            self.session.save()

    # --- verification ----------------------------------------------------------------------

    def verify(self, path: str = "/") -> tuple[int, int, list[Problem]]:
        """Download and authenticate every manifest and blob; returns (folders, files, problems)."""
        result = verify_tree(self.spaces.folder, split(path), self.spaces.current)
        self.session.save()
        return result


def no_shared_file(parts: list[str]) -> None:
    """A file shared with this account (`@shared/NAME`) is its owner's to remove."""
    if parts and parts[0] == "@" + FILES:
        raise UsageError("a file shared with you is its owner's to remove (or to unshare)")


def _same(body: ManifestBody) -> ManifestBody:
    return body
