"""Identity certificates from the server's CA (issue 17, part 3): an extra signal, never
a replacement for pins.

    ca descriptor = "BVCA" || 0x01 || ca public key[32] (Ed25519) || policy u8
                    || created_ms u64 || signature[64]
        signature = Ed25519(ca key, LABEL_CA_SIG || 0x00 || all before it)
    certificate   = "BVCC" || 0x01 || email (u16-length UTF-8) || fingerprint[32]
                    || issued_ms u64 || signature[64]
        signature = Ed25519(ca key, LABEL_CERTIFICATE_SIG || 0x00 || all before it)

A client pins the descriptor (its SHA-256) the first time it sees it, like a peer's key;
another descriptor later — a new CA key or a changed policy — is refused. The policy is
the organisation's, pinned with the CA: `CA_POLICY_REVERIFY` (a certified key change of a
pinned peer still needs the user to re-verify) or `CA_POLICY_ACCEPT_CERTIFIED`.
"""

from __future__ import annotations

from dataclasses import dataclass

from blindvault.core import primitives
from blindvault.core.constants import (
    CA_POLICY_ACCEPT_CERTIFIED,
    CA_POLICY_REVERIFY,
    ED25519_PUBLIC_SIZE,
    ED25519_SIGNATURE_SIZE,
    FINGERPRINT_SIZE,
    LABEL_CA_SIG,
    LABEL_CERTIFICATE_SIG,
    MAGIC_CA,
    MAGIC_CERTIFICATE,
)
from blindvault.core.encoding import Reader, check_header
from blindvault.core.identity import IdentityBundle
from blindvault.errors import FormatError, IntegrityError

__all__ = ["CaDescriptor", "IdentityCertificate", "check_certificate"]

_POLICIES = (CA_POLICY_REVERIFY, CA_POLICY_ACCEPT_CERTIFIED)


@dataclass(frozen=True, slots=True)
class CaDescriptor:
    public_key: bytes
    policy: int
    created_ms: int
    raw: bytes

    @classmethod
    def decode(cls, data: bytes) -> CaDescriptor:
        """Parse strictly and verify the self-signature (`IntegrityError` if it fails)."""
        r = Reader(data)
        check_header(r, MAGIC_CA)
        public, policy, created = r.take(ED25519_PUBLIC_SIZE), r.u8(), r.u64()
        signature = r.take(ED25519_SIGNATURE_SIZE)
        r.finish()
        if policy not in _POLICIES:
            raise FormatError("unknown certificate-authority policy")
        body = data[:-ED25519_SIGNATURE_SIZE]
        primitives.ed25519_verify(public, LABEL_CA_SIG + b"\x00" + body, signature)
        return cls(public, policy, created, data)

    @property
    def pin(self) -> str:
        """What a device pins: the hash of the whole descriptor (key and policy)."""
        return primitives.sha256(self.raw).hex()

    @property
    def accepts_certified_changes(self) -> bool:
        return self.policy == CA_POLICY_ACCEPT_CERTIFIED


@dataclass(frozen=True, slots=True)
class IdentityCertificate:
    email: str
    fingerprint: bytes
    issued_ms: int
    body: bytes
    signature: bytes

    @classmethod
    def decode(cls, data: bytes) -> IdentityCertificate:
        r = Reader(data)
        check_header(r, MAGIC_CERTIFICATE)
        email = r.text16(max_size=320)
        fingerprint, issued = r.take(FINGERPRINT_SIZE), r.u64()
        signature = r.take(ED25519_SIGNATURE_SIZE)
        r.finish()
        return cls(email, fingerprint, issued, data[:-ED25519_SIGNATURE_SIZE], signature)


def check_certificate(ca: CaDescriptor, data: bytes, bundle: IdentityBundle) -> None:
    """`IntegrityError` unless `data` is the CA's certificate of exactly `bundle`."""
    cert = IdentityCertificate.decode(data)
    signed = LABEL_CERTIFICATE_SIG + b"\x00" + cert.body
    primitives.ed25519_verify(ca.public_key, signed, cert.signature)  # mutant: cert.signature
    # mutant: cert.binds-identity
    if cert.email != bundle.email or cert.fingerprint != bundle.fingerprint:
        raise IntegrityError("the certificate is for another key")
