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


def test_pad_block_round_trip_and_one_encoding() -> None:
    from blindvault.core.padme import pad_block, unpad_block
    from blindvault.errors import FormatError

    for n in (0, 1, 100, 511, 512, 5000, 70000):
        data = bytes(range(256)) * (n // 256) + bytes(n % 256)
        padded = pad_block(data, 512)
        assert len(padded) >= 512 and unpad_block(padded, 512) == data
    padded = pad_block(b"abc", 512)
    for bad in (padded + b"\x00", padded[:-1], padded[:3] + b"\x81" + padded[4:], b""):
        with pytest.raises(FormatError):
            unpad_block(bad, 512)


def test_sealed_metadata_hides_entry_counts_and_name_lengths() -> None:
    """Issue 11, item 13: manifests of 1 and 3 short entries, and descriptors of names of
    1 and 200 bytes, seal to the same size (one Padmé bucket)."""
    from blindvault.core.keys import FileKey, LinkKey
    from blindvault.core.links import LinkDescriptor, seal_link_descriptor
    from blindvault.core.manifest import FileEntry, ManifestBody

    def body(n: int) -> bytes:
        return ManifestBody(
            tuple(
                FileEntry(f"f{i}", bytes([i + 1]) * 16, FileKey.generate(), 1, 9, 9)
                for i in range(n)
            )
        ).encode()

    assert len(body(1)) == len(body(3)) == 1024  # the floor, 1024 since issue 14
    key, lid = LinkKey(bytes(32)), bytes(16)

    def desc(name: str) -> bytes:
        d = LinkDescriptor(bytes(16), FileKey.generate(), 1, 10, 0, name)
        return seal_link_descriptor(d, key, lid)

    assert len(desc("a")) == len(desc("b" * 200))
