"""What every request handler needs: the engine, the blob store, the limits, the caller."""

from __future__ import annotations

import base64
import binascii
import re
import time
from dataclasses import dataclass

from fastapi import Depends, Request
from sqlalchemy import Engine, select, update

from blindvault.server.blobstore import BlobStore
from blindvault.server.db import transaction
from blindvault.server.errors import ApiError, invalid, unauthorized
from blindvault.server.schema import devices
from blindvault.server.security import token_hash

ID_RE = re.compile(r"^[0-9a-f]{32}$")
KIND_RE = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
MAX_VERSION = (1 << 63) - 1  # versions are signed 64-bit integers in the database


@dataclass(frozen=True)
class Limits:
    json_body: int = 1 << 20
    small_blob: int = 8 << 20
    part_size: int = 8 << 20
    max_part: int = 64 << 20
    max_blob: int = 1 << 42
    default_quota: int = 100 << 30
    max_lease: int = 600
    login_failures: int = 10
    login_window: float = 900.0
    upload_ttl: float = 7 * 24 * 3600.0
    # accounts: who may sign up, and how fast one address may try (see ratelimit.py)
    signup: str = "open"  # open | closed | invite
    signups_per_address: int = 20
    signup_window: float = 3600.0
    address_failures: int = 30  # failed logins or proofs per client address per window
    slow_down: float = 1.0  # seconds added to each attempt once an email's counter is full
    # storage and transport hardening (issue 12)
    max_objects: int = 1_000_000  # blobs (empty ones too) plus pending uploads per account
    batch_answer: int = 8 << 20  # bytes of record data in one records/batch-get answer
    pending_shares: int = 500  # unaccepted grants one recipient can hold, from anyone
    pending_per_sender: int = 20  # … and from any one sender
    token_ttl: float = 365 * 24 * 3600.0  # a device token's life from its login
    maintenance_every: float = 3600.0  # seconds between sweeps (failures, uploads, orphans)


@dataclass(frozen=True)
class ServerContext:
    engine: Engine
    store: BlobStore
    limits: Limits


@dataclass(frozen=True)
class Principal:
    account_id: str
    device_id: str


def get_context(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


def check_id(value: str, what: str = "id") -> str:
    if not ID_RE.match(value):
        raise invalid(f"{what} must be 32 lowercase hex characters")
    return value


def check_kind(value: str) -> str:
    if not KIND_RE.match(value):
        raise invalid("kind must match [a-z][a-z0-9-]{0,31}")
    return value


def b64decode(value: str, what: str, *, max_size: int) -> bytes:
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise invalid(f"{what} must be base64") from None
    if len(raw) > max_size:
        raise ApiError(413, "too_large", f"{what} is larger than {max_size} bytes")
    return raw


def b64encode(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def authenticate(request: Request, ctx: ServerContext = Depends(get_context)) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized()
    digest = token_hash(token.strip())
    now = time.time()
    with transaction(ctx.engine) as conn:
        row = conn.execute(
            select(
                devices.c.id,
                devices.c.account_id,
                devices.c.revoked,
                devices.c.last_seen,
                devices.c.created_at,
            ).where(devices.c.token_hash == digest)
        ).first()
        if row is None or row.revoked:
            raise unauthorized()
        if now - row.created_at > ctx.limits.token_ttl:
            raise unauthorized("this device's sign-in has expired; sign in again")
        if now - row.last_seen > 60:
            conn.execute(update(devices).where(devices.c.id == row.id).values(last_seen=now))
    return Principal(row.account_id, row.id)


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "too_large", f"body larger than {limit} bytes")
    buf = bytearray()
    async for chunk in request.stream():
        buf += chunk
        if len(buf) > limit:
            raise ApiError(413, "too_large", f"body larger than {limit} bytes")
    return bytes(buf)
