"""Re-shares on the client: a folder's member-signed additions (record "reshares", id =
folder node, core/reshare.py) read onto its owner-signed roster, and writing one.

Every device that loads a roster whose owner lets someone re-share also loads the
additions: one naming an older roster is obsolete and skipped (the owner folded it into
the roster it signed since); every other one must pass `check_addition` — signed by a
member the roster lets re-share, with that member's key as the roster names it — or the
whole roster is refused (`IntegrityError`, CLI exit 10, P-RESHARE). A server that adds an
addition, or a member without the right who writes one, is caught here.
"""

from __future__ import annotations

from functools import partial

from blindvault.client.net.http import ApiClient, b64d, b64e
from blindvault.client.peers import fetch_bundle
from blindvault.client.session import Session
from blindvault.core.identity import IdentityBundle
from blindvault.core.reshare import (
    Addition,
    apply_additions,
    decode_list,
    encode_list,
    open_addition,
    seal_addition,
)
from blindvault.core.roster import Member, Roster
from blindvault.errors import ConflictError, FormatError, IntegrityError, NotFoundError
from blindvault.wire.records import Record

__all__ = ["KIND", "add_member", "with_additions"]

KIND = "reshares"
MAX_RETRIES = 10


def _bundle(session: Session, member: Member) -> IdentityBundle:
    """The re-sharing member's key: one's own, or the server's (checked against the
    roster's fingerprint by `check_addition`)."""
    if member.fingerprint == session.fingerprint:
        return session.identity.bundle
    return fetch_bundle(session.api, member.email)


def _read(api: ApiClient, node: bytes) -> tuple[list[Addition], int]:
    try:
        rec = api.get_as(Record, f"/v1/records/{KIND}/{node.hex()}")
    except NotFoundError:
        return [], 0
    try:
        return [open_addition(a) for a in decode_list(b64d(rec.data))], rec.version
    except FormatError:
        raise IntegrityError("a folder's re-share list is malformed") from None


def with_additions(session: Session, api: ApiClient, roster: Roster) -> Roster:
    """`roster` with the members its re-sharing members added, each checked
    (`core.reshare.apply_additions`)."""
    if not any(m.reshare for m in roster.members):
        return roster  # nobody may re-share: additions, if the server serves any, count not
    additions, _ = _read(api, roster.node_id)
    return apply_additions(roster, additions, partial(_bundle, session))


def add_member(session: Session, api: ApiClient, roster: Roster, member: Member) -> None:
    """Sign and store an addition of `member` on top of `roster` (one's own re-share);
    obsolete additions are dropped from the list as it is written again."""
    node = roster.node_id
    for _ in range(MAX_RETRIES):
        additions, version = _read(api, node)
        keep = [a.body + a.signature for a in additions if a.roster_hash == roster.hash]
        keep.append(seal_addition(roster, member, session.identity))
        try:
            api.put_json(
                f"/v1/records/{KIND}/{node.hex()}",
                {"expected_version": version, "data": b64e(encode_list(keep))},
            )
        except ConflictError:
            continue
        return
    raise ConflictError(409, "stale_version", "the member list kept changing; try again")
