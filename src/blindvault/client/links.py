"""Share links from the client: create, list, revoke, and open one without an account.

    url = vault.links.create("/docs/report.pdf", expires_in=7 * 86400)
    open_link(url, Path("."))          # anyone with the URL; no account needed

The secret stays in the URL fragment; the server gets the link token (from which the
key cannot be derived), the sealed descriptor, and the ids of the blobs the link may
read. A folder link is a snapshot (client/snapshot.py): copies of the subtree's manifests
as they are when the link is made, re-sealed under fresh keys only the descriptor names;
files added later need a new link, and no live folder key is ever in a link.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from blindvault.client.files import Files
from blindvault.client.net import transfer
from blindvault.client.net.http import ApiClient, b64d, b64e
from blindvault.client.snapshot import take_snapshot
from blindvault.client.tree.paths import split
from blindvault.core.content import blob_id
from blindvault.core.keys import FileKey, FolderKey
from blindvault.core.links import (
    LinkDescriptor,
    b64url_encode,
    format_link,
    link_key,
    link_token,
    new_link,
    open_link_descriptor,
    parse_link,
    seal_link_descriptor,
)
from blindvault.core.manifest import FileEntry, FolderEntry, check_name, open_manifest_for_link
from blindvault.errors import CredentialError, IntegrityError, NotFoundError, UsageError
from blindvault.wire import links as wire

__all__ = ["LinkInfo", "Links", "create_link", "list_links", "open_link", "revoke_link"]

ROOT_NAME = "vault"


@dataclass(frozen=True)
class LinkInfo:
    id: str
    kind: str
    password: bool
    created_at: float
    expires_at: float | None
    max_downloads: int | None
    downloads: int
    revoked: bool
    max_uploads: int | None = None  # upload-only links (kind "drop", issue 19)
    uploads: int = 0


class Links:
    """The owner's side: make, list and revoke links."""

    def __init__(self, files: Files) -> None:
        self.files = files
        self.api = files.session.api

    def create(
        self,
        remote: str,
        *,
        expires_in: float | None = None,
        max_downloads: int | None = None,
        password: str | None = None,
    ) -> str:
        """Make a link to a file or folder; returns the URL to hand out (it holds the
        secret)."""
        if expires_in is not None and expires_in <= 0:
            raise UsageError("the expiry must be in the future")
        if max_downloads is not None and max_downloads < 1:
            raise UsageError("--max-downloads must be at least 1")
        if password is not None and not password:
            raise UsageError("an empty link password")
        if remote.lstrip("/").startswith("@"):
            raise UsageError("only the owner of a shared folder can make links into it")
        entry = self.files.stat(remote)
        snapshot: dict[str, str] = {}
        blobs: list[str] = []
        desc: LinkDescriptor
        if isinstance(entry, FileEntry):
            desc = LinkDescriptor(
                entry.node_id,
                entry.file_key,
                entry.content_version,
                entry.size,
                entry.mtime_ms,
                entry.name,
            )
            blobs.append(blob_id(entry.node_id, entry.content_version).hex())
        else:
            mtime, name = (0, ROOT_NAME) if entry is None else (entry.mtime_ms, entry.name)
            spaces = self.files.spaces
            at = spaces.locate(split(remote))
            snap = take_snapshot(spaces, at.node_id, at.key, at.key_version, at.space)
            snapshot = {rid: b64e(data) for rid, data in snap.records.items()}
            blobs = snap.blobs
            desc = LinkDescriptor(snap.node_id, snap.key, 1, 0, mtime, name)
        link_id, secret = new_link()
        sealed = seal_link_descriptor(desc, link_key(secret, link_id, password), link_id)
        self.api.post_json(
            "/v1/links",
            {
                "id": b64url_encode(link_id),
                "token": b64url_encode(link_token(secret, link_id)),
                "descriptor": b64e(sealed),
                "kind": "file" if isinstance(entry, FileEntry) else "folder",
                "password": password is not None,
                "snapshot": snapshot,
                "blobs": blobs,
                "expires_at": time.time() + expires_in if expires_in is not None else None,
                "max_downloads": max_downloads,
            },
        )
        return format_link(self.api.base_url, link_id, secret, password=password is not None)

    def listing(self) -> list[LinkInfo]:
        listed = self.api.get_as(wire.LinkList, "/v1/links").links
        if any(item.kind == "drop" and not item.revoked for item in listed):
            self.files.session.state.drop_links = True  # import drops on every open
        return [LinkInfo(**item.model_dump()) for item in listed]

    def revoke(self, link_id: str) -> None:
        self.api.request("DELETE", f"/v1/links/{link_id.strip()}")


class HasLinks(Protocol):
    @property
    def links(self) -> Links: ...


def create_link(
    vault: HasLinks,
    remote: str,
    *,
    expires_in: float | None = None,
    max_downloads: int | None = None,
    password: str | None = None,
) -> str:
    """`vault.links.create(...)` (kept for existing callers)."""
    return vault.links.create(
        remote, expires_in=expires_in, max_downloads=max_downloads, password=password
    )


def list_links(vault: HasLinks) -> list[LinkInfo]:
    """`vault.links.listing()` (kept for existing callers)."""
    return vault.links.listing()


def revoke_link(vault: HasLinks, link_id: str) -> None:
    """`vault.links.revoke(...)` (kept for existing callers)."""
    vault.links.revoke(link_id)


# --- the holder's side -------------------------------------------------------------------


class _Holder:
    def __init__(self, api: ApiClient, link_id: bytes, secret: bytes) -> None:
        self.api = api
        self.id = b64url_encode(link_id)
        self.headers = {"X-Link-Token": b64url_encode(link_token(secret, link_id))}

    def descriptor(self) -> wire.LinkOpened:
        return self.api.get_as(wire.LinkOpened, f"/v1/l/{self.id}", headers=self.headers)

    def folder(self, node: bytes, key: FolderKey) -> list[FileEntry | FolderEntry]:
        where = f"/v1/l/{self.id}/manifest/{node.hex()}"
        rec = self.api.get_as(wire.LinkManifest, where, headers=self.headers)
        opened = open_manifest_for_link(b64d(rec.data), key, node)
        if rec.version != opened.version:  # mutant: links.record-version
            raise IntegrityError
        return list(opened.body.entries)

    def file(
        self,
        dest: Path,
        node: bytes,
        key: FileKey,
        version: int,
        size: int,
        progress: Callable[[int], None],
    ) -> None:
        try:
            transfer.download(
                self.api,
                dest,
                key=key,
                node_id=node,
                version=version,
                size=size,
                progress=progress,
                path=f"/v1/l/{self.id}/blob/{blob_id(node, version).hex()}",
                headers=self.headers,
            )
        except NotFoundError as exc:
            if exc.code == "not_found":
                raise NotFoundError(
                    404, "not_found", f"{dest.name} is no longer available through this link"
                ) from None
            raise


def open_link(
    url: str,
    local: Path,
    *,
    password: str | None = None,
    insecure: bool = False,
    progress: Callable[[int], None] | None = None,
) -> list[Path]:
    """Download what a link points to into `local` (a folder, or a file name)."""
    parsed = parse_link(url)
    if parsed.needs_password and password is None:
        raise UsageError("this link needs a password (BLINDVAULT_LINK_PASSWORD or a prompt)")
    api = ApiClient(parsed.base, insecure=insecure)
    try:
        holder = _Holder(api, parsed.link_id, parsed.secret)
        served = holder.descriptor()
        if served.kind == "drop":
            raise UsageError("this link only accepts uploads: use `blindvault drop URL FILE…`")
        key = link_key(parsed.secret, parsed.link_id, password if parsed.needs_password else None)
        try:
            desc = open_link_descriptor(b64d(served.descriptor), key, parsed.link_id)
        except IntegrityError:
            if parsed.needs_password:
                raise CredentialError("wrong link password") from None
            raise
        step = progress or (lambda n: None)
        dest = local / desc.name if local.is_dir() else local
        if isinstance(desc.key, FileKey):
            holder.file(dest, desc.node_id, desc.key, desc.version, desc.size, step)
            return [dest]
        return _get_folder(holder, dest, desc.node_id, desc.key, step)
    finally:
        api.close()


def _get_folder(
    holder: _Holder,
    dest: Path,
    node: bytes,
    key: FolderKey,
    progress: Callable[[int], None],
) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for e in holder.folder(node, key):
        target = dest / check_name(e.name)
        if isinstance(e, FolderEntry):
            written += _get_folder(holder, target, e.node_id, e.folder_key, progress)
        else:
            holder.file(target, e.node_id, e.file_key, e.content_version, e.size, progress)
            written.append(target)
    return written
