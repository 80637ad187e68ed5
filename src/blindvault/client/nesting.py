"""Nested shares (issue 19): a folder inside a shared folder shared on its own, or a folder
that contains one shared.

A nested share is a space of its own (its records and blobs move there), with its own
owner-signed roster and grants. Whoever can read the folder around it can read it too:
they hold its key in the parent's manifest. So its roster names every member of the
enclosing shared folder (same role, unless given a higher one there) and they get grants on
it, which is what lets the server serve them its records and what their devices check
(`Spaces.below`: a grant on the folder's node from the same owner, opened and confirmed by
its roster). Whoever is added to a shared folder is added to every nested share below it
(`pass_down`); whoever is removed from it is removed from them too (`client/rotation.py`).

Group shares do not nest: a folder shared with a group holds no nested share and is not
inside one (refused with a clear message), because a group's grant is sealed to the group,
not to the members a nested roster would copy.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from functools import partial

from blindvault.client.files import Files
from blindvault.client.sharing.grants import seal_grant
from blindvault.client.sharing.recipients import Confirm, Recipient, choose_recipients
from blindvault.client.sharing.rosters import load_roster, served_bundle, write_roster
from blindvault.client.tree import Space
from blindvault.core.constants import ROLE_WRITE
from blindvault.core.group import is_group_email
from blindvault.core.identity import IdentityBundle
from blindvault.core.keys import FolderKey
from blindvault.core.manifest import FolderEntry
from blindvault.core.roster import Member, Roster
from blindvault.errors import IntegrityError, UsageError
from blindvault.wire.accounts import Identity

__all__ = ["Nesting"]

GROUPS_DO_NOT_NEST = (
    "shares with a group do not nest: a folder shared with a group cannot hold or be inside "
    "another shared folder"
)


class Nesting:
    def __init__(self, files: Files) -> None:
        self.files = files
        self.session = files.session
        self.spaces = files.spaces

    def write_roster(
        self,
        entry: FolderEntry,
        key: FolderKey,
        kv: int,
        email: str,
        role: Member | None,
        also: Sequence[Member] = (),
    ) -> None:
        """The next roster of a shared folder of one's own (`sharing/rosters.write_roster`);
        its writers are read again when next needed."""
        write_roster(self.session, entry, key, kv, email, role, also)
        self.spaces.forget_roster(entry.node_id)

    def roster_of(self, node: bytes) -> Roster | None:
        """The verified roster of a shared folder of one's own."""
        s = self.session
        roster, _ = load_roster(s, s.api, s.owner, node, s.identity.bundle)
        return roster

    def nested(self, entry: FolderEntry, space: Space) -> Iterator[tuple[FolderEntry, Space]]:
        """Every nested share below a folder in `space` (at any depth), with its space."""
        folder, _ = self.session.tree.read(entry.node_id, entry.folder_key, entry.key_version,
                                           space)  # fmt: skip
        for e in folder.body.entries:
            if not isinstance(e, FolderEntry):
                continue
            below = self.spaces.below(space, e.node_id)
            if below.node_id != space.node_id:
                yield e, below
            yield from self.nested(e, below)

    def inherited(
        self, parent: Space, email: str, role: int, tofu: bool, confirm: Confirm | None
    ) -> list[Recipient]:
        """The members of the shared folder around a folder being shared for the first time
        (none if it is in the private tree), checked against this device's pins; refuses a
        share the person has already through that folder."""
        if not parent.shared or parent.node_id is None:
            return []
        roster = self.roster_of(parent.node_id)
        if roster is None:
            raise IntegrityError("the shared folder around this one has no signed member list")
        if any(is_group_email(m.email) for m in roster.members):
            raise UsageError(GROUPS_DO_NOT_NEST)
        there = _by_email(roster, email)
        if there is not None and (there.role == ROLE_WRITE or role != ROLE_WRITE):
            raise UsageError(f"{email} has this folder already, through the folder around it")
        grants = [
            g for g in self.spaces.listing()["outgoing"] if g["space"] == parent.node_id.hex()
        ]
        keep = choose_recipients(roster, self.session.state.peers, grants,
                                 partial(served_bundle, self.session), drop=email,
                                 trust_on_first_use=tofu, confirm=confirm)  # fmt: skip
        self.session.state.peers.update(keep.newly_pinned)
        return keep.chosen

    def no_groups_below(self, entry: FolderEntry, space: Space) -> list[tuple[FolderEntry, Space]]:
        """The nested shares below a folder, refused if one of them is shared with a group."""
        found = list(self.nested(entry, space))
        for e, _ in found:
            roster = self.roster_of(e.node_id)
            if roster is not None and any(is_group_email(m.email) for m in roster.members):
                raise UsageError(GROUPS_DO_NOT_NEST)
        return found

    def pass_down(
        self, below: list[tuple[FolderEntry, Space]], added: Member, bundle: IdentityBundle
    ) -> None:
        """A member added to a shared folder is added to every nested share below it, with
        the same role and re-share right (higher ones they have there stay), and granted
        each one."""
        listed = self.spaces.listing(fresh=True)["outgoing"]
        for entry, _ in below:
            roster = self.roster_of(entry.node_id)
            there = _by_email(roster, added.email) if roster else None
            if there is not None and _covers(there, added):
                continue
            member = added
            if there is not None:  # the higher of the two roles and re-share rights
                member = Member(added.fingerprint, max(there.role, added.role), added.email,
                                there.reshare or added.reshare)  # fmt: skip
            self.write_roster(entry, entry.folder_key, entry.key_version, added.email, member)
            grant = next((g for g in listed if g["space"] == entry.node_id.hex()
                          and g["member_email"] == added.email), None)  # fmt: skip
            share_id = bytes.fromhex(str(grant["id"])) if grant else os.urandom(16)
            seal_grant(self.session, share_id, entry.node_id, self.server_id(added.email),
                       member.role, entry.folder_key, entry.key_version, bundle,
                       reshare=member.reshare)  # fmt: skip

    def grant_inherited(self, entry: FolderEntry, inherited: list[Recipient]) -> None:
        """Grants on a new nested share for the members of the folder around it."""
        for r in inherited:
            g = r.grant
            member_id = str(g["member"]) if g else self.server_id(r.member.email)
            seal_grant(self.session, os.urandom(16), entry.node_id, member_id, r.member.role,
                       entry.folder_key, entry.key_version, r.bundle,
                       reshare=r.member.reshare)  # fmt: skip

    def server_id(self, email: str) -> str:
        return self.session.api.get_as(Identity, f"/v1/identities/{email}").account_id


def _covers(there: Member, added: Member) -> bool:
    """Whether a member's entry grants at least the role and re-share right of `added`."""
    role = there.role == ROLE_WRITE or added.role != ROLE_WRITE
    return role and (there.reshare or not added.reshare)


def _by_email(roster: Roster, email: str) -> Member | None:
    return next((m for m in roster.members if m.email == email), None)
