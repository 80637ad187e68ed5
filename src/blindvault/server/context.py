"""What every request handler works with: the engine, the blob store, the limits, the caller.

The FastAPI dependencies that produce them live in `deps`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from blindvault.server.ca import CaSigner
from blindvault.server.principal import Principal
from blindvault.server.storage.blobstore import BlobStore
from blindvault.wire.common import MAX_VERSION

if TYPE_CHECKING:
    from blindvault.server.tokens import TokenCache

__all__ = ["MAX_VERSION", "Limits", "Principal", "ServerContext"]


@dataclass(frozen=True)
class Limits:
    json_body: int = 1 << 20
    small_blob: int = 8 << 20
    part_size: int = 8 << 20
    max_part: int = 64 << 20
    max_blob: int = 1 << 42
    max_drop: int = 5 << 30  # one sealed drop through an upload-only link (streamed)
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
    ca: CaSigner | None = None  # identity certificates (issue 17), when configured
    tokens: TokenCache | None = None  # checked bearer tokens (SQLite only; see `tokens`)
    # SQLite + local store: `fastpath` may read a row and a small blob in the event loop
    inline_reads: bool = False
