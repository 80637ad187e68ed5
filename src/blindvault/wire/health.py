"""`GET /v1/health`."""

from __future__ import annotations

from blindvault.wire.common import Model


class Health(Model):
    status: str
    version: str
