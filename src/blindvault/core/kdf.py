"""Password → keys, and the policy that keeps a server from weakening the KDF.

    stretched = Argon2id(password, salt)          (or PBKDF2-SHA-256, browser accounts)
    salt      = SHA-256(LABEL_KDF_SALT || 0x00 || normalized email)
    Km        = HKDF-SHA-256(stretched, salt="", info=LABEL_MASTER_KEY, 32)
    auth_key  = HKDF-SHA-256(stretched, salt="", info=LABEL_AUTH_KEY, 32)

The salt comes from the email, so the server cannot swap it. `check_kdf_params`
enforces a hard floor and ceiling and the account's pin *before* the password is
touched: parameters below either abort the login (P-KDFFLOOR).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from blindvault.core import primitives
from blindvault.core.constants import (
    ARGON2_CEILING_ITERATIONS,
    ARGON2_CEILING_LANES,
    ARGON2_CEILING_MEMORY_KIB,
    ARGON2_DEFAULT_ITERATIONS,
    ARGON2_DEFAULT_LANES,
    ARGON2_DEFAULT_MEMORY_KIB,
    ARGON2_FLOOR_ITERATIONS,
    ARGON2_FLOOR_MEMORY_KIB,
    ID_SIZE,
    KDF_ARGON2ID,
    KDF_PBKDF2_SHA256,
    KEY_SIZE,
    LABEL_ACCOUNT_ID,
    LABEL_AUTH_KEY,
    LABEL_KDF_SALT,
    LABEL_MASTER_KEY,
    LABEL_RECOVERY_AUTH,
    MAGIC_KDF_PARAMS,
    PBKDF2_CEILING_ITERATIONS,
    PBKDF2_DEFAULT_ITERATIONS,
    PBKDF2_FLOOR_ITERATIONS,
)
from blindvault.core.encoding import Reader, Writer, check_header, header
from blindvault.core.keys import AuthKey, MasterKey, RecoveryKey
from blindvault.errors import FormatError, KdfPolicyError, UsageError

__all__ = [
    "AccountKeys",
    "KdfParams",
    "account_id",
    "check_kdf_params",
    "derive_account_keys",
    "kdf_salt",
    "normalize_email",
    "recovery_auth_key",
]

_ALG_NAMES = {KDF_ARGON2ID: "argon2id", KDF_PBKDF2_SHA256: "pbkdf2-sha256"}
_MAX_EMAIL = 320


@dataclass(frozen=True, slots=True)
class KdfParams:
    """KDF parameters of an account. For PBKDF2 only `iterations` is used."""

    algorithm: int
    iterations: int
    memory_kib: int = 0
    lanes: int = 0

    @classmethod
    def argon2id(
        cls,
        memory_kib: int = ARGON2_DEFAULT_MEMORY_KIB,
        iterations: int = ARGON2_DEFAULT_ITERATIONS,
        lanes: int = ARGON2_DEFAULT_LANES,
    ) -> KdfParams:
        return cls(KDF_ARGON2ID, iterations, memory_kib, lanes)

    @classmethod
    def pbkdf2(cls, iterations: int = PBKDF2_DEFAULT_ITERATIONS) -> KdfParams:
        return cls(KDF_PBKDF2_SHA256, iterations)

    # -- wire forms: canonical bytes (for pins and AAD) and a JSON object (for the API)

    def encode(self) -> bytes:
        w = Writer(header(MAGIC_KDF_PARAMS)).u8(self.algorithm).u32(self.iterations)
        return w.u32(self.memory_kib).u8(self.lanes).bytes()

    @classmethod
    def decode(cls, data: bytes) -> KdfParams:
        r = Reader(data)
        check_header(r, MAGIC_KDF_PARAMS)
        params = cls(r.u8(), r.u32(), r.u32(), r.u8())
        r.finish()
        _check_shape(params)
        return params

    def to_json(self) -> dict[str, Any]:
        if self.algorithm == KDF_ARGON2ID:
            return {"alg": "argon2id", "m": self.memory_kib, "t": self.iterations, "p": self.lanes}
        return {"alg": "pbkdf2-sha256", "i": self.iterations}

    @classmethod
    def from_json(cls, obj: object) -> KdfParams:
        """Strictly parse the API's JSON object; unknown or missing fields are refused."""
        if not isinstance(obj, dict):
            raise FormatError("KDF parameters must be an object")
        alg = obj.get("alg")
        expected = {"argon2id": {"alg", "m", "t", "p"}, "pbkdf2-sha256": {"alg", "i"}}
        if not isinstance(alg, str) or alg not in expected or set(obj) != expected[alg]:
            raise FormatError("unknown KDF parameter set")
        values = [obj[k] for k in sorted(expected[alg] - {"alg"})]
        if not all(type(v) is int for v in values):
            raise FormatError("KDF parameters must be integers")
        if alg == "argon2id":
            params = cls.argon2id(memory_kib=obj["m"], iterations=obj["t"], lanes=obj["p"])
        else:
            params = cls.pbkdf2(iterations=obj["i"])
        _check_shape(params)
        return params

    def __str__(self) -> str:
        name = _ALG_NAMES.get(self.algorithm, "?")
        if self.algorithm == KDF_ARGON2ID:
            return f"{name} m={self.memory_kib}KiB t={self.iterations} p={self.lanes}"
        return f"{name} i={self.iterations}"


def _check_shape(params: KdfParams) -> None:
    if params.algorithm == KDF_ARGON2ID:
        if params.lanes < 1 or params.memory_kib < 8 * params.lanes or params.iterations < 1:
            raise FormatError("invalid Argon2id parameters")
    elif params.algorithm == KDF_PBKDF2_SHA256:
        if params.memory_kib != 0 or params.lanes != 0 or params.iterations < 1:
            raise FormatError("invalid PBKDF2 parameters")
    else:
        raise FormatError("unknown KDF algorithm")


def check_kdf_params(params: KdfParams, pinned: KdfParams | None = None) -> None:
    """Refuse parameters below the floor, above the ceiling, or weaker than the pin.

    Call this on what the server returned *before* deriving anything from the password.
    Raises `KdfPolicyError`; a weaker value never falls back to anything.
    """
    _check_shape(params)
    if params.algorithm == KDF_ARGON2ID:
        if (  # mutant: core.kdf-floor
            params.memory_kib < ARGON2_FLOOR_MEMORY_KIB
            or params.iterations < ARGON2_FLOOR_ITERATIONS
        ):
            raise KdfPolicyError(f"KDF parameters below the floor: {params}")
        if (
            params.memory_kib > ARGON2_CEILING_MEMORY_KIB
            or params.iterations > ARGON2_CEILING_ITERATIONS
            or params.lanes > ARGON2_CEILING_LANES
        ):
            raise KdfPolicyError(f"KDF parameters above the ceiling: {params}")
    else:
        if params.iterations < PBKDF2_FLOOR_ITERATIONS:  # mutant: core.kdf-floor-pbkdf2
            raise KdfPolicyError(f"KDF parameters below the floor: {params}")
        if params.iterations > PBKDF2_CEILING_ITERATIONS:
            raise KdfPolicyError(f"KDF parameters above the ceiling: {params}")
    if pinned is None:
        return
    if params.algorithm != pinned.algorithm:
        raise KdfPolicyError(f"KDF algorithm differs from the pinned {pinned}")
    # mutant: core.kdf-pin
    if params.iterations < pinned.iterations or params.memory_kib < pinned.memory_kib:
        raise KdfPolicyError(f"KDF parameters weaker than the pinned {pinned}: {params}")
    # Stronger than the pin is allowed (a password change may raise the cost); the
    # caller re-pins only after the login has succeeded, never before.


def normalize_email(email: str) -> str:
    """NFKC, surrounding whitespace removed, lower-cased; must look like an address."""
    if not isinstance(email, str):
        raise UsageError("email must be text")
    norm = unicodedata.normalize("NFKC", email).strip().lower()
    local, sep, domain = norm.partition("@")
    if (
        not sep
        or not local
        or not domain
        or "@" in domain
        or len(norm.encode("utf-8")) > _MAX_EMAIL
        or any(c.isspace() or ord(c) < 0x20 for c in norm)
    ):
        raise UsageError("not an email address")
    return norm


def kdf_salt(email: str) -> bytes:
    """The 32-byte password salt, derived from the normalized email (not server-chosen)."""
    return primitives.sha256(LABEL_KDF_SALT + b"\x00" + normalize_email(email).encode("utf-8"))


def account_id(email: str) -> bytes:
    """A 16-byte account id, derived from the normalized email; the owner in key-wrap AAD."""
    digest = primitives.sha256(LABEL_ACCOUNT_ID + b"\x00" + normalize_email(email).encode("utf-8"))
    return digest[:ID_SIZE]


@dataclass(frozen=True, slots=True)
class AccountKeys:
    """The two keys derived from the password: never the same, never derivable from each other."""

    master: MasterKey
    auth: AuthKey


def _stretch(password: bytes, salt: bytes, params: KdfParams) -> bytes:
    if params.algorithm == KDF_ARGON2ID:
        return primitives.argon2id(
            password,
            salt,
            memory_kib=params.memory_kib,
            iterations=params.iterations,
            lanes=params.lanes,
            length=KEY_SIZE,
        )
    return primitives.pbkdf2_sha256(password, salt, iterations=params.iterations, length=KEY_SIZE)


def derive_account_keys(
    password: str, email: str, params: KdfParams, pinned: KdfParams | None = None
) -> AccountKeys:
    """Check the policy, then stretch the password and split it into Km and the auth key."""
    check_kdf_params(params, pinned)
    if not isinstance(password, str) or not password:
        raise UsageError("the password must be non-empty text")
    secret = unicodedata.normalize("NFKC", password).encode("utf-8")
    stretched = _stretch(secret, kdf_salt(email), params)
    master = primitives.hkdf_sha256(stretched, salt=b"", info=LABEL_MASTER_KEY, length=KEY_SIZE)
    auth = primitives.hkdf_sha256(stretched, salt=b"", info=LABEL_AUTH_KEY, length=KEY_SIZE)
    return AccountKeys(MasterKey(master), AuthKey(auth))


def recovery_auth_key(recovery: RecoveryKey) -> AuthKey:
    """What proves knowledge of the recovery words to the server (it keeps a slow hash).

    HKDF-SHA-256(recovery key, salt="", info=LABEL_RECOVERY_AUTH, 32): a separate label, so
    the server learns nothing about the key that wraps the vault key.
    """
    return AuthKey(
        primitives.hkdf_sha256(
            recovery.material, salt=b"", info=LABEL_RECOVERY_AUTH, length=KEY_SIZE
        )
    )
