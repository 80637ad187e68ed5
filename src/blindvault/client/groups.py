"""Groups (issue 19): share with a named set of people; add and remove them in one place.

    vault.groups.create("team")
    vault.groups.add("team", ["bob@example.org", "carol@example.org"])  # pinned, as for share
    vault.groups.share("/plans", "team")           # the folder key sealed to the group
    vault.groups.remove("team", ["carol@example.org"])  # new group key; /plans rotated
    vault.groups.unshare("/plans", "team")         # the group's grant ends; /plans rotated

A group has a key pair of its own (core/group.py) and an owner-signed roster naming its
members by pinned fingerprint. Sharing with a group seals the folder key to the group's key
and names the group (its id and fingerprint) in the folder's owner-signed roster; each
member holds the group key in an owner-signed envelope. Adding a member is one request
(a new roster and their envelope), whatever the number of shares. Removing one gives the
group a new key pair, then rotates every folder shared with the group as `unshare` does
and seals the new folder key to the new group key (P-GROUPROTATE).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from blindvault.client.nesting import GROUPS_DO_NOT_NEST
from blindvault.client.net.http import b64d, b64e
from blindvault.client.peers import peer, trust
from blindvault.client.shares import Shares
from blindvault.client.sharing.groupkeys import member_group, open_group
from blindvault.client.sharing.recipients import Confirm, choose_recipients
from blindvault.client.sharing.rosters import load_roster, served_bundle
from blindvault.core.constants import ROLE_READ
from blindvault.core.envelope import seal_envelope
from blindvault.core.group import (
    GroupMember,
    GroupRoster,
    group_email,
    group_identity,
    group_key,
    is_group_email,
    seal_group_roster,
)
from blindvault.core.identity import IdentityBundle, safety_number
from blindvault.core.kdf import normalize_email
from blindvault.core.manifest import ZERO_HASH, FolderEntry
from blindvault.core.roster import Member
from blindvault.errors import (
    ConflictError,
    IntegrityError,
    PathNotFoundError,
    PolicyError,
    UsageError,
)

__all__ = ["GroupInfo", "Groups"]


@dataclass(frozen=True)
class GroupInfo:
    id: str
    name: str
    owner_email: str
    version: int
    key_version: int
    fingerprint: str  # the group's key (hex)
    members: list[dict[str, str]]  # email, fingerprint (hex), safety number
    shares: list[str] = field(default_factory=list)  # paths (the owner's view)


@dataclass(frozen=True)
class _Owned:
    listed: dict[str, Any]
    roster: GroupRoster
    name: str

    @property
    def id(self) -> bytes:
        return self.roster.group_id


class Groups:
    """The groups of one open vault."""

    def __init__(self, shares: Shares) -> None:
        self.shares = shares
        self.session = shares.session

    # --- reading -----------------------------------------------------------------------------

    def _owned(self) -> list[_Owned]:
        """Every group of one's own, verified (signature, freshness, name); a group that
        does not verify stops the command (it cannot be told apart from another)."""
        session = self.session
        root_key = session.keys().root_key
        out = []
        for g in session.api.get_json("/v1/groups")["owned"]:
            gid = bytes.fromhex(str(g["id"]))
            roster = open_group(session.state, b64d(g["roster"]), session.state.email, gid,
                                session.identity.bundle)  # fmt: skip
            out.append(_Owned(g, roster, roster.name(group_key(root_key, gid, roster.key_version))))
        return out

    def _find(self, name: str) -> _Owned:
        for g in self._owned():
            if g.name == name:
                return g
        raise PathNotFoundError(f"no group named {name}")

    def _info(self, g: _Owned) -> GroupInfo:
        paths = {i.node: i.path for i in self.shares.items()}
        spaces = [str(s["space"]) for s in g.listed["spaces"]]
        return GroupInfo(
            g.id.hex(), g.name, self.session.state.email, g.roster.version,
            g.roster.key_version, g.roster.group_fingerprint.hex(), _members(g.roster),
            sorted(paths.get(s, s) for s in spaces),
        )  # fmt: skip

    def listing(self) -> list[GroupInfo]:
        """One's own groups, then the groups one is in (each verified)."""
        out = [self._info(g) for g in self._owned()]
        out += self._member_of()
        self.session.save()
        return out

    def names(self) -> dict[str, str]:
        """The roster entry (`group_email`) of each of one's own groups -> its name (each
        verified), to show a group in a folder's member list by name."""
        return {group_email(g.id): g.name for g in self._owned()}

    def show(self, name: str) -> GroupInfo:
        info = self._info(self._find(name))
        self.session.save()
        return info

    def _member_of(self) -> list[GroupInfo]:
        session, out = self.session, list[GroupInfo]()
        for g in session.api.get_json("/v1/groups")["member_of"]:
            owner_email = normalize_email(str(g["owner_email"]))
            owner, pinned = peer(session, owner_email)
            if not pinned:
                continue  # verified with the first share accepted from them
            _, roster, key = member_group(session, {"group": g["id"]}, owner_email, owner)
            out.append(GroupInfo(str(g["id"]), roster.name(key), owner_email,
                                 roster.version, roster.key_version,
                                 roster.group_fingerprint.hex(), _members(roster)))  # fmt: skip
        return out

    # --- changing ------------------------------------------------------------------------------

    def create(self, name: str) -> GroupInfo:
        if any(g.name == name for g in self._owned()):
            raise ConflictError(409, "conflict", f"a group named {name} exists already")
        gid = os.urandom(16)
        self._write(gid, None, 0, name, 1, [])
        return self.show(name)

    def add(
        self,
        name: str,
        emails: list[str],
        *,
        trust_on_first_use: bool = False,
        confirm: Confirm | None = None,
    ) -> GroupInfo:
        """New members: the group key sealed to each one's pinned key, and a new roster; one
        request whatever the number of shares with the group."""
        g = self._find(name)
        kept = {m.email: m for m in g.roster.members}
        new: dict[str, IdentityBundle] = {}
        for raw in emails:
            email = normalize_email(raw)
            if email == self.session.state.email:
                raise UsageError("the owner of a group is not one of its members")
            if email not in kept:
                new[email] = self.shares._peer_for_share(email, trust_on_first_use, confirm)
        envelopes = {str(m["member_email"]): m for m in g.listed["members"]}
        members: list[tuple[GroupMember, IdentityBundle | None]] = [
            (m, None) for m in kept.values()
        ]
        members += [(GroupMember(b.fingerprint, e), b) for e, b in new.items()]
        self._write(g.id, g, int(g.listed["version"]), g.name, g.roster.key_version,
                    members, envelopes)  # fmt: skip
        return self.show(name)

    def remove(
        self,
        name: str,
        emails: list[str],
        *,
        trust_on_first_use: bool = False,
        confirm: Confirm | None = None,
    ) -> tuple[GroupInfo, list[str]]:
        """Members out: a new group key pair sealed to the others (checked against their pins
        and the signed roster first), then every share with the group rotated and sealed to
        the new group key. Returns the group and the rotated paths."""
        g = self._find(name)
        drop = {normalize_email(e) for e in emails}
        missing = drop - {m.email for m in g.roster.members}
        if missing:
            raise PathNotFoundError(f"not in group {name}: {', '.join(sorted(missing))}")
        keep: list[tuple[GroupMember, IdentityBundle | None]] = [
            (m, self._sealable(m, trust_on_first_use, confirm))
            for m in g.roster.members
            if m.email not in drop
        ]
        kv = g.roster.key_version + 1
        self._write(g.id, g, int(g.listed["version"]), g.name, kv, keep)  # access ends here
        new_group = group_identity(group_key(self.session.keys().root_key, g.id, kv), g.id)
        rotated = []
        places = {i.node: i.path for i in self.shares.items()}
        for s in g.listed["spaces"]:
            path = places.get(str(s["space"]))
            if not path:
                continue  # no longer in one's tree: nothing to rotate
            self.shares.unshare(path, group_email(g.id), trust_on_first_use=trust_on_first_use,
                                confirm=confirm)  # fmt: skip
            _, entry, _ = self.shares._owned(path, create=False)  # with its new key
            self._seal_to_group(entry, g.id, new_group.bundle)
            rotated.append(path)
        self.session.save()
        return self.show(name), rotated

    def share(self, remote: str, name: str) -> str:
        """Share a folder or file with a group: its key sealed to the group's key pair and
        the group named in the folder's owner-signed roster. Returns the group id."""
        g = self._find(name)
        parts, entry, is_file = self.shares._owned(remote, create=True)
        spaces = self.shares.spaces
        around = spaces.space(parts[:-1])
        space = spaces.own(entry.node_id) if not is_file else around
        if not is_file and (around.shared or list(self.shares.nesting.nested(entry, space))):
            raise UsageError(GROUPS_DO_NOT_NEST)
        if not is_file and not space.shared:
            self.shares._adopt(entry, around)  # the subtree joins the space, as for `share`
        key = group_key(self.session.keys().root_key, g.id, g.roster.key_version)
        self._seal_to_group(entry, g.id, group_identity(key, g.id).bundle)
        return g.id.hex()

    def unshare(
        self,
        remote: str,
        name: str,
        *,
        reencrypt: bool = False,
        trust_on_first_use: bool = False,
        confirm: Confirm | None = None,
    ) -> list[str]:
        """End a group's share of a folder or file, as `Shares.unshare` ends a person's:
        the remaining members are checked first (a refusal changes nothing), the group's
        grant ends on the server, then the item gets new keys sealed to the remaining
        members of its signed roster (and other groups) only. Returns the emails of grants
        the server listed that the roster does not name (never sealed to)."""
        g = self._find(name)
        session, email = self.session, group_email(g.id)
        _, entry, _ = self.shares._owned(remote, create=False)
        node = entry.node_id
        roster, _ = load_roster(session, session.api, session.owner, node,
                                session.identity.bundle)  # fmt: skip
        if roster is None or not any(m.email == email for m in roster.members):
            raise PathNotFoundError(f"{remote} is not shared with group {name}")
        listed = self.shares.spaces.listing(fresh=True)["outgoing"]
        # decided before the grant ends, as `unshare` does: a refusal changes nothing
        checked = choose_recipients(  # mutant: groups.unshare-check-first
            roster,
            session.state.peers,
            [s for s in listed if s["space"] == node.hex()],
            partial(served_bundle, session),
            drop=email,
            trust_on_first_use=trust_on_first_use,
            confirm=confirm,
        )
        session.api.request("DELETE", f"/v1/groups/{g.id.hex()}/spaces/{node.hex()}")

        def confirmed(who: str, fingerprint: bytes) -> bool:  # asked once, just above
            return checked.newly_pinned.get(who) == fingerprint.hex()

        strangers = self.shares.unshare(remote, email, reencrypt=reencrypt,
                                        trust_on_first_use=trust_on_first_use,
                                        confirm=confirmed)  # fmt: skip
        session.save()
        return strangers

    # --- helpers -----------------------------------------------------------------------------

    def _sealable(
        self, m: GroupMember, trust_on_first_use: bool, confirm: Confirm | None
    ) -> IdentityBundle:
        """A remaining member's bundle: the one the signed roster names and this device pinned
        (a changed pin raises in `peer`); an unpinned one needs confirmation or TOFU."""
        bundle, pinned = peer(self.session, m.email)
        # mutant: groups.reseal-roster-key
        if bundle.fingerprint != m.fingerprint:
            raise PolicyError(
                f"the server serves a key for {m.email} that is not the one in the group's "
                "signed member list; nothing was changed"
            )
        if pinned:
            return bundle
        if not trust_on_first_use and not (confirm and confirm(m.email, m.fingerprint)):
            raise PolicyError(
                f"{m.email} is in the group but not verified on this device: `blindvault "
                f"trust {m.email} --fingerprint ...`, or pass --trust-on-first-use"
            )
        trust(self.session, m.email, m.fingerprint.hex())
        return bundle

    def _write(
        self,
        gid: bytes,
        current: _Owned | None,
        record_version: int,
        name: str,
        kv: int,
        members: list[tuple[GroupMember, IdentityBundle | None]],
        envelopes: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        """The next roster of a group and every member's row: the group key sealed to a
        member given with a bundle, the listed envelope kept for one given without."""
        session, envelopes = self.session, envelopes or {}
        key = group_key(session.keys().root_key, gid, kv)
        data = seal_group_roster(
            owner=session.owner,
            group_id=gid,
            version=current.roster.version + 1 if current else 1,
            key_version=kv,
            members=[m for m, _ in members],
            name=name,
            key=key,
            signer=session.identity,
            prev_hash=current.roster.hash if current else ZERO_HASH,
        )
        rows = []
        for m, bundle in members:
            if bundle is None:
                listed = envelopes.get(m.email)
                if listed is None:
                    raise IntegrityError(f"the server lists no group key for {m.email}")
                rows.append({"member": str(listed["member"]), "envelope": listed["envelope"]})
                continue
            env = seal_envelope(key, share_id=gid, node_id=gid, key_version=kv, role=ROLE_READ,
                                sender=session.identity, recipient=bundle)  # fmt: skip
            rows.append({"member": self.shares._server_id(m.email), "envelope": b64e(env)})
        session.api.put_json(
            f"/v1/groups/{gid.hex()}",
            {"expected_version": record_version, "roster": b64e(data), "members": rows},
        )
        open_group(session.state, data, session.state.email, gid, session.identity.bundle)
        session.save()

    def _seal_to_group(self, entry: FolderEntry, gid: bytes, group: IdentityBundle) -> None:
        """Name the group in the folder's (or file holder's) roster, at its key version, and
        seal its key to the group's key pair."""
        session = self.session
        email = group_email(gid)
        self.shares.nesting.write_roster(entry, entry.folder_key, entry.key_version, email,
                                  Member(group.fingerprint, ROLE_READ, email))  # fmt: skip
        env = seal_envelope(entry.folder_key, share_id=gid, node_id=entry.node_id,
                            key_version=entry.key_version, role=ROLE_READ,
                            sender=session.identity, recipient=group)  # fmt: skip
        session.api.request("PUT", f"/v1/groups/{gid.hex()}/spaces/{entry.node_id.hex()}",
                            json={"role": "read", "envelope": b64e(env)})  # fmt: skip
        self.shares.spaces.listing(fresh=True)
        session.save()

    def reseal(self, remote: str) -> None:
        """After a rotation (`unshare`), the groups the folder's roster names get the new
        folder key, sealed to each one's current key pair (`Shares.after_rotate`)."""
        session = self.session
        _, entry, _ = self.shares._owned(remote, create=False)
        roster, _ = load_roster(session, session.api, session.owner, entry.node_id,
                                session.identity.bundle)  # fmt: skip
        entries = [m for m in roster.members if is_group_email(m.email)] if roster else []
        if not entries:
            return
        owned = {g.id: g for g in self._owned()}
        for m in entries:
            gid = bytes.fromhex(m.email[2:34])
            g = owned.get(gid)
            if g is None:
                continue
            key = group_key(session.keys().root_key, gid, g.roster.key_version)
            bundle = group_identity(key, gid).bundle
            if bundle.fingerprint != m.fingerprint:
                continue  # the group rotated since: `group remove` re-seals it
            env = seal_envelope(entry.folder_key, share_id=gid, node_id=entry.node_id,
                                key_version=entry.key_version, role=ROLE_READ,
                                sender=session.identity, recipient=bundle)  # fmt: skip
            session.api.request("PUT", f"/v1/groups/{gid.hex()}/spaces/{entry.node_id.hex()}",
                                json={"role": "read", "envelope": b64e(env)})  # fmt: skip


def _members(roster: GroupRoster) -> list[dict[str, str]]:
    return [
        {
            "email": m.email,
            "fingerprint": m.fingerprint.hex(),
            "safety_number": safety_number(m.fingerprint),
        }
        for m in roster.members
    ]
