"""Per-app containers and app credentials (issue 16): the shapes, and what an app id is.

An app id is a reverse-DNS name in ASCII only: two or more dot-separated labels, each
1..63 of `a-z 0-9 -`, starting with a letter and not ending with `-`; 253 characters at
most. Nothing is folded or normalized: `Com.Example`, `com.example.` , `../x`, or a
Unicode look-alike (a Cyrillic letter for an o) is refused, so two ids that look
alike can never name one container, and one id never names two.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field

from blindvault.wire.common import Model

MAX_APP_ID = 253
APP_ID_PATTERN = r"^[a-z][a-z0-9-]{0,62}(\.[a-z][a-z0-9-]{0,62})+$"
_LABELS = re.compile(APP_ID_PATTERN, re.ASCII)


def app_id_problem(value: str) -> str | None:
    """Why `value` is not a valid app id, or None if it is."""
    if len(value) > MAX_APP_ID:
        return f"an app id has at most {MAX_APP_ID} characters"
    if not value.isascii() or _LABELS.fullmatch(value) is None:
        return (
            "an app id is a reverse-DNS name such as com.example.notes: lowercase ASCII "
            "letters, digits and '-', two or more labels separated by '.'"
        )
    if any(label.endswith("-") for label in value.split(".")):
        return "a label of an app id cannot end with '-'"
    return None


class AppAuthorize(Model):
    app_id: str = Field(max_length=MAX_APP_ID, description="reverse-DNS app id")
    space: str = Field(description="the container's space id (32 hex)")
    bundle: str = Field(description="base64 of the app credential's identity bundle")
    attestation: str = Field(description="base64: the account identity's signature over it")
    envelope: str = Field(description="base64: the container key sealed to the app's key")


class AppEnvelope(Model):
    envelope: str = Field(description="base64: the container key sealed to the app's key")


class AppAuthorized(Model):
    app_id: str
    account_id: str
    device_id: str
    token: str = Field(description="the app's bearer token, confined to its container")


class App(Model):
    app_id: str
    space: str
    bundle: str
    attestation: str
    envelope: str
    created_at: float
    credentials: int = Field(description="tokens of this app not revoked")


class AppList(Model):
    apps: list[App]


class AppGrantWrite(Model):
    from_app: str = Field(max_length=MAX_APP_ID)
    to_app: str = Field(max_length=MAX_APP_ID)
    role: Literal["read", "write"]
    envelope: str = Field(description="base64: to_app's container key sealed to from_app")
    totp: str = Field(description="a current TOTP code of the account")


class AppGrant(Model):
    from_app: str
    to_app: str
    role: Literal["read", "write"]
    space: str
    envelope: str
    created_at: float


class AppGrantList(Model):
    grants: list[AppGrant]


class AppSelf(Model):
    """What an app credential's token sees of its account: its own container, the grants
    made to it, and every app's attested key (to check who wrote a granted container)."""

    app_id: str
    space: str
    envelope: str
    grants: list[AppGrant]
    apps: list[App]
    writers: list[str] = Field(description="apps holding a write grant to this container")
