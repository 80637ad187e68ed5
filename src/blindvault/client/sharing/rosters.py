"""Rosters: a shared folder's owner-signed member list (record "roster", id = folder node).

Members accept manifests only from the owner and the read-write members the roster names
(P-ROSTER, P-NOINJECT), and refuse a roster older than one they saw (P-ROSTERFRESH)."""

from __future__ import annotations

from collections.abc import Sequence

from blindvault.client.net.http import ApiClient, b64d, b64e
from blindvault.client.peers import fetch_bundle
from blindvault.client.session import Session
from blindvault.client.sharing.reshares import with_additions
from blindvault.client.sharing.rosterfresh import check_roster, missing_roster, remember_roster
from blindvault.core.constants import ROLE_WRITE
from blindvault.core.identity import IdentityBundle
from blindvault.core.keys import FolderKey
from blindvault.core.manifest import ZERO_HASH, FolderEntry
from blindvault.core.roster import Member, Roster, open_roster, seal_roster
from blindvault.errors import ConflictError, NotFoundError
from blindvault.wire.accounts import Identity
from blindvault.wire.records import Record

__all__ = ["MAX_RETRIES", "load_roster", "write_roster", "writers"]

MAX_RETRIES = 10


def load_roster(
    session: Session,
    api: ApiClient,
    owner: bytes,
    node: bytes,
    signer: IdentityBundle,
    *,
    remember: bool = True,
) -> tuple[Roster | None, int]:
    """The verified, fresh roster of `node` (None if it has none) and its record version,
    with the members re-sharing members added (`reshares.with_additions`, checked)."""
    # the owner's devices check the roster against the owner's signed root too
    root = session.tree.load_root() if owner == session.owner else None
    try:
        rec = api.get_as(Record, f"/v1/records/roster/{node.hex()}")
    except NotFoundError:
        missing_roster(session.state, node, root)
        return None, 0
    roster = open_roster(b64d(rec.data), owner, node, signer)
    check_roster(session.state, roster, root)
    if remember:  # else the caller remembers it once it trusts `signer` (re-shares)
        remember_roster(session.state, roster)
    return with_additions(session, api, roster), rec.version


def writers(session: Session, roster: Roster, owner: IdentityBundle) -> dict[bytes, IdentityBundle]:
    """Bundles of the owner and the read-write members, each matching the roster's
    fingerprint (the owner vouches for them by signing the roster)."""
    found = {owner.fingerprint: owner}
    for m in roster.members:
        if m.role != ROLE_WRITE:
            continue
        if m.fingerprint == session.fingerprint:
            found[m.fingerprint] = session.identity.bundle
            continue
        served = session.api.get_as(Identity, f"/v1/identities/{m.email}")
        bundle = IdentityBundle.decode(b64d(served.identity_bundle))
        # mutant: sharing.writer-key-matches-roster [accept]
        if bundle.fingerprint == m.fingerprint and bundle.email == m.email:
            found[m.fingerprint] = bundle
        # a member whose served key differs is simply not accepted as a writer
    return found


def write_roster(
    session: Session,
    entry: FolderEntry,
    key: FolderKey,
    kv: int,
    email: str,
    role: Member | None,
    also: Sequence[Member] = (),
) -> None:
    """The next roster version of one's own shared folder: `email` dropped, and added back
    as `role` when given; members, key version and name otherwise as now (members added by
    re-sharing members included: the owner's signature takes them over). `also`: members
    added besides (a nested share's first roster copies the enclosing folder's, issue 19)."""
    node, me = entry.node_id, session.identity.bundle
    api = session.api.scoped(None, node.hex())
    for _ in range(MAX_RETRIES):
        current, record_version = load_roster(session, session.api, session.owner, node, me)
        for m in current.members if current else ():
            if current and current.granter(m.fingerprint) and m.email not in session.state.peers:
                # folded into the owner's roster: vouched for by the re-sharing member
                session.state.peers[m.email] = m.fingerprint.hex()
        gone = {email, *(m.email for m in also)}
        others = [m for m in (current.members if current else ()) if m.email not in gone]
        others += also
        data = seal_roster(
            owner=session.owner,
            node_id=node,
            version=(current.version + 1) if current else 1,
            key_version=kv,
            members=[*others, role] if role else others,
            name=entry.name,
            key=key,
            signer=session.identity,
            prev_hash=current.hash if current else ZERO_HASH,
        )
        try:
            api.put_json(
                f"/v1/records/roster/{node.hex()}",
                {"expected_version": record_version, "data": b64e(data)},
            )
        except ConflictError:
            continue
        opened = open_roster(data, session.owner, node, me)
        remember_roster(session.state, opened)
        session.tree.bind_roster(opened.head)
        return
    raise ConflictError(409, "stale_version", "the member list kept changing; try again")


def served_bundle(session: Session, email: str) -> IdentityBundle:
    """The bundle the server publishes for `email` (self-signed; trusted by nothing)."""
    return fetch_bundle(session.api, email)
