"""Social recovery on the server: a relay of objects it cannot read (issue 17).

The server stores the owner's signed setup and each contact's sealed share, opens a request
for anyone who names an account that has a setup (the requester holds a random token, only
its hash is stored), lists open requests to the owner's devices and to the contacts, and
relays approvals (shares re-sealed to the requesting device) and vetoes (signed by an owner
device). It decides nothing that matters: the threshold is Shamir's, the waiting period is
enforced by each contact's device and a veto is checked there too (docs/security.md).
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from blindvault.server.domain import audit as audit_log
from blindvault.server.domain.credentials import new_token, token_hash
from blindvault.server.errors import ApiError, not_found
from blindvault.server.storage.schema import (
    accounts,
    recovery_approvals,
    recovery_requests,
    recovery_setups,
    recovery_shares,
)

OPEN = "open"
CLOSED = ("cancelled", "finished")


def account_by_email(conn: Connection, email: str) -> Any:
    return conn.execute(select(accounts).where(accounts.c.email == email)).first()


def replace_setup(
    conn: Connection, owner: str, setup: bytes, shares: list[tuple[str, bytes]]
) -> None:
    """The owner's new setup and shares replace the old ones (their shares are gone)."""
    contacts: list[tuple[str, bytes]] = []
    for email, share in shares:
        row = account_by_email(conn, email)
        if row is None:
            raise not_found(f"account {email}")
        if row.id == owner:
            raise ApiError(400, "invalid_request", "an account cannot be its own contact")
        contacts.append((row.id, share))
    if len({c for c, _ in contacts}) != len(contacts):
        raise ApiError(400, "invalid_request", "a contact is named twice")
    conn.execute(delete(recovery_shares).where(recovery_shares.c.owner == owner))
    conn.execute(delete(recovery_setups).where(recovery_setups.c.owner == owner))
    conn.execute(insert(recovery_setups).values(owner=owner, setup=setup, created_at=time.time()))
    for contact, share in contacts:
        conn.execute(insert(recovery_shares).values(owner=owner, contact=contact, share=share))
    audit_log.record(conn, owner, "social_recovery_setup", contacts=len(contacts))


def email_of(conn: Connection, account_id: str) -> str:
    return str(
        conn.execute(select(accounts.c.email).where(accounts.c.id == account_id)).scalar_one()
    )


def setup_of(conn: Connection, owner: str) -> tuple[bytes, list[str]] | None:
    row = conn.execute(select(recovery_setups).where(recovery_setups.c.owner == owner)).first()
    if row is None:
        return None
    emails = conn.execute(
        select(accounts.c.email)
        .join(recovery_shares, recovery_shares.c.contact == accounts.c.id)
        .where(recovery_shares.c.owner == owner)
        .order_by(accounts.c.email)
    ).all()
    return bytes(row.setup), [r.email for r in emails]


def open_request(
    conn: Connection, email: str, request_id: str, device_key: bytes, address: str
) -> str:
    """A new request for the account `email` (which must have a setup); returns its token."""
    row = account_by_email(conn, email)
    has_setup = (
        row is not None
        and conn.execute(
            select(recovery_setups.c.owner).where(recovery_setups.c.owner == row.id)
        ).first()
    )
    if row is None or not has_setup:
        raise not_found("social recovery setup")
    if conn.execute(
        select(recovery_requests.c.id).where(recovery_requests.c.id == request_id)
    ).first():
        raise ApiError(409, "conflict", "this request id is taken")
    token = new_token()
    conn.execute(
        insert(recovery_requests).values(
            id=request_id, owner=row.id, device_key=device_key, token_hash=token_hash(token),
            state=OPEN, veto=None, created_at=time.time(),
        )
    )  # fmt: skip
    audit_log.record(conn, row.id, "social_recovery_requested", request=request_id, address=address)
    return token


def request_by_token(conn: Connection, request_id: str, token: str) -> Any:
    row = conn.execute(
        select(recovery_requests).where(recovery_requests.c.id == request_id)
    ).first()
    # mutant: server.recovery-request-token
    if row is None or not hmac.compare_digest(row.token_hash, token_hash(token)):
        raise not_found("recovery request")  # a wrong token answers as a missing request
    return row


def approvals_of(conn: Connection, request_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(accounts.c.email, recovery_approvals.c.approval)
        .join(accounts, accounts.c.id == recovery_approvals.c.contact)
        .where(recovery_approvals.c.request == request_id)
        .order_by(recovery_approvals.c.created_at)
    ).all()
    return [{"contact": r.email, "approval": bytes(r.approval)} for r in rows]


def close_request(conn: Connection, row: Any, state: str) -> None:
    if row.state in CLOSED:
        raise ApiError(409, "conflict", f"the request is {row.state}")
    conn.execute(
        update(recovery_requests).where(recovery_requests.c.id == row.id).values(state=state)
    )
    audit_log.record(conn, row.owner, f"social_recovery_{state}", request=row.id)


def incoming(conn: Connection, contact: str) -> list[dict[str, Any]]:
    """Open (or vetoed) requests of accounts whose shares name `contact`."""
    rows = conn.execute(
        select(
            recovery_requests, accounts.c.email, recovery_setups.c.setup, recovery_shares.c.share
        )
        .join(accounts, accounts.c.id == recovery_requests.c.owner)
        .join(recovery_setups, recovery_setups.c.owner == recovery_requests.c.owner)
        .join(recovery_shares, recovery_shares.c.owner == recovery_requests.c.owner)
        .where(recovery_shares.c.contact == contact, recovery_requests.c.state.not_in(CLOSED))
        .order_by(recovery_requests.c.created_at)
    ).all()
    approved = {
        r.request
        for r in conn.execute(
            select(recovery_approvals.c.request).where(recovery_approvals.c.contact == contact)
        ).all()
    }
    return [{"row": r, "approved": r.id in approved} for r in rows]


def approve(conn: Connection, request_id: str, contact: str, approval: bytes) -> None:
    row = conn.execute(
        select(recovery_requests).where(recovery_requests.c.id == request_id)
    ).first()
    if row is None:
        raise not_found("recovery request")
    is_contact = conn.execute(
        select(recovery_shares.c.contact).where(
            recovery_shares.c.owner == row.owner, recovery_shares.c.contact == contact
        )
    ).first()
    if not is_contact:
        raise not_found("recovery request")
    if row.state != OPEN:
        raise ApiError(409, "conflict", f"the request is {row.state}")
    done = conn.execute(
        select(recovery_approvals.c.contact).where(
            recovery_approvals.c.request == request_id, recovery_approvals.c.contact == contact
        )
    ).first()
    if done:
        raise ApiError(409, "conflict", "already approved")
    conn.execute(
        insert(recovery_approvals).values(
            request=request_id, contact=contact, approval=approval, created_at=time.time()
        )
    )
    audit_log.record(
        conn, row.owner, "social_recovery_approved", request=request_id,
        contact=email_of(conn, contact),
    )  # fmt: skip


def own_requests(conn: Connection, owner: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(recovery_requests)
        .where(recovery_requests.c.owner == owner)
        .order_by(recovery_requests.c.created_at)
    ).all()
    out = []
    for r in rows:
        count = len(approvals_of(conn, r.id))
        out.append({"row": r, "approvals": count})
    return out


def veto(conn: Connection, owner: str, request_id: str, signed: bytes) -> None:
    row = conn.execute(
        select(recovery_requests).where(
            recovery_requests.c.id == request_id, recovery_requests.c.owner == owner
        )
    ).first()
    if row is None:
        raise not_found("recovery request")
    if row.state in CLOSED:
        raise ApiError(409, "conflict", f"the request is {row.state}")
    conn.execute(
        update(recovery_requests)
        .where(recovery_requests.c.id == request_id)
        .values(state="vetoed", veto=signed)
    )
    audit_log.record(conn, owner, "social_recovery_vetoed", request=request_id)
