"""`put`: files and folders up, with `cp -r` semantics.

Small files of one folder go up together (the tiniest in batches, the rest in parallel),
then one manifest write names them all; a large file goes alone, resumable. Whatever the
path, the tail is the same: the folder's manifest is edited with `edits.upsert`; if another
device wrote a newer version meanwhile, what was sent is deleted again (nothing names it),
else the blobs of the replaced versions are deleted.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from blindvault.client.files import Files
from blindvault.client.net import transfer
from blindvault.client.net.batching import BATCH_ITEM, PARALLEL, groups
from blindvault.client.sharing.fileshares import Holder
from blindvault.client.spaces import Location
from blindvault.client.tree import Space, edits, now_ms
from blindvault.client.tree.paths import display, no_mount_name, split
from blindvault.core.content import blob_id, sealed_size
from blindvault.core.keys import FileKey
from blindvault.core.manifest import FileEntry, FolderEntry, ManifestBody, check_name
from blindvault.errors import ConflictError, LocalError, UsageError

__all__ = ["Progress", "Uploads"]

Progress = Callable[[int], None]


FREE_VERSIONS = 8  # versions tried past the next one when orphan blobs hold the ids


def _quiet(_: int) -> None:
    return None


@dataclass(frozen=True)
class _Job:
    """One file to send: where its blob goes and under which key."""

    path: Path
    node: bytes
    version: int
    key: FileKey

    def entry(self, size: int) -> FileEntry:
        mtime = int(self.path.stat().st_mtime * 1000)
        return FileEntry(self.path.name, self.node, self.key, self.version, size, mtime)


def _job(body: ManifestBody, path: Path, name: str, where: list[str]) -> _Job:
    """A new version of the file `name` (a new file if there is none)."""
    found = body.find(name)
    if isinstance(found, FolderEntry):
        raise UsageError(f"{display([*where, name])} is a folder")
    node = found.node_id if found else os.urandom(16)
    version = found.content_version + 1 if found else 1
    return _Job(path, node, version, FileKey.generate())  # a fresh key per version (P-NONCE)


class Uploads:
    def __init__(self, files: Files) -> None:
        self.files = files
        self.session = files.session

    @property
    def _resume_dir(self) -> Path:
        return self.session.store.home / "uploads" / self.session.owner.hex()

    def put(self, local: Path, remote: str, *, progress: Progress | None = None) -> list[str]:
        """Upload a file or a folder (recursively) with `cp -r` semantics; returns paths made."""
        if not local.exists():
            raise LocalError(f"no such local file or folder: {local}")
        target = split(remote)
        if self.files.is_folder(remote) or not target:
            target = [*target, local.name]
        made: list[str] = []
        step = progress or _quiet
        if local.is_dir():
            self._put_tree(local, target, made, step)
        else:
            self._put_file(local, target, step)
            made.append(display(target))
        return made

    def _put_tree(self, local: Path, target: list[str], made: list[str], step: Progress) -> None:
        self.files.mkdir(display(target), parents=True)
        made.append(display(target))
        children = [c for c in sorted(local.iterdir()) if not c.is_symlink()]
        small: list[tuple[Path, int]] = []  # with the size of their blob
        large: list[Path] = []
        for child in children:
            if child.is_file():
                blob = sealed_size(child.stat().st_size)
                if blob <= transfer.SMALL_BLOB:
                    small.append((child, blob))
                else:
                    large.append(child)
        if small:
            self._put_files(small, target, step)
        for child in large:  # one by one, each resumable
            self._put_file(child, [*target, child.name], step)
        made += [display([*target, c.name]) for c in [f for f, _ in small] + large]
        for child in children:
            if child.is_dir():
                self._put_tree(child, [*target, child.name], made, step)

    def put_many(self, local: list[Path], remote: str) -> list[FileEntry]:
        """Files (each named as its local name) into the existing folder `remote`: the
        small ones with ONE manifest write (see `_put_files`), a large one alone and
        resumable. Returns the entries as named (node ids and versions for the caller)."""
        target = split(remote)
        small: list[tuple[Path, int]] = []
        large: list[Path] = []
        for f in local:
            blob = sealed_size(f.stat().st_size)
            if blob <= transfer.SMALL_BLOB:
                small.append((f, blob))
            else:
                large.append(f)
        made = self._put_files(small, target, _quiet) if small else []
        return made + [self._put_file(f, [*target, f.name], _quiet) for f in large]

    def _put_files(
        self, files: list[tuple[Path, int]], target: list[str], step: Progress
    ) -> list[FileEntry]:
        """Small files (with their blob sizes) into one folder: the tiniest in batches, the
        rest in parallel, then one manifest write."""
        spaces = self.files.spaces
        parent = spaces.folder(target, names=[f.name for f, _ in files])
        shared = [  # a shared file of one's own: its next version goes into its holder
            f
            for f, _ in files
            if not parent.space.shared
            and isinstance(found := parent.body.find(f.name), FileEntry)
            and spaces.is_shared(found.node_id)
        ]
        made = [self._put_file(f, [*target, f.name], step) for f in shared]
        files = [(f, size) for f, size in files if f not in shared]
        tiny: list[tuple[_Job, int]] = []
        rest: list[_Job] = []
        for f, blob_size in files:
            check_name(f.name)
            job = _job(parent.body, f, f.name, target)
            if blob_size <= BATCH_ITEM:
                tiny.append((job, blob_size))
            else:
                rest.append(job)
        send = partial(self._send_job_free, parent.space, step)
        send_group = partial(self._send_group_free, parent.space, step)
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            entries = [e for made in pool.map(send_group, groups(tiny)) for e in made]
            entries += pool.map(send, rest)
        if not entries:
            return made
        return made + self._name(target, entries, parent.space)

    def _put_file(self, local: Path, target: list[str], step: Progress) -> FileEntry:
        check_name(target[-1])
        no_mount_name(target)
        holder = self.files.spaces.holder_at(target)
        if holder is not None:  # a shared file: its next version goes into its holder
            return self._put_shared(local, holder, step)
        parent = self.files.spaces.folder(target[:-1], names=target[-1:])
        done = None
        for rec in transfer.pending_upload(self._resume_dir, local):
            done = transfer.resume_upload(
                parent.space.api, rec, local, vault=self.session.local_key,
                owner=self.session.owner, progress=step,
            )  # fmt: skip
            if done is not None:
                break
        if done is None:
            found = parent.body.find(target[-1])
            existing = found if isinstance(found, FileEntry) else None
            node = existing.node_id if existing else os.urandom(16)
            version = existing.content_version + 1 if existing else 1
            entry = self._send_free(parent.space, step, local, node, version)
        else:
            node, key, version, size = done
            entry = _Job(local, node, version, key).entry(size)
        return self._name(target[:-1], [dataclasses.replace(entry, name=target[-1])], parent.space)[
            0
        ]

    def _put_shared(self, local: Path, holder: Holder, step: Progress) -> FileEntry:
        """The next version of a shared file, named in its holder (not resumable: the
        resume records know folders by path)."""
        at = Location(holder.node_id, holder.key, holder.key_version, holder.space)
        current = holder.entry
        sent = self._send_free(holder.space, step, local, current.node_id,
                               current.content_version + 1)  # fmt: skip
        named = dataclasses.replace(sent, name=current.name)
        return self._name([], [named], holder.space, at)[0]

    def _send_free(
        self, space: Space, step: Progress, local: Path, node: bytes, version: int
    ) -> FileEntry:
        """Send as `version`, or the next free one: a blob left by an upload killed between
        its blob and its manifest write holds the id (nothing signed names it; it is left
        alone, for it may be a concurrent writer's). Versions may skip numbers."""
        for _ in range(FREE_VERSIONS):
            job = _Job(local, node, version, FileKey.generate())  # fresh key (P-NONCE)
            try:
                return self._send(space, step, job)
            except ConflictError as exc:
                if exc.code != "conflict":  # a blob with this id exists
                    raise
                version += 1
        raise ConflictError(409, "conflict", "no free version for this file; try again")

    def _send_job_free(self, space: Space, step: Progress, job: _Job) -> FileEntry:
        """`_send`, then the next free version if a killed upload's orphan holds the id."""
        try:
            return self._send(space, step, job)
        except ConflictError as exc:
            if exc.code != "conflict":
                raise
        return self._send_free(space, step, job.path, job.node, job.version + 1)

    def _send_group_free(self, space: Space, step: Progress, group: list[_Job]) -> list[FileEntry]:
        """A batch (all or nothing); if an orphan holds one of its ids, one by one."""
        try:
            return _send_group(space, step, group)
        except ConflictError as exc:
            if exc.code != "conflict":
                raise
        return [self._send_job_free(space, step, job) for job in group]

    def _send(self, space: Space, step: Progress, job: _Job) -> FileEntry:
        size = transfer.upload(
            space.api, job.path, key=job.key, node_id=job.node, version=job.version,
            vault=self.session.local_key, owner=self.session.owner,
            resume_dir=self._resume_dir, progress=step,
        )  # fmt: skip
        return job.entry(size)

    def _name(
        self,
        target: list[str],
        entries: list[FileEntry],
        space: Space,
        holder: Location | None = None,
    ) -> list[FileEntry]:
        """Name what was sent in the folder's manifest (or a shared file's `holder`); then
        delete what it replaced."""
        at, me = now_ms(), self.session.fingerprint  # who wrote these versions, and when
        entries = [dataclasses.replace(e, written_ms=at, writer=me) for e in entries]
        try:
            names = [e.name for e in entries]  # a paged folder: only their pages (issue 18)
            upsert = partial(edits.upsert, files=entries, where=display(target))
            done = self.files.update(target, upsert, holder, names)
        except ConflictError as exc:
            if exc.code == edits.NEWER:  # nothing names what we sent: do not leave it behind
                for e in entries:
                    self.files.delete_blob(e, space)
            raise
        for node, version in edits.replaced_files(done.before, entries):
            self.files.delete_version(node, version, space)
        return entries


def _send_group(space: Space, step: Progress, group: list[_Job]) -> list[FileEntry]:
    """Tiny files sealed in memory and sent in one batch request."""
    sealed, made = [], []
    for job in group:
        blob, size = transfer.seal_small(job.path, key=job.key, node_id=job.node,
                                         version=job.version)  # fmt: skip
        sealed.append((blob_id(job.node, job.version), blob))
        made.append(job.entry(size))
    transfer.send_batch(space.api, sealed)
    step(sum(len(b) for _, b in sealed))
    return made
