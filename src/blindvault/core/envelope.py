"""Sharing envelopes: a node key HPKE-sealed to a recipient and signed by the sender.

    head  = "BVSE" || 0x01 || suite u8 || share_id[16] || node_id[16] || kind u8
            || key_version u64 || role u8 || sender fingerprint[32]
            || recipient fingerprint[32]
    env   = head || u16 length || HPKE(enc || ct) || Ed25519 signature[64]
    HPKE  = RFC 9180 base mode; suite 1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
            AES-256-GCM; suite 2: ML-KEM-768+X25519, HKDF-SHA256, AES-256-GCM
    info  = LABEL_ENVELOPE_INFO || 0x00 || head   (binds share id, node id, recipient
            fingerprint and key version, and the rest of the head)
    signature = Ed25519(sender, LABEL_ENVELOPE_SIG || 0x00 || head || u16 length || sealed)
    plaintext = the 32-byte node key

The recipient opens an envelope only with the sender's *pinned* bundle (P-PEERKEY);
an envelope from anyone else, for anyone else, or for another slot fails.
"""

from __future__ import annotations

from dataclasses import dataclass

from blindvault.core import primitives
from blindvault.core.constants import (
    ED25519_SIGNATURE_SIZE,
    FINGERPRINT_SIZE,
    ID_SIZE,
    LABEL_ENVELOPE_INFO,
    LABEL_ENVELOPE_SIG,
    MAGIC_ENVELOPE,
    NODE_FILE,
    NODE_FOLDER,
    ROLE_READ,
    ROLE_WRITE,
    SUITE_MLKEM768_X25519,
    SUITE_X25519,
)
from blindvault.core.encoding import Reader, Writer, check_header, header
from blindvault.core.identity import Identity, IdentityBundle
from blindvault.core.keys import FileKey, FolderKey
from blindvault.errors import FormatError, IntegrityError, UsageError

__all__ = ["Envelope", "open_envelope", "seal_envelope"]

_MAX_SEALED = 4096


@dataclass(frozen=True, slots=True)
class Envelope:
    """An opened envelope: which node, which key version, which role, and the key."""

    share_id: bytes
    node_id: bytes
    key_version: int
    role: int
    sender: bytes
    recipient: bytes
    key: FolderKey | FileKey


def _head(
    suite: int,
    share_id: bytes,
    node_id: bytes,
    kind: int,
    key_version: int,
    role: int,
    sender: bytes,
    recipient: bytes,
) -> bytes:
    w = Writer(header(MAGIC_ENVELOPE)).u8(suite).fixed(share_id, ID_SIZE).fixed(node_id, ID_SIZE)
    w.u8(kind).u64(key_version).u8(role)
    return w.fixed(sender, FINGERPRINT_SIZE).fixed(recipient, FINGERPRINT_SIZE).bytes()


def seal_envelope(
    key: FolderKey | FileKey,
    *,
    share_id: bytes,
    node_id: bytes,
    key_version: int,
    role: int,
    sender: Identity,
    recipient: IdentityBundle,
) -> bytes:
    """Seal `key` to the recipient's (pinned) bundle and sign it as `sender`."""
    if role not in (ROLE_READ, ROLE_WRITE):
        raise UsageError("unknown role")
    kind = NODE_FOLDER if isinstance(key, FolderKey) else NODE_FILE
    head = _head(
        recipient.suite,
        share_id,
        node_id,
        kind,
        key_version,
        role,
        sender.bundle.fingerprint,
        recipient.fingerprint,
    )
    sealed = primitives.hpke_seal(
        recipient.suite, recipient.hpke_public, key.material, LABEL_ENVELOPE_INFO + b"\x00" + head
    )
    signed = Writer(head).var16(sealed).bytes()
    return signed + sender.sign(LABEL_ENVELOPE_SIG + b"\x00" + signed)


def open_envelope(data: bytes, recipient: Identity, sender: IdentityBundle) -> Envelope:
    """Verify the sender's signature, check the envelope is for us, and open it."""
    r = Reader(data)
    check_header(r, MAGIC_ENVELOPE)
    suite = r.u8()
    if suite not in (SUITE_X25519, SUITE_MLKEM768_X25519):
        raise FormatError("unknown envelope suite")
    share_id, node_id = r.take(ID_SIZE), r.take(ID_SIZE)
    kind, key_version, role = r.u8(), r.u64(), r.u8()
    if kind not in (NODE_FILE, NODE_FOLDER) or role not in (ROLE_READ, ROLE_WRITE):
        raise FormatError("unknown envelope kind or role")
    sender_fp, recipient_fp = r.take(FINGERPRINT_SIZE), r.take(FINGERPRINT_SIZE)
    head = data[: r.position]
    sealed = r.var16(max_size=_MAX_SEALED)
    signed_len = r.position
    signature = r.take(ED25519_SIGNATURE_SIZE)
    r.finish()
    if sender_fp != sender.fingerprint:
        raise IntegrityError
    # mutant: core.envelope-signature
    sender.verify(LABEL_ENVELOPE_SIG + b"\x00" + data[:signed_len], signature)
    # mutant: core.envelope-recipient
    if recipient_fp != recipient.bundle.fingerprint or suite != recipient.bundle.suite:
        raise IntegrityError
    plain = primitives.hpke_open(
        suite, recipient.hpke_secret, sealed, LABEL_ENVELOPE_INFO + b"\x00" + head
    )
    if len(plain) != 32:
        raise IntegrityError
    key: FolderKey | FileKey = FolderKey(plain) if kind == NODE_FOLDER else FileKey(plain)
    return Envelope(share_id, node_id, key_version, role, sender_fp, recipient_fp, key)
