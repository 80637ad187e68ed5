"""Pairing a device by code (issue 17): the relay mailbox's requests and answers.

Every byte field is base64; the server stores and relays them, never reads them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from blindvault.wire.common import Model

CHANNEL_PATTERN = r"^[0-9]{4,8}$"
_B64_MESSAGE = Field(min_length=4, max_length=400, description="base64 of a SPAKE2 message")


class PairingOpen(Model):
    message: str = _B64_MESSAGE


class PairingOpened(Model):
    channel: str
    expires_at: float


class PairingOffer(Model):
    message: str


class PairingJoin(Model):
    message: str = _B64_MESSAGE
    confirm: str = Field(min_length=4, max_length=100, description="base64 of a 32-byte tag")
    device_name: str = Field(default="device", min_length=1, max_length=200)


class PairingClaim(Model):
    claim: str = Field(min_length=16, max_length=100)


class PairingStatus(Model):
    state: Literal["open", "joined", "accepted", "sealed", "delivered", "failed"]
    message: str | None = None
    confirm: str | None = None
    device_name: str | None = None


class PairingDevice(Model):
    token: str
    device_id: str


class PairingPayload(Model):
    sealed: str = Field(min_length=4, max_length=3_000_000)


class PairingDelivery(Model):
    state: Literal["waiting", "sealed"]
    sealed: str | None = None
