from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blindvault.core.padme import padded_length, padme
from blindvault.errors import UsageError


def test_known_values() -> None:
    # E = floor(log2 L), S = floor(log2 E) + 1, round up to 2^(E-S)
    assert [padme(x) for x in (0, 1, 2, 3, 9, 1000, 1050, 5000)] == [
        0,
        1,
        2,
        3,
        10,
        1024,
        1088,
        5120,
    ]
    assert padded_length(0) == padded_length(4096) == 4096
    assert padded_length(4097) == padme(4097)


@given(st.integers(0, 2**50))
def test_bounds(size: int) -> None:
    p = padded_length(size)
    assert p >= size
    assert p >= 4096
    if size > 4096:
        assert p <= size * 1.12 + 1


def test_negative() -> None:
    with pytest.raises(UsageError):
        padded_length(-1)
