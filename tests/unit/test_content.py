"""Content blobs: round trips, tampering, truncation, binding and nonce freshness."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blindvault.core.constants import CHUNK_SIZE, CONTENT_HEADER_SIZE, SEALED_CHUNK_SIZE
from blindvault.core.content import (
    ContentDecryptor,
    ContentEncryptor,
    ContentRangeReader,
    open_content,
    seal_content,
    sealed_size,
)
from blindvault.core.keys import FileKey
from blindvault.core.padme import padded_length
from blindvault.errors import FormatError, IntegrityError

KEY = FileKey(b"\x11" * 32)
NODE = b"\x22" * 16
INTERESTING = [0, 1, 4095, 4096, 4097, 16383, 16384, 16385, 32768, 50_000]


def blob_of(size: int, version: int = 1) -> tuple[bytes, bytes]:
    data = os.urandom(size)
    return data, seal_content(KEY, NODE, version, data)


@settings(max_examples=60, deadline=None)
@given(
    size=st.one_of(st.sampled_from(INTERESTING), st.integers(0, 70_000)),
    cuts=st.lists(st.integers(1, 40_000), max_size=6),
)
def test_round_trip_any_split(size: int, cuts: list[int]) -> None:
    data = os.urandom(size)
    enc = ContentEncryptor(KEY, NODE, 7)
    parts = [enc.header]
    pos = 0
    for c in cuts:
        parts.append(enc.update(data[pos : pos + c]))
        pos += c
    parts.append(enc.update(data[pos:]))
    parts.append(enc.finalize())
    blob = b"".join(parts)
    assert len(blob) == sealed_size(size)
    dec = ContentDecryptor(KEY, NODE, 7, size)
    out = bytearray()
    pos = 0
    for c in [*cuts, len(blob)]:
        out += dec.update(blob[pos : pos + c])
        pos += c
    out += dec.finalize()
    assert bytes(out) == data


def test_equal_stored_size_for_nearby_sizes() -> None:
    """P-MINMETA: 1000- and 1050-byte files are stored at the same size."""
    assert len(blob_of(1000)[1]) == len(blob_of(1050)[1])
    assert padded_length(1000) == padded_length(1050) == 4096


def test_every_byte_flip_of_a_small_blob_is_rejected() -> None:
    _, blob = blob_of(100)
    for i in range(len(blob)):
        bad = bytearray(blob)
        bad[i] ^= 0x80
        with pytest.raises((IntegrityError, FormatError)):
            open_content(KEY, NODE, 1, 100, bytes(bad))


@settings(max_examples=80, deadline=None)
@given(pos=st.integers(0, 10**9), mask=st.integers(1, 255))
def test_any_byte_flip_of_a_multi_chunk_blob_is_rejected(pos: int, mask: int) -> None:
    _, blob = BIG
    bad = bytearray(blob)
    bad[pos % len(blob)] ^= mask
    with pytest.raises((IntegrityError, FormatError)):
        open_content(KEY, NODE, 1, len(BIG[0]), bytes(bad))


BIG = blob_of(50_000)


def test_truncation_at_every_chunk_boundary_and_more() -> None:
    data, blob = BIG
    boundaries = [CONTENT_HEADER_SIZE + k * SEALED_CHUNK_SIZE for k in range(5)]
    for cut in [*boundaries, *range(0, 80), len(blob) - 1, len(blob) - 17]:
        if cut >= len(blob):
            continue
        with pytest.raises((IntegrityError, FormatError)):
            open_content(KEY, NODE, 1, len(data), blob[:cut])


def test_appended_data_is_rejected() -> None:
    data, blob = BIG
    for extra in (b"\x00", b"\x00" * 16, blob[CONTENT_HEADER_SIZE : CONTENT_HEADER_SIZE + 40]):
        with pytest.raises(IntegrityError):
            open_content(KEY, NODE, 1, len(data), blob + extra)


def test_swapped_and_duplicated_chunks_are_rejected() -> None:
    data, blob = BIG
    h = CONTENT_HEADER_SIZE
    c0, c1 = (
        blob[h : h + SEALED_CHUNK_SIZE],
        blob[h + SEALED_CHUNK_SIZE : h + 2 * SEALED_CHUNK_SIZE],
    )
    rest = blob[h + 2 * SEALED_CHUNK_SIZE :]
    for body in (c1 + c0 + rest, c0 + c0 + rest):
        with pytest.raises(IntegrityError):
            open_content(KEY, NODE, 1, len(data), blob[:h] + body)


def test_blob_bound_to_node_version_key_and_size() -> None:
    """P-BIND / P-COMMIT: a blob moved to another file, version or key fails."""
    data, blob = blob_of(5000)
    for key, node, version, size in (
        (KEY, b"\x33" * 16, 1, 5000),
        (KEY, NODE, 2, 5000),
        (FileKey(b"\x12" * 32), NODE, 1, 5000),
        (KEY, NODE, 1, 9000),  # the manifest claims another size
    ):
        with pytest.raises(IntegrityError):
            open_content(key, node, version, size, blob)
    assert open_content(KEY, NODE, 1, 5000, blob) == data


def test_size_in_same_padding_bucket_still_checked() -> None:
    """Manifest says 1000, blob holds 1050 non-zero bytes: padding check refuses."""
    data = os.urandom(1050)
    blob = seal_content(KEY, NODE, 1, data)
    with pytest.raises(IntegrityError):
        open_content(KEY, NODE, 1, 1000, blob)


def test_fresh_salt_every_seal() -> None:
    """P-NONCE: same key, same plaintext: no shared salt, commitment or chunk."""
    data = os.urandom(40_000)
    a, b = seal_content(KEY, NODE, 1, data), seal_content(KEY, NODE, 1, data)
    assert a[5:29] != b[5:29]
    h = CONTENT_HEADER_SIZE
    chunks_a = {a[i : i + SEALED_CHUNK_SIZE] for i in range(h, len(a), SEALED_CHUNK_SIZE)}
    chunks_b = {b[i : i + SEALED_CHUNK_SIZE] for i in range(h, len(b), SEALED_CHUNK_SIZE)}
    assert not chunks_a & chunks_b


def test_decryptor_keeps_failing_and_releases_nothing_unverified() -> None:
    data, blob = BIG
    bad = bytearray(blob)
    bad[CONTENT_HEADER_SIZE + SEALED_CHUNK_SIZE + 3] ^= 1  # second chunk
    dec = ContentDecryptor(KEY, NODE, 1, len(data))
    released = dec.update(bytes(bad[: CONTENT_HEADER_SIZE + SEALED_CHUNK_SIZE + 1]))
    assert released == data[:CHUNK_SIZE]
    with pytest.raises(IntegrityError):
        dec.update(bytes(bad[CONTENT_HEADER_SIZE + SEALED_CHUNK_SIZE + 1 :]))
    for call in (lambda: dec.update(b"x"), dec.finalize):
        with pytest.raises(IntegrityError):
            call()


def test_decrypt_into_zeroes_the_buffer_on_failure() -> None:
    """A failing call leaves no byte of its run in the caller's buffer, verified or not."""
    data, blob = BIG
    bad = bytearray(blob)
    bad[CONTENT_HEADER_SIZE + 2 * SEALED_CHUNK_SIZE + 7] ^= 1  # third chunk of one run
    dec = ContentDecryptor(KEY, NODE, 1, len(data))
    out = bytearray(dec.output_bound(len(bad)))
    with pytest.raises(IntegrityError):
        dec.update_into(bytes(bad), out)
    assert not any(out)


def test_wrong_magic_or_version_is_format_error() -> None:
    _, blob = blob_of(10)
    for bad in (b"BVCX" + blob[4:], blob[:4] + b"\x02" + blob[5:], blob[:4]):
        with pytest.raises(FormatError):
            open_content(KEY, NODE, 1, 10, bad)


@settings(max_examples=60, deadline=None)
@given(offset=st.integers(0, 50_000), length=st.integers(0, 40_000))
def test_random_access_reads_equal_slices(offset: int, length: int) -> None:
    data, blob = BIG
    reads: list[tuple[int, int]] = []

    def read_at(o: int, n: int) -> bytes:
        reads.append((o, n))
        return blob[o : o + n]

    reader = ContentRangeReader(KEY, NODE, 1, len(data), read_at, len(blob))
    assert reader.read(offset, length) == data[offset : offset + length]
    reader.authenticate_length()


def test_random_access_rejects_a_truncated_or_tampered_blob() -> None:
    data, blob = BIG
    with pytest.raises(IntegrityError):
        ContentRangeReader(KEY, NODE, 1, len(data), lambda o, n: blob[o : o + n], len(blob) - 16)
    bad = bytearray(blob)
    bad[CONTENT_HEADER_SIZE + 2 * SEALED_CHUNK_SIZE + 100] ^= 1
    reader = ContentRangeReader(
        KEY, NODE, 1, len(data), lambda o, n: bytes(bad[o : o + n]), len(bad)
    )
    assert reader.read(0, 100) == data[:100]  # untouched chunks still read
    with pytest.raises(IntegrityError):
        reader.read(2 * CHUNK_SIZE, 10)


@pytest.mark.parametrize("size", [0, 1, 16384, 50_000, 5 * CHUNK_SIZE + 7])
def test_resumed_decryptor_releases_the_rest_exactly(size: int) -> None:
    """An interrupted stream resumed at every chunk boundary gives the same file."""
    data, blob = blob_of(size)
    head = blob[:CONTENT_HEADER_SIZE]
    for chunks in range(padded_length(size) // CHUNK_SIZE + 1):
        dec = ContentDecryptor.resume(KEY, NODE, 1, size, head=head, chunks=chunks)
        rest = blob[ContentDecryptor.resume_offset(chunks) :]
        got = dec.update(rest) + dec.finalize()
        assert data[: chunks * CHUNK_SIZE] + got == data


def test_resumed_decryptor_checks_the_header_and_the_chunk_positions() -> None:
    _, blob = blob_of(5 * CHUNK_SIZE)
    _, other = blob_of(5 * CHUNK_SIZE)  # the same file sealed again: another salt
    head = blob[:CONTENT_HEADER_SIZE]
    with pytest.raises(IntegrityError):  # the rest of another blob under the old header
        dec = ContentDecryptor.resume(KEY, NODE, 1, 5 * CHUNK_SIZE, head=head, chunks=2)
        dec.update(other[ContentDecryptor.resume_offset(2) :])
        dec.finalize()
    with pytest.raises(IntegrityError):  # a chunk from another position
        dec = ContentDecryptor.resume(KEY, NODE, 1, 5 * CHUNK_SIZE, head=head, chunks=2)
        dec.update(blob[ContentDecryptor.resume_offset(1) :])
        dec.finalize()
    with pytest.raises(IntegrityError):  # a header under another context (version 2)
        ContentDecryptor.resume(KEY, NODE, 2, 5 * CHUNK_SIZE, head=head, chunks=2)
