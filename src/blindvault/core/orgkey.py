"""The organisation recovery key (issue 17, part 2): a key pair the server operator holds
offline, a self-signed public document the server publishes, and escrows (an account's
vault key sealed to it, with the user's consent).

    secret    = 32 random bytes, shown once as 24 BIP39 words (and written to a file)
    sign seed = HKDF-SHA-256(secret, info=LABEL_ORG_KEY_SIG || "/sign", 32)
    hpke sk   = HKDF-SHA-256(secret, info=LABEL_ORG_KEY_SIG || "/hpke", 32)  (X25519)
    document  = "BVOK" || 0x01 || name (text16) || created_ms u64 || ed25519 public[32]
                || x25519 public[32] || signature[64]
                signature = Ed25519(sign seed, LABEL_ORG_KEY_SIG || 0x00 || all before it)
    fingerprint = SHA-256(LABEL_FINGERPRINT || 0x00 || document); key id = its first 16 bytes
    escrow    = head || u16 length || HPKE(suite 1, org x25519 public, vault key)
                || signature[64] by the user's identity (their consent, checkable by each of
                their devices: LABEL_ORG_ESCROW || 0x00 || all before it)
                head = "BVOE" || 0x01 || org fingerprint[32] || owner[16] || email (text16)
                info = LABEL_ORG_ESCROW || 0x00 || head

A client pins the organisation key's fingerprint when its user consents; it seals an escrow
only to the pinned key, and a served key that differs from the pin (swapped, or added after
signup without consent) is refused (P-ESCROW).
"""

from __future__ import annotations

from dataclasses import dataclass

from blindvault.core import primitives
from blindvault.core.constants import (
    ED25519_PUBLIC_SIZE,
    ED25519_SIGNATURE_SIZE,
    FINGERPRINT_SIZE,
    ID_SIZE,
    KEY_SIZE,
    LABEL_FINGERPRINT,
    LABEL_ORG_ESCROW,
    LABEL_ORG_KEY_SIG,
    MAGIC_ORG_ESCROW,
    MAGIC_ORG_KEY,
    SUITE_X25519,
    X25519_KEY_SIZE,
)
from blindvault.core.encoding import Reader, Writer, check_header, header
from blindvault.core.identity import Identity, IdentityBundle
from blindvault.core.keys import RecoveryKey, SecretKey, VaultKey
from blindvault.errors import IntegrityError, UsageError

__all__ = ["OrgKey", "OrgPublic", "consented_key", "open_escrow", "seal_escrow"]


@dataclass(frozen=True, slots=True)
class OrgPublic:
    """A verified organisation key document, as published and pinned."""

    name: str
    created_ms: int
    sign_public: bytes
    hpke_public: bytes
    document: bytes

    @property
    def fingerprint(self) -> bytes:
        return primitives.sha256(LABEL_FINGERPRINT + b"\x00" + self.document)

    @property
    def key_id(self) -> str:
        return self.fingerprint[:ID_SIZE].hex()

    @classmethod
    def decode(cls, data: bytes) -> OrgPublic:
        """Parse and check the self-signature (trust comes from the pin, not from this)."""
        r = Reader(data)
        check_header(r, MAGIC_ORG_KEY)
        name, created = r.text16(max_size=200), r.u64()
        sign_public, hpke_public = r.take(ED25519_PUBLIC_SIZE), r.take(X25519_KEY_SIZE)
        signed = r.position
        signature = r.take(ED25519_SIGNATURE_SIZE)
        r.finish()
        primitives.ed25519_verify(
            sign_public, LABEL_ORG_KEY_SIG + b"\x00" + data[:signed], signature
        )
        return cls(name, created, sign_public, hpke_public, data)


class OrgKey(SecretKey):
    """The private half (32 bytes; its words are `recovery_words(RecoveryKey(material))`)."""

    def _part(self, what: bytes) -> bytes:
        return primitives.hkdf_sha256(
            self.material, salt=b"", info=LABEL_ORG_KEY_SIG + what, length=KEY_SIZE
        )

    def public(self, name: str, created_ms: int) -> OrgPublic:
        seed = self._part(b"/sign")
        w = Writer(header(MAGIC_ORG_KEY)).text16(name).u64(created_ms)
        w.fixed(primitives.ed25519_public_key(seed), ED25519_PUBLIC_SIZE)
        w.fixed(primitives.x25519_public_key(self._part(b"/hpke")), X25519_KEY_SIZE)
        body = w.bytes()
        return OrgPublic.decode(
            body + primitives.ed25519_sign(seed, LABEL_ORG_KEY_SIG + b"\x00" + body)
        )

    def matches(self, public: OrgPublic) -> bool:
        return public.hpke_public == primitives.x25519_public_key(self._part(b"/hpke"))

    def open_escrow(self, data: bytes, public: OrgPublic, owner: bytes, email: str) -> VaultKey:
        return open_escrow(data, self._part(b"/hpke"), public, owner, email)

    @classmethod
    def from_recovery(cls, key: RecoveryKey) -> OrgKey:
        return cls(key.material)


def _head(public: OrgPublic, owner: bytes, email: str) -> bytes:
    w = Writer(header(MAGIC_ORG_ESCROW)).fixed(public.fingerprint, FINGERPRINT_SIZE)
    return w.fixed(owner, ID_SIZE).text16(email).bytes()


def seal_escrow(
    vault: VaultKey, public: OrgPublic, owner: bytes, email: str, user: Identity
) -> bytes:
    """The vault key sealed to the (pinned) organisation key, signed by the user."""
    head = _head(public, owner, email)
    info = LABEL_ORG_ESCROW + b"\x00" + head
    sealed = primitives.hpke_seal(SUITE_X25519, public.hpke_public, vault.material, info)
    signed = Writer(head).var16(sealed).bytes()
    return signed + user.sign(LABEL_ORG_ESCROW + b"\x00" + signed)


def consented_key(data: bytes, user: IdentityBundle, owner: bytes) -> bytes:
    """The fingerprint of the organisation key the user signed their consent to."""
    r = Reader(data)
    check_header(r, MAGIC_ORG_ESCROW)
    org_fp, escrow_owner, email = r.take(FINGERPRINT_SIZE), r.take(ID_SIZE), r.text16()
    r.var16(max_size=4096)
    signed = r.position
    signature = r.take(ED25519_SIGNATURE_SIZE)
    r.finish()
    user.verify(LABEL_ORG_ESCROW + b"\x00" + data[:signed], signature)  # mutant: org.consent
    if escrow_owner != owner or email != user.email:
        raise IntegrityError("the escrow is another account's")
    return org_fp


def open_escrow(
    data: bytes, hpke_secret: bytes, public: OrgPublic, owner: bytes, email: str
) -> VaultKey:
    head = _head(public, owner, email)
    if data[: len(head)] != head:
        raise IntegrityError("the escrow is for another organisation key or account")
    r = Reader(data[len(head) :])
    sealed = r.var16(max_size=4096)
    r.take(ED25519_SIGNATURE_SIZE)
    r.finish()
    plain = primitives.hpke_open(
        SUITE_X25519, hpke_secret, sealed, LABEL_ORG_ESCROW + b"\x00" + head
    )
    if len(plain) != KEY_SIZE:
        raise UsageError("the escrow holds a key of the wrong size")
    return VaultKey(plain)
