"""The pairing relay (issue 17, part 4): one-shot mailboxes between two devices.

The server relays opaque bytes (two SPAKE2 messages, a confirmation tag, a sealed payload)
and enforces the one rule it can: a mailbox takes ONE join, ever. A wrong or guessed code
therefore costs the mailbox: the signed-in device sees the confirmation tag fail and closes
it (`failed`), and nobody can try a second code on it; a replayed code finds the mailbox
used. Only the signed-in device of the mailbox's account sees the join, creates the new
device's session (`accept`) and posts the payload; only the joiner, holding the random
claim it got when joining, collects the payload, once.

    open ─join→ joined ─accept→ accepted ─payload→ sealed ─deliver→ delivered
      └──────────┴────────────────┴─fail/expiry→ failed (the new device's row is revoked)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from blindvault.server.domain import audit as audit_log
from blindvault.server.domain.sessions import open_session
from blindvault.server.errors import ApiError, not_found
from blindvault.server.storage.schema import devices, pairings
from blindvault.wire.accounts import Session

PAIRING_TTL = 600.0  # seconds a code stays usable
_KEEP = 86400.0  # a used channel is not handed out again for a day
_DIGITS = 5
_LIVE = ("open", "joined", "accepted", "sealed")


def _gone(message: str = "this pairing code was already used, or has expired") -> ApiError:
    return ApiError(410, "pairing_gone", message)


def _claim_hash(claim: str) -> str:
    return hashlib.sha256(claim.encode("utf-8")).hexdigest()


def open_mailbox(conn: Connection, account_id: str, message: bytes) -> tuple[str, float]:
    """A fresh mailbox under a channel no row holds; returns (channel, expires_at)."""
    now = time.time()
    conn.execute(delete(pairings).where(pairings.c.expires_at < now - _KEEP))
    for _ in range(50):
        channel = str(10 ** (_DIGITS - 1) + secrets.randbelow(9 * 10 ** (_DIGITS - 1)))
        taken = conn.execute(select(pairings.c.channel).where(pairings.c.channel == channel))
        if taken.first() is None:
            break
    else:
        raise ApiError(503, "unavailable", "no free pairing channel; retry later")
    expires = now + PAIRING_TTL
    conn.execute(
        insert(pairings).values(
            channel=channel,
            account_id=account_id,
            state="open",
            message_a=message,
            created_at=now,
            expires_at=expires,
        )
    )
    audit_log.record(conn, account_id, "pairing_opened", channel=channel)
    return channel, expires


def _row(conn: Connection, channel: str) -> Any:
    row = conn.execute(select(pairings).where(pairings.c.channel == channel)).first()
    if row is None:
        raise not_found("pairing code")
    return row


def _own(conn: Connection, channel: str, account_id: str) -> Any:
    row = _row(conn, channel)
    if row.account_id != account_id:
        raise not_found("pairing code")  # the same answer as a missing one
    return row


def _expired(row: Any) -> bool:
    return bool(row.state in _LIVE and time.time() > row.expires_at)


def offer(conn: Connection, channel: str) -> bytes:
    """The signed-in device's SPAKE2 message, while the mailbox is open."""
    row = _row(conn, channel)
    if row.state != "open" or _expired(row):  # mutant: server.pairing-one-join
        raise _gone()
    return bytes(row.message_a)


def join(conn: Connection, channel: str, message: bytes, confirm: bytes, name: str) -> str:
    """The one join of this mailbox; returns the claim that collects the payload."""
    row = _row(conn, channel)  # 404 for a channel that never existed
    if row.state != "open" or _expired(row):  # mutant: server.pairing-one-join
        raise _gone()
    claim = secrets.token_urlsafe(24)
    joined = conn.execute(
        update(pairings)
        .where(pairings.c.channel == channel, pairings.c.state == row.state)  # no race
        .values(
            state="joined",
            message_b=message,
            confirm_b=confirm,
            device_name=name,
            claim_hash=_claim_hash(claim),
        )
    ).rowcount
    if joined != 1:
        raise _gone()
    return claim


def status(conn: Connection, channel: str, account_id: str) -> dict[str, Any]:
    """What the signed-in device polls: the join (message, tag, name) once it happened."""
    row = _own(conn, channel, account_id)
    if _expired(row):
        _close(conn, row)
        raise _gone("the pairing code expired before the other device used it")
    answer: dict[str, Any] = {"state": row.state}
    if row.state != "open" and row.message_b is not None:
        answer.update(message=row.message_b, confirm=row.confirm_b, device_name=row.device_name)
    return answer


def accept(conn: Connection, channel: str, account_id: str, address: str) -> Session:
    """After the tag checked out on the signed-in device: the new device's own session."""
    row = _own(conn, channel, account_id)
    moved = conn.execute(
        update(pairings)
        .where(pairings.c.channel == channel, pairings.c.state == "joined")
        .values(state="accepted")
    ).rowcount
    if moved != 1 or _expired(row):
        raise _gone()
    session = open_session(conn, account_id, row.device_name or "device", "pairing", address)
    conn.execute(
        update(pairings).where(pairings.c.channel == channel).values(device_id=session.device_id)
    )
    return session


def store_payload(conn: Connection, channel: str, account_id: str, sealed: bytes) -> None:
    _own(conn, channel, account_id)
    moved = conn.execute(
        update(pairings)
        .where(pairings.c.channel == channel, pairings.c.state == "accepted")
        .values(state="sealed", payload=sealed)
    ).rowcount
    if moved != 1:
        raise _gone()


def fail(conn: Connection, channel: str, account_id: str) -> None:
    """The signed-in device ends the pairing (wrong code, or the user said no)."""
    _close(conn, _own(conn, channel, account_id))


def _close(conn: Connection, row: Any, *, also_delivered: bool = False) -> None:
    if row.state not in _LIVE and not (also_delivered and row.state == "delivered"):
        return
    conn.execute(
        update(pairings)
        .where(pairings.c.channel == row.channel)
        .values(state="failed", payload=None, message_a=b"")
    )
    if row.device_id:
        conn.execute(update(devices).where(devices.c.id == row.device_id).values(revoked=True))
    audit_log.record(conn, row.account_id, "pairing_failed", channel=row.channel)


def _claimed(conn: Connection, channel: str, claim: str) -> Any:
    row = _row(conn, channel)
    # mutant: server.pairing-claim
    if row.claim_hash is None or not hmac.compare_digest(row.claim_hash, _claim_hash(claim)):
        raise not_found("pairing code")
    return row


def abandon(conn: Connection, channel: str, claim: str) -> None:
    """The new device gives up (the payload did not verify): the pairing fails and the
    device row made for it is revoked, even after delivery."""
    _close(conn, _claimed(conn, channel, claim), also_delivered=True)


def deliver(conn: Connection, channel: str, claim: str) -> bytes | None:
    """The sealed payload, once, to the joiner holding `claim`; None while not there yet."""
    row = _claimed(conn, channel, claim)
    if row.state == "failed":
        raise ApiError(410, "pairing_failed", "the other device refused the code; start again")
    if _expired(row):
        _close(conn, row)
        raise _gone("the pairing expired before it finished; start again")
    if row.state in ("joined", "accepted"):
        return None
    if row.state != "sealed":
        raise _gone()
    conn.execute(
        update(pairings)
        .where(pairings.c.channel == channel)
        .values(state="delivered", payload=None, message_a=b"")
    )
    audit_log.record(conn, row.account_id, "device_paired", device_id=row.device_id)
    return bytes(row.payload)
