"""Grants: a member's access to a shared folder, with the folder key in an envelope.

The owner seals the folder key to the member's *pinned* bundle and signs the envelope; the
member opens it only with the owner's *pinned* bundle, and only if the owner-signed roster
confirms it (P-PEERKEY, P-ROSTER, P-BIND). The owner's account id is derived from the
owner's email on the client, so the server cannot present another account's folder under a
trusted name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from blindvault.client.net.http import b64d, b64e
from blindvault.client.peers import peer, trust
from blindvault.client.session import Session
from blindvault.client.sharing.groupkeys import member_group
from blindvault.client.sharing.rosters import load_roster, writers
from blindvault.client.tree import Space
from blindvault.core.constants import ROLE_READ, ROLE_WRITE
from blindvault.core.envelope import open_envelope, seal_envelope
from blindvault.core.identity import IdentityBundle
from blindvault.core.kdf import account_id, normalize_email
from blindvault.core.keys import FolderKey
from blindvault.errors import IntegrityError, PolicyError

__all__ = ["ROLES", "Mount", "open_incoming", "seal_grant"]

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
    session: Session, item: dict[str, Any], *, pin: bool = False
) -> tuple[Mount, str]:
    """Verify an incoming share end to end; returns where it mounts and its name."""
    owner_email = normalize_email(str(item["owner_email"]))
    owner = account_id(owner_email)  # the roster must be signed for this very owner
    if pin and owner_email not in session.state.peers:
        trust(session, owner_email)
    sender, pinned = peer(session, owner_email)
    if not pinned:
        raise PolicyError(
            f"{owner_email} is not verified: compare safety numbers, then "
            f"`blindvault trust {owner_email} --fingerprint ...` (or accept with "
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
    roster, _ = load_roster(session, api, owner, env.node_id, sender)
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
    space = Space(api, writers(session, roster, sender), env.node_id)
    mount = Mount(space, env.node_id, env.key, env.key_version, env.role)
    return mount, roster.name(env.key)


def seal_grant(
    session: Session,
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
        sender=session.identity,
        recipient=recipient,
    )
    result = session.api.put_json(
        "/v1/shares",
        {
            "id": share_id.hex(),
            "space": node.hex(),
            "member": member_id,
            "role": ROLES[role],
            "envelope": b64e(envelope),
        },
    )
    return str(result["id"])
