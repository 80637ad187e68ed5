"""Re-sharing an accepted share (`share @team --with carol`): allowed only when the owner's
signed roster lets this member re-share (`share --allow-reshare`, P-RESHARE).

The member signs an addition on top of the roster it verified (core/reshare.py) and seals
the folder key it holds to the new person's pinned key; the server records the grant under
the owner's space, naming this member as the one who made it.
"""

from __future__ import annotations

import os

from blindvault.client.session import Session
from blindvault.client.sharing.grants import Mount, seal_grant
from blindvault.client.sharing.reshares import add_member
from blindvault.client.sharing.rosters import load_roster
from blindvault.core.identity import IdentityBundle
from blindvault.core.kdf import account_id
from blindvault.core.roster import Member
from blindvault.errors import IntegrityError, PolicyError, UsageError

__all__ = ["reshare"]


def reshare(
    session: Session,
    mount: Mount,
    owner: tuple[str, str, IdentityBundle],
    member: IdentityBundle,
    member_id: str,
    role: int,
) -> str:
    """Add `member` (pinned here; server account `member_id`) to a share of another account
    (`owner` = email, server account id, pinned bundle); returns the new share id."""
    owner_email, owner_id, owner_bundle = owner
    node = mount.node_id
    api = session.api.scoped(owner_id, node.hex())
    roster, _ = load_roster(session, api, account_id(owner_email), node, owner_bundle)
    if roster is None:
        raise IntegrityError("the share has no signed member list")
    me = roster.member(session.fingerprint)
    # mutant: resharing.own-right
    if me is None or not me.reshare:
        raise PolicyError("the owner does not let you re-share this folder")
    if role > me.role:
        raise PolicyError("you may re-share this folder read-only only (as you hold it)")
    if member.fingerprint == roster.owner_fingerprint or any(
        m.fingerprint == member.fingerprint or m.email == member.email for m in roster.members
    ):
        raise UsageError(f"{member.email} is a member of this folder already")
    add_member(session, api, roster, Member(member.fingerprint, role, member.email))
    return seal_grant(
        session,
        os.urandom(16),
        node,
        member_id,
        role,
        mount.key,
        mount.key_version,
        member,
        owner=owner_id,
    )
