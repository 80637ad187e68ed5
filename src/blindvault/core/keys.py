"""Typed key objects: length-checked, compared in constant time, never printed.

Each purpose has its own class, so a folder key cannot be passed where a file key is
expected (mypy sees it) and a wrapped key names its kind on the wire (P-KEYSEP).
"""

from __future__ import annotations

from typing import ClassVar, Self

from blindvault.core import primitives
from blindvault.core.constants import KEY_SIZE
from blindvault.errors import UsageError

__all__ = [
    "AuthKey",
    "FileKey",
    "FolderKey",
    "LinkKey",
    "MasterKey",
    "RecoveryKey",
    "SecretKey",
    "VaultKey",
]


class SecretKey:
    """A fixed-size secret; `repr` and `str` never show its bytes."""

    SIZE: ClassVar[int] = KEY_SIZE
    __slots__ = ("_material",)

    def __init__(self, material: bytes) -> None:
        if not isinstance(material, bytes):
            raise UsageError(f"{type(self).__name__} needs bytes")
        if len(material) != self.SIZE:
            raise UsageError(f"{type(self).__name__} must be {self.SIZE} bytes")
        self._material = material

    @classmethod
    def generate(cls) -> Self:
        """A fresh key from the operating system's CSPRNG."""
        return cls(primitives.random_bytes(cls.SIZE))

    @property
    def material(self) -> bytes:
        """The raw key bytes; handle with care."""
        return self._material

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<redacted>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretKey) or type(other) is not type(self):
            return NotImplemented
        return primitives.constant_time_equal(self._material, other._material)

    def __hash__(self) -> int:
        return hash((type(self).__name__, primitives.sha256(self._material)[:8]))

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError(f"{type(self).__name__} cannot be pickled")


class MasterKey(SecretKey):
    """Km: derived from the password; wraps the vault key only."""


class AuthKey(SecretKey):
    """Sent to the server at login; the server keeps only a slow hash of it."""


class VaultKey(SecretKey):
    """Kvault: random; wraps identity private keys and the root folder key."""


class RecoveryKey(SecretKey):
    """Random, shown once as 24 BIP39 words; wraps the vault key a second time."""


class FolderKey(SecretKey):
    """Seals one folder's manifest; listed in the parent's manifest."""


class FileKey(SecretKey):
    """Fresh for every file version; the input key of its content stream."""


class LinkKey(SecretKey):
    """Derived from a share link's secret (and password); wraps the shared node key."""
