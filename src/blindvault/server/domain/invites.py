"""Who may sign up: open, closed, or with a single-use invite code (`--signup`).

Invite codes are random, shown once by `blindvault admin invite`, and stored only as their
SHA-256; a signup claims its code in the same transaction that creates the account, so a
code makes at most one account and a failed signup does not use it up.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from dataclasses import replace

from sqlalchemy import Connection, insert, update

from blindvault.server.context import Limits, ServerContext
from blindvault.server.errors import ApiError
from blindvault.server.storage.schema import invites

MODES = ("open", "closed", "invite")


def signup_allowed(ctx: ServerContext, invite: str | None) -> str | None:
    """The invite's hash to claim (invite mode), None (open); 403 when signup is closed."""
    if ctx.limits.signup == "closed":
        raise ApiError(403, "signup_closed", "this server does not accept new accounts")
    if ctx.limits.signup != "invite":
        return None
    if not invite:
        raise ApiError(403, "invite_required", "this server needs an invite code to sign up")
    return hashlib.sha256(invite.encode("utf-8")).hexdigest()


def claim_invite(conn: Connection, code_hash: str, account_id: str) -> None:
    now = time.time()
    claimed = conn.execute(
        update(invites)
        .where(
            invites.c.code_hash == code_hash,
            invites.c.used_by.is_(None),
            invites.c.expires_at > now,
        )
        .values(used_by=account_id, used_at=now)
    ).rowcount
    if claimed != 1:
        raise ApiError(403, "invite_invalid", "the invite code is unknown, used or expired")


def new_invite(conn: Connection, valid_for: float) -> str:
    """A fresh single-use invite code (only its SHA-256 is stored)."""
    code = "inv_" + secrets.token_urlsafe(18)
    now = time.time()
    conn.execute(
        insert(invites).values(
            code_hash=hashlib.sha256(code.encode("utf-8")).hexdigest(),
            created_at=now,
            expires_at=now + valid_for,
            used_by=None,
            used_at=None,
        )
    )
    return code


def limits_from_env() -> Limits:
    """The limits `blindvault server` passes to its workers (signup policy and rate)."""
    limits = Limits()
    mode = os.environ.get("BLINDVAULT_SERVER_SIGNUP", limits.signup)
    if mode not in MODES:
        raise ValueError(f"signup mode must be one of {', '.join(MODES)}")
    per_address = int(os.environ.get("BLINDVAULT_SERVER_SIGNUPS_PER_ADDRESS", "0") or 0)
    return replace(
        limits, signup=mode, signups_per_address=per_address or limits.signups_per_address
    )
