"""Sharing folders with people: envelopes, owner-signed rosters, grants and key rotation.

    vault.share("/team", "bob@example.org", write=True)   # Bob must be pinned (trust)
    bob.accept(share_id)                                    # then `@team/...` paths work
    vault.unshare("/team", "bob@example.org")               # new keys; Bob reads nothing new

Who trusts what (P-PEERKEY, P-ROSTER, P-NOINJECT):
- The owner seals the folder key to the member's *pinned* bundle and signs the envelope;
  the member opens it only with the owner's *pinned* bundle.
- The roster (record "roster", id = folder node) lists members, roles and key version,
  signed by the owner; members accept manifests only from the owner and the read-write
  members it names, and refuse a roster older than one they saw.
- The owner's account id is derived from the owner's email on the client, so the server
  cannot present another account's folder under a trusted name.
The server holds the grant (member, role) and refuses writes by read-only members; a
forced write is still refused by every client, because its writer is not in the roster.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from blindvault.client.http import ApiClient, b64d, b64e
from blindvault.client.mounts import bind_name, bound_name
from blindvault.client.peers import fetch_bundle
from blindvault.client.recipients import Confirm, choose_recipients
from blindvault.client.rosterfresh import check_roster, missing_roster, remember_roster
from blindvault.client.tree import Space
from blindvault.core.constants import ROLE_READ, ROLE_WRITE
from blindvault.core.content import blob_id
from blindvault.core.envelope import open_envelope, seal_envelope
from blindvault.core.identity import IdentityBundle
from blindvault.core.kdf import account_id, normalize_email
from blindvault.core.keys import FolderKey
from blindvault.core.manifest import ZERO_HASH, FileEntry, FolderEntry, ManifestBody
from blindvault.core.roster import Member, Roster, open_roster, seal_roster
from blindvault.errors import (
    BlindvaultError,
    ConflictError,
    IntegrityError,
    NotFoundError,
    PolicyError,
    UsageError,
)

if TYPE_CHECKING:
    from blindvault.client.vault import Vault

__all__ = ["IncomingShare", "OutgoingShare", "Shares"]

MAX_RETRIES = 10
_ROLES = {ROLE_READ: "read", ROLE_WRITE: "write"}


@dataclass(frozen=True)
class IncomingShare:
    id: str
    owner_email: str
    role: str
    accepted: bool
    name: str  # "" when it does not verify
    problem: str  # "" when it verifies


@dataclass(frozen=True)
class OutgoingShare:
    id: str
    member_email: str
    role: str
    accepted: bool
    node: str


@dataclass(frozen=True)
class _Mount:
    space: Space
    node_id: bytes
    key: FolderKey
    key_version: int
    role: int


class Shares:
    """The sharing side of one open vault; caches what the server lists per command."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self._listing: dict[str, Any] | None = None
        self._own_spaces: dict[bytes, Space] = {}
        self._mounts: dict[str, _Mount] | None = None

    # --- what the server lists ------------------------------------------------------------

    def listing(self, *, fresh: bool = False) -> dict[str, Any]:
        if self._listing is None or fresh:
            self._listing = dict(self.vault.api.get_json("/v1/shares"))
            self._own_spaces.clear()
            self._mounts = None
        return self._listing

    def _scoped(self, server_owner: str | None, node: bytes) -> ApiClient:
        """Requests into a space: `server_owner` is the server's id of the owning account
        (a routing handle only; the owner is checked through the signed roster), or None
        for one's own."""
        return self.vault.api.scoped(server_owner, node.hex())

    # --- rosters ---------------------------------------------------------------------------

    def _load_roster(
        self, api: ApiClient, owner: bytes, node: bytes, signer: IdentityBundle
    ) -> tuple[Roster | None, int]:
        # the owner's devices check the roster against the owner's signed root too
        root = self.vault.tree.load_root() if owner == self.vault.owner else None
        try:
            rec = api.get_json(f"/v1/records/roster/{node.hex()}")
        except NotFoundError:
            missing_roster(self.vault.state, node, root)
            return None, 0
        roster = open_roster(b64d(rec["data"]), owner, node, signer)
        check_roster(self.vault.state, roster, root)
        remember_roster(self.vault.state, roster)
        return roster, int(rec["version"])

    def _writers(self, roster: Roster, owner: IdentityBundle) -> dict[bytes, IdentityBundle]:
        """Bundles of the owner and the read-write members, each matching the roster's
        fingerprint (the owner vouches for them by signing the roster)."""
        writers = {owner.fingerprint: owner}
        for m in roster.members:
            if m.role != ROLE_WRITE:
                continue
            if m.fingerprint == self.vault.fingerprint:
                writers[m.fingerprint] = self.vault.opened.identity.bundle
                continue
            served = self.vault.api.get_json(f"/v1/identities/{m.email}")
            bundle = IdentityBundle.decode(b64d(served["identity_bundle"]))
            # mutant: sharing.writer-key-matches-roster [accept]
            if bundle.fingerprint == m.fingerprint and bundle.email == m.email:
                writers[m.fingerprint] = bundle
            # a member whose served key differs is simply not accepted as a writer
        return writers

    # --- the owner's shared folders ---------------------------------------------------------

    def own_space(self, node: bytes) -> Space | None:
        """The space of one of this account's folders if it is shared, else None."""
        if not self._is_shared(node):
            return None
        if node not in self._own_spaces:
            me = self.vault.opened.identity.bundle
            roster, _ = self._load_roster(self.vault.api, self.vault.owner, node, me)
            if roster is None:
                return None
            api = self._scoped(None, node)
            self._own_spaces[node] = Space(api, self._writers(roster, me), node)
        return self._own_spaces[node]

    def forget(self, node: bytes) -> None:
        """A shared folder of ours was removed: end every member's grant on it."""
        if not self._is_shared(node):
            return
        for g in self.listing(fresh=True)["outgoing"]:
            if g["space"] == node.hex():
                with contextlib.suppress(NotFoundError):
                    self.vault.api.request("DELETE", f"/v1/shares/{g['id']}")
        self.listing(fresh=True)

    # --- incoming shares --------------------------------------------------------------------

    def _open_incoming(self, item: dict[str, Any], *, pin: bool = False) -> tuple[_Mount, str]:
        """Verify an incoming share end to end; returns where it mounts and its name."""
        owner_email = normalize_email(str(item["owner_email"]))
        owner = account_id(owner_email)  # the roster must be signed for this very owner
        if pin and owner_email not in self.vault.state.peers:
            self.vault.trust(owner_email)
        sender, pinned = self.vault.peer(owner_email)
        if not pinned:
            raise PolicyError(
                f"{owner_email} is not verified: compare safety numbers, then "
                f"`blindvault trust {owner_email} --fingerprint ...` (or accept with "
                "--trust-on-first-use)"
            )
        env = open_envelope(b64d(item["envelope"]), self.vault.opened.identity, sender)
        # mutant: sharing.envelope-for-this-folder
        if not isinstance(env.key, FolderKey) or env.node_id.hex() != item["space"]:
            raise IntegrityError("the envelope is for another folder")
        api = self._scoped(str(item["owner"]), env.node_id)
        roster, _ = self._load_roster(api, owner, env.node_id, sender)
        if roster is None:
            raise IntegrityError("the share has no signed member list")
        me = roster.member(self.vault.fingerprint)
        # mutant: sharing.roster-confirms-envelope
        if me is None or me.role != env.role or roster.key_version != env.key_version:
            raise IntegrityError("the member list does not confirm this share")
        seen = self.vault.state.key_versions.get(env.node_id.hex(), 0)
        if env.key_version < seen:  # mutant: sharing.key-version-rollback
            raise IntegrityError("the share's key was rolled back")
        self.vault.state.key_versions[env.node_id.hex()] = env.key_version
        space = Space(api, self._writers(roster, sender), env.node_id)
        mount = _Mount(space, env.node_id, env.key, env.key_version, env.role)
        return mount, roster.name(env.key)

    def incoming(self) -> list[IncomingShare]:
        out = []
        for item in self.listing(fresh=True)["incoming"]:
            try:
                mount, name = self._open_incoming(item)
                owner = normalize_email(str(item["owner_email"]))
                name = bound_name(self.vault.state.mounts, owner, mount.node_id.hex()) or name
                problem = ""
            except BlindvaultError as exc:
                name, problem = "", str(exc)
            out.append(
                IncomingShare(
                    item["id"], item["owner_email"], item["role"], item["accepted"], name, problem
                )
            )
        self.vault.save()
        return out

    def outgoing(self) -> list[OutgoingShare]:
        return [
            OutgoingShare(g["id"], g["member_email"], g["role"], g["accepted"], g["space"])
            for g in self.listing(fresh=True)["outgoing"]
        ]

    def accept(self, share_id: str, *, trust_on_first_use: bool = False) -> str:
        """Verify and accept an incoming share; returns the `@name` it mounts as."""
        for item in self.listing(fresh=True)["incoming"]:
            if item["id"] == share_id:
                mount, name = self._open_incoming(item, pin=trust_on_first_use)
                self.vault.api.post_json(f"/v1/shares/{share_id}/accept", {})
                owner = normalize_email(str(item["owner_email"]))
                bound = bind_name(self.vault.state.mounts, name, owner, mount.node_id.hex())
                self.listing(fresh=True)
                self.vault.save()
                return "@" + bound
        raise NotFoundError(404, "not_found", f"no incoming share {share_id}")

    def mounts(self) -> dict[str, _Mount]:
        """Accepted, verified incoming shares by the mount name bound on this device."""
        if self._mounts is None:
            incoming = self.listing()["incoming"]
            found: list[tuple[str, str, _Mount, str]] = []
            for item in incoming:
                if not item["accepted"]:
                    continue
                try:
                    mount, name = self._open_incoming(item)
                except BlindvaultError:
                    continue  # reported by `shares`; never shown unverified
                owner = normalize_email(str(item["owner_email"]))
                found.append((owner, mount.node_id.hex(), mount, name))
            bindings = self.vault.state.mounts
            self._mounts = {}
            for owner, node, mount, name in sorted(found, key=lambda f: (f[0], f[1])):
                self._mounts[bind_name(bindings, name, owner, node)] = mount
        return self._mounts

    def mount(self, name: str) -> _Mount:
        found = self.mounts().get(name)
        if found is None:
            raise NotFoundError(404, "not_found", f"no accepted share named @{name}")
        return found

    # --- sharing and unsharing -----------------------------------------------------------------

    def _owned_folder(self, remote: str) -> tuple[list[str], FolderEntry]:
        parts = [p for p in remote.split("/") if p not in ("", ".")]
        if not parts or parts[0].startswith("@"):
            raise UsageError("share one of your own folders (not the root, not a share)")
        entry = self.vault.stat(remote)
        if not isinstance(entry, FolderEntry):
            raise UsageError("only folders can be shared with people (use a link for a file)")
        parent = self.vault._folder(parts[:-1])
        if parent.space is not None:
            raise UsageError("this folder is inside a shared folder; share that one instead")
        return parts, entry

    def _peer_for_share(
        self, email: str, trust_on_first_use: bool, confirm: Callable[[str, bytes], bool] | None
    ) -> IdentityBundle:
        bundle, pinned = self.vault.peer(email)  # a changed pinned key raises PolicyError
        if pinned:
            return bundle
        if trust_on_first_use or (confirm is not None and confirm(email, bundle.fingerprint)):
            return self.vault.trust(email, bundle.fingerprint.hex())
        raise PolicyError(
            f"{email} is not verified yet: compare safety numbers (`blindvault fingerprint "
            f"{email}`), then `blindvault trust {email} --fingerprint ...`, or pass "
            "--trust-on-first-use"
        )

    def _server_id(self, email: str) -> str:
        return str(self.vault.api.get_json(f"/v1/identities/{email}")["account_id"])

    def _is_shared(self, node: bytes) -> bool:
        spaces = {g["space"] for g in self.listing()["outgoing"]}
        return node.hex() in spaces or node.hex() in self.vault.state.rosters

    def _write_roster(
        self, entry: FolderEntry, key: FolderKey, kv: int, email: str, role: Member | None
    ) -> None:
        """The next roster version of a shared folder: `email` dropped, and added back as
        `role` when given; members, key version and name otherwise as now."""
        node, me = entry.node_id, self.vault.opened.identity.bundle
        api = self._scoped(None, node)
        for _ in range(MAX_RETRIES):
            current, record_version = self._load_roster(self.vault.api, self.vault.owner, node, me)
            others = [m for m in (current.members if current else ()) if m.email != email]
            data = seal_roster(
                owner=self.vault.owner,
                node_id=node,
                version=(current.version + 1) if current else 1,
                key_version=kv,
                members=[*others, role] if role else others,
                name=entry.name,
                key=key,
                signer=self.vault.opened.identity,
                prev_hash=current.hash if current else ZERO_HASH,
            )
            try:
                api.put_json(
                    f"/v1/records/roster/{node.hex()}",
                    {"expected_version": record_version, "data": b64e(data)},
                )
            except ConflictError:
                continue
            opened = open_roster(data, self.vault.owner, node, me)
            remember_roster(self.vault.state, opened)
            self.vault.tree.bind_roster(opened.head)
            self._own_spaces.pop(node, None)
            return
        raise ConflictError(409, "stale_version", "the member list kept changing; try again")

    def share(
        self,
        remote: str,
        email: str,
        *,
        write: bool = False,
        trust_on_first_use: bool = False,
        confirm: Callable[[str, bytes], bool] | None = None,
    ) -> str:
        """Share a folder with a user; returns the share id."""
        email = normalize_email(email)
        if email == self.vault.state.email:
            raise UsageError("you own this folder already")
        _, entry = self._owned_folder(remote)
        member = self._peer_for_share(email, trust_on_first_use, confirm)
        role = ROLE_WRITE if write else ROLE_READ
        node, key, kv = entry.node_id, entry.folder_key, entry.key_version
        if self.own_space(node) is None:  # first share: the subtree joins the space
            items = list(self.vault.subtree(node, key, kv))
            if any(isinstance(i, bytes) and i != node and self._is_shared(i) for i in items):
                raise UsageError("a folder inside this one is shared already")
            self.vault.api.post_json(
                f"/v1/spaces/{node.hex()}/adopt",
                {
                    "records": [
                        {"kind": "manifest", "id": i.hex()} for i in items if isinstance(i, bytes)
                    ],
                    "blobs": [
                        blob_id(i.node_id, i.content_version).hex()
                        for i in items
                        if isinstance(i, FileEntry)
                    ],
                },
            )

        self._write_roster(entry, key, kv, email, Member(member.fingerprint, role, email))
        share_id = self._grant(os.urandom(16), node, self._server_id(email), role, key, kv, member)
        self.listing(fresh=True)
        self.vault.save()
        return share_id

    def _grant(
        self,
        share_id: bytes,
        node: bytes,
        member_id: str,
        role: int,
        key: FolderKey,
        kv: int,
        recipient: IdentityBundle,
    ) -> str:
        """Grant (or re-grant) a member, with the folder key sealed to their pinned bundle;
        returns the share id the server keeps."""
        envelope = seal_envelope(
            key,
            share_id=share_id,
            node_id=node,
            key_version=kv,
            role=role,
            sender=self.vault.opened.identity,
            recipient=recipient,
        )
        result = self.vault.api.put_json(
            "/v1/shares",
            {
                "id": share_id.hex(),
                "space": node.hex(),
                "member": member_id,
                "role": _ROLES[role],
                "envelope": b64e(envelope),
            },
        )
        return str(result["id"])

    def unshare(
        self,
        remote: str,
        email: str,
        *,
        reencrypt: bool = False,
        trust_on_first_use: bool = False,
        confirm: Confirm | None = None,
    ) -> list[str]:
        """Remove a member, then rotate every folder key of the subtree so that nothing
        written afterwards is readable with keys the member had; `reencrypt` also gives
        every existing file a new key and a new ciphertext.

        The new key is sealed only to the other members of the owner-signed roster whose
        key this device pinned (P-RESEAL); returns the emails of grants the server listed
        that the roster does not name (never sealed to)."""
        email = normalize_email(email)
        parts, entry = self._owned_folder(remote)
        node, me = entry.node_id, self.vault.opened.identity.bundle
        roster, _ = self._load_roster(self.vault.api, self.vault.owner, node, me)
        grants = [g for g in self.listing(fresh=True)["outgoing"] if g["space"] == node.hex()]
        grant = next((g for g in grants if g["member_email"] == email), None)
        if roster is None or (grant is None and not any(m.email == email for m in roster.members)):
            raise NotFoundError(404, "not_found", f"{remote} is not shared with {email}")
        keep = choose_recipients(  # decided before anything changes: a refusal changes nothing
            roster,
            self.vault.state.peers,
            grants,
            self._served,
            drop=email,
            trust_on_first_use=trust_on_first_use,
            confirm=confirm,
        )
        if grant is not None:
            self.vault.api.request("DELETE", f"/v1/shares/{grant['id']}")  # access ends now
        self.listing(fresh=True)
        space = self.own_space(node)
        new_key, new_kv = self._rekey(node, entry.folder_key, entry.key_version, space)

        def swap(body: ManifestBody) -> ManifestBody:
            return ManifestBody(
                tuple(
                    FolderEntry(e.name, e.node_id, new_key, new_kv, e.mtime_ms)
                    if isinstance(e, FolderEntry) and e.node_id == node
                    else e
                    for e in body.entries
                ),
                body.tombstones,
            )

        self.vault._update(parts[:-1], swap)

        self._write_roster(entry, new_key, new_kv, email, None)
        self.vault.state.peers.update(keep.newly_pinned)
        for r in keep.chosen:
            g = r.grant
            share_id = bytes.fromhex(str(g["id"])) if g else os.urandom(16)
            member_id = str(g["member"]) if g else self._server_id(r.member.email)
            self._grant(share_id, node, member_id, r.member.role, new_key, new_kv, r.bundle)
        self.listing(fresh=True)
        self.vault.save()
        if reencrypt:
            self._reencrypt("/" + "/".join(parts))
        return keep.strangers

    def _served(self, email: str) -> IdentityBundle:
        """The bundle the server publishes for `email` (self-signed; trusted by nothing)."""
        return fetch_bundle(self.vault.api, email)

    def _rekey(
        self, node: bytes, key: FolderKey, kv: int, space: Space | None
    ) -> tuple[FolderKey, int]:
        """New keys for a folder and, first, for every folder below it."""
        folder, _ = self.vault.tree.read(node, key, kv, space)
        fresh: dict[bytes, tuple[FolderKey, int]] = {}
        for e in folder.body.entries:
            if isinstance(e, FolderEntry):
                fresh[e.node_id] = self._rekey(e.node_id, e.folder_key, e.key_version, space)
        new_key = FolderKey.generate()

        def change(body: ManifestBody) -> ManifestBody:
            entries: list[FileEntry | FolderEntry] = []
            for e in body.entries:
                if isinstance(e, FolderEntry) and e.node_id in fresh:
                    k, v = fresh[e.node_id]
                    entries.append(FolderEntry(e.name, e.node_id, k, v, e.mtime_ms))
                else:
                    entries.append(e)
            return ManifestBody(tuple(entries), body.tombstones)

        self.vault.tree.update(node, key, change, kv, space, new_key=new_key)
        return new_key, folder.key_version + 1

    def _reencrypt(self, remote: str) -> None:
        """Every file again, with a new key and a new content version."""
        files = [e for e in self.vault.walk(remote) if e.kind == "file"]
        with tempfile.TemporaryDirectory(prefix="bv-reencrypt-") as tmp:
            for f in files:
                local = Path(tmp) / "f"
                self.vault.get(f.path, local)
                os.utime(local, ns=(f.mtime_ms * 1_000_000, f.mtime_ms * 1_000_000))
                self.vault.put(local, f.path)
                local.unlink()
