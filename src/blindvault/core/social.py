"""Social (k-of-n) recovery formats: the owner's signed setup, sealed shares, the request
code, shares re-sealed to a recovering device, vetoes, and the waiting-period policy.

    setup    = "BVSR" || 0x01 || setup_id[16] || owner email (text16) || owner fingerprint[32]
               || threshold u8 || count u8 || printed u8 || wait_s u64 || created_ms u64
               || count x (contact email (text16) || contact fingerprint[32]) || signature[64]
               signature = Ed25519(owner, LABEL_SOCIAL_SETUP_SIG || 0x00 || all before it)
    setup hash = SHA-256(LABEL_SOCIAL_SETUP_HASH || 0x00 || setup)
    share    = head || u16 length || HPKE(contact's identity key, SLIP-39 mnemonic)
               || signature[64]
               head = "BVSH" || 0x01 || setup hash[32] || contact fingerprint[32]
               info = LABEL_SOCIAL_SHARE || 0x00 || head; signature by the owner over
               LABEL_SOCIAL_SHARE_SIG || 0x00 || head || u16 length || sealed
    code     = 4 groups of 5 digits from SHA-512(LABEL_SOCIAL_CODE || 0x00 || request_id[16]
               || owner email (text16) || device key[32]): binds the request to the
               requesting device's fresh X25519 key (compared out of band)
    approval = head || HPKE(suite 1, device key, SLIP-39 mnemonic) (rest of the object)
               head = "BVSA" || 0x01 || request_id[16] || owner email (text16)
               || device key[32] || contact fingerprint[32]; info = LABEL_SOCIAL_APPROVAL
               || 0x00 || head
    veto     = "BVSV" || 0x01 || request_id[16] || owner email (text16)
               || signature[64] by the owner (LABEL_SOCIAL_VETO_SIG || 0x00 || body)
               (not bound to the device key: a server that showed the owner another key
               for the request cannot make the veto miss the request the contacts see)

The threshold and the waiting period are the owner's, inside the signed setup; the server
relays these objects and can read none of the shares. The wait is measured by each
contact's own clock from the moment that device first saw the request (`wait_over`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from blindvault.core import primitives
from blindvault.core.constants import (
    ED25519_SIGNATURE_SIZE,
    FINGERPRINT_SIZE,
    ID_SIZE,
    LABEL_SOCIAL_APPROVAL,
    LABEL_SOCIAL_CODE,
    LABEL_SOCIAL_SETUP_HASH,
    LABEL_SOCIAL_SETUP_SIG,
    LABEL_SOCIAL_SHARE,
    LABEL_SOCIAL_SHARE_SIG,
    LABEL_SOCIAL_VETO_SIG,
    MAGIC_SOCIAL_APPROVAL,
    MAGIC_SOCIAL_SETUP,
    MAGIC_SOCIAL_SHARE,
    MAGIC_SOCIAL_VETO,
    SLIP39_MAX_SHARES,
    SOCIAL_CODE_GROUPS,
    SOCIAL_MAX_WAIT_S,
    SUITE_X25519,
    X25519_KEY_SIZE,
)
from blindvault.core.encoding import Reader, Writer, check_header, header
from blindvault.core.identity import Identity, IdentityBundle
from blindvault.errors import FormatError, IntegrityError, UsageError

__all__ = [
    "Contact",
    "Setup",
    "check_veto",
    "open_approval",
    "open_share",
    "parse_wait",
    "request_code",
    "seal_approval",
    "seal_share",
    "sign_setup",
    "sign_veto",
    "wait_over",
]

_MAX_SHARE_TEXT = 1024
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class Contact:
    email: str
    fingerprint: bytes


@dataclass(frozen=True, slots=True)
class Setup:
    """An opened, verified setup: what the owner signed."""

    setup_id: bytes
    owner_email: str
    owner_fingerprint: bytes
    threshold: int
    printed: int
    wait_s: int
    created_ms: int
    contacts: tuple[Contact, ...]
    encoded: bytes

    @property
    def digest(self) -> bytes:
        return primitives.sha256(LABEL_SOCIAL_SETUP_HASH + b"\x00" + self.encoded)

    def contact(self, fingerprint: bytes) -> Contact | None:
        return next((c for c in self.contacts if c.fingerprint == fingerprint), None)

    @classmethod
    def decode(cls, data: bytes, owner: IdentityBundle) -> Setup:
        """Parse and verify against the owner's (pinned) bundle."""
        r = Reader(data)
        check_header(r, MAGIC_SOCIAL_SETUP)
        setup_id, email = r.take(ID_SIZE), r.text16(max_size=320)
        owner_fp = r.take(FINGERPRINT_SIZE)
        threshold, count, printed = r.u8(), r.u8(), r.u8()
        wait_s, created_ms = r.u64(), r.u64()
        contacts = tuple(
            Contact(r.text16(max_size=320), r.take(FINGERPRINT_SIZE)) for _ in range(count)
        )
        signed = r.position
        signature = r.take(ED25519_SIGNATURE_SIZE)
        r.finish()
        _check_policy(threshold, count + printed, wait_s)
        if owner_fp != owner.fingerprint or email != owner.email:
            raise IntegrityError("the recovery setup is not this owner's")
        owner.verify(LABEL_SOCIAL_SETUP_SIG + b"\x00" + data[:signed], signature)
        return cls(
            setup_id, email, owner_fp, threshold, printed, wait_s, created_ms, contacts, data
        )


def _check_policy(threshold: int, count: int, wait_s: int) -> None:
    if not 1 <= threshold <= count <= SLIP39_MAX_SHARES:
        raise FormatError(f"need 1 <= threshold <= shares <= {SLIP39_MAX_SHARES}")
    if wait_s > SOCIAL_MAX_WAIT_S:
        raise FormatError("the waiting period is too long")


def sign_setup(
    owner: Identity,
    contacts: list[IdentityBundle],
    *,
    threshold: int,
    printed: int,
    wait_s: int,
    created_ms: int,
    setup_id: bytes,
) -> Setup:
    """The owner's signed setup naming the contacts' pinned keys, threshold and wait."""
    if len({c.fingerprint for c in contacts}) != len(contacts):
        raise UsageError("a contact is named twice")
    try:
        _check_policy(threshold, len(contacts) + printed, wait_s)
    except FormatError as exc:
        raise UsageError(str(exc)) from None
    w = Writer(header(MAGIC_SOCIAL_SETUP)).fixed(setup_id, ID_SIZE).text16(owner.bundle.email)
    w.fixed(owner.bundle.fingerprint, FINGERPRINT_SIZE)
    w.u8(threshold).u8(len(contacts)).u8(printed).u64(wait_s).u64(created_ms)
    for c in contacts:
        w.text16(c.email).fixed(c.fingerprint, FINGERPRINT_SIZE)
    body = w.bytes()
    data = body + owner.sign(LABEL_SOCIAL_SETUP_SIG + b"\x00" + body)
    return Setup.decode(data, owner.bundle)


def seal_share(share: str, setup: Setup, owner: Identity, contact: IdentityBundle) -> bytes:
    """One SLIP-39 share sealed to a contact's pinned key and signed by the owner."""
    head = Writer(header(MAGIC_SOCIAL_SHARE)).fixed(setup.digest, 32)
    head.fixed(contact.fingerprint, FINGERPRINT_SIZE)
    raw = head.bytes()
    sealed = primitives.hpke_seal(
        contact.suite, contact.hpke_public, share.encode(), LABEL_SOCIAL_SHARE + b"\x00" + raw
    )
    signed = Writer(raw).var16(sealed).bytes()
    return signed + owner.sign(LABEL_SOCIAL_SHARE_SIG + b"\x00" + signed)


def open_share(data: bytes, setup: Setup, contact: Identity, owner: IdentityBundle) -> str:
    """A contact opens their share: signed by the (pinned) owner, for this setup and them."""
    r = Reader(data)
    check_header(r, MAGIC_SOCIAL_SHARE)
    setup_hash, contact_fp = r.take(32), r.take(FINGERPRINT_SIZE)
    head = data[: r.position]
    sealed = r.var16(max_size=4096)
    signed = r.position
    signature = r.take(ED25519_SIGNATURE_SIZE)
    r.finish()
    owner.verify(LABEL_SOCIAL_SHARE_SIG + b"\x00" + data[:signed], signature)
    if setup_hash != setup.digest or contact_fp != contact.bundle.fingerprint:
        raise IntegrityError("the share is for another setup or another contact")
    plain = primitives.hpke_open(
        contact.bundle.suite, contact.hpke_secret, sealed, LABEL_SOCIAL_SHARE + b"\x00" + head
    )
    return _share_text(plain)


def _share_text(plain: bytes) -> str:
    if len(plain) > _MAX_SHARE_TEXT:
        raise IntegrityError("the share is too long")
    try:
        return plain.decode("ascii")
    except UnicodeDecodeError:
        raise IntegrityError("the share is not a mnemonic") from None


def request_code(request_id: bytes, owner_email: str, device_key: bytes) -> str:
    """The short code both sides compare: derived from the requesting device's key."""
    w = Writer().fixed(request_id, ID_SIZE).text16(owner_email).fixed(device_key, X25519_KEY_SIZE)
    digest = primitives.sha512(LABEL_SOCIAL_CODE + b"\x00" + w.bytes())
    groups = [
        int.from_bytes(digest[i * 5 : i * 5 + 5], "big") % 100000 for i in range(SOCIAL_CODE_GROUPS)
    ]
    return "-".join(f"{g:05d}" for g in groups)


def same_code(given: str, expected: str) -> bool:
    """Compare a typed code (any spacing or dashes) with the expected one."""
    digits = re.sub(r"[\s-]", "", given)
    return primitives.constant_time_equal(digits.encode(), expected.replace("-", "").encode())


def _approval_head(
    request_id: bytes, owner_email: str, device_key: bytes, contact_fp: bytes
) -> bytes:
    w = Writer(header(MAGIC_SOCIAL_APPROVAL)).fixed(request_id, ID_SIZE).text16(owner_email)
    return w.fixed(device_key, X25519_KEY_SIZE).fixed(contact_fp, FINGERPRINT_SIZE).bytes()


def seal_approval(
    share: str, *, request_id: bytes, owner_email: str, device_key: bytes, contact_fp: bytes
) -> bytes:
    """A contact's share re-sealed to the requesting device's fresh key."""
    head = _approval_head(request_id, owner_email, device_key, contact_fp)
    info = LABEL_SOCIAL_APPROVAL + b"\x00" + head
    return head + primitives.hpke_seal(SUITE_X25519, device_key, share.encode(), info)


def open_approval(
    data: bytes, *, request_id: bytes, owner_email: str, device_secret: bytes
) -> tuple[bytes, str]:
    """(contact fingerprint, share) of an approval for this request and this device."""
    device_key = primitives.x25519_public_key(device_secret)
    r = Reader(data)
    check_header(r, MAGIC_SOCIAL_APPROVAL)
    rid, email, key, contact_fp = (
        r.take(ID_SIZE), r.text16(max_size=320), r.take(X25519_KEY_SIZE), r.take(FINGERPRINT_SIZE)
    )  # fmt: skip
    head = data[: r.position]
    sealed = r.rest()
    if rid != request_id or email != owner_email or key != device_key:
        raise IntegrityError("the approval is for another request or device")
    plain = primitives.hpke_open(
        SUITE_X25519, device_secret, sealed, LABEL_SOCIAL_APPROVAL + b"\x00" + head
    )
    return contact_fp, _share_text(plain)


def _veto_body(request_id: bytes, owner_email: str) -> bytes:
    return Writer(header(MAGIC_SOCIAL_VETO)).fixed(request_id, ID_SIZE).text16(owner_email).bytes()


def sign_veto(owner: Identity, request_id: bytes) -> bytes:
    body = _veto_body(request_id, owner.bundle.email)
    return body + owner.sign(LABEL_SOCIAL_VETO_SIG + b"\x00" + body)


def check_veto(data: bytes, owner: IdentityBundle, request_id: bytes) -> bool:
    """True if `data` is the owner's valid veto of this very request; False otherwise."""
    body = _veto_body(request_id, owner.email)
    if len(data) != len(body) + ED25519_SIGNATURE_SIZE or data[: len(body)] != body:
        return False
    try:
        owner.verify(LABEL_SOCIAL_VETO_SIG + b"\x00" + body, data[len(body) :])
    except IntegrityError:
        return False
    return True


def parse_wait(text: str) -> int:
    """'72h', '30m', '2d', '90s', '0s' → seconds (at most 90 days)."""
    m = re.fullmatch(r"\s*(\d{1,7})\s*([smhd])\s*", text)
    if m is None:
        raise UsageError(f"not a waiting period: {text!r} (e.g. 72h, 30m, 2d, 0s)")
    seconds = int(m.group(1)) * _UNITS[m.group(2)]
    if seconds > SOCIAL_MAX_WAIT_S:
        raise UsageError("the waiting period is at most 90 days")
    return seconds


def wait_over(first_seen_ms: int, now_ms: int, wait_s: int) -> bool:
    """Has the owner's waiting period passed on this device's clock since it first saw the
    request? (A clock that went backwards counts as no time passed.)"""
    return now_ms - first_seen_ms >= wait_s * 1000
