"""`get`: files and folders down, with `cp -r` semantics, from verified manifests only.

A folder's small files come in batches (every one the signed listing names must be in the
answer before any is written: P-TOMBSTONE), the others in parallel; each file appears
under its final name only after all of it verified."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from blindvault.client.files import Files
from blindvault.client.local.names import local_name, local_names
from blindvault.client.net import partial as resumable
from blindvault.client.net import transfer
from blindvault.client.net.batching import BATCH_ITEM, PARALLEL, groups
from blindvault.client.tree import Folder, Space
from blindvault.client.tree.paths import split
from blindvault.core.content import blob_id, sealed_size
from blindvault.core.manifest import FileEntry, FolderEntry
from blindvault.errors import IntegrityError

__all__ = ["Downloads"]

Progress = Callable[[int], None]


def _quiet(_: int) -> None:
    return None


class Downloads:
    def __init__(self, files: Files) -> None:
        self.files = files

    def get(
        self,
        remote: str,
        local: Path,
        *,
        progress: Progress | None = None,
        escape_names: bool = False,
    ) -> list[Path]:
        """Download a file or folder with `cp -r` semantics; returns the local paths written.

        A name unsafe on some OS is refused unless `escape_names` (see `local_names`)."""
        entry = self.files.stat(remote)
        name = entry.name if entry is not None else "vault"
        if local.is_dir():
            name = local_name(name, escape=escape_names, path=remote)
        dest = local / name if local.is_dir() else local
        step = progress or _quiet
        spaces = self.files.spaces
        if isinstance(entry, FileEntry):
            _fetch(spaces.file_space(split(remote)), step, {entry.name: dest}, entry)
            return [dest]
        written: list[Path] = []
        self._get_folder(spaces.folder(split(remote)), dest, written, step, escape_names)
        return written

    def _get_folder(
        self, folder: Folder, dest: Path, written: list[Path], step: Progress, escape: bool
    ) -> None:
        """A folder's files in parallel, then its subfolders, from the verified manifest."""
        entries = [  # a shared file of one's own: its holder's version
            self.files.spaces.current(e, folder.space) if isinstance(e, FileEntry) else e
            for e in folder.body.entries
        ]
        names = local_names([e.name for e in entries], escape=escape, base=str(dest))
        here = {n: dest / local for n, local in names.items()}
        dest.mkdir(parents=True, exist_ok=True)
        files = [e for e in entries if isinstance(e, FileEntry)]
        tiny = [(e, sealed_size(e.size)) for e in files if sealed_size(e.size) <= BATCH_ITEM]
        rest = [e for e in files if sealed_size(e.size) > BATCH_ITEM]
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            fetch_group = partial(_fetch_group, folder.space, step, here)
            written += [p for done in pool.map(fetch_group, groups(tiny)) for p in done]
            written += pool.map(partial(_fetch, folder.space, step, here), rest)
        tree, spaces = self.files.session.tree, self.files.spaces
        for e in entries:
            if isinstance(e, FolderEntry):
                space = spaces.below(folder.space, e.node_id)
                sub, _ = tree.read(e.node_id, e.folder_key, e.key_version, space)
                self._get_folder(sub, here[e.name], written, step, escape)


def _fetch(space: Space, step: Progress, here: dict[str, Path], e: FileEntry) -> Path:
    if sealed_size(e.size) > transfer.SMALL_BLOB:  # resumable: client/net/partial.py
        return _fetch_resumable(space, step, here[e.name], e)
    transfer.download(
        space.api, here[e.name], key=e.file_key, node_id=e.node_id,
        version=e.content_version, size=e.size, progress=step,
    )  # fmt: skip
    return here[e.name]


def _fetch_resumable(space: Space, step: Progress, dest: Path, e: FileEntry) -> Path:
    """A large file through a stable staging folder beside it, named after its blob: an
    interrupted `get` of the same version resumes after the chunks already verified."""
    bid = blob_id(e.node_id, e.content_version).hex()[:16]
    staging = dest.parent / f".{dest.name}.blindvault-part-{bid}"
    try:
        content = resumable.fetch(
            space.api, staging, key=e.file_key, node_id=e.node_id,
            version=e.content_version, size=e.size, progress=step,
        )  # fmt: skip
    except IntegrityError:  # nothing of it is kept (partial.fetch emptied it)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    os.replace(content, dest)
    shutil.rmtree(staging, ignore_errors=True)
    return dest


def _fetch_group(
    space: Space, step: Progress, here: dict[str, Path], group: list[FileEntry]
) -> list[Path]:
    got = transfer.fetch_batch(space.api, [blob_id(e.node_id, e.content_version) for e in group])
    blobs = []
    for e in group:  # the signed listing names each one: all there before any is written
        blob = got.get(blob_id(e.node_id, e.content_version))
        if blob is None:  # mutant: vault.batch-missing
            raise IntegrityError(f"the server left the content of {e.name} out")
        blobs.append((e, blob))
    for e, blob in blobs:
        transfer.write_verified(
            blob, here[e.name], key=e.file_key, node_id=e.node_id,
            version=e.content_version, size=e.size,
        )  # fmt: skip
        step(len(blob))
    return [here[e.name] for e in group]
