"""The account's hash-chained audit log."""

from __future__ import annotations

from typing import Any

from blindvault.wire.common import Model


class AuditEntry(Model):
    seq: int
    at: float
    event: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str


class AuditLog(Model):
    entries: list[AuditEntry]
