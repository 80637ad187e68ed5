"""Proof that a resumed upload re-sends exactly what it sent before (P-NONCE).

A resumed upload re-encrypts the file with the same key and salt, so every chunk gets the
same nonce as before. If the file changed meanwhile (`cp -p` and `rsync -t` keep size and
mtime) and the server asks for a part again, that would put two plaintexts under one nonce.
So before a part leaves this device, a keyed hash of its exact bytes goes into the resume
record (written ahead of the send: a part that may have been sent is always recorded); on
resume every recorded part must hash the same, or the upload starts over with a fresh key.
The hash key is derived from the file key, so the record on disk reveals nothing about the
content.
"""

from __future__ import annotations

from collections.abc import Callable

from blindvault.core import primitives
from blindvault.core.constants import LABEL_RESUME_PART
from blindvault.core.keys import FileKey
from blindvault.errors import BlindvaultError

__all__ = ["PartGuard", "StaleResumeError"]


class StaleResumeError(BlindvaultError):
    """The file is not what the interrupted upload sent: start over with a fresh key."""


class PartGuard:
    """Checks (and records, ahead of sending) the keyed hash of every part of one upload."""

    def __init__(self, key: FileKey, parts: dict[str, str], save: Callable[[], None]) -> None:
        self._mac_key = primitives.hkdf_sha256(
            key.material, salt=b"", info=LABEL_RESUME_PART, length=32
        )
        self.parts = parts  # part number (text) -> keyed hash (hex); part of the record
        self._save = save

    def __call__(self, number: int, part: bytes | bytearray) -> None:
        mac = primitives.hmac_sha256(self._mac_key, number.to_bytes(8, "big") + part)
        old = self.parts.get(str(number))
        if old is None:
            self.parts[str(number)] = mac.hex()
            self._save()  # before the part is sent
        elif not primitives.constant_time_equal(bytes.fromhex(old), mac):
            raise StaleResumeError("the file changed since the interrupted upload")
