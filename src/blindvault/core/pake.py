"""Pairing a device by code (issue 17): SPAKE2 and everything derived from its key.

The signed-in device shows a code `CHANNEL-word-word-word`: CHANNEL is the digits of the
server's one-shot relay mailbox (public: the server picks it), the three BIP39 English
words are the password of a SPAKE2 exchange (python-spake2, Ed25519 group; the signed-in
device is side A, the new device side B). The server relays the two SPAKE2 messages and
sees only them; a server or a guesser without the words gets one online guess per code
(the mailbox takes one join and then closes) and learns nothing offline.

From the 32-byte SPAKE2 key, HKDF-SHA-256 (info = label || channel) derives:

    confirm_key (32)   the new device's key-confirmation tag (HMAC-SHA-256)
    payload_key (32)   AES-256-GCM key of the account payload sent to the new device
    confirmation (8)   shown on both devices as `ddd ddd ddd`

    sealed payload = "BVPR" || 0x01 || nonce[12] || AES-256-GCM(payload_key, nonce,
                     payload, aad = "BVPR" || 0x01 || channel)

`spake2` is the one external library this module wraps (import-linter allows it here
only); the rest goes through `blindvault.core.primitives`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from mnemonic import Mnemonic
from spake2 import SPAKE2_A, SPAKE2_B

from blindvault.core import primitives
from blindvault.core.constants import (
    GCM_NONCE_SIZE,
    KEY_SIZE,
    LABEL_PAIRING_CONFIRM,
    LABEL_PAIRING_KEYS,
    LABEL_PAIRING_NEW,
    LABEL_PAIRING_OLD,
    MAGIC_PAIRING,
    PAIRING_WORDS,
)
from blindvault.core.encoding import header
from blindvault.errors import FormatError, IntegrityError, UsageError

__all__ = ["Handshake", "PairingCode", "PairingKeys", "new_words"]

_CHANNEL = re.compile(r"^[0-9]{4,8}$")
_MAX_MESSAGE = 256
_MAX_PAYLOAD = 2 << 20


@lru_cache(maxsize=1)
def _wordlist() -> tuple[str, ...]:
    return tuple(Mnemonic("english").wordlist)


def new_words() -> tuple[str, ...]:
    """Three random BIP39 English words (33 bits), the SPAKE2 password."""
    words = _wordlist()
    raw = int.from_bytes(primitives.random_bytes(8), "big")
    return tuple(words[(raw >> (11 * i)) & 0x7FF] for i in range(PAIRING_WORDS))


@dataclass(frozen=True, slots=True)
class PairingCode:
    """`CHANNEL-word-word-word`, as shown by `blindvault devices add`."""

    channel: str
    words: tuple[str, ...]

    def __str__(self) -> str:
        return "-".join((self.channel, *self.words))

    def __repr__(self) -> str:
        return f"PairingCode(channel={self.channel!r}, words=<redacted>)"

    @classmethod
    def parse(cls, text: str) -> PairingCode:
        """Any case, `-` or spaces between the parts; `UsageError` naming what is wrong."""
        parts = [p for p in re.split(r"[\s\-]+", text.strip().lower()) if p]
        if len(parts) != PAIRING_WORDS + 1 or not _CHANNEL.match(parts[0]):
            raise UsageError(
                "a pairing code looks like 12345-word-word-word (digits, then three words)"
            )
        known = set(_wordlist())
        for i, word in enumerate(parts[1:], 1):
            if word not in known:
                raise UsageError(f"word {i} of the pairing code is not a code word")
        return cls(parts[0], tuple(parts[1:]))

    def password(self) -> bytes:
        return " ".join(self.words).encode("ascii")


@dataclass(frozen=True, slots=True)
class PairingKeys:
    """What both devices derive from the SPAKE2 key; equal only if the words were."""

    channel: str
    confirm_key: bytes
    payload_key: bytes
    confirmation: str

    def __repr__(self) -> str:
        return f"PairingKeys(channel={self.channel!r}, <redacted>)"

    def confirm_tag(self) -> bytes:
        """The new device's proof that it derived the same key (sent through the relay)."""
        return primitives.hmac_sha256(self.confirm_key, LABEL_PAIRING_CONFIRM + self._ch())

    def check_confirm(self, tag: bytes) -> None:
        """`IntegrityError` unless `tag` is the new device's tag for this key: a wrong
        code (or a guess, or a relay that swapped a message) ends here."""
        # mutant: pairing.confirm-tag
        if not primitives.constant_time_equal(tag, self.confirm_tag()):
            raise IntegrityError("the pairing code did not match")

    def seal(self, payload: bytes) -> bytes:
        head = header(MAGIC_PAIRING)
        nonce = primitives.random_bytes(GCM_NONCE_SIZE)
        return (
            head
            + nonce
            + primitives.aes256gcm_seal(self.payload_key, nonce, payload, head + self._ch())
        )

    def open(self, sealed: bytes) -> bytes:
        """The payload, or `IntegrityError` (opaque) if anything was changed."""
        head = header(MAGIC_PAIRING)
        if not len(head) + GCM_NONCE_SIZE < len(sealed) <= _MAX_PAYLOAD:
            raise IntegrityError
        if sealed[: len(head)] != head:
            raise IntegrityError
        nonce = sealed[len(head) : len(head) + GCM_NONCE_SIZE]
        body = sealed[len(head) + GCM_NONCE_SIZE :]
        return primitives.aes256gcm_open(self.payload_key, nonce, body, head + self._ch())

    def _ch(self) -> bytes:
        return self.channel.encode("ascii")


class Handshake:
    """One side of the SPAKE2 exchange; `message` goes to the relay, `finish` takes the
    other side's message (once)."""

    def __init__(self, words: tuple[str, ...], *, signed_in: bool) -> None:
        password = " ".join(words).encode("ascii")
        side = SPAKE2_A if signed_in else SPAKE2_B
        self._spake = side(password, idA=LABEL_PAIRING_OLD, idB=LABEL_PAIRING_NEW)
        self.message: bytes = bytes(self._spake.start())

    def __repr__(self) -> str:
        return "Handshake(<redacted>)"

    def finish(self, inbound: bytes, channel: str) -> PairingKeys:
        """The derived keys; a malformed or reflected message is a `FormatError`."""
        if not 0 < len(inbound) <= _MAX_MESSAGE:
            raise FormatError("malformed pairing message")
        try:
            key = bytes(self._spake.finish(inbound))
        except Exception:  # python-spake2 raises several types for a bad message
            raise FormatError("malformed pairing message") from None
        okm = primitives.hkdf_sha256(
            key, salt=b"", info=LABEL_PAIRING_KEYS + channel.encode("ascii"), length=72
        )
        number = int.from_bytes(okm[2 * KEY_SIZE :], "big") % 10**9
        digits = f"{number:09d}"
        shown = f"{digits[:3]} {digits[3:6]} {digits[6:]}"
        return PairingKeys(channel, okm[:KEY_SIZE], okm[KEY_SIZE : 2 * KEY_SIZE], shown)
