"""Groups (issue 19), verified: a group's owner-signed roster, fresh on this device, and the
group's key pair opened from the owner-signed envelope sealed to this member.

The server's `GET /v1/groups` is a hint: a roster is accepted only with the owner's
signature (the owner's *pinned* key, or one's own), for that owner and group id, and not
older than, nor forked from, the (version, hash) this device remembers (P-GROUPFRESH); a
member trusts the group key only if the owner's envelope carries it for this group at the
roster's key version and it derives the group fingerprint the roster names (P-GROUPROSTER).
"""

from __future__ import annotations

from typing import Any

from blindvault.client.local.state import AccountState
from blindvault.client.net.http import b64d
from blindvault.client.session import Session
from blindvault.core.envelope import open_envelope
from blindvault.core.group import GroupRoster, check_group_fresh, group_identity, open_group_roster
from blindvault.core.identity import Identity, IdentityBundle
from blindvault.core.kdf import account_id
from blindvault.core.keys import FolderKey
from blindvault.errors import IntegrityError

__all__ = ["check_group", "member_group", "open_group", "remember_group"]


def _seen(state: AccountState, group_id: bytes) -> tuple[int, bytes] | None:
    raw = state.group_heads.get(group_id.hex())
    return None if raw is None else (int(raw[0]), bytes.fromhex(str(raw[1])))


def check_group(state: AccountState, roster: GroupRoster) -> None:
    """Refuse a group roster older than, or forked from, what this device saw."""
    check_group_fresh(_seen(state, roster.group_id), roster)  # mutant: sharing.group-fresh


def remember_group(state: AccountState, roster: GroupRoster) -> None:
    """Advance this device's high-water mark for the group (never backwards)."""
    check_group(state, roster)
    state.group_heads[roster.group_id.hex()] = [roster.version, roster.hash.hex()]


def open_group(
    state: AccountState, data: bytes, owner_email: str, group_id: bytes, owner: IdentityBundle
) -> GroupRoster:
    """A group roster verified (owner, group, signature) and fresh; remembered here."""
    roster = open_group_roster(data, account_id(owner_email), group_id, owner)
    remember_group(state, roster)
    return roster


def member_group(
    session: Session, item: dict[str, Any], owner_email: str, owner: IdentityBundle
) -> tuple[Identity, GroupRoster, FolderKey]:
    """The key pair of the group an incoming share `item` names, for this member: from the
    verified roster and the owner's envelope; `IntegrityError` if anything does not hold."""
    group_hex = str(item["group"])
    listing = session.api.get_json("/v1/groups")
    found = [
        g
        for g in listing["member_of"]
        if g["id"] == group_hex and str(g["owner_email"]) == owner_email
    ]
    if not found:
        raise IntegrityError("this account is not in the group the share names")
    group_id = bytes.fromhex(group_hex)
    roster = open_group(session.state, b64d(found[0]["roster"]), owner_email, group_id, owner)
    # mutant: sharing.group-names-member
    if roster.member(session.fingerprint) is None:
        raise IntegrityError("the group's signed member list does not name this account")
    env = open_envelope(b64d(found[0]["envelope"]), session.identity, owner)
    if not isinstance(env.key, FolderKey):
        raise IntegrityError("the group key is not a group key")
    # the key pair derives from the key and the group id: the roster's fingerprint binds
    # both (an old key version's envelope, another group's, gives another fingerprint)
    identity = group_identity(env.key, group_id)
    # mutant: sharing.group-fingerprint
    if identity.bundle.fingerprint != roster.group_fingerprint:
        raise IntegrityError("the group key is not the one the member list names")
    return identity, roster, env.key
