from __future__ import annotations

import pytest

from blindvault.errors import (
    BlindvaultError,
    FormatError,
    IntegrityError,
    KdfPolicyError,
    PolicyError,
    RollbackError,
    UsageError,
)


@pytest.mark.parametrize(
    ("cls", "parent"),
    [
        (UsageError, BlindvaultError),
        (FormatError, BlindvaultError),
        (IntegrityError, BlindvaultError),
        (RollbackError, IntegrityError),
        (PolicyError, BlindvaultError),
        (KdfPolicyError, PolicyError),
    ],
)
def test_tree(cls: type[Exception], parent: type[Exception]) -> None:
    assert issubclass(cls, parent)


def test_integrity_error_is_opaque() -> None:
    assert str(IntegrityError()) == "integrity check failed"
    assert str(RollbackError()) == "rollback or fork detected"
