"""Large transfers that resume mid-file after an interrupted sync (issue 14).

A file whose blob is larger than `RESUMABLE` goes through a *stable* staging folder under
the pair's root, named after (pair, path, what is transferred), recorded in the index
(`Index.hold`) and spared by `apply.clean_stale`:

- upload: the private snapshot of the local file lives in `.blindvault-tmp-part-…` named
  after (pair, path, size, mtime). The next sync finds it (its hash checked again against
  the scan), so `Uploads`' resume record (`client/net/transfer.py`: upload id, salt,
  wrapped file key, per-part proofs) matches it by path, size and mtime, and only the
  parts the server lacks are sent. A local file changed meanwhile is another staging
  folder: the old one is dropped, nothing of it is sent.
- download: the plaintext of the chunks already authenticated, named after (pair, path,
  remote node and content version); see `client/net/partial.py` for what is kept and how
  it is checked. The file appears under its name only after it all verified.

At the end of a sync that ran to its end, staging folders it did not use are removed.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from blindvault.client.net import partial, transfer
from blindvault.client.tree.paths import split
from blindvault.client.vault import Vault
from blindvault.core.content import sealed_size
from blindvault.core.manifest import FileEntry
from blindvault.core.primitives import sha256
from blindvault.sync.ignore import ALWAYS_PREFIX
from blindvault.sync.index import Index, Pair, Stat
from blindvault.sync.remote import join
from blindvault.sync.scan import hash_file

__all__ = ["RESUMABLE", "ChangedError", "Stager", "staging_name"]

RESUMABLE = transfer.SMALL_BLOB  # blobs above this size go up in resumable parts


class ChangedError(Exception):
    """The local file changed between the scan and its upload."""


def staging_name(pair: Pair, rel: str, what: str) -> str:
    digest = sha256(f"{pair.id}\0{rel}\0{what}".encode()).hex()[:24]
    return f"{ALWAYS_PREFIX}part-{digest}"


@dataclass
class Stager:
    vault: Vault
    index: Index
    pair: Pair
    used: set[str] = field(default_factory=set)

    @property
    def root(self) -> Path:
        return Path(self.pair.local)

    def _folder(self, rel: str, what: str) -> Path:
        name = staging_name(self.pair, rel, what)
        self.index.hold(self.pair, name, rel)  # before anything is in it
        self.used.add(name)
        return self.root / name

    def download(self, rel: str) -> Path | None:
        """The remote file `rel`, verified, in its stable staging folder (resuming what an
        interrupted sync kept); None for a small file (the caller fetches it whole)."""
        remote = join(self.pair.remote, rel)
        entry = self.vault.stat(remote)
        if not isinstance(entry, FileEntry) or sealed_size(entry.size) <= RESUMABLE:
            return None
        folder = self._folder(rel, f"down:{entry.node_id.hex()}:{entry.content_version}")
        api = self.vault.spaces.space(split(remote)[:-1]).api
        return partial.fetch(
            api, folder, key=entry.file_key, node_id=entry.node_id,
            version=entry.content_version, size=entry.size,
        )  # fmt: skip

    def snapshot(self, rel: str, seen: Stat) -> Path | None:
        """A private copy of the large local file `rel` with the scanned content, in its
        stable staging folder (kept from an interrupted sync if still intact); None for a
        small file. Raises `ChangedError` if the file no longer has the scanned content."""
        if sealed_size(seen.size) <= RESUMABLE:
            return None
        folder = self._folder(rel, f"up:{seen.size}:{seen.mtime_ns}")
        snap = folder / rel.rsplit("/", 1)[-1]
        if snap.is_file():
            kept = hash_file(snap)
            # mutant: sync.resume-snapshot-hash [accept]
            if kept is not None and kept.hash == seen.hash:
                return snap
        folder.mkdir(exist_ok=True)
        shutil.copy2(self.root / rel, snap)
        copied = hash_file(snap)
        if copied is None or copied.hash != seen.hash:
            self.drop(snap)
            raise ChangedError(rel)
        return snap

    def drop(self, inside: Path) -> None:
        """Remove the staging folder holding `inside`, done or abandoned."""
        folder = inside.parent
        shutil.rmtree(folder, ignore_errors=True)
        self.index.release(self.pair, folder.name)
        self.used.discard(folder.name)

    def sweep(self) -> None:
        """After a sync that ran to its end: staging folders it did not use are stale."""
        for name in self.index.partials(self.pair):
            if name not in self.used or not (self.root / name).exists():
                shutil.rmtree(self.root / name, ignore_errors=True)
                self.index.release(self.pair, name)
