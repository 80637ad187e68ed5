"""Leased locks."""

from __future__ import annotations

from pydantic import Field

from blindvault.wire.common import Model


class LockRequest(Model):
    lease_seconds: int = Field(ge=1, le=600)
    token: str | None = None


class Lock(Model):
    token: str
    expires_at: float
