"""User identities: an Ed25519 signing key and an HPKE key, in a self-signed bundle.

    bundle = "BVID" || 0x01 || suite u8 || email (u16-length UTF-8, normalized)
             || created_ms u64 || ed25519 public[32] || hpke public (32, or 1216 for the
             ML-KEM-768+X25519 suite) || signature[64]
    signature   = Ed25519(sign key, LABEL_IDENTITY_SIG || 0x00 || body)   (body = all before it)
    fingerprint = SHA-256(LABEL_FINGERPRINT || 0x00 || body)

The bundle names its email, so a bundle cannot be served as somebody else's.
Peers are trusted through pins of the fingerprint (P-PEERKEY, P-OWNKEY), never through
the server; `safety_number` makes the comparison human-sized.
"""

from __future__ import annotations

from dataclasses import dataclass

from blindvault.core import primitives
from blindvault.core.constants import (
    ED25519_PUBLIC_SIZE,
    ED25519_SEED_SIZE,
    ED25519_SIGNATURE_SIZE,
    FINGERPRINT_SIZE,
    HYBRID_PUBLIC_SIZE,
    HYBRID_SECRET_SIZE,
    LABEL_FINGERPRINT,
    LABEL_IDENTITY_SIG,
    LABEL_SAFETY_NUMBER,
    MAGIC_IDENTITY,
    MLKEM768_SEED_SIZE,
    SUITE_MLKEM768_X25519,
    SUITE_X25519,
    X25519_KEY_SIZE,
)
from blindvault.core.encoding import Reader, Writer, check_header, header
from blindvault.core.kdf import normalize_email
from blindvault.errors import FormatError, UsageError

__all__ = [
    "Identity",
    "IdentityBundle",
    "pair_safety_number",
    "safety_number",
]

_HPKE_PUBLIC_SIZES = {SUITE_X25519: X25519_KEY_SIZE, SUITE_MLKEM768_X25519: HYBRID_PUBLIC_SIZE}


@dataclass(frozen=True, slots=True)
class IdentityBundle:
    """A user's public identity, as published and pinned."""

    suite: int
    email: str
    created_ms: int
    sign_public: bytes
    hpke_public: bytes
    signature: bytes

    def body(self) -> bytes:
        w = Writer(header(MAGIC_IDENTITY)).u8(self.suite).text16(self.email).u64(self.created_ms)
        return w.fixed(self.sign_public, ED25519_PUBLIC_SIZE).raw(self.hpke_public).bytes()

    def encode(self) -> bytes:
        return self.body() + self.signature

    @property
    def fingerprint(self) -> bytes:
        return primitives.sha256(LABEL_FINGERPRINT + b"\x00" + self.body())

    @classmethod
    def decode(cls, data: bytes) -> IdentityBundle:
        """Parse strictly and verify the self-signature; `IntegrityError` if it fails."""
        r = Reader(data)
        check_header(r, MAGIC_IDENTITY)
        suite = r.u8()
        if suite not in _HPKE_PUBLIC_SIZES:
            raise FormatError("unknown identity suite")
        email = r.text16(max_size=320)
        try:
            if normalize_email(email) != email:
                raise FormatError("identity email not normalized")
        except UsageError:
            raise FormatError("identity email invalid") from None
        created = r.u64()
        sign_public = r.take(ED25519_PUBLIC_SIZE)
        hpke_public = r.take(_HPKE_PUBLIC_SIZES[suite])
        signature = r.take(ED25519_SIGNATURE_SIZE)
        r.finish()
        bundle = cls(suite, email, created, sign_public, hpke_public, signature)
        primitives.ed25519_verify(
            sign_public, LABEL_IDENTITY_SIG + b"\x00" + bundle.body(), signature
        )
        return bundle

    def verify(self, message: bytes, signature: bytes) -> None:
        """Verify a signature made by this identity; `IntegrityError` if it fails."""
        primitives.ed25519_verify(self.sign_public, message, signature)


class Identity:
    """The private half: an Ed25519 seed and an HPKE secret. Never printed."""

    __slots__ = ("_hpke_secret", "_sign_seed", "bundle")

    def __init__(self, secret: bytes, email: str, created_ms: int) -> None:
        """Rebuild from the wrapped secret (seed || X25519 [|| ML-KEM-768 seed])."""
        if len(secret) == ED25519_SEED_SIZE + X25519_KEY_SIZE:
            suite = SUITE_X25519
            hpke_secret = secret[ED25519_SEED_SIZE:]
        elif len(secret) == ED25519_SEED_SIZE + HYBRID_SECRET_SIZE:
            suite = SUITE_MLKEM768_X25519
            # stored as seed || X25519 || ML-KEM seed; HPKE wants ML-KEM seed || X25519
            x_secret = secret[ED25519_SEED_SIZE : ED25519_SEED_SIZE + X25519_KEY_SIZE]
            hpke_secret = secret[ED25519_SEED_SIZE + X25519_KEY_SIZE :] + x_secret
        else:
            raise UsageError("wrong identity secret size")
        self._sign_seed = secret[:ED25519_SEED_SIZE]
        self._hpke_secret = hpke_secret
        body = IdentityBundle(
            suite,
            normalize_email(email),
            created_ms,
            primitives.ed25519_public_key(self._sign_seed),
            primitives.hpke_public_key(suite, hpke_secret),
            b"",
        ).body()
        sig = primitives.ed25519_sign(self._sign_seed, LABEL_IDENTITY_SIG + b"\x00" + body)
        self.bundle = IdentityBundle.decode(body + sig)

    @classmethod
    def generate(cls, email: str, created_ms: int, *, post_quantum: bool = False) -> Identity:
        size = ED25519_SEED_SIZE + X25519_KEY_SIZE + (MLKEM768_SEED_SIZE if post_quantum else 0)
        return cls(primitives.random_bytes(size), email, created_ms)

    @property
    def secret(self) -> bytes:
        """The bytes to wrap under the vault key (see `wrap.wrap_identity_secret`)."""
        if self.bundle.suite == SUITE_X25519:
            return self._sign_seed + self._hpke_secret
        x_secret = self._hpke_secret[MLKEM768_SEED_SIZE:]
        return self._sign_seed + x_secret + self._hpke_secret[:MLKEM768_SEED_SIZE]

    @property
    def hpke_secret(self) -> bytes:
        return self._hpke_secret

    def sign(self, message: bytes) -> bytes:
        return primitives.ed25519_sign(self._sign_seed, message)

    def __repr__(self) -> str:
        return f"Identity({self.bundle.email!r}, <redacted>)"

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("Identity cannot be pickled")


def safety_number(fingerprint: bytes) -> str:
    """30 digits in six groups of five, derived from one fingerprint."""
    if len(fingerprint) != FINGERPRINT_SIZE:
        raise UsageError("fingerprint must be 32 bytes")
    digest = primitives.sha512(LABEL_SAFETY_NUMBER + b"\x00" + fingerprint)
    groups = [int.from_bytes(digest[i * 5 : i * 5 + 5], "big") % 100000 for i in range(6)]
    return " ".join(f"{g:05d}" for g in groups)


def pair_safety_number(a: bytes, b: bytes) -> str:
    """60 digits two users compare out of band; the same whoever computes it."""
    return " ".join(sorted([safety_number(a), safety_number(b)]))
