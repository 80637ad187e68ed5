"""Sharing folders with people: share, accept, list, unshare (with key rotation).

    vault.shares.share("/team", "bob@example.org", write=True)   # Bob must be pinned (trust)
    bob.shares.accept(share_id)                                    # then `@team/...` paths work
    vault.shares.share("/team", "bob@example.org", allow_reshare=True)  # Bob may share it on
    bob.shares.share("@team", "carol@example.org")                 # a re-share (P-RESHARE)
    vault.shares.unshare("/team", "bob@example.org")               # new keys; Bob reads nothing new

Who trusts what (P-PEERKEY, P-ROSTER, P-NOINJECT) is in `client/sharing/`: envelopes are
sealed to pinned keys and opened with pinned keys, the owner-signed roster names members,
roles and key version, and members accept manifests only from the writers it names. The
server holds the grant (member, role) and refuses writes by read-only members; a forced
write is still refused by every client, because its writer is not in the roster.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from blindvault.client.downloads import Downloads
from blindvault.client.files import Files
from blindvault.client.nesting import Nesting
from blindvault.client.peers import peer, trust
from blindvault.client.rotation import Rotation
from blindvault.client.sharelist import SharedItem, shared_items
from blindvault.client.sharing.fileshares import create_holder
from blindvault.client.sharing.grants import Mount, open_incoming, seal_grant
from blindvault.client.sharing.mounts import FILES, bound_name
from blindvault.client.sharing.recipients import Confirm
from blindvault.client.sharing.resharing import reshare
from blindvault.client.tree import Space, edits
from blindvault.client.uploads import Uploads
from blindvault.core.constants import ROLE_READ, ROLE_WRITE
from blindvault.core.content import blob_id
from blindvault.core.identity import IdentityBundle
from blindvault.core.kdf import normalize_email
from blindvault.core.manifest import FileEntry, FolderEntry, ManifestBody
from blindvault.core.roster import Member
from blindvault.errors import BlindvaultError, PathNotFoundError, PolicyError, UsageError
from blindvault.wire.accounts import Identity

__all__ = ["IncomingShare", "OutgoingShare", "SharedItem", "Shares"]


@dataclass(frozen=True)
class IncomingShare:
    id: str
    owner_email: str
    role: str
    accepted: bool
    name: str  # "" when it does not verify
    problem: str  # "" when it verifies
    by_email: str = ""  # the member who re-shared it with this account ("" = the owner)


@dataclass(frozen=True)
class OutgoingShare:
    id: str
    member_email: str
    role: str
    accepted: bool
    node: str


class Shares:
    """The sharing side of one open vault."""

    def __init__(self, files: Files, uploads: Uploads, downloads: Downloads) -> None:
        self.session = files.session
        self.spaces = files.spaces
        self.files = files
        self.uploads = uploads
        self.downloads = downloads
        self.nesting = Nesting(files)
        self.rotation = Rotation(self.nesting)
        # called with the path after `unshare` rotated its keys (groups re-seal: issue 19)
        self.after_rotate: Callable[[str], None] | None = None

    # --- incoming -------------------------------------------------------------------------

    def incoming(self) -> list[IncomingShare]:
        out = []
        for item in self.spaces.listing(fresh=True)["incoming"]:
            try:
                mount, name = open_incoming(self.session, item)
                owner = normalize_email(str(item["owner_email"]))
                name = bound_name(self.session.state.mounts, owner, mount.node_id.hex()) or name
                problem = ""
            except BlindvaultError as exc:
                name, problem = "", str(exc)
            out.append(
                IncomingShare(
                    item["id"],
                    item["owner_email"],
                    item["role"],
                    item["accepted"],
                    name,
                    problem,
                    str(item.get("by_email") or ""),
                )
            )
        self.session.save()
        return out

    def outgoing(self) -> list[OutgoingShare]:
        return [
            OutgoingShare(g["id"], g["member_email"], g["role"], g["accepted"], g["space"])
            for g in self.spaces.listing(fresh=True)["outgoing"]
        ]

    def items(self) -> list[SharedItem]:
        """Each shared folder or file of one's own, with who has what role and since when."""
        return shared_items(self.files)

    def accept(self, share_id: str, *, trust_on_first_use: bool = False) -> str:
        """Verify and accept an incoming share; returns the `@name` it mounts as."""
        for item in self.spaces.listing(fresh=True)["incoming"]:
            if item["id"] == share_id:
                mount, name = open_incoming(
                    self.session, item, pin=trust_on_first_use, accepting=True
                )
                self.session.api.post_json(f"/v1/shares/{share_id}/accept", {})
                owner = normalize_email(str(item["owner_email"]))
                bound = self.spaces.bind(owner, mount, name)
                self.spaces.listing(fresh=True)
                self.session.save()
                return "@" + bound
        raise PathNotFoundError(f"no incoming share {share_id}")

    def mounts(self) -> dict[str, Mount]:
        return self.spaces.mounts()

    def mount(self, name: str) -> Mount:
        return self.spaces.mount(name)

    # --- sharing and unsharing ---------------------------------------------------------------

    def _owned(self, remote: str, *, create: bool) -> tuple[list[str], FolderEntry, bool]:
        """One's own folder or file at `remote`, as the folder (or a file's holder) whose
        roster and key are shared, and whether it is a file."""
        parts = [p for p in remote.split("/") if p not in ("", ".")]
        if not parts or parts[0].startswith("@"):
            raise UsageError("share one of your own folders or files (not the root, not a share)")
        entry = self.files.stat(remote)
        if isinstance(entry, FileEntry) and self.spaces.space(parts[:-1]).shared:
            raise UsageError(
                "this file is inside a shared folder: share the folder, or a folder inside "
                "it that holds the file"
            )
        if isinstance(entry, FileEntry):
            return parts, self._holder_of(entry, remote, create=create), True
        if not isinstance(entry, FolderEntry):
            raise UsageError("share one of your own folders or files")
        return parts, entry, False

    def _holder_of(self, entry: FileEntry, remote: str, *, create: bool) -> FolderEntry:
        """A file's holder as a folder entry (name, node, key, key version); made on the
        file's first share (core/fileshare.py)."""
        holder = self.spaces.shared_file(entry)
        if holder is None and not create:
            raise PathNotFoundError(f"{remote} is not shared")
        if holder is None:
            api = self.session.api.scoped(None, entry.node_id.hex())
            me = self.session.identity.bundle
            space = Space(api, {me.fingerprint: me}, entry.node_id)
            holder = create_holder(self.session, entry, space)
        return FolderEntry(entry.name, entry.node_id, holder.key, holder.key_version, 0)

    def _peer_for_share(
        self, email: str, trust_on_first_use: bool, confirm: Confirm | None
    ) -> IdentityBundle:
        bundle, pinned = peer(self.session, email)  # a changed pinned key raises PolicyError
        if pinned:
            return bundle
        if trust_on_first_use or (confirm is not None and confirm(email, bundle.fingerprint)):
            return trust(self.session, email, bundle.fingerprint.hex())
        raise PolicyError(
            f"{email} is not verified yet: compare safety numbers (`blindvault fingerprint "
            f"{email}`), then `blindvault trust {email} --fingerprint ...`, or pass "
            "--trust-on-first-use"
        )

    def _server_id(self, email: str) -> str:
        return self.session.api.get_as(Identity, f"/v1/identities/{email}").account_id

    def share(
        self,
        remote: str,
        email: str,
        *,
        write: bool = False,
        allow_reshare: bool = False,
        trust_on_first_use: bool = False,
        confirm: Confirm | None = None,
    ) -> str:
        """Share a folder or a single file with a user (`allow_reshare`: they may share it
        on), or re-share an accepted share `@name` the owner lets one re-share; returns the
        share id."""
        email = normalize_email(email)
        if email == self.session.state.email:
            raise UsageError("you own this already")
        if remote.lstrip("/").startswith("@"):
            if allow_reshare:
                raise UsageError("only a folder's owner lets members re-share")
            return self._reshare(remote, email, write, trust_on_first_use, confirm)
        parts, entry, is_file = self._owned(remote, create=True)
        member = self._peer_for_share(email, trust_on_first_use, confirm)
        role = ROLE_WRITE if write else ROLE_READ
        node, key, kv = entry.node_id, entry.folder_key, entry.key_version
        added = Member(member.fingerprint, role, email, allow_reshare)
        below: list[tuple[FolderEntry, Space]] = []
        if not is_file:  # decided before anything changes: a refusal changes nothing
            space = self.spaces.own(node)
            below = self.nesting.no_groups_below(entry, space)
        if not is_file and not space.shared:  # a new space: the folder around it, its subtree
            parent = self.spaces.space(parts[:-1])
            inherited = self.nesting.inherited(parent, email, role, trust_on_first_use, confirm)
            self.nesting.write_roster(entry, key, kv, email, added, [r.member for r in inherited])
            self.nesting.grant_inherited(entry, inherited)  # they keep reading it (issue 19)
            self._adopt(entry, parent)
        else:
            self.nesting.write_roster(entry, key, kv, email, added)
        share_id = seal_grant(
            self.session, os.urandom(16), node, self._server_id(email), role, key, kv, member,
            reshare=allow_reshare,
        )  # fmt: skip
        self.nesting.pass_down(below, added, member)  # the nested shares below include them
        self.spaces.listing(fresh=True)
        self.session.save()
        return share_id

    def _reshare(
        self, remote: str, email: str, write: bool, tofu: bool, confirm: Confirm | None
    ) -> str:
        """`share @name --with EMAIL`: add a person to a share of another account."""
        parts = [p for p in remote.split("/") if p not in ("", ".")]
        name = parts[0][1:]
        if len(parts) != 1 or name == FILES:
            raise UsageError("re-share a whole shared folder (@name), not something inside it")
        mount = self.spaces.mount(name)
        owner_email, node = self.session.state.mounts[name]
        owner_id = next(
            (
                str(i["owner"])
                for i in self.spaces.listing()["incoming"]
                if i["space"] == node and normalize_email(i["owner_email"]) == owner_email
            ),
            None,
        )
        if owner_id is None:
            raise PathNotFoundError(f"no accepted share named @{name}")
        owner_bundle, pinned = peer(self.session, owner_email)
        if not pinned:
            raise PolicyError(f"{owner_email} is not verified: `blindvault trust` them first")
        member = self._peer_for_share(email, tofu, confirm)
        role = ROLE_WRITE if write else ROLE_READ
        owner = (owner_email, owner_id, owner_bundle)
        member_id = self._server_id(email)
        share_id = reshare(self.session, mount, owner, member, member_id, role)
        top = FolderEntry(name, mount.node_id, mount.key, mount.key_version, 0)
        for inner, _ in self.nesting.nested(top, mount.space):  # nested shares: theirs too
            found = self.spaces.nested_mount(owner_email, inner.node_id)
            if found is not None:
                with contextlib.suppress(PolicyError, UsageError):  # not re-sharable there
                    reshare(self.session, found, owner, member, member_id, role)
        self.spaces.listing(fresh=True)
        self.session.save()
        return share_id

    def _adopt(self, entry: FolderEntry, parent: Space) -> None:
        """Move a folder's subtree (manifests and blobs) from the space it is in into its
        new shared space; nested shares below it keep their own."""
        node = entry.node_id
        pages: list[bytes] = []  # a paged folder's pages move with its manifest (issue 18)
        items = list(self.files.subtree(node, entry.folder_key, entry.key_version, parent,
                                        pages, within=True))  # fmt: skip
        self.session.api.post_json(
            f"/v1/spaces/{node.hex()}/adopt",
            {
                "records": [
                    {"kind": "manifest", "id": i.hex()} for i in items if isinstance(i, bytes)
                ],
                "blobs": [
                    blob_id(i.node_id, i.content_version).hex()
                    for i in items
                    if isinstance(i, FileEntry)
                ]
                + [p.hex() for p in pages],
            },
        )

    def unshare(
        self,
        remote: str,
        email: str,
        *,
        reencrypt: bool = False,
        trust_on_first_use: bool = False,
        confirm: Confirm | None = None,
    ) -> list[str]:
        """Remove a member, then rotate every folder key of the subtree (and of the nested
        shares below it, which lose the member too) so that nothing written afterwards is
        readable with keys the member had; `reencrypt` also gives every existing file a new
        key and a new ciphertext (`client/rotation.py`).

        The new key is sealed only to the other members of the owner-signed roster whose
        key this device pinned (P-RESEAL); returns the emails of grants the server listed
        that the roster does not name (never sealed to)."""
        email = normalize_email(email)
        parts, entry, is_file = self._owned(remote, create=False)
        node = entry.node_id
        roster = self.nesting.roster_of(node)
        listed = self.spaces.listing(fresh=True)["outgoing"]
        grant = next((g for g in listed if g["space"] == node.hex()
                      and g["member_email"] == email), None)  # fmt: skip
        if roster is None or (grant is None and not any(m.email == email for m in roster.members)):
            raise PathNotFoundError(f"{remote} is not shared with {email}")
        self._not_through_parent(parts, email)
        space = self.spaces.own(node)
        plans = self.rotation.plan(entry, space, email, nested=not is_file,
                                   trust_on_first_use=trust_on_first_use,
                                   confirm=confirm)  # fmt: skip
        if is_file:
            self.rotation.rotate_holder(entry, space, email, plans)
        else:
            fresh = {node: self.rotation.rotate(entry, space, email, plans)}
            self.files.update(parts[:-1], partial(edits.rekey, fresh=fresh))
        self.spaces.listing(fresh=True)
        self.session.save()
        if self.after_rotate is not None:
            self.after_rotate("/" + "/".join(parts))
        if reencrypt:
            self._reencrypt("/" + "/".join(parts))
        return plans[node].keep.strangers

    def _not_through_parent(self, parts: list[str], email: str) -> None:
        """A member of the shared folder around a nested share reads it through that
        folder: removing them here would change nothing they can read."""
        parent = self.spaces.space(parts[:-1])
        if not parent.shared or parent.node_id is None:
            return
        around = self.nesting.roster_of(parent.node_id)
        if around is not None and any(m.email == email for m in around.members):
            raise UsageError(
                f"{email} has this folder through the shared folder around it: unshare that "
                "one (it removes them from the folders shared inside it too)"
            )

    def _reencrypt(self, remote: str) -> None:
        """Every file again, with a new key and a new content version."""
        files = [e for e in self.files.walk(remote) if e.kind == "file"]
        with tempfile.TemporaryDirectory(prefix="bv-reencrypt-") as tmp:
            for f in files:
                local = Path(tmp) / "f"
                self.downloads.get(f.path, local)
                os.utime(local, ns=(f.mtime_ms * 1_000_000, f.mtime_ms * 1_000_000))
                self.uploads.put(local, f.path)
                local.unlink()


def _same(body: ManifestBody) -> ManifestBody:
    return body
