"""What this account shares, item by item (issue 19, `shares --json` "items"): each shared
folder or file of one's own, with who has what role and since when.

Roles and members come from the verified, fresh, owner-signed roster (P-ROSTER), never
from the server's grant list; the grant list adds what only the server knows (the share
id, whether the member accepted, when the grant was made, `since`, and when its role was
last set, `role_since`: the server's clock, hints) and any grant the roster does not name
(`not_in_roster`, reported, never trusted).
Paths come from one's own signed tree: the whole tree is walked, each folder in its own
space (shared folders and the nested shares inside them), so a shared item whose place is
not found shows an empty path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from blindvault.client.files import Files
from blindvault.client.sharing.grants import ROLES
from blindvault.client.sharing.rosters import load_roster
from blindvault.core.manifest import FileEntry
from blindvault.core.roster import Roster
from blindvault.errors import BlindvaultError

__all__ = ["Holding", "SharedItem", "shared_items"]


@dataclass(frozen=True)
class Holding:
    """One member of a shared item."""

    email: str
    role: str  # "read" or "write", from the owner-signed roster
    since: float | None  # when the server made the grant (its clock; a hint), if it lists one
    accepted: bool
    share_id: str
    reshare: bool = False  # the owner-signed roster lets them re-share
    added_by: str = ""  # the member who re-shared to them (a checked addition), if any
    role_since: float | None = None  # when the server last set the role (a change of role)


@dataclass(frozen=True)
class SharedItem:
    path: str  # in one's own tree ("" if not found there)
    kind: str  # "file" or "folder"
    node: str
    members: list[Holding]
    not_in_roster: list[str]  # emails the server lists as grantees that the roster does not name
    problem: str = ""  # why its member list does not verify ("" when it does)


def _email_of(roster: Roster, fingerprint: bytes | None) -> str:
    found = roster.member(fingerprint) if fingerprint is not None else None
    return found.email if found is not None else ""


def shared_items(files: Files) -> list[SharedItem]:
    session, spaces = files.session, files.spaces
    grants = spaces.listing(fresh=True)["outgoing"]
    places = _places(files)
    nodes = sorted({str(g["space"]) for g in grants} | set(places))
    me = session.identity.bundle
    out = []
    for node in nodes:
        path, kind = places.get(node, ("", "folder"))
        try:
            roster, _ = load_roster(session, session.api, session.owner, bytes.fromhex(node), me)
        except BlindvaultError as exc:  # reported with the item, never shown as members
            out.append(SharedItem(path, kind, node, [], [], str(exc) or type(exc).__name__))
            continue
        listed: dict[str, dict[str, Any]] = {
            str(g["member_email"]): g for g in grants if g["space"] == node
        }
        members = [
            Holding(
                m.email,
                ROLES[m.role],
                float(listed[m.email]["created_at"]) if m.email in listed else None,
                bool(listed[m.email]["accepted"]) if m.email in listed else False,
                str(listed[m.email]["id"]) if m.email in listed else "",
                m.reshare,
                _email_of(roster, roster.granter(m.fingerprint)) if roster else "",
                _role_since(listed.get(m.email)),
            )
            for m in (roster.members if roster else ())
        ]
        named = {m.email for m in members}
        strangers = sorted(e for e in listed if e not in named)
        if not members and not strangers:
            continue  # shared once, with nobody now
        out.append(SharedItem(path, kind, node, members, strangers))
    return out


def _role_since(grant: dict[str, Any] | None) -> float | None:
    """When the server set the member's role (a hint, like `since`); a server that does not
    list it: the grant's own time."""
    if grant is None:
        return None
    value = grant.get("role_since")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return float(grant["created_at"])


def _places(files: Files) -> dict[str, tuple[str, str]]:
    """node hex -> (path, kind) of every shared item in one's own private tree."""
    session, spaces = files.session, files.spaces
    opened = session.keys()
    found: dict[str, tuple[str, str]] = {}
    stack = [("", opened.bundle.root_node, opened.root_key, 1, spaces.private)]
    while stack:
        base, node, key, kv, space = stack.pop()
        folder, _ = session.tree.read(node, key, kv, space)
        for e in folder.body.entries:
            path = f"{base}/{e.name}"
            if isinstance(e, FileEntry):
                if not space.shared and spaces.is_shared(e.node_id):
                    found[e.node_id.hex()] = (path, "file")
                continue
            below = spaces.below(space, e.node_id)
            if below.node_id != space.node_id:  # a shared folder (nested ones too, issue 19)
                found[e.node_id.hex()] = (path, "folder")
            stack.append((path, e.node_id, e.folder_key, e.key_version, below))
    return found
