"""The encrypted folder tree as the client sees it: read, verify and write manifests.

Every folder is a record (kind "manifest", id = node id) holding a sealed manifest.
Reads verify the writer's signature, decrypt, and check freshness against both this
device's high-water marks and the signed root (P-FRESH). Writes are compare-and-swap:
re-read, re-apply, retry on a lost race. The signed root (kind "root", id = account id)
is advanced after each manifest write.

A folder over PAGE_SPLIT entries is stored paged (issue 18, `paged.py`): the record holds
a signed root naming sealed pages kept as blobs. `read(..., names=...)` may then open only
the pages those names fall in (the body holds at least those entries), and `update(...,
names=...)` rewrites only the pages the edit changed, plus the root.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import partial

from blindvault.client.local.state import AccountState
from blindvault.client.net.http import ApiClient, b64d, b64e
from blindvault.client.net.transfer import fetch_batch
from blindvault.client.tree.paged import (
    Loaded,
    PageCache,
    PageGoneError,
    load,
    plan,
    publish,
    retire,
)
from blindvault.core.identity import Identity, IdentityBundle
from blindvault.core.keys import FolderKey
from blindvault.core.manifest import (
    ZERO_HASH,
    ManifestBody,
    ManifestHead,
    OpenedManifest,
    check_fresh,
    manifest_hash,
    open_manifest,
    seal_manifest,
)
from blindvault.core.pages import page_blob_id
from blindvault.core.root import SignedRoot, check_root_fresh, open_root, seal_root
from blindvault.errors import ConflictError, IntegrityError, NotFoundError, RollbackError
from blindvault.wire.records import Record

__all__ = ["Edit", "Folder", "Space", "Tree", "now_ms"]

MAX_RETRIES = 20


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Space:
    """Where a subtree's records and blobs live and who may have written them.

    The private space (`node_id` None) is the account's own namespace, written by this
    identity only. A shared folder's subtree lives in a shared space: requests carry the
    owner and space (`api` is scoped), and `writers` are the owner and the read-write
    members of the owner-signed roster (P-ROSTER)."""

    api: ApiClient
    writers: dict[bytes, IdentityBundle]
    node_id: bytes | None = None
    owner_email: str = ""  # another account's share: its owner, verified (roster and pin)

    @property
    def shared(self) -> bool:
        return self.node_id is not None


@dataclass(frozen=True)
class Folder:
    """A verified folder: its key, and the manifest as stored (or empty if new)."""

    node_id: bytes
    key: FolderKey
    key_version: int
    manifest: OpenedManifest | None
    space: Space
    whole: ManifestBody | None = None  # a paged folder's body, from its pages
    pages: Loaded | None = None  # a paged folder's pages as read (all, or some buckets)

    @property
    def body(self) -> ManifestBody:
        if self.whole is not None:
            return self.whole
        return self.manifest.body if self.manifest else ManifestBody()

    @property
    def page_blobs(self) -> list[bytes]:
        """The blob ids of the pages a paged folder's signed root names (for `prune`)."""
        root = self.manifest.paged if self.manifest else None
        return [page_blob_id(self.node_id, r.hash) for r in root.refs if r.count] if root else []

    @property
    def version(self) -> int:
        return self.manifest.version if self.manifest else 0


@dataclass(frozen=True)
class Edit:
    """A folder's body before and after one written change."""

    before: ManifestBody
    after: ManifestBody


class Tree:
    def __init__(
        self,
        api: ApiClient,
        state: AccountState,
        identity: Identity,
        owner: bytes,
        *,
        new_account: bool = False,
        rootless: bool = False,
    ) -> None:
        self.api = api
        # an app credential (issue 16) neither reads nor writes the account's signed root:
        # its freshness is its own high-water marks (state.heads) only
        self.rootless = rootless
        self._may_lack_root = new_account  # only while signup writes the first root
        self.state = state
        self.identity = identity
        self.owner = owner
        self._root: SignedRoot | None = None
        self._root_version = 0
        self.private = Space(api, {identity.bundle.fingerprint: identity.bundle})
        self.pages = PageCache()

    # --- the signed root ------------------------------------------------------------

    def load_root(self) -> SignedRoot | None:
        if self.rootless:
            return None
        try:
            rec = self.api.get_as(Record, f"/v1/records/root/{self.owner.hex()}")
        except NotFoundError:
            if self.state.root_sequence:  # mutant: tree.root-disappeared
                raise RollbackError("the signed root disappeared") from None
            # P-EXISTS: signup always writes one
            if not self._may_lack_root:  # mutant: tree.root-missing
                raise IntegrityError("the account's signed root is missing") from None
            return None
        return self.accept_root(b64d(rec.data), rec.version)

    def accept_root(self, data: bytes, record_version: int) -> SignedRoot:
        """Verify a signed root record (however it arrived) and make it the current one."""
        root = open_root(data, self.owner, self.identity.bundle)
        seen = self._seen_root()
        check_root_fresh(seen, root)  # mutant: tree.root-fresh
        self._root, self._root_version = root, record_version
        self.state.root_sequence, self.state.root_hash = root.sequence, root.hash.hex()
        return root

    def _seen_root(self) -> SignedRoot | None:
        if not self.state.root_sequence:
            return None
        return SignedRoot(
            self.owner, self.state.root_sequence, b"", (), bytes.fromhex(self.state.root_hash)
        )

    def roster_head(self, node_id: bytes) -> ManifestHead | None:
        """The roster head the signed root (as last loaded) names for `node_id`."""
        return self._root.roster_of(node_id) if self._root else None

    def bind_roster(self, head: ManifestHead) -> None:
        """Name a shared folder's newest roster (version, hash) in the signed root, so the
        owner's other devices refuse an older or forked roster (P-ROSTERFRESH)."""
        self._advance_root(None, roster=head)

    def _advance_root(
        self,
        head: ManifestHead | None,
        removed: bytes | None = None,
        roster: ManifestHead | None = None,
    ) -> None:
        if self.rootless:
            return
        for _ in range(MAX_RETRIES):
            root = self.load_root()
            heads = {h.node_id: h for h in (root.heads if root else ())}
            rosters = {h.node_id: h for h in (root.rosters if root else ())}
            if roster is not None:
                old = rosters.get(roster.node_id)
                if old is not None and old.version > roster.version:
                    return
                rosters[roster.node_id] = roster
            if head is not None:
                old = heads.get(head.node_id)
                if old is not None and old.version > head.version:
                    return  # another device already went further
                heads[head.node_id] = head
            if removed is not None:
                heads.pop(removed, None)
            sequence = (root.sequence + 1) if root else 1
            prev = root.hash if root else ZERO_HASH
            data = seal_root(
                self.owner,
                sequence,
                prev,
                list(heads.values()),
                self.identity,
                list(rosters.values()),
            )
            try:
                self.api.put_json(
                    f"/v1/records/root/{self.owner.hex()}",
                    {"expected_version": self._root_version if root else 0, "data": b64e(data)},
                )
            except ConflictError:
                continue
            opened = open_root(data, self.owner, self.identity.bundle)
            self.state.root_sequence, self.state.root_hash = opened.sequence, opened.hash.hex()
            self._root, self._may_lack_root = opened, False
            return
        raise ConflictError(409, "stale_version", "could not update the signed root")

    # --- folders ---------------------------------------------------------------------------

    def read(
        self,
        node_id: bytes,
        key: FolderKey,
        key_version: int,
        space: Space,
        *,
        create: bool = False,
        names: Collection[str] | None = None,
    ) -> tuple[Folder, int]:
        """Fetch, verify and freshness-check a folder; returns it and its record version.

        A folder is read because something signed names it (its parent's manifest, the key
        bundle for the root), so a 404 is an integrity error (P-EXISTS); only `create` (a
        folder being made, not yet named by anything) reads as empty. With `names`, a paged
        folder's body may hold only the entries of the pages those names fall in."""
        tried = -1
        for _ in range(MAX_RETRIES):
            folder, version = self._read_manifest(node_id, key, key_version, space, create)
            opened = folder.manifest
            if opened is None or opened.paged is None:
                return folder, version
            try:
                fetch = partial(fetch_batch, space.api)
                body, loaded = load(fetch, opened, key, self.pages, names)
            except PageGoneError:
                # a writer may have replaced the page since this root: read the root again
                if version == tried:  # the same root again: the server lost it
                    raise IntegrityError("a page the signed manifest names is missing") from None
                tried = version
                continue
            return dataclasses.replace(folder, whole=body, pages=loaded), version
        raise IntegrityError("a page the signed manifest names is missing")

    def _read_manifest(
        self, node_id: bytes, key: FolderKey, key_version: int, space: Space, create: bool
    ) -> tuple[Folder, int]:
        try:
            rec = space.api.get_as(Record, f"/v1/records/manifest/{node_id.hex()}")
        except NotFoundError:
            known = self._root.head_of(node_id) if self._root else None
            # mutant: tree.folder-disappeared
            if self.state.head(node_id) is not None or known is not None:
                raise RollbackError("a folder this device has seen disappeared") from None
            if not create:  # mutant: tree.folder-missing
                raise IntegrityError("a folder named by its signed parent is missing") from None
            return Folder(node_id, key, key_version, None, space), 0
        opened = open_manifest(b64d(rec.data), key, node_id, space.writers)
        if rec.version != opened.version:  # mutant: tree.record-version
            raise IntegrityError
        seen = self.state.head(node_id)
        # mutant: tree.seen-head-fresh
        check_fresh(ManifestHead(node_id, *seen) if seen else None, opened)
        root_head = self._root.head_of(node_id) if self._root else None
        if root_head is not None:  # mutant: tree.signed-root-folder-version
            check_fresh(root_head, opened)
        self.state.remember_head(node_id, opened.version, opened.hash)
        return Folder(node_id, key, opened.key_version, opened, space), opened.version

    def update(
        self,
        node_id: bytes,
        key: FolderKey,
        change: Callable[[ManifestBody], ManifestBody],
        key_version: int,
        space: Space,
        new_key: FolderKey | None = None,
        *,
        create: bool = False,
        names: Collection[str] | None = None,
    ) -> Edit:
        """Apply `change` to the folder's current body and write it; retry on a lost race.

        With `new_key`, the folder is re-sealed under a new key, one key version up (key
        rotation when a member leaves a shared folder). With `names` (every name the
        change looks at or writes), a paged folder is read and written page by page; the
        edit then sees, and its `Edit` holds, only the entries of those pages."""
        want = names
        for _ in range(MAX_RETRIES):
            folder, version = self.read(node_id, key, key_version, space, create=create, names=want)
            body = change(folder.body)
            write_key = new_key or key
            todo = plan(node_id, write_key, body, folder.manifest, folder.pages,
                        rekey=new_key is not None)  # fmt: skip
            if todo is None:  # a partial read does not do for this edit: read it all
                want = None
                continue
            publish(space.api, todo)
            prev = folder.manifest.hash if folder.manifest else ZERO_HASH
            sealed = seal_manifest(
                todo.root or body,
                write_key,
                node_id=node_id,
                version=version + 1,
                key_version=folder.key_version + (1 if new_key else 0),
                prev_hash=prev,
                writer=self.identity,
            )
            try:
                space.api.put_json(
                    f"/v1/records/manifest/{node_id.hex()}",
                    {"expected_version": version, "data": b64e(sealed)},
                )
            except ConflictError:
                retire(space.api, [bid for bid, _ in todo.uploads])  # named by nothing
                continue
            for h, entries in todo.opened.items():
                self.pages.put(node_id, h, entries)
            retire(space.api, todo.drops)
            digest = manifest_hash(sealed)
            self.state.remember_head(node_id, version + 1, digest)
            self._advance_root(ManifestHead(node_id, version + 1, digest))
            return Edit(folder.body, body)
        raise ConflictError(409, "stale_version", "the folder kept changing; try again")

    def drop(self, node_id: bytes, space: Space, folder: Folder | None = None) -> None:
        """Delete a folder's manifest record (after its entry got a tombstone), and the
        pages of `folder` (as read) if it is paged."""
        try:
            rec = space.api.get_json(f"/v1/records/manifest/{node_id.hex()}")
            space.api.request(
                "DELETE",
                f"/v1/records/manifest/{node_id.hex()}",
                params={"expected_version": rec["version"]},
            )
        except NotFoundError:
            pass
        if folder is not None:
            retire(space.api, folder.page_blobs)
        self.state.heads.pop(node_id.hex(), None)
        self._advance_root(None, removed=node_id)
