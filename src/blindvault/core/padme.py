"""Padmé padding lengths (Nikitin et al., "Reducing Metadata Leakage from Encrypted
Files and Communication with PURBs", PETS 2019), with a 4 KiB floor.

Padmé rounds a length L up so that only O(log log L) bits of it remain; the overhead is
at most about 12 %. The floor makes every file of up to 4 KiB the same stored size.
"""

from __future__ import annotations

from blindvault.core.constants import PAD_MIN_SIZE
from blindvault.errors import FormatError, UsageError

__all__ = ["pad_block", "padded_length", "padme", "unpad_block"]


def padme(length: int) -> int:
    """The Padmé length of `length` (no floor)."""
    if length < 0:
        raise UsageError("length must be non-negative")
    if length < 2:
        return length
    e = length.bit_length() - 1  # floor(log2 L)
    s = e.bit_length()  # floor(log2 E) + 1
    mask = (1 << (e - s)) - 1
    return (length + mask) & ~mask


def padded_length(size: int) -> int:
    """How many plaintext bytes a file of `size` bytes is stored as."""
    if size < 0:
        raise UsageError("size must be non-negative")
    return PAD_MIN_SIZE if size <= PAD_MIN_SIZE else padme(size)


def _block_length(size: int, floor: int) -> int:
    return padme(max(size + 1, floor))


def pad_block(data: bytes, floor: int) -> bytes:
    """`data || 0x80 || 0x00...` up to the Padmé length of len(data)+1 (at least `floor`).

    Used for sealed metadata (manifest bodies, link descriptors, roster names) so that entry
    counts and name lengths show only as a Padmé bucket.
    """
    size = _block_length(len(data), floor)
    return data + b"\x80" + bytes(size - len(data) - 1)


def unpad_block(padded: bytes, floor: int) -> bytes:
    """Inverse of `pad_block`; refuses every other padding (one encoding per value)."""
    end = len(padded.rstrip(b"\x00")) - 1
    if end < 0 or padded[end] != 0x80 or len(padded) != _block_length(end, floor):
        raise FormatError("bad padding")
    return padded[:end]
