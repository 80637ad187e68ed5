"""Upload-only links (file drops, issue 19): make one, drop files into one, import drops.

    url = vault.drops.create("/inbox", max_uploads=10)       # the owner
    drop_files(url, [Path("scan.pdf")])                       # anyone with the URL
    report = vault.drops.collect()                            # the owner's next command

A holder learns the recipient key, the size limit and the folder's name from the sealed
descriptor and nothing else: the server serves such a link nothing to read. Each drop is
sealed to a key only the owner's devices derive (`core.drops`), and tagged with a key from
the link secret, so the owner accepts only drops made through that link. `collect` opens
every pending drop, checks it, and uploads its content into the link's folder as a normal
file (under the normal format, a name that is free in the folder: a drop never replaces a
file); a drop that does not open is quarantined: its sealed bytes are kept in
`$BLINDVAULT_HOME/quarantine/drops/` and it is reported, never imported in part. A drop is
imported once: this device remembers the ids of the drops it imported or quarantined, and
one device at a time imports (the account's drop lease, `DROPS_LOCK`).

Both sides stream (memory stays flat at any size): the holder seals and sends a file
PIECE bytes at a time (`StreamedBody`, the same bytes on a retry); the owner fetches a
drop to a file under `$BLINDVAULT_HOME/tmp/drops/` (never past the size the server lists,
at most a link's largest), decrypts it from there into a file that exists only once the
last chunk verified, and uploads that like `put`.
"""

from __future__ import annotations

import functools
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from blindvault.client.files import Files
from blindvault.client.net.http import ApiClient, StreamedBody, b64d, b64e
from blindvault.client.tree.paths import display, split
from blindvault.client.uploads import Uploads
from blindvault.core.content import ContentDecryptor
from blindvault.core.drops import (
    DROP_HEAD_MAX,
    DropSealer,
    DropTarget,
    OwnerDropKeys,
    drop_sealer,
    open_drop_head,
    open_drop_link,
    open_owner_note,
    peek_drop,
    seal_drop_link,
    seal_owner_note,
)
from blindvault.core.links import (
    b64url_encode,
    format_link,
    link_key,
    link_token,
    new_link,
    parse_link,
)
from blindvault.core.manifest import FolderEntry
from blindvault.errors import ConflictError, FormatError, IntegrityError, LocalError, UsageError
from blindvault.wire.links import DropList, DropStored, LinkOpened
from blindvault.wire.locks import Lock

__all__ = ["DropReport", "Drops", "drop_files"]

DEFAULT_MAX_DROP = 4 << 30  # the server's own cap (Limits.max_drop) applies as well
MAX_DROP = DEFAULT_MAX_DROP  # a link's limit is at most this: the most a drop fetch writes
PIECE = 1 << 20  # drops are sealed, sent, fetched and opened this many bytes at a time
DROPS_LOCK = "0000000000000000000064726f707321"  # the lock resource id ("drops!")
LEASE = 600


@dataclass
class DropReport:
    imported: list[str] = field(default_factory=list)  # vault paths of new files
    quarantined: list[str] = field(default_factory=list)  # local paths of kept drops
    replayed: int = 0  # drops this device had imported already (removed, not imported)
    busy: bool = False  # another device of the account is importing them right now


class Drops:
    """The owner's side."""

    def __init__(self, files: Files, uploads: Uploads) -> None:
        self.files = files
        self.uploads = uploads
        self.session = files.session
        self.api = files.session.api

    def _keys(self, link_id: bytes) -> OwnerDropKeys:
        return OwnerDropKeys(self.session.keys().vault, link_id)

    def create(
        self,
        remote: str,
        *,
        expires_in: float | None = None,
        max_uploads: int | None = None,
        max_size: int | None = None,
    ) -> str:
        """An upload-only link into the folder `remote`; returns the URL (it holds the
        secret). Holders can upload into the folder and do nothing else."""
        if expires_in is not None and expires_in <= 0:
            raise UsageError("the expiry must be in the future")
        if max_uploads is not None and max_uploads < 1:
            raise UsageError("--max-uploads must be at least 1")
        if max_size is not None and not 1 <= max_size <= MAX_DROP:
            raise UsageError(f"the size limit must be from 1 byte to {MAX_DROP} bytes")
        if remote.lstrip("/").startswith("@"):
            raise UsageError("an upload-only link goes into a folder of your own")
        entry = self.files.stat(remote)
        if entry is not None and not isinstance(entry, FolderEntry):
            raise UsageError(f"{remote} is not a folder")
        path = display(split(remote))
        name = entry.name if entry is not None else "vault"
        link_id, _ = new_link()
        keys = self._keys(link_id)
        biggest = max_size or DEFAULT_MAX_DROP
        target = DropTarget(keys.recipient_public, biggest, name)
        self.api.post_json(
            "/v1/links",
            {
                "id": b64url_encode(link_id),
                "token": b64url_encode(keys.token),
                "descriptor": b64e(seal_drop_link(target, keys.link_key, link_id)),
                "kind": "drop",
                "owner_note": b64e(seal_owner_note(path, keys)),
                "expires_at": time.time() + expires_in if expires_in is not None else None,
                "max_uploads": max_uploads,
                "max_drop_size": _sealed_bound(biggest),
            },
        )
        self.session.state.drop_links = True
        return format_link(self.api.base_url, link_id, keys.secret, password=False)

    def collect(self) -> DropReport:
        """Import every pending drop (see the module docstring), under the account's drop
        lease so that two devices never import one drop twice."""
        report = DropReport()
        listed = self.api.get_as(DropList, "/v1/drops").drops
        if not listed:
            return report
        try:
            held = self.api.post_as(Lock, f"/v1/locks/{DROPS_LOCK}", {"lease_seconds": LEASE})
        except ConflictError:
            report.busy = True  # another device holds the lease: it imports them
            return report
        try:
            for item in listed:
                self._one(item.id, item.note, item.size, report)
        finally:
            self.api.request(
                "DELETE", f"/v1/locks/{DROPS_LOCK}", headers={"X-Lock-Token": held.token}
            )
        return report

    def _fetch(self, drop: str, size: int, into: Path) -> Path:
        """The sealed drop, streamed to a file in `into` up to the size the server listed
        and never past the largest a link can take: a server that sends more gets a
        truncated (so failing) drop, never this device's memory or disk."""
        cap, got = min(size, _sealed_bound(MAX_DROP)), 0
        where = into / "sealed.bvdrop"
        with self.api.stream(f"/v1/drops/{drop}") as response, where.open("wb") as f:
            for chunk in response.iter_bytes(PIECE):
                f.write(chunk[: cap - got])
                got = min(cap, got + len(chunk))
                if got >= cap:
                    break
        return where

    def _one(self, drop: str, note: str | None, size: int, report: DropReport) -> None:
        with tempfile.TemporaryDirectory(dir=self._work()) as tmp:
            sealed = self._fetch(drop, size, Path(tmp))
            try:
                with sealed.open("rb") as f:
                    link_id, drop_id = peek_drop(f.read(DROP_HEAD_MAX))
                    seen = f"{link_id.hex()}.{drop_id.hex()}"
                    if seen in self.session.state.drops_seen:  # mutant: drops.replay
                        report.replayed += 1
                        self._remove(drop)
                        return
                    keys = self._keys(link_id)
                    folder = open_owner_note(b64d(note or ""), keys)
                    plain = _open_into(f, keys, Path(tmp) / "plain")
            except (IntegrityError, FormatError):
                report.quarantined.append(str(self._quarantine(drop, sealed)))
                return
            report.imported.append(self._import(folder, plain))
        self.session.state.drops_seen.append(seen)
        self.session.save()
        self._remove(drop)

    def _work(self, *where: str) -> Path:
        """Where drops are opened (`tmp/drops`) or kept (`quarantine/drops`): under this
        device's home, one file system, never in memory."""
        work = self.session.store.home.joinpath(*(where or ("tmp", "drops")))
        work.mkdir(parents=True, exist_ok=True)
        return work

    def _import(self, folder: str, local: Path) -> str:
        if not self.files.exists(folder):
            self.files.mkdir(folder, parents=True)
        if not self.files.is_folder(folder):
            raise LocalError(f"drops go to {folder}, which is not a folder")
        taken = {e.name for e in self.files.ls(folder)}
        free = local.with_name(_free_name(local.name, taken))
        local.rename(free)
        made = self.uploads.put(free, folder)
        return made[0] if made else display([*split(folder), free.name])

    def _quarantine(self, drop: str, sealed: Path) -> Path:
        where = self._work("quarantine", "drops") / f"{drop}.bvdrop"
        os.replace(sealed, where)
        self._remove(drop)
        return where

    def _remove(self, drop: str) -> None:
        self.api.request("DELETE", f"/v1/drops/{drop}")


def _sealed_bound(size: int) -> int:
    """A generous bound on the sealed size of a drop of `size` bytes (header + padding)."""
    return size + size // 8 + (64 << 10)


def _open_into(f: BinaryIO, keys: OwnerDropKeys, into: Path) -> Path:
    """Open the drop in `f` (positioned after its first DROP_HEAD_MAX bytes, or at its
    end) into the file `into`/NAME with the dropper's mtime: the content is decrypted as a
    stream and the file is complete only once the last chunk verified; `IntegrityError`
    otherwise (nothing is imported from a drop that does not verify)."""
    f.seek(0)
    header, at = open_drop_head(f.read(DROP_HEAD_MAX), keys)
    f.seek(at)
    dec = ContentDecryptor(header.file_key, header.drop_id, 1, header.size)
    into.mkdir()
    local = into / header.name
    with local.open("wb") as out:
        while piece := f.read(PIECE):
            out.write(dec.update(piece))
        out.write(dec.finalize())
    stamp = header.mtime_ms * 1_000_000
    os.utime(local, ns=(stamp, stamp))
    return local


def _free_name(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    p = PurePosixPath(name)
    stem, suffix = (p.stem, p.suffix) if p.stem else (name, "")
    n = 2
    while f"{stem} ({n}){suffix}" in taken:
        n += 1
    return f"{stem} ({n}){suffix}"


# --- a holder's side ---------------------------------------------------------------------


def _sealed_pieces(path: Path, sealer: DropSealer) -> Iterator[bytes]:
    """The drop of the file at `path`, sealed PIECE bytes at a time (the same bytes on every
    call); a file that changed size since it was measured stops the upload (the server
    keeps nothing of a body cut short)."""
    yield sealer.head
    enc = sealer.encryptor()
    yield enc.header
    left = sealer.size
    with path.open("rb") as f:
        while left:
            piece = f.read(min(PIECE, left))
            if not piece:
                raise LocalError(f"{path.name} changed while it was being sent")
            left -= len(piece)
            yield enc.update(piece)
        if f.read(1):
            raise LocalError(f"{path.name} changed while it was being sent")
    yield enc.finalize()


def drop_files(
    url: str,
    files: list[Path],
    *,
    insecure: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> list[dict[str, object]]:
    """Seal each file to the link's owner and upload it; returns one record per file
    (name, size, drop id). Nothing is sent for a file that is not readable or too big."""
    parsed = parse_link(url)
    if parsed.needs_password:
        raise UsageError("upload-only links have no password")
    for f in files:
        if not f.is_file():
            raise LocalError(f"not a file: {f}")
    api = ApiClient(parsed.base, insecure=insecure)
    try:
        headers = {"X-Link-Token": b64url_encode(link_token(parsed.secret, parsed.link_id))}
        where = f"/v1/l/{b64url_encode(parsed.link_id)}"
        served = api.get_as(LinkOpened, where, headers=headers)
        if served.kind != "drop":
            raise UsageError("this link does not accept uploads (use open-link to download)")
        key = link_key(parsed.secret, parsed.link_id, None)
        target = open_drop_link(b64d(served.descriptor), key, parsed.link_id)
        for f in files:
            if f.stat().st_size > target.max_size:
                raise UsageError(f"{f.name}: larger than this link accepts ({target.max_size} B)")
        done: list[dict[str, object]] = []
        for f in files:
            size, mtime = f.stat().st_size, int(f.stat().st_mtime * 1000)
            sealer = drop_sealer(target, parsed.secret, parsed.link_id, f.name, size,
                                 mtime_ms=mtime)  # fmt: skip
            body = StreamedBody(sealer.sealed_size, functools.partial(_sealed_pieces, f, sealer))
            try:
                answer = api.request("POST", f"{where}/drops", content=body, headers=headers)
                drop_id = DropStored.model_validate_json(answer.content).id
            except ConflictError:
                drop_id = ""  # a retried request whose first attempt landed
            if progress is not None:
                progress(f.name, size)
            done.append({"name": f.name, "size": size, "id": drop_id})
        return done
    finally:
        api.close()
