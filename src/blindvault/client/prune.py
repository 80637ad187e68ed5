"""Prune (issue 14): delete the blobs no kept version, trash item or live link references.

The server stays blind: it lists the account's blob ids (with their size and when it
stored them) and learns which ids to delete, nothing else. Which blob belongs to which
file is computed here, from the signed manifests only:

1. take the account's prune lease (`POST /v1/locks/{PRUNE_LOCK}`, the leased locks every
   client uses): a second device gets 409 and a clear "prune already running" error (exit
   5); the lease ends on its own if this device dies;
2. list the blobs, THEN read every folder (live ones, their trash, trashed subtrees): a
   blob listed before a manifest naming it was read is referenced;
3. a listed blob no signed manifest names is deleted, unless the server stored it less
   than GRACE_SECONDS before the lease began (a concurrent writer uploads a blob before
   the manifest that names it: that blob is kept for a later prune), or a live link serves
   it (the server answers 409 `blob_in_link`; it is kept until the link is revoked).

Any folder that cannot be read and verified stops prune before it deletes anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from blindvault.client.trash import Trash
from blindvault.client.tree import Space, edits
from blindvault.core.content import blob_id
from blindvault.core.manifest import Entry, FileEntry
from blindvault.errors import ConflictError, NotFoundError
from blindvault.wire.blobs import BlobList
from blindvault.wire.locks import Lock

__all__ = ["GRACE_SECONDS", "LEASE_SECONDS", "PRUNE_LOCK", "PruneResult", "Pruner"]

PRUNE_LOCK = "000000000000000000000070726e6521"  # the lock resource id ("prne!")
LEASE_SECONDS = 600
GRACE_SECONDS = 15 * 60


@dataclass
class PruneResult:
    listed: list[str] = field(default_factory=list)
    referenced: int = 0
    deleted: list[str] = field(default_factory=list)
    kept_recent: list[str] = field(default_factory=list)
    kept_in_link: list[str] = field(default_factory=list)
    freed: int = 0
    dry_run: bool = False


def _versions(entry: FileEntry) -> set[str]:
    return {blob_id(n, v).hex() for n, v in edits.all_versions(entry)}


class Pruner:
    def __init__(self, trash: Trash) -> None:
        self.trash = trash

    def referenced(self) -> set[str]:
        """Every blob a signed manifest this device can read names (any kept version, and
        the pages of a paged folder, issue 18)."""
        refs: set[str] = set()
        for _, folder in self.trash.folders():
            refs |= {b.hex() for b in folder.page_blobs}  # mutant: prune.keep-pages
            for e in folder.body.entries:
                if isinstance(e, FileEntry):
                    refs |= _versions(e)
            for item in folder.body.trash:
                self._collect(item.entry, folder.space, refs)
        return refs

    def _collect(self, entry: Entry, space: Space, refs: set[str]) -> None:
        if isinstance(entry, FileEntry):
            refs |= _versions(entry)
            return
        space = self.trash.files.spaces.below(space, entry.node_id)  # its own, if shared
        folder, _ = self.trash.files.session.tree.read(
            entry.node_id, entry.folder_key, entry.key_version, space
        )
        refs |= {b.hex() for b in folder.page_blobs}
        for child in (*folder.body.entries, *(t.entry for t in folder.body.trash)):
            self._collect(child, space, refs)

    def run(self, *, dry_run: bool = False) -> PruneResult:
        api = self.trash.files.session.api
        held, holder = self._lease()
        if held is None:  # mutant: prune.lease
            raise ConflictError(409, "prune_running", f"prune already running {holder}")
        try:
            return self._sweep(held.expires_at - LEASE_SECONDS, dry_run=dry_run)
        finally:
            api.request("DELETE", f"/v1/locks/{PRUNE_LOCK}", headers={"X-Lock-Token": held.token})

    def _lease(self) -> tuple[Lock | None, str]:
        """The account's prune lease, or None and who holds it (a hint from the server:
        shown, never acted upon)."""
        api = self.trash.files.session.api
        try:
            body = {"lease_seconds": LEASE_SECONDS}
            return api.post_as(Lock, f"/v1/locks/{PRUNE_LOCK}", body), ""
        except ConflictError as exc:
            if exc.status != 409:
                raise
            return None, _holder(exc.extra)

    def _sweep(self, lease_start: float, *, dry_run: bool) -> PruneResult:
        api = self.trash.files.session.api
        listed = [(b.id, b.size, b.created_at) for b in api.get_as(BlobList, "/v1/blobs").blobs]
        refs = self.referenced()  # after the listing: see the module's docstring
        out = PruneResult([i for i, _, _ in listed], len(refs), dry_run=dry_run)
        for bid, size, created in listed:
            if bid in refs:  # mutant: prune.keep-referenced
                continue
            if created > lease_start - GRACE_SECONDS:  # mutant: prune.grace
                out.kept_recent.append(bid)
                continue
            if not dry_run:
                try:
                    api.request("DELETE", f"/v1/blobs/{bid}")
                except NotFoundError:
                    continue  # gone meanwhile
                except ConflictError as exc:
                    if exc.code != "blob_in_link":
                        raise
                    out.kept_in_link.append(bid)
                    continue
            out.deleted.append(bid)
            out.freed += size
        return out


def _when(value: object) -> str | None:
    if not isinstance(value, int | float) or not 0 <= value < 1e11:
        return None
    return datetime.fromtimestamp(value, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _holder(extra: dict[str, object]) -> str:
    """`on device NAME since TIME (its lease ends by TIME at the latest)`, with what the
    server told; the name is cut short and stripped of control characters."""
    name = extra.get("device")
    shown = "".join(c for c in name if c.isprintable())[:80] if isinstance(name, str) else ""
    text = f"on device {shown}" if shown else "on another device of this account"
    since = _when(extra.get("since"))
    if since:
        text += f" since {since}"
    ends = _when(extra.get("expires_at"))
    return text + f" (its lease ends by {ends or 'an unknown time'} at the latest)"
