"""Canonical binary encoding: a writer and a strict reader.

Every blindvault object is a fixed sequence of big-endian unsigned integers, fixed-size
byte strings and length-prefixed byte strings, so each value has exactly one encoding.
The reader refuses anything else with `FormatError`: short input, lengths out of range,
invalid UTF-8 or non-NFC text, and trailing bytes (`Reader.finish`).
"""

from __future__ import annotations

import unicodedata

from blindvault.core.constants import FORMAT_VERSION, OBJECT_VERSIONS
from blindvault.errors import FormatError, UsageError

__all__ = ["Reader", "Writer", "check_header", "header", "object_version"]


def header(magic: bytes) -> bytes:
    """The five bytes every sealed object starts with: magic || its version."""
    return magic + bytes([object_version(magic)])


def object_version(magic: bytes) -> int:
    """The one version of `magic` this code writes and reads."""
    return OBJECT_VERSIONS.get(magic, FORMAT_VERSION)


class Writer:
    """Appends canonical fields to a growing buffer."""

    __slots__ = ("_buf",)

    def __init__(self, prefix: bytes = b"") -> None:
        self._buf = bytearray(prefix)

    def u8(self, value: int) -> Writer:
        return self._uint(value, 1)

    def u16(self, value: int) -> Writer:
        return self._uint(value, 2)

    def u32(self, value: int) -> Writer:
        return self._uint(value, 4)

    def u64(self, value: int) -> Writer:
        return self._uint(value, 8)

    def _uint(self, value: int, width: int) -> Writer:
        if not 0 <= value < (1 << (8 * width)):
            raise UsageError(f"integer out of range for {width} bytes")
        self._buf += value.to_bytes(width, "big")
        return self

    def fixed(self, value: bytes, size: int) -> Writer:
        if len(value) != size:
            raise UsageError(f"field must be {size} bytes, got {len(value)}")
        self._buf += value
        return self

    def var16(self, value: bytes) -> Writer:
        """A byte string prefixed by its length as u16."""
        self.u16(len(value))
        self._buf += value
        return self

    def var32(self, value: bytes) -> Writer:
        """A byte string prefixed by its length as u32."""
        self.u32(len(value))
        self._buf += value
        return self

    def text16(self, value: str) -> Writer:
        """UTF-8 text in NFC, prefixed by its byte length as u16."""
        if unicodedata.normalize("NFC", value) != value:
            raise UsageError("text must be in Unicode NFC")
        return self.var16(value.encode("utf-8"))

    def raw(self, value: bytes) -> Writer:
        self._buf += value
        return self

    def bytes(self) -> bytes:
        return bytes(self._buf)


class Reader:
    """Reads canonical fields; every deviation is a `FormatError`."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise FormatError("expected bytes")
        self._data = bytes(data)
        self._pos = 0

    @property
    def position(self) -> int:
        return self._pos

    def remaining(self) -> int:
        return len(self._data) - self._pos

    def take(self, size: int) -> bytes:
        if size < 0 or self._pos + size > len(self._data):
            raise FormatError("truncated input")
        out = self._data[self._pos : self._pos + size]
        self._pos += size
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "big")

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def u64(self) -> int:
        return int.from_bytes(self.take(8), "big")

    def var16(self, *, max_size: int = 0xFFFF) -> bytes:
        size = self.u16()
        if size > max_size:
            raise FormatError("field too long")
        return self.take(size)

    def var32(self, *, max_size: int) -> bytes:
        size = self.u32()
        if size > max_size:
            raise FormatError("field too long")
        return self.take(size)

    def text16(self, *, max_size: int = 0xFFFF) -> str:
        raw = self.var16(max_size=max_size)
        try:
            text = raw.decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            raise FormatError("invalid UTF-8") from None
        if unicodedata.normalize("NFC", text) != text:
            raise FormatError("text not in Unicode NFC")
        return text

    def rest(self) -> bytes:
        return self.take(self.remaining())

    def finish(self) -> None:
        if self._pos != len(self._data):
            raise FormatError("trailing data")


def check_header(reader: Reader, magic: bytes) -> None:
    """Consume and check magic || version; older and unknown versions are refused."""
    if reader.take(len(magic)) != magic:
        raise FormatError("wrong magic")
    version = reader.u8()
    if version != object_version(magic):
        raise FormatError(f"unsupported format version {version}")
