"""Key rotation when a member leaves a shared folder or file (`unshare`, P-RESEAL).

Everything the member could read gets a new key: the folder and every folder below it,
and every nested share below it (issue 19), each of which loses the member too (its roster
copies the enclosing folder's members). Who receives each new key is decided first, for
every space involved, from its owner-signed roster and this device's pins
(`sharing/recipients.py`), so a refusal (exit 8) changes nothing; then, space by space:
the member's grant ends, the folders are re-keyed from the bottom up, the roster is written
without the member at the new key version, and the new key is sealed to each remaining
member.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial

from blindvault.client.nesting import Nesting
from blindvault.client.sharing.grants import seal_grant
from blindvault.client.sharing.recipients import Confirm, Recipients, choose_recipients
from blindvault.client.sharing.rosters import served_bundle
from blindvault.client.tree import Space, edits
from blindvault.core.fileshare import holder_key
from blindvault.core.keys import FolderKey
from blindvault.core.manifest import FolderEntry, ManifestBody
from blindvault.errors import ConflictError, IntegrityError

__all__ = ["Plan", "Rotation"]


@dataclass(frozen=True)
class Plan:
    grants: list[dict[str, object]]  # the server's grants on the space (hints: ids, accounts)
    keep: Recipients  # who gets the new key: the roster minus the member, pinned here


class Rotation:
    def __init__(self, nesting: Nesting) -> None:
        self.nesting = nesting
        self.session = nesting.session
        self.spaces = nesting.spaces

    def plan(
        self,
        entry: FolderEntry,
        space: Space,
        drop: str,
        *,
        nested: bool,
        trust_on_first_use: bool = False,
        confirm: Confirm | None = None,
    ) -> dict[bytes, Plan]:
        """The recipients of the new keys of a shared folder (or file holder) and, with
        `nested`, of every nested share below it; raises before anything is changed."""
        listed = self.spaces.listing(fresh=True)["outgoing"]
        spaces = [(entry, space), *(self.nesting.nested(entry, space) if nested else ())]
        plans = {}
        for e, _ in spaces:
            roster = self.nesting.roster_of(e.node_id)
            if roster is None:
                raise IntegrityError("a shared folder below this one has no signed member list")
            grants = [g for g in listed if g["space"] == e.node_id.hex()]
            keep = choose_recipients(roster, self.session.state.peers, grants,
                                     partial(served_bundle, self.session), drop=drop,
                                     trust_on_first_use=trust_on_first_use,
                                     confirm=confirm)  # fmt: skip
            plans[e.node_id] = Plan(grants, keep)
        return plans

    def rotate(
        self, entry: FolderEntry, space: Space, drop: str, plans: dict[bytes, Plan]
    ) -> tuple[FolderKey, int]:
        """Rotate one shared folder's space (and the nested shares below it); returns its
        new key and key version, for the manifest that names it."""
        if entry.node_id not in plans:
            raise ConflictError(
                409, "stale_version", "a folder below was shared meanwhile; try again"
            )
        self._end_grant(entry.node_id, drop, plans)
        new_key, new_kv = self._rekey(entry.node_id, entry.folder_key, entry.key_version, space,
                                      drop, plans)  # fmt: skip
        self._reseal(entry, new_key, new_kv, drop, plans)
        return new_key, new_kv

    def rotate_holder(
        self, entry: FolderEntry, space: Space, drop: str, plans: dict[bytes, Plan]
    ) -> None:
        """Rotate a shared file's holder: the next key version's key, derived
        (core/fileshare.py)."""
        self._end_grant(entry.node_id, drop, plans)
        new_kv = entry.key_version + 1
        new_key = holder_key(self.session.keys().root_key, entry.node_id, new_kv)
        self.session.tree.update(entry.node_id, entry.folder_key, _same, entry.key_version,
                                 space, new_key=new_key)  # fmt: skip
        self._reseal(entry, new_key, new_kv, drop, plans)

    def _end_grant(self, node: bytes, drop: str, plans: dict[bytes, Plan]) -> None:
        """The member's access to the space ends now, before any key changes."""
        gone = next((g for g in plans[node].grants if g["member_email"] == drop), None)
        if gone is not None:
            self.session.api.request("DELETE", f"/v1/shares/{gone['id']}")

    def _rekey(
        self, node: bytes, key: FolderKey, kv: int, space: Space, drop: str,
        plans: dict[bytes, Plan],
    ) -> tuple[FolderKey, int]:  # fmt: skip
        """New keys for a folder and, first, for every folder below it (a nested share's
        space rotated as a whole)."""
        folder, _ = self.session.tree.read(node, key, kv, space)
        fresh: dict[bytes, tuple[FolderKey, int]] = {}
        for e in folder.body.entries:
            if not isinstance(e, FolderEntry):
                continue
            below = self.spaces.below(space, e.node_id)
            # a nested share: its own roster and grants, without the member
            if below.node_id != space.node_id:  # mutant: sharing.nested-rotated
                fresh[e.node_id] = self.rotate(e, below, drop, plans)
            else:
                fresh[e.node_id] = self._rekey(e.node_id, e.folder_key, e.key_version, below,
                                               drop, plans)  # fmt: skip
        new_key = FolderKey.generate()
        change = partial(edits.rekey, fresh=fresh)
        self.session.tree.update(node, key, change, kv, space, new_key=new_key)
        return new_key, folder.key_version + 1

    def _reseal(
        self, entry: FolderEntry, key: FolderKey, kv: int, drop: str, plans: dict[bytes, Plan]
    ) -> None:
        """The roster without the member at the new key version, and the new key sealed to
        every remaining member."""
        session = self.session
        self.nesting.write_roster(entry, key, kv, drop, None)
        keep = plans[entry.node_id].keep
        session.state.peers.update(keep.newly_pinned)
        for r in keep.chosen:
            g = r.grant
            share_id = bytes.fromhex(str(g["id"])) if g else os.urandom(16)
            member_id = str(g["member"]) if g else self.nesting.server_id(r.member.email)
            seal_grant(session, share_id, entry.node_id, member_id, r.member.role, key, kv,
                       r.bundle, reshare=r.member.reshare)  # fmt: skip


def _same(body: ManifestBody) -> ManifestBody:
    return body
