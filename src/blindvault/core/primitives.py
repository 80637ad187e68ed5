"""The only module of blindvault that imports `cryptography` (pyca/cryptography >= 50).

Thin, typed, byte-level wrappers: every authentication failure becomes the opaque
`IntegrityError`, every wrong-sized argument a `UsageError`. No construction here is
new: AES-256-GCM, HKDF (RFC 5869), HMAC-SHA-256, Argon2id (RFC 9106),
PBKDF2-HMAC-SHA-256, Ed25519, X25519 and HPKE (RFC 9180) are the library's.
"""

from __future__ import annotations

import hmac as _hmac
import secrets
from collections.abc import Iterable

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric import ed25519, mlkem, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hmac import HMAC
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from blindvault.core.constants import (
    ED25519_PUBLIC_SIZE,
    ED25519_SEED_SIZE,
    ED25519_SIGNATURE_SIZE,
    GCM_NONCE_SIZE,
    GCM_TAG_SIZE,
    HYBRID_PUBLIC_SIZE,
    HYBRID_SECRET_SIZE,
    KEY_SIZE,
    MLKEM768_PUBLIC_SIZE,
    MLKEM768_SEED_SIZE,
    SUITE_MLKEM768_X25519,
    SUITE_X25519,
    X25519_KEY_SIZE,
)
from blindvault.errors import IntegrityError, UsageError

__all__ = [
    "ChunkAead",
    "Sha256",
    "aes256gcm_open",
    "aes256gcm_seal",
    "argon2id",
    "bare_gcm_loop",
    "constant_time_equal",
    "ed25519_public_key",
    "ed25519_sign",
    "ed25519_verify",
    "hkdf_expand_sha512",
    "hkdf_sha256",
    "hmac_sha256",
    "hpke_open",
    "hpke_public_key",
    "hpke_seal",
    "pbkdf2_sha256",
    "random_below",
    "random_bytes",
    "sha256",
    "sha256_chunks",
    "sha512",
    "x25519_public_key",
    "x25519_shared_secret",
]


def _need(name: str, value: bytes | bytearray | memoryview, size: int) -> None:
    if len(value) != size:
        raise UsageError(f"{name} must be {size} bytes, got {len(value)}")


def random_bytes(size: int) -> bytes:
    """`size` bytes from the operating system's CSPRNG."""
    return secrets.token_bytes(size)


def random_below(n: int) -> int:
    """A uniform integer in [0, n) from the operating system's CSPRNG."""
    return secrets.randbelow(n)


def constant_time_equal(a: bytes, b: bytes) -> bool:
    """Compare two byte strings in time independent of where they differ."""
    return _hmac.compare_digest(a, b)


# --- hashing, MAC and key derivation ---------------------------------------------


def sha256(data: bytes) -> bytes:
    h = hashes.Hash(hashes.SHA256())
    h.update(data)
    return h.finalize()


def sha256_chunks(chunks: Iterable[bytes]) -> bytes:
    """SHA-256 of the concatenation of `chunks` (a file read piece by piece)."""
    h = hashes.Hash(hashes.SHA256())
    for chunk in chunks:
        h.update(chunk)
    return h.finalize()


class Sha256:
    """Incremental SHA-256 whose digest can be read at any point (a checkpoint)."""

    __slots__ = ("_h",)

    def __init__(self) -> None:
        self._h = hashes.Hash(hashes.SHA256())

    def update(self, data: bytes | bytearray | memoryview) -> None:
        self._h.update(data)

    def digest(self) -> bytes:
        """The digest of everything so far; hashing may go on."""
        return self._h.copy().finalize()


def sha512(data: bytes) -> bytes:
    h = hashes.Hash(hashes.SHA512())
    h.update(data)
    return h.finalize()


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    mac = HMAC(key, hashes.SHA256())
    mac.update(message)
    return mac.finalize()


def hkdf_sha256(ikm: bytes, *, salt: bytes, info: bytes, length: int) -> bytes:
    """HKDF-SHA-256, Extract then Expand (RFC 5869); an empty salt means none."""
    if not 0 < length <= 255 * 32:
        raise UsageError("HKDF-SHA-256 output must be 1..8160 bytes")
    return HKDF(hashes.SHA256(), length, salt or None, info).derive(ikm)


def hkdf_expand_sha512(prk: bytes, *, info: bytes, length: int) -> bytes:
    """HKDF-Expand alone with SHA-512 (RFC 5869 §2.3), as C2SP chunked encryption uses."""
    if not 0 < length <= 255 * 64:
        raise UsageError("HKDF-SHA-512 output must be 1..16320 bytes")
    return HKDFExpand(hashes.SHA512(), length, info).derive(prk)


def argon2id(
    password: bytes,
    salt: bytes,
    *,
    memory_kib: int,
    iterations: int,
    lanes: int,
    length: int = KEY_SIZE,
    secret: bytes | None = None,
    ad: bytes | None = None,
) -> bytes:
    """Argon2id (RFC 9106, version 0x13)."""
    kdf = Argon2id(
        salt=salt,
        length=length,
        iterations=iterations,
        lanes=lanes,
        memory_cost=memory_kib,
        ad=ad or None,
        secret=secret or None,
    )
    return kdf.derive(password)


def pbkdf2_sha256(password: bytes, salt: bytes, *, iterations: int, length: int) -> bytes:
    """PBKDF2-HMAC-SHA-256 (RFC 8018)."""
    return PBKDF2HMAC(hashes.SHA256(), length, salt, iterations).derive(password)


# --- AES-256-GCM -------------------------------------------------------------------


def aes256gcm_seal(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM encryption; returns ciphertext || 16-byte tag."""
    _need("key", key, KEY_SIZE)
    _need("nonce", nonce, GCM_NONCE_SIZE)
    return AESGCM(key).encrypt(nonce, plaintext, aad)


def aes256gcm_open(key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
    """AES-256-GCM decryption; any failure is an opaque `IntegrityError`."""
    _need("key", key, KEY_SIZE)
    _need("nonce", nonce, GCM_NONCE_SIZE)
    if len(sealed) < GCM_TAG_SIZE:
        raise IntegrityError
    try:
        return AESGCM(key).decrypt(nonce, sealed, aad)
    except InvalidTag:
        raise IntegrityError from None


class ChunkAead:
    """AES-256-GCM over runs of equal-sized records, with XOR-counter nonces.

    The hot loop of content encryption: record `counter + i` uses the nonce
    `base_nonce XOR (counter + i)` (big-endian, as wide as the nonce) and an empty AAD,
    as in TLS 1.3 and C2SP chunked encryption. Works on memoryviews with
    `encrypt_into`/`decrypt_into`, so no byte is copied needlessly.
    """

    __slots__ = ("_aead", "_base")

    def __init__(self, key: bytes, base_nonce: bytes) -> None:
        _need("key", key, KEY_SIZE)
        _need("base nonce", base_nonce, GCM_NONCE_SIZE)
        self._aead = AESGCM(key)
        self._base = int.from_bytes(base_nonce, "big")

    def __repr__(self) -> str:
        return "ChunkAead(<redacted>)"

    def seal_run(
        self, counter: int, src: memoryview, dst: memoryview, record: int, count: int
    ) -> None:
        """Seal `count` records of `record` bytes from `src` into `dst` (each + tag)."""
        out = record + GCM_TAG_SIZE
        enc = self._aead.encrypt_into
        for nonce, s, d in zip(
            self._nonces(counter, count),
            [src[i : i + record] for i in range(0, count * record, record)],
            [dst[i : i + out] for i in range(0, count * out, out)],
            strict=True,
        ):
            enc(nonce, s, None, d)

    def _nonces(self, counter: int, count: int) -> list[bytes]:
        base = self._base
        return [(base ^ c).to_bytes(12, "big") for c in range(counter, counter + count)]

    def seal_one(self, counter: int, src: memoryview, dst: memoryview) -> None:
        """Seal one record of any length into `dst` (len(src) + 16 bytes)."""
        nonce = (self._base ^ counter).to_bytes(12, "big")
        self._aead.encrypt_into(nonce, src, None, dst)

    def open_run(
        self, counter: int, src: memoryview, dst: memoryview, record: int, count: int
    ) -> None:
        """Open `count` sealed records of `record` plaintext bytes; `IntegrityError` on any."""
        sealed = record + GCM_TAG_SIZE
        dec = self._aead.decrypt_into
        try:
            for nonce, s, d in zip(
                self._nonces(counter, count),
                [src[i : i + sealed] for i in range(0, count * sealed, sealed)],
                [dst[i : i + record] for i in range(0, count * record, record)],
                strict=True,
            ):
                dec(nonce, s, None, d)
        except InvalidTag:
            raise IntegrityError from None

    def open_one(self, counter: int, src: memoryview, dst: memoryview) -> None:
        """Open one sealed record (its plaintext length is len(src) - 16)."""
        if len(src) < GCM_TAG_SIZE:
            raise IntegrityError
        nonce = (self._base ^ counter).to_bytes(12, "big")
        try:
            self._aead.decrypt_into(nonce, src, None, dst)
        except InvalidTag:
            raise IntegrityError from None


def bare_gcm_loop(
    key: bytes,
    nonces: list[bytes],
    sources: list[memoryview],
    targets: list[memoryview],
    *,
    decrypt: bool = False,
) -> None:
    """The benchmark's ceiling: AES-256-GCM over pre-cut views with pre-made nonces.

    Nothing else happens per chunk (no nonce arithmetic, no slicing, no error mapping),
    so the content format is measured against the AEAD itself. Not for protecting data.
    """
    aead = AESGCM(key)
    fn = aead.decrypt_into if decrypt else aead.encrypt_into
    for nonce, src, dst in zip(nonces, sources, targets, strict=True):
        fn(nonce, src, None, dst)


# --- Ed25519 and X25519 --------------------------------------------------------------


def ed25519_public_key(seed: bytes) -> bytes:
    _need("Ed25519 seed", seed, ED25519_SEED_SIZE)
    return ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


def ed25519_sign(seed: bytes, message: bytes) -> bytes:
    _need("Ed25519 seed", seed, ED25519_SEED_SIZE)
    return ed25519.Ed25519PrivateKey.from_private_bytes(seed).sign(message)


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> None:
    """Verify an Ed25519 signature; a bad key, encoding or signature is `IntegrityError`."""
    if len(public) != ED25519_PUBLIC_SIZE or len(signature) != ED25519_SIGNATURE_SIZE:
        raise IntegrityError
    try:
        # mutant: core.ed25519-verify
        ed25519.Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        raise IntegrityError from None


def x25519_public_key(secret: bytes) -> bytes:
    _need("X25519 secret", secret, X25519_KEY_SIZE)
    return x25519.X25519PrivateKey.from_private_bytes(secret).public_key().public_bytes_raw()


def x25519_shared_secret(secret: bytes, public: bytes) -> bytes:
    """X25519 (RFC 7748); an all-zero result (low-order point) is refused."""
    _need("X25519 secret", secret, X25519_KEY_SIZE)
    if len(public) != X25519_KEY_SIZE:
        raise IntegrityError
    try:
        peer = x25519.X25519PublicKey.from_public_bytes(public)
        return x25519.X25519PrivateKey.from_private_bytes(secret).exchange(peer)
    except ValueError:
        raise IntegrityError from None


# --- HPKE (RFC 9180, base mode) ------------------------------------------------------

_SUITES = {
    SUITE_X25519: hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
    SUITE_MLKEM768_X25519: hpke.Suite(
        hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM
    ),
}
_PUBLIC_SIZES = {SUITE_X25519: X25519_KEY_SIZE, SUITE_MLKEM768_X25519: HYBRID_PUBLIC_SIZE}
_SECRET_SIZES = {SUITE_X25519: X25519_KEY_SIZE, SUITE_MLKEM768_X25519: HYBRID_SECRET_SIZE}


def _suite(suite: int) -> hpke.Suite:
    try:
        return _SUITES[suite]
    except KeyError:
        raise UsageError(f"unknown HPKE suite {suite}") from None


def _hpke_public(
    suite: int, public: bytes
) -> x25519.X25519PublicKey | hpke.MLKEM768X25519PublicKey:
    if len(public) != _PUBLIC_SIZES[suite]:
        raise IntegrityError
    try:
        if suite == SUITE_X25519:
            return x25519.X25519PublicKey.from_public_bytes(public)
        return hpke.MLKEM768X25519PublicKey(
            mlkem.MLKEM768PublicKey.from_public_bytes(public[:MLKEM768_PUBLIC_SIZE]),
            x25519.X25519PublicKey.from_public_bytes(public[MLKEM768_PUBLIC_SIZE:]),
        )
    except ValueError:
        raise IntegrityError from None


def _hpke_secret(
    suite: int, secret: bytes
) -> x25519.X25519PrivateKey | hpke.MLKEM768X25519PrivateKey:
    _need("HPKE secret", secret, _SECRET_SIZES[suite])
    if suite == SUITE_X25519:
        return x25519.X25519PrivateKey.from_private_bytes(secret)
    return hpke.MLKEM768X25519PrivateKey(
        mlkem.MLKEM768PrivateKey.from_seed_bytes(secret[:MLKEM768_SEED_SIZE]),
        x25519.X25519PrivateKey.from_private_bytes(secret[MLKEM768_SEED_SIZE:]),
    )


def hpke_public_key(suite: int, secret: bytes) -> bytes:
    """The public key of an HPKE secret: X25519 (32 bytes) or ML-KEM-768 || X25519."""
    _suite(suite)
    _need("HPKE secret", secret, _SECRET_SIZES[suite])
    if suite == SUITE_X25519:
        return x25519_public_key(secret)
    kem = mlkem.MLKEM768PrivateKey.from_seed_bytes(secret[:MLKEM768_SEED_SIZE])
    return kem.public_key().public_bytes_raw() + x25519_public_key(secret[MLKEM768_SEED_SIZE:])


def hpke_seal(suite: int, public: bytes, plaintext: bytes, info: bytes) -> bytes:
    """HPKE base-mode single-shot seal; returns enc || ciphertext."""
    return _suite(suite).encrypt(plaintext, _hpke_public(suite, public), info)


def hpke_open(suite: int, secret: bytes, sealed: bytes, info: bytes) -> bytes:
    """HPKE base-mode single-shot open; any failure is an opaque `IntegrityError`."""
    s = _suite(suite)
    key = _hpke_secret(suite, secret)
    try:
        return s.decrypt(sealed, key, info)
    except (InvalidTag, ValueError):
        raise IntegrityError from None
