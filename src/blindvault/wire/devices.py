"""The account's devices (one session token each)."""

from __future__ import annotations

from blindvault.wire.common import Model


class Device(Model):
    id: str
    name: str
    created_at: float
    last_seen: float
    revoked: bool
    current: bool


class DeviceList(Model):
    devices: list[Device]
