"""Replacing an account's key material: password change and new recovery words (P-KEYPROOF).

Every change of the key bundle, KDF parameters, auth hash or recovery hash carries proof of
the current secret, so a stolen bearer token alone cannot replace the account's keys:

    "proof": {"auth_key": b64(current auth key)}            after a password login
    "proof": {"recovery_auth_key": b64(recovery auth key)}  after a recovery-words login
    (plus "totp": "123456" inside proof when the account has TOTP)

The proof lives in memory only (`Session.proof`), set at login and replaced after a change;
it is never written to disk. A refusal (403 proof_required / proof_invalid) is a policy
refusal, exit 8.
"""

from __future__ import annotations

import base64
import os
from urllib.parse import quote

from blindvault.client.net.http import b64e
from blindvault.client.session import Session
from blindvault.core.kdf import KdfParams, derive_account_keys, recovery_auth_key
from blindvault.core.keybundle import OpenedBundle
from blindvault.core.keys import AuthKey, RecoveryKey
from blindvault.core.recovery import recovery_words
from blindvault.errors import ForbiddenError, PolicyError, UsageError

__all__ = [
    "new_totp_secret",
    "otpauth_uri",
    "password_proof",
    "recovery_proof",
    "replace_keys",
    "totp_disable",
    "totp_enable",
]

PROOF_CODES = ("proof_required", "proof_invalid")


def password_proof(auth: AuthKey) -> dict[str, str]:
    return {"auth_key": b64e(auth.material)}


def recovery_proof(recovery: RecoveryKey) -> dict[str, str]:
    return {"recovery_auth_key": b64e(recovery_auth_key(recovery).material)}


def replace_keys(
    session: Session,
    password: str,
    *,
    params: KdfParams | None = None,
    new_recovery: bool = False,
    totp: str | None = None,
    recovery_key: RecoveryKey | None = None,
) -> list[str] | None:
    """Re-wrap the vault key under `password` (and, with `new_recovery`, under new recovery
    words, whose hash replaces the old one on the server); returns the new words if any.

    Only the vault key's wraps change: one object is written whatever the number of files.
    `recovery_key`: use this new recovery key (social recovery splits it) instead of a
    random one; implies `new_recovery`."""
    if not session.proof:
        raise UsageError("log in again: this session holds no proof of the current password")
    email = session.state.email
    params = params or KdfParams.from_json(session.state.kdf_pin or KdfParams.argon2id().to_json())
    keys = derive_account_keys(password, email, params)
    recovery = recovery_key or (RecoveryKey.generate() if new_recovery else None)
    bundle = session.keys().bundle.rewrapped(session.keys().vault, keys.master, recovery)
    proof: dict[str, str] = dict(session.proof)
    if totp:
        proof["totp"] = totp
    body: dict[str, object] = {
        "expected_version": session.keys().bundle.version,
        "key_bundle": b64e(bundle.encode()),
        "kdf": params.to_json(),
        "auth_key": b64e(keys.auth.material),
        "proof": proof,
    }
    if recovery is not None:
        body["recovery_auth_key"] = b64e(recovery_auth_key(recovery).material)
    try:
        session.api.put_json("/v1/account/keys", body)
    except ForbiddenError as exc:
        if exc.code in PROOF_CODES:
            raise PolicyError(
                "the server wants proof of the current password or recovery words "
                f"({exc.code}); nothing was changed"
            ) from None
        raise
    session.opened = OpenedBundle(bundle, session.keys().vault, session.keys().identity,
                                session.keys().root_key)  # fmt: skip
    session.proof = password_proof(keys.auth)
    session.state.bundle_version = bundle.version
    session.state.kdf_pin = params.to_json()
    session.save()
    return recovery_words(recovery) if recovery is not None else None


# --- TOTP (issue 16): a second factor the account turns on and off with proof ----------------


def new_totp_secret() -> str:
    """A fresh 160-bit TOTP secret, base32 without padding (RFC 4226/6238)."""
    return base64.b32encode(os.urandom(20)).decode("ascii")


def otpauth_uri(secret: str, email: str, issuer: str = "blindvault") -> str:
    label = quote(f"{issuer}:{email}", safe=":@")
    return f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer)}&digits=6&period=30"


def _proof_or_policy(session: Session, totp: str | None) -> dict[str, str]:
    if not session.proof:
        raise UsageError("log in again: this session holds no proof of the current password")
    proof = dict(session.proof)
    if totp:
        proof["totp"] = totp
    return proof


def totp_enable(session: Session, secret: str, code: str, *, current: str | None = None) -> None:
    """Turn TOTP on with `secret` once `code` (from it) checks; `current`: a code of the old
    secret when one is on already."""
    body: dict[str, object] = {
        "secret": secret,
        "code": code,
        "proof": _proof_or_policy(session, current),
    }
    _proof_request(session, "PUT", body)


def totp_disable(session: Session, code: str) -> None:
    _proof_request(session, "DELETE", {"proof": _proof_or_policy(session, code)})


def _proof_request(session: Session, method: str, body: dict[str, object]) -> None:
    try:
        session.api.request(method, "/v1/account/totp", json=body)
    except ForbiddenError as exc:
        if exc.code in PROOF_CODES:
            raise PolicyError(
                f"the server refused the proof or the TOTP code ({exc.code}); nothing changed"
            ) from None
        raise
