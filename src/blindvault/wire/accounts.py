"""Accounts, sessions, account keys, TOTP and identities."""

from __future__ import annotations

from pydantic import Field

from blindvault.wire.common import MAX_VERSION, Model

Kdf = dict[str, int | str]


# --- requests --------------------------------------------------------------------------


class Email(Model):
    email: str = Field(min_length=3, max_length=320)


class Signup(Email):
    kdf: Kdf
    auth_key: str = Field(description="base64 of the 32-byte auth key")
    recovery_auth_key: str | None = Field(default=None, description="base64, 32 bytes")
    key_bundle: str = Field(description="base64 of the opaque key bundle")
    identity_bundle: str = Field(description="base64 of the public identity bundle")
    invite: str | None = Field(
        default=None, max_length=100, description="invite code (server run with --signup invite)"
    )


class Login(Email):
    auth_key: str
    device_name: str = Field(default="device", min_length=1, max_length=200)
    totp: str | None = Field(default=None, pattern=r"^[0-9]{6}$")


class RecoveryLogin(Email):
    recovery_auth_key: str
    device_name: str = Field(default="device", min_length=1, max_length=200)


class AuthCheck(Model):
    auth_key: str


class Proof(Model):
    """Fresh proof of the account for a change of its keys or second factor."""

    auth_key: str | None = Field(default=None, description="base64 of the current auth key")
    recovery_auth_key: str | None = Field(default=None, description="base64, 32 bytes")
    totp: str | None = Field(default=None, pattern=r"^[0-9]{6}$")


class KeyChange(Model):
    expected_version: int = Field(ge=0, le=MAX_VERSION)
    key_bundle: str
    kdf: Kdf | None = None
    auth_key: str | None = None
    recovery_auth_key: str | None = None
    proof: Proof | None = None


class Totp(Model):
    secret: str = Field(pattern=r"^(?:[A-Z2-7]{8}){2,8}$", description="base32, no padding")
    code: str = Field(pattern=r"^[0-9]{6}$", description="a current code of the new secret")
    proof: Proof | None = None


class TotpOff(Model):
    proof: Proof | None = None
    code: str | None = Field(
        default=None, pattern=r"^[0-9]{6}$", description="deprecated: use proof.totp"
    )


# --- answers ---------------------------------------------------------------------------


class Prelogin(Model):
    kdf: Kdf = Field(description="the account's KDF (stable defaults for unknown emails)")


class SignedUp(Model):
    account_id: str


class Session(Model):
    token: str
    device_id: str
    account_id: str


class Account(Model):
    account_id: str
    email: str
    kdf: Kdf
    key_bundle: str
    key_bundle_version: int
    identity_bundle: str
    quota_bytes: int
    used_bytes: int
    totp_enabled: bool
    device_id: str


class KeysChanged(Model):
    key_bundle_version: int


class Identity(Model):
    email: str
    account_id: str
    identity_bundle: str = Field(description="base64 of the public identity bundle")
    certificate: str | None = Field(
        default=None, description="base64 of the server CA's certificate (issue 17), if any"
    )


class CaInfo(Model):
    descriptor: str = Field(description="base64 of the CA descriptor (public key, policy)")
