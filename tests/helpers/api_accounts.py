"""Accounts made through the HTTP API alone, for the tests of the server itself: the
signup body has placeholder bundles (the server stores them, never opens them) and a
random auth key, and a session of it is the `Authorization` header of a bearer token."""

from __future__ import annotations

import base64
import os
import secrets
from typing import Any

import httpx

__all__ = ["KDF", "account_body", "api_session", "api_signup"]

KDF = {"alg": "argon2id", "m": 65536, "t": 3, "p": 4}


def account_body(email: str) -> dict[str, Any]:
    """The JSON of `POST /v1/accounts` for `email` with a random auth key (`auth_key`)."""
    return {
        "email": email,
        "kdf": KDF,
        "auth_key": base64.b64encode(os.urandom(32)).decode(),
        "key_bundle": "eA==",
        "identity_bundle": "eQ==",
    }


def api_signup(url: str, prefix: str) -> dict[str, Any]:
    """Sign up `prefix<random>@example.org` on the server at `url` (201, or the test
    fails); the body it was made with."""
    body = account_body(f"{prefix}{secrets.token_hex(4)}@example.org")
    r = httpx.post(url + "/v1/accounts", json=body, timeout=60)
    assert r.status_code == 201, r.text
    return body


def api_session(url: str, account: dict[str, Any]) -> dict[str, str]:
    """A new session (a device) of the account made with `account`: its bearer header."""
    login = {"email": account["email"], "auth_key": account["auth_key"]}
    r = httpx.post(url + "/v1/sessions", json=login, timeout=60)
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}
