"""Wycheproof's C2SP chunked-encryption (Cobblestone-256) vectors, in every mode we have.

How to apply them: wycheproof doc/c2sp_chunked_encryption.md. 35 cases: 10 valid,
25 invalid.
"""

from __future__ import annotations

import hashlib
import zlib
from typing import Any

import pytest

from blindvault.core import chunked
from blindvault.core.constants import C2SP_HEADER_SIZE
from blindvault.errors import BlindvaultError, IntegrityError, UsageError
from helpers.vectors import wycheproof_tests

CASES = [t for _, t in wycheproof_tests("c2sp_chunked_encryption_aes_256_gcm_test.json")]
IDS = [str(t["tcId"]) for t in CASES]


def test_counts() -> None:
    assert len(CASES) == 35
    assert sum(t["result"] == "valid" for t in CASES) == 10
    assert sum("HeaderFailure" not in t["flags"] for t in CASES) == 25


def ct_of(t: dict[str, Any]) -> bytes:
    return zlib.decompress(bytes.fromhex(t["ct"]))


def check_plain(t: dict[str, Any], plain: bytes) -> None:
    assert len(plain) == t["msgLength"]
    assert hashlib.sha512(plain).hexdigest() == t["msgSha512"]


def stream(dec: chunked.HeaderDecryptor | chunked.Decryptor, ct: bytes, step: int) -> bytes:
    out = bytearray()
    for i in range(0, len(ct), step):
        out += dec.update(ct[i : i + step])
    out += dec.finalize()
    return bytes(out)


@pytest.mark.parametrize("step", [1000, 16400, 70000])
@pytest.mark.parametrize("t", CASES, ids=IDS)
def test_streaming(t: dict[str, Any], step: int) -> None:
    key, ctx, ct = bytes.fromhex(t["key"]), bytes.fromhex(t["ctx"]), ct_of(t)
    if "InvalidKeySize" in t["flags"]:
        with pytest.raises(UsageError):
            chunked.HeaderDecryptor(key, ctx)
        return
    dec = chunked.HeaderDecryptor(key, ctx)
    if t["result"] == "valid":
        check_plain(t, stream(dec, ct, step))
        return
    released = bytearray()
    with pytest.raises(IntegrityError):
        for i in range(0, len(ct), step):
            released += dec.update(ct[i : i + step])
        dec.finalize()
    # never more than the valid prefix, and exactly a prefix of it
    assert len(released) <= t.get("msgLength", 0)
    if released:
        assert "PartialPlaintext" in t["flags"]
        if len(released) == t["msgLength"]:
            check_plain(t, bytes(released))
    # sticky: it keeps failing
    with pytest.raises(IntegrityError):
        dec.update(b"\x00" * 10)
    with pytest.raises(IntegrityError):
        dec.finalize()


@pytest.mark.parametrize("t", CASES, ids=IDS)
def test_random_access(t: dict[str, Any]) -> None:
    key, ctx, ct = bytes.fromhex(t["key"]), bytes.fromhex(t["ctx"]), ct_of(t)
    if "InvalidKeySize" in t["flags"]:
        with pytest.raises(UsageError):
            chunked.derive(key, ct[:24], ctx)
        return

    def read_at(offset: int, size: int) -> bytes:
        return ct[offset : offset + size]

    if t["result"] == "valid":
        reader = chunked.ChunkedReader(key, ctx, read_at, len(ct))
        reader.authenticate_length()
        assert reader.size == t["msgLength"]
        check_plain(t, reader.read(0, reader.size))
        return
    with pytest.raises(BlindvaultError):
        reader = chunked.ChunkedReader(key, ctx, read_at, len(ct))
        reader.read(0, reader.size)
    try:
        reader = chunked.ChunkedReader(key, ctx, read_at, len(ct))
        reader.authenticate_length()
        length_ok = True
    except IntegrityError:
        length_ok = False
    if length_ok:
        assert "ValidFinalChunk" in t["flags"]


RAW = [t for t in CASES if "HeaderFailure" not in t["flags"]]


@pytest.mark.parametrize("t", RAW, ids=[str(t["tcId"]) for t in RAW])
def test_raw_mode(t: dict[str, Any]) -> None:
    aead_key, nonce = bytes.fromhex(t["aeadKey"]), bytes.fromhex(t["baseNonce"])
    body = ct_of(t)[C2SP_HEADER_SIZE:]
    dec = chunked.Decryptor(aead_key, nonce)
    if t["result"] != "valid":
        with pytest.raises(IntegrityError):
            stream(dec, body, 16400)
        return
    plain = stream(dec, body, 16400)
    check_plain(t, plain)
    enc = chunked.Encryptor(aead_key, nonce)
    assert enc.update(plain) + enc.finalize() == body  # raw encryption is deterministic


VALID = [t for t in CASES if t["result"] == "valid"]


@pytest.mark.parametrize("t", VALID, ids=[str(t["tcId"]) for t in VALID])
def test_salt_injected_encryption_matches(t: dict[str, Any]) -> None:
    key, ctx, ct = bytes.fromhex(t["key"]), bytes.fromhex(t["ctx"]), ct_of(t)
    plain = stream(chunked.HeaderDecryptor(key, ctx), ct, 65536)
    head, enc = chunked.new_encryptor(key, ctx, salt=ct[:24])
    assert head + enc.update(plain) + enc.finalize() == ct
    assert chunked.ciphertext_size(len(plain)) == len(ct)
