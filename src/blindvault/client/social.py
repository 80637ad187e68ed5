"""Social (k-of-n) recovery, for the owner and for the contacts (issue 17).

Owner (`setup`, `status`, `veto`): a new recovery key is made and wrapped into the key
bundle (the 24 words change with it: words and shares are two encodings of one key), split
with SLIP-39, and each share is sealed to a contact's *pinned* key; the owner signs the
threshold, the waiting period and the contacts' keys. Every device of the account lists
the requests against it and can veto one (a signed veto the contacts' devices check).

Contact (`incoming`, `approve`): a request is shown with the owner-signed setup checked
against this device's pin of the owner. Approving needs the short code the requester reads
out (it is derived from the requesting device's key, so an approval sealed to another key
is impossible after the comparison); the share is released — re-sealed to that key — only
once this device's own clock says the owner's waiting period has passed since it first saw
the request, and only if no owner veto is known. Nothing here trusts the server's clock,
threshold or list of contacts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from blindvault.client.account_keys import replace_keys
from blindvault.client.net.http import b64d, b64e
from blindvault.client.peers import peer
from blindvault.client.session import Session
from blindvault.client.tree import now_ms
from blindvault.core import social
from blindvault.core.identity import IdentityBundle
from blindvault.core.keys import RecoveryKey
from blindvault.core.recovery import recovery_words, split_recovery_key
from blindvault.errors import IntegrityError, NotFoundError, PolicyError, UsageError
from blindvault.wire import recovery as wire

__all__ = ["Incoming", "SetupResult", "approve", "incoming", "setup", "status", "veto"]


@dataclass(frozen=True)
class SetupResult:
    words: list[str]  # the new 24 recovery words (the old ones stop working)
    printed: list[str]  # SLIP-39 shares for offline custodians (show once)
    setup: social.Setup


@dataclass(frozen=True)
class Incoming:
    """A verified request a contact may approve."""

    request_id: str
    owner: str
    device_key: bytes
    code: str
    setup: social.Setup
    share: bytes
    vetoed: bool
    approved_here: bool  # this device confirmed the code
    released: bool  # this device released its share (or the server says it has one)
    release_at_ms: int  # when this device's clock allows the release


def _pinned(session: Session, email: str, role: str) -> IdentityBundle:
    bundle, pinned = peer(session, email)  # PolicyError if the pin changed
    if not pinned:
        raise PolicyError(
            f"{role} {email} is not verified on this device: compare safety numbers out of "
            f"band and run `blindvault trust {email}` first"
        )
    return bundle


def setup(
    session: Session,
    password: str,
    contacts: list[str],
    *,
    threshold: int,
    wait_s: int,
    printed: int = 0,
    totp: str | None = None,
) -> SetupResult:
    """Make a new recovery key, split it k-of-n, seal each share to a pinned contact.

    The key change (with proof of the password) comes first: shares are never uploaded for
    a key the account does not use. A re-setup replaces the old shares (their key is gone)."""
    if not contacts and not printed:
        raise UsageError("name at least one contact (--to) or printed share (--print)")
    bundles = [_pinned(session, email, "contact") for email in contacts]
    identity = session.keys().identity
    if any(b.fingerprint == identity.bundle.fingerprint for b in bundles):
        raise UsageError("you cannot be your own recovery contact")
    signed = social.sign_setup(
        identity, bundles, threshold=threshold, printed=printed, wait_s=wait_s,
        created_ms=now_ms(), setup_id=os.urandom(16),
    )  # fmt: skip
    recovery = RecoveryKey.generate()
    shares = split_recovery_key(recovery, threshold, len(bundles) + printed)
    sealed = [
        {"contact": b.email, "share": b64e(social.seal_share(s, signed, identity, b))}
        for s, b in zip(shares, bundles, strict=False)
    ]
    replace_keys(session, password, recovery_key=recovery, totp=totp)
    proof = dict(session.proof)
    if totp:
        proof["totp"] = totp
    body = {"setup": b64e(signed.encoded), "shares": sealed, "proof": proof}
    session.api.request("PUT", "/v1/recovery/setup", json=body)
    return SetupResult(recovery_words(recovery), shares[len(bundles) :], signed)


def status(session: Session) -> tuple[social.Setup | None, list[wire.Pending]]:
    """This account's setup (checked against its own identity) and the requests against it."""
    try:
        answer = session.api.get_as(wire.SetupAnswer, "/v1/recovery/setup")
        found: social.Setup | None = social.Setup.decode(
            b64d(answer.setup), session.keys().identity.bundle
        )
    except NotFoundError:
        found = None
    pending = session.api.get_as(wire.PendingList, "/v1/recovery/pending").requests
    return found, pending


def veto(session: Session, request_id: str) -> None:
    """Veto a recovery request against this account (signed by this account's identity)."""
    rid = _request_id(request_id)
    signed = social.sign_veto(session.keys().identity, rid)
    session.api.post_json(f"/v1/recovery/requests/{request_id}/veto", {"veto": b64e(signed)})


def _request_id(text: str) -> bytes:
    try:
        rid = bytes.fromhex(text)
    except ValueError:
        rid = b""
    if len(rid) != 16 or rid.hex() != text:
        raise UsageError("a request id is 32 lowercase hex characters")
    return rid


def incoming(session: Session) -> tuple[list[Incoming], list[tuple[str, str, str]]]:
    """Requests of accounts that named this user as a contact, each checked against this
    device's pin of the owner; and (request id, owner, why) of those that cannot be (their
    owner is not pinned here, or the pin changed): they cannot be approved."""
    answer = session.api.get_as(wire.IncomingList, "/v1/recovery/incoming")
    state, now = session.state, now_ms()
    out, refused = [], []
    for item in answer.requests:
        rid = _request_id(item.request_id)
        try:
            owner = _pinned(session, item.email, "the account owner")
        except PolicyError as exc:
            refused.append((item.request_id, item.email, str(exc)))
            continue
        setup_ = social.Setup.decode(b64d(item.setup), owner)
        device_key = b64d(item.device_key)
        if len(device_key) != 32:
            raise IntegrityError("the request's device key is malformed")
        seen = state.recovery_seen.setdefault(item.request_id, now)
        vetoed = item.veto is not None and social.check_veto(b64d(item.veto), owner, rid)
        out.append(
            Incoming(
                item.request_id, item.email, device_key,
                social.request_code(rid, item.email, device_key), setup_, b64d(item.share),
                vetoed, state.recovery_approved.get(item.request_id) == device_key.hex(),
                item.request_id in state.recovery_released or item.approved,
                seen + setup_.wait_s * 1000,
            )
        )  # fmt: skip
    session.save()  # first-seen times are this device's own facts
    return out, refused


def approve(session: Session, request_id: str, code: str | None) -> Incoming:
    """Approve a request after comparing `code`; release the share when the wait is over.

    Returns the request as it now stands (`released` tells whether the share went out).
    A wrong code, a veto or a request for an owner not pinned here is refused (exit 8)."""
    listed, refused = incoming(session)
    for rid, _, why in refused:
        if rid == request_id:
            raise PolicyError(why)
    req = next((i for i in listed if i.request_id == request_id), None)
    if req is None:
        raise NotFoundError(404, "not_found", f"no recovery request {request_id} for you")
    state = session.state
    if code is not None:
        # mutant: social.code-binding
        if not social.same_code(code, req.code):
            raise PolicyError(
                "the code does not match this request: do not approve (a typo, or the "
                "request is not from the device you spoke with); nothing was sent"
            )
        state.recovery_approved[request_id] = req.device_key.hex()
        session.save()
    elif state.recovery_approved.get(request_id) != req.device_key.hex():
        raise UsageError("give the code the requester reads out to you: --code CODE")
    if req.vetoed:  # mutant: social.veto
        raise PolicyError("the account owner vetoed this recovery request; nothing was sent")
    if req.released:
        return req
    # mutant: social.wait
    if not social.wait_over(state.recovery_seen[request_id], now_ms(), req.setup.wait_s):
        return replace(req, approved_here=True)
    return _release(session, req)


def _release(session: Session, req: Incoming) -> Incoming:
    me = session.keys().identity
    if req.setup.contact(me.bundle.fingerprint) is None:
        raise IntegrityError("the owner's setup does not name this device's identity")
    share = social.open_share(req.share, req.setup, me, _pinned(session, req.owner, "owner"))
    approval = social.seal_approval(
        share, request_id=bytes.fromhex(req.request_id), owner_email=req.owner,
        device_key=req.device_key, contact_fp=me.bundle.fingerprint,
    )  # fmt: skip
    session.api.post_json(
        f"/v1/recovery/requests/{req.request_id}/approval", {"approval": b64e(approval)}
    )
    session.state.recovery_released.append(req.request_id)
    session.save()
    return replace(req, approved_here=True, released=True)
