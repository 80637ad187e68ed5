"""Server-side secrets handling: slow hashes of auth keys, bearer tokens, TOTP (RFC 6238).

The auth key a client sends is already the output of its Argon2id; the server hashes it
again with scrypt so that a database leak does not hand out login credentials.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time

_N, _R, _P = 2**14, 8, 1


def hash_secret(secret: bytes) -> str:
    """scrypt(N=2^14, r=8, p=1) with a random salt, as `scrypt$N$r$p$salt$hash`."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret, salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_secret(secret: bytes, stored: str) -> bool:
    try:
        name, n, r, p, salt, digest = stored.split("$")
        if name != "scrypt":
            return False
        got = hashlib.scrypt(
            secret, salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, bytes.fromhex(digest))


# a fixed dummy hash, verified against when the account does not exist (constant work)
DUMMY_HASH = hash_secret(b"blindvault-dummy")


def new_token() -> str:
    return "bv_" + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_id() -> str:
    return secrets.token_hex(16)


def totp(secret_b32: str, at: float | None = None, *, step: int = 30, digits: int = 6) -> str:
    """RFC 6238 TOTP with HMAC-SHA-1 (the authenticator-app default)."""
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    counter = int((time.time() if at is None else at) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return f"{code:0{digits}d}"


def totp_step(secret_b32: str, code: str, at: float | None = None) -> int | None:
    """The time step (of now - 30 s, now, now + 30 s) whose code is `code`, or None."""
    now = time.time() if at is None else at
    found = None
    for d in (-1, 0, 1):  # every candidate is compared: constant work
        if hmac.compare_digest(totp(secret_b32, now + d * 30), code):
            found = int((now + d * 30) // 30)
    return found


def check_totp(secret_b32: str, code: str, at: float | None = None) -> bool:
    return totp_step(secret_b32, code, at) is not None
