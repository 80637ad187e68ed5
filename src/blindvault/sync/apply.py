"""Running the merge's actions through the public `Vault` API, one at a time.

Crash safety: a download goes to a temporary file in the target folder, is fsynced and
renamed over the target; an upload sends a private snapshot of the file whose hash was
checked against the scan (a file changing meanwhile is skipped, never sent half-read);
the index row of a path is written only after its action completed on both sides. So a
SIGKILL at any point, then `sync` again, redoes at most the interrupted action: its
outcome is then found already in place (same content = no conflict) and just recorded.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from blindvault.client.vault import Vault
from blindvault.core.content import sealed_size
from blindvault.core.manifest import FileEntry
from blindvault.errors import ForbiddenError, IntegrityError
from blindvault.sync.index import Index, Pair, Stat
from blindvault.sync.plan import Action, Kind, conflict_name
from blindvault.sync.remote import join
from blindvault.sync.resume import RESUMABLE, Stager
from blindvault.sync.resume import ChangedError as _ChangedError
from blindvault.sync.scan import Scan, hash_file

__all__ = ["Applier", "Outcome"]

TMP = ".blindvault-tmp-"


@dataclass
class Outcome:
    done: list[Action] = field(default_factory=list)
    conflicts: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _drop(tmp: Path) -> None:
    """Remove a download's private staging folder (and the file if still there)."""
    shutil.rmtree(tmp.parent, ignore_errors=True)


def clean_stale(root: Path, keep: frozenset[str] = frozenset()) -> None:
    """Staging folders a killed sync left behind (only ours: `.blindvault-tmp-*`), except
    those `keep` names (large transfers to resume, see `sync.resume`)."""
    for p in root.glob(TMP + "*"):
        if p.name in keep and p.is_dir() and not p.is_symlink():
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


def _fsync_replace(tmp: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tmp.open("rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, dest)
    _drop(tmp)
    folder = os.open(dest.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


@dataclass
class Applier:
    vault: Vault
    index: Index
    pair: Pair
    scan: Scan
    device: str
    out: Outcome = field(default_factory=Outcome)
    fetched: dict[str, Path] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)  # remote sizes, from the listing
    stager: Stager = field(init=False)

    def __post_init__(self) -> None:
        self.stager = Stager(self.vault, self.index, self.pair)

    @property
    def root(self) -> Path:
        return Path(self.pair.local)

    def remote(self, rel: str) -> str:
        return join(self.pair.remote, rel)

    def run(self, actions: list[Action]) -> Outcome:
        steps: dict[Kind, Callable[[Action], None]] = {
            Kind.DOWNLOAD: self.download,
            Kind.DELETE_LOCAL: self.delete_local,
            Kind.DELETE_REMOTE: self.delete_remote,
            Kind.MOVE_LOCAL: self.move_local,
            Kind.MOVE_REMOTE: self.move_remote,
            Kind.CONFLICT: self.conflict,
            Kind.FORGET: lambda a: self.index.forget(self.pair, a.path),
        }
        clean_stale(self.root, frozenset(self.index.partials(self.pair)))
        self._prefetch(actions)  # mutant: sync.verify-before-local-change
        try:
            for act in actions:
                if act.kind == Kind.UPLOAD:
                    continue  # batched, after the rest (uploads only add content)
                try:
                    steps[act.kind](act)
                except ForbiddenError:
                    self.out.warnings.append(
                        f"{act.path}: the remote folder is read-only for you; "
                        "the local change is kept here and not uploaded"
                    )
                    continue
                self.out.done.append(act)
            self._upload_all([a for a in actions if a.kind == Kind.UPLOAD])
        finally:
            for tmp in self.fetched.values():
                _drop(tmp)
        self.stager.sweep()
        return self.out

    def _prefetch(self, actions: list[Action]) -> None:
        """Download (and verify) every remote file the actions need BEFORE changing
        anything: an integrity error then stops the sync with nothing changed locally."""
        try:
            for act in actions:
                if act.kind in (Kind.DOWNLOAD, Kind.CONFLICT):
                    self.fetched[act.path] = self._download_tmp(act.path)
        except BaseException:
            for tmp in self.fetched.values():
                _drop(tmp)
            raise

    # --- helpers ---------------------------------------------------------------------------

    def _record(self, rel: str, stat: Stat) -> None:
        entry = self.vault.stat(self.remote(rel))
        if not isinstance(entry, FileEntry):
            raise IntegrityError(f"{self.remote(rel)} is missing right after it was written")
        self.index.record(self.pair, rel, stat, entry.node_id, entry.content_version)

    def _unchanged(self, rel: str) -> bool:
        """Whether the local file is still what the scan saw (or still absent)."""
        path = self.root / rel
        seen = self.scan.stats.get(rel)
        if seen is None:
            return not path.exists()
        try:
            s = path.stat(follow_symlinks=False)
        except FileNotFoundError:
            return False
        return (s.st_size, s.st_mtime_ns, s.st_ino) == (seen.size, seen.mtime_ns, seen.inode)

    def _fetch(self, rel: str) -> Path:
        return self.fetched.pop(rel, None) or self._download_tmp(rel)

    def _download_tmp(self, rel: str) -> Path:
        """The remote file downloaded and verified into a temporary file by its target
        (a large one in its stable staging folder: resumable, see `sync.resume`)."""
        size = self.sizes.get(rel)
        if size is None or sealed_size(size) > RESUMABLE:  # else no `stat` needed: small
            staged = self.stager.download(rel)
            if staged is not None:
                return staged
        tmp = Path(tempfile.mkdtemp(prefix=TMP, dir=self.root)) / "content"
        try:
            self.vault.get(self.remote(rel), tmp)
        except BaseException:
            _drop(tmp)
            raise
        return tmp

    def _free_name(self, name: str) -> str:
        """The conflict copy's name, numbered (" 2", " 3"…) if taken on either side."""
        stem, dot, ext = name.rpartition(")")
        n, made = 1, name
        while (self.root / made).exists() or self.vault.exists(self.remote(made)):
            n += 1
            made = f"{stem} {n}{dot}{ext}"  # "a (conflict D 2026-12-03 2215 2).txt"
        return made

    def _ensure_parent(self, rel: str) -> None:
        parent = self.remote(rel).rsplit("/", 1)[0] or "/"
        if not self.vault.exists(parent):
            self.vault.mkdir(parent, parents=True)

    def _snapshot(self, folder: Path, rel: str, seen: Stat) -> Path:
        """A private copy of the local file, if it still has the scanned content."""
        snap = folder / rel.rsplit("/", 1)[-1]
        shutil.copy2(self.root / rel, snap)
        copied = hash_file(snap)
        if copied is None or copied.hash != seen.hash:  # mutant: sync.upload-whole-snapshot
            snap.unlink(missing_ok=True)
            raise _ChangedError(rel)
        return snap

    def _send(self, rel: str, seen: Stat) -> None:
        """Upload a snapshot of the local file, if it still has the scanned content."""
        with tempfile.TemporaryDirectory(prefix=TMP, dir=self.root) as folder:
            snap = self._snapshot(Path(folder), rel, seen)
            self._ensure_parent(rel)
            self.vault.put(snap, self.remote(rel))
        self._record(rel, seen)

    def _upload_all(self, acts: list[Action]) -> None:
        """The new and changed files, folder by folder: blobs first, then ONE manifest
        write per folder (a kill in between leaves only orphan blobs, for `prune`), then
        the index rows of the folder in one transaction."""
        by_folder: dict[str, list[Action]] = {}
        for act in acts:
            by_folder.setdefault(act.path.rpartition("/")[0], []).append(act)
        for group in by_folder.values():
            try:
                self._upload_folder(group)
            except ForbiddenError:
                self.out.warnings += [
                    f"{a.path}: the remote folder is read-only for you; "
                    "the local change is kept here and not uploaded"
                    for a in group
                ]

    def _upload_folder(self, group: list[Action]) -> None:
        sent: list[Action] = []
        with tempfile.TemporaryDirectory(prefix=TMP, dir=self.root) as folder:
            snaps: list[Path] = []
            for act in group:
                seen = self.scan.stats[act.path]
                try:
                    snaps.append(
                        self.stager.snapshot(act.path, seen)
                        or self._snapshot(Path(folder), act.path, seen)
                    )
                except _ChangedError:
                    self.out.warnings.append(f"skipped, changed while read: {act.path}")
                    continue
                sent.append(act)
            if not sent:
                return
            self._ensure_parent(sent[0].path)
            remote = self.remote(sent[0].path).rsplit("/", 1)[0] or "/"
            entries = {e.name: e for e in self.vault.put_many(snaps, remote)}
        with self.index.batch():
            for act in sent:
                e = entries[act.path.rsplit("/", 1)[-1]]
                self.index.record(self.pair, act.path, self.scan.stats[act.path],
                                  e.node_id, e.content_version)  # fmt: skip
        for snap in snaps:
            if snap.parent.name.startswith(TMP + "part-"):
                self.stager.drop(snap)
        self.out.done += sent

    # --- actions -----------------------------------------------------------------------------

    def download(self, act: Action) -> None:
        tmp = self._fetch(act.path)
        if not self._unchanged(act.path):
            _drop(tmp)
            self.out.warnings.append(f"skipped, changed locally during sync: {act.path}")
            return
        _fsync_replace(tmp, self.root / act.path)
        self._finish_download(act.path)

    def _finish_download(self, rel: str) -> None:
        got = hash_file(self.root / rel)
        if got is None:
            self.out.warnings.append(f"changed locally right after download: {rel}")
            return
        self._record(rel, got)

    def delete_local(self, act: Action) -> None:
        if not self._unchanged(act.path):
            self.out.warnings.append(f"kept, changed locally during sync: {act.path}")
            return
        (self.root / act.path).unlink(missing_ok=True)
        self.index.forget(self.pair, act.path)

    def delete_remote(self, act: Action) -> None:
        self.vault.rm(self.remote(act.path))
        self.index.forget(self.pair, act.path)

    def move_local(self, act: Action) -> None:
        src, dst = self.root / act.path, self.root / act.to
        if dst.exists() or not self._unchanged(act.path):
            self.out.warnings.append(f"kept, changed locally during sync: {act.path}")
            return
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dst)
        self.index.forget(self.pair, act.path)
        self._finish_download(act.to)

    def move_remote(self, act: Action) -> None:
        old = self.index.bases(self.pair).get(act.path)
        self._ensure_parent(act.to)
        self.vault.mv(self.remote(act.path), self.remote(act.to))
        seen = self.scan.stats[act.to]
        if old is not None and old.hash == seen.hash:
            self._record(act.to, seen)
        else:  # moved and edited: the new content follows the move
            self._send(act.to, seen)
        self.index.forget(self.pair, act.path)

    def conflict(self, act: Action) -> None:
        """Both sides changed: the same content is no conflict; otherwise the remote keeps
        the name and the local version becomes the conflict copy, on both sides."""
        tmp = self._fetch(act.path)
        theirs = hash_file(tmp)
        seen = self.scan.stats[act.path]
        if theirs is not None and theirs.hash == seen.hash:
            _drop(tmp)
            self._record(act.path, seen)
            return
        copy = self._free_name(conflict_name(act.path, self.device, datetime.now(UTC)))
        if not self._unchanged(act.path):
            _drop(tmp)
            self.out.warnings.append(f"skipped, changed locally during sync: {act.path}")
            return
        os.replace(self.root / act.path, self.root / copy)
        _fsync_replace(tmp, self.root / act.path)
        self._finish_download(act.path)
        self.out.conflicts.append({"path": act.path, "copy": copy})
        self._send(copy, self.scan.stats[act.path])
