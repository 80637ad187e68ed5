from __future__ import annotations

import pickle

import pytest

from blindvault.core.keys import FileKey, FolderKey, VaultKey
from blindvault.errors import UsageError


def test_repr_is_redacted() -> None:
    key = VaultKey(bytes(range(32)))
    assert "redacted" in repr(key)
    assert bytes(range(32)).hex() not in repr(key) + str(key)


def test_length_checked() -> None:
    with pytest.raises(UsageError):
        FileKey(b"\x00" * 31)
    with pytest.raises(UsageError):
        FileKey(b"\x00" * 33)


def test_type_matters_for_equality() -> None:
    raw = b"\x01" * 32
    assert FileKey(raw) == FileKey(raw)
    assert FileKey(raw) != FolderKey(raw)
    assert FileKey.generate() != FileKey.generate()


def test_not_picklable() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(VaultKey.generate())
