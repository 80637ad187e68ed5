"""Social recovery and the organisation recovery key (issue 17). Every payload is base64 of
an object the server cannot read or forge (docs/spec/recovery.md)."""

from __future__ import annotations

from pydantic import Field

from blindvault.wire.accounts import Proof
from blindvault.wire.common import ID_PATTERN, Model

B64 = Field(max_length=16384, description="base64")


# --- requests --------------------------------------------------------------------------


class SealedShare(Model):
    contact: str = Field(min_length=3, max_length=320, description="the contact's email")
    share: str = B64


class SetupBody(Model):
    setup: str = B64
    shares: list[SealedShare] = Field(max_length=16, description="empty: printed shares only")
    proof: Proof | None = None


class StartBody(Model):
    email: str = Field(min_length=3, max_length=320)
    request_id: str = Field(pattern=ID_PATTERN)
    device_key: str = Field(max_length=64, description="base64 of a 32-byte X25519 key")


class TokenBody(Model):
    token: str = Field(min_length=1, max_length=100)


class ApprovalBody(Model):
    approval: str = B64


class VetoBody(Model):
    veto: str = B64


class OrgKeyBody(Model):
    document: str = B64


class EscrowBody(Model):
    org_key: str = Field(pattern=ID_PATTERN)
    escrow: str = B64
    proof: Proof | None = None


# --- answers ---------------------------------------------------------------------------


class SetupAnswer(Model):
    setup: str
    contacts: list[str]


class Started(Model):
    request_id: str
    token: str


class Approval(Model):
    contact: str
    approval: str


class RequestState(Model):
    request_id: str
    email: str
    state: str
    created_at: float
    approvals: list[Approval]


class Incoming(Model):
    """A request for an account that named the caller as a contact."""

    request_id: str
    email: str
    device_key: str
    state: str
    created_at: float
    setup: str
    share: str
    veto: str | None = None
    approved: bool


class IncomingList(Model):
    requests: list[Incoming]


class Pending(Model):
    """A recovery request against the caller's own account."""

    request_id: str
    device_key: str
    state: str
    created_at: float
    approvals: int
    veto: str | None = None


class PendingList(Model):
    requests: list[Pending]


class OrgKey(Model):
    org_key: str | None = None
    document: str | None = None


class Escrow(Model):
    org_key: str
    escrow: str
