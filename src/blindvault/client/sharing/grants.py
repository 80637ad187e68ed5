"""Grants: a member's access to a shared folder, with the folder key in an envelope.

The owner seals the folder key to the member's *pinned* bundle and signs the envelope; the
member opens it only with the owner's *pinned* bundle, and only if the owner-signed roster
confirms it (P-PEERKEY, P-ROSTER, P-BIND). The owner's account id is derived from the
owner's email on the client, so the server cannot present another account's folder under a
trusted name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from blindvault.client.net.http import ApiClient, b64d, b64e
from blindvault.client.peers import peer, trust
from blindvault.client.session import Session
from blindvault.client.sharing.groupkeys import member_group
from blindvault.client.sharing.rosterfresh import remember_roster
from blindvault.client.sharing.rosters import load_roster, writers
from blindvault.client.tree import Space
from blindvault.core.constants import ROLE_READ, ROLE_WRITE
from blindvault.core.envelope import open_envelope, seal_envelope
from blindvault.core.identity import IdentityBundle
from blindvault.core.kdf import account_id, normalize_email
from blindvault.core.keys import FolderKey
from blindvault.core.roster import Roster
from blindvault.errors import IntegrityError, PolicyError

__all__ = ["ROLES", "Mount", "open_incoming", "resharer_roster", "seal_grant"]

ROLES = {ROLE_READ: "read", ROLE_WRITE: "write"}


@dataclass(frozen=True)
class Mount:
    """An accepted, verified incoming share: where it lives and the key to read it."""

    space: Space
    node_id: bytes
    key: FolderKey
    key_version: int
    role: int


def open_incoming(
    session: Session, item: dict[str, Any], *, pin: bool = False, accepting: bool = False
) -> tuple[Mount, str]:
    """Verify an incoming share end to end; returns where it mounts and its name. `pin`:
    pin the sender's key on first use; `accepting`: the user accepts it now (a re-share
    then pins the owner's key the re-sharing member vouched for)."""
    owner_email = normalize_email(str(item["owner_email"]))
    owner = account_id(owner_email)  # the roster must be signed for this very owner
    by_email = normalize_email(str(item.get("by_email") or owner_email))
    if pin and by_email not in session.state.peers:
        trust(session, by_email)
    sender, pinned = peer(session, by_email)
    if not pinned:
        raise PolicyError(
            f"{by_email} is not verified: compare safety numbers, then "
            f"`blindvault trust {by_email} --fingerprint ...` (or accept with "
            "--trust-on-first-use)"
        )
    recipient = session.identity  # or, for a share with a group (issue 19), the group
    if item.get("group"):
        recipient, _, _ = member_group(session, item, owner_email, sender)
    env = open_envelope(b64d(item["envelope"]), recipient, sender)
    # mutant: sharing.envelope-for-this-folder
    if not isinstance(env.key, FolderKey) or env.node_id.hex() != item["space"]:
        raise IntegrityError("the envelope is for another folder")
    api = session.api.scoped(str(item["owner"]), env.node_id.hex())
    owner_bundle = sender
    if by_email == owner_email:
        roster, _ = load_roster(session, api, owner, env.node_id, sender)
    else:
        roster, owner_bundle = resharer_roster(session, api, owner_email, env.node_id, sender)
    if roster is None:
        raise IntegrityError("the share has no signed member list")
    me = roster.member(recipient.bundle.fingerprint)
    # mutant: sharing.roster-confirms-envelope
    if me is None or me.role != env.role or roster.key_version != env.key_version:
        raise IntegrityError("the member list does not confirm this share")
    seen = session.state.key_versions.get(env.node_id.hex(), 0)
    if env.key_version < seen:  # mutant: sharing.key-version-rollback
        raise IntegrityError("the share's key was rolled back")
    session.state.key_versions[env.node_id.hex()] = env.key_version
    if accepting and owner_email not in session.state.peers:  # vouched for: see resharer_roster
        trust(session, owner_email, roster.owner_fingerprint.hex())
    space = Space(api, writers(session, roster, owner_bundle), env.node_id, owner_email)
    mount = Mount(space, env.node_id, env.key, env.key_version, env.role)
    return mount, roster.name(env.key)


def resharer_roster(
    session: Session,
    api: ApiClient,
    owner_email: str,
    node: bytes,
    sender: IdentityBundle,
) -> tuple[Roster | None, IdentityBundle]:
    """The roster (and the owner's key) of a folder a member (`sender`, pinned here)
    re-shared with this account.

    The sender must be a member the roster lets re-share. If this device has not pinned the
    owner, the roster is trusted only because the pinned sender signed an addition naming
    this account on top of this very roster (its hash): then the owner's key is the one
    the roster names, and accepting the share pins it for the owner's later grants."""
    owner_bundle, owner_pinned = peer(session, owner_email)
    owner = account_id(owner_email)
    roster, _ = load_roster(session, api, owner, node, owner_bundle, remember=owner_pinned)
    if roster is None:
        return None, owner_bundle
    granter = roster.member(sender.fingerprint)
    # mutant: sharing.reshare-sender-may-reshare
    if granter is None or not granter.reshare:
        raise IntegrityError("the member who shared this may not re-share it")
    # mutant: sharing.reshare-vouches-roster
    if not owner_pinned and roster.granter(session.fingerprint) != sender.fingerprint:
        raise IntegrityError("the member list does not confirm this re-share")
    remember_roster(session.state, roster)  # trusted now: its (version, hash) is kept
    return roster, owner_bundle


def seal_grant(
    session: Session,
    share_id: bytes,
    node: bytes,
    member_id: str,
    role: int,
    key: FolderKey,
    kv: int,
    recipient: IdentityBundle,
    *,
    owner: str | None = None,
    reshare: bool = False,
) -> str:
    """Grant (or re-grant) a member, with the folder key sealed to their pinned bundle;
    returns the share id the server keeps. `owner` (the server's account id) when a member
    re-shares another account's folder; `reshare` tells the server the owner lets the
    member re-share (a hint: the signed roster decides)."""
    envelope = seal_envelope(
        key,
        share_id=share_id,
        node_id=node,
        key_version=kv,
        role=role,
        sender=session.identity,
        recipient=recipient,
    )
    body: dict[str, Any] = {
        "id": share_id.hex(),
        "space": node.hex(),
        "member": member_id,
        "role": ROLES[role],
        "envelope": b64e(envelope),
    }
    if owner is not None:
        body["owner"] = owner
    if reshare:
        body["reshare"] = True
    result = session.api.put_json("/v1/shares", body)
    return str(result["id"])
