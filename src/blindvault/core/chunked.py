"""C2SP chunked encryption, Cobblestone-256 (https://c2sp.org/chunked-encryption).

    key || base_nonce || commitment = HKDF-Expand-SHA-512(input key,
        "c2sp.org/chunked-encryption@v1+" || "AEAD_AES_256_GCM" || 0x00 || salt || context,
        32 + 12 + 32)
    ciphertext = salt[24] || commitment[32] || chunk_0 || ... || chunk_n
    chunk_i    = AES-256-GCM(key, base_nonce XOR i, plaintext_i, aad = "")

Plaintext chunks are 16 KiB except the last, which is always shorter (possibly empty):
that short chunk authenticates the end of the message. This module is the scheme and
nothing else: streaming encryption, streaming decryption that releases only
authenticated chunks and keeps failing after its first failure, random-access
decryption through an injected `read_at`, and raw mode (key and base nonce given, no
header) for protocols and test vectors.
"""

from __future__ import annotations

from collections.abc import Callable

from blindvault.core import primitives
from blindvault.core.constants import (
    C2SP_AEAD_NAME,
    C2SP_COMMITMENT_SIZE,
    C2SP_HEADER_SIZE,
    C2SP_INFO_PREFIX,
    C2SP_SALT_SIZE,
    CHUNK_SIZE,
    GCM_NONCE_SIZE,
    GCM_TAG_SIZE,
    KEY_SIZE,
    MAX_CHUNKS,
    SEALED_CHUNK_SIZE,
)
from blindvault.errors import IntegrityError, UsageError

__all__ = [
    "ChunkedReader",
    "Decryptor",
    "Encryptor",
    "HeaderDecryptor",
    "ciphertext_size",
    "derive",
    "new_encryptor",
]

ReadAt = Callable[[int, int], bytes]
# Chunks sealed or opened per call of the AEAD loop: 256 x 16 KiB = 4 MiB runs.
_RUN = 256


def derive(key: bytes, salt: bytes, context: bytes) -> tuple[bytes, bytes, bytes]:
    """(AEAD key, base nonce, commitment) for one message."""
    if len(key) != KEY_SIZE:
        raise UsageError(f"input key must be {KEY_SIZE} bytes")
    if len(salt) != C2SP_SALT_SIZE:
        raise UsageError(f"salt must be {C2SP_SALT_SIZE} bytes")
    info = C2SP_INFO_PREFIX + C2SP_AEAD_NAME + b"\x00" + salt + context
    out = primitives.hkdf_expand_sha512(
        key, info=info, length=KEY_SIZE + GCM_NONCE_SIZE + C2SP_COMMITMENT_SIZE
    )
    return out[:KEY_SIZE], out[KEY_SIZE : KEY_SIZE + GCM_NONCE_SIZE], out[-C2SP_COMMITMENT_SIZE:]


def ciphertext_size(plaintext_size: int, *, header: bool = True) -> int:
    """Length of the ciphertext of a `plaintext_size`-byte message."""
    full, rest = divmod(plaintext_size, CHUNK_SIZE)
    return (C2SP_HEADER_SIZE if header else 0) + full * SEALED_CHUNK_SIZE + rest + GCM_TAG_SIZE


def _check_counter(counter: int) -> None:
    if counter >= MAX_CHUNKS:
        raise UsageError("message too long for chunked encryption")


class Encryptor:
    """Streaming encryption in raw mode (the header is the caller's, see `new_encryptor`)."""

    __slots__ = ("_aead", "_counter", "_done", "_pending")

    def __init__(self, aead_key: bytes, base_nonce: bytes) -> None:
        self._aead = primitives.ChunkAead(aead_key, base_nonce)
        self._counter = 0
        self._pending = bytearray()
        self._done = False

    def output_bound(self, size: int) -> int:
        """The most bytes `update_into` can write for `size` more input bytes."""
        return ((len(self._pending) + size) // CHUNK_SIZE) * SEALED_CHUNK_SIZE

    def update_into(self, data: bytes | bytearray | memoryview, out: bytearray | memoryview) -> int:
        """Encrypt every full chunk now available into `out`; return bytes written."""
        if self._done:
            raise UsageError("encryptor already finalized")
        src = memoryview(data).cast("B")
        dst = memoryview(out).cast("B")
        written = 0
        if self._pending:
            take = min(CHUNK_SIZE - len(self._pending), len(src))
            self._pending += src[:take]
            src = src[take:]
            if len(self._pending) < CHUNK_SIZE:
                return 0
            _check_counter(self._counter)
            self._aead.seal_one(self._counter, memoryview(self._pending), dst[:SEALED_CHUNK_SIZE])
            self._counter += 1
            self._pending = bytearray()
            written = SEALED_CHUNK_SIZE
        full = len(src) // CHUNK_SIZE
        done = 0
        while done < full:
            n = min(_RUN, full - done)
            _check_counter(self._counter + n)
            self._aead.seal_run(
                self._counter,
                src[done * CHUNK_SIZE : (done + n) * CHUNK_SIZE],
                dst[written : written + n * SEALED_CHUNK_SIZE],
                CHUNK_SIZE,
                n,
            )
            self._counter += n
            done += n
            written += n * SEALED_CHUNK_SIZE
        self._pending += src[full * CHUNK_SIZE :]
        return written

    def update(self, data: bytes | bytearray | memoryview) -> bytes:
        out = bytearray(self.output_bound(len(data)))
        n = self.update_into(data, out)
        return bytes(out[:n])

    def finalize(self) -> bytes:
        """Seal the final, short (possibly empty) chunk."""
        if self._done:
            raise UsageError("encryptor already finalized")
        _check_counter(self._counter)
        out = bytearray(len(self._pending) + GCM_TAG_SIZE)
        self._aead.seal_one(self._counter, memoryview(self._pending), memoryview(out))
        self._done = True
        self._pending = bytearray()
        return bytes(out)


def new_encryptor(
    key: bytes, context: bytes, *, salt: bytes | None = None
) -> tuple[bytes, Encryptor]:
    """(salt || commitment, encryptor) for a new message; the salt is random unless given."""
    salt = primitives.random_bytes(C2SP_SALT_SIZE) if salt is None else salt
    aead_key, base_nonce, commitment = derive(key, salt, context)
    return salt + commitment, Encryptor(aead_key, base_nonce)


class Decryptor:
    """Streaming decryption in raw mode: releases only authenticated chunks.

    A chunk is released once bytes after it prove it is not the final one; `finalize`
    opens the final chunk, which must be shorter than a full one. After the first
    failure, every call raises `IntegrityError` again.
    """

    __slots__ = ("_aead", "_counter", "_done", "_failed", "_pending")

    def __init__(self, aead_key: bytes, base_nonce: bytes) -> None:
        self._aead = primitives.ChunkAead(aead_key, base_nonce)
        self._counter = 0
        self._pending = bytearray()
        self._failed = False
        self._done = False

    def _check(self) -> None:
        if self._failed:
            raise IntegrityError
        if self._done:
            raise UsageError("decryptor already finalized")

    def output_bound(self, size: int) -> int:
        return ((len(self._pending) + size) // SEALED_CHUNK_SIZE) * CHUNK_SIZE

    def update_into(self, data: bytes | bytearray | memoryview, out: bytearray | memoryview) -> int:
        """Decrypt every chunk known not to be final into `out`; return bytes written."""
        self._check()
        src = memoryview(data).cast("B")
        dst = memoryview(out).cast("B")
        written = 0
        try:
            if self._pending:
                need = SEALED_CHUNK_SIZE - len(self._pending)
                if len(src) <= need:
                    self._pending += src
                    return 0
                self._pending += src[:need]
                src = src[need:]
                _check_counter(self._counter)
                self._aead.open_one(self._counter, memoryview(self._pending), dst[:CHUNK_SIZE])
                self._counter += 1
                self._pending = bytearray()
                written = CHUNK_SIZE
            full = (len(src) - 1) // SEALED_CHUNK_SIZE if src else 0
            done = 0
            while done < full:
                n = min(_RUN, full - done)
                _check_counter(self._counter + n)
                self._aead.open_run(
                    self._counter,
                    src[done * SEALED_CHUNK_SIZE : (done + n) * SEALED_CHUNK_SIZE],
                    dst[written : written + n * CHUNK_SIZE],
                    CHUNK_SIZE,
                    n,
                )
                self._counter += n
                done += n
                written += n * CHUNK_SIZE
            self._pending += src[full * SEALED_CHUNK_SIZE :]
        except (IntegrityError, UsageError):
            self._fail(dst)
            raise IntegrityError from None
        return written

    def _fail(self, dst: memoryview) -> None:
        self._failed = True
        self._pending = bytearray()
        dst[:] = bytes(len(dst))  # no unauthenticated byte stays in the caller's buffer

    def skip(self, chunks: int) -> None:
        """Start at chunk `chunks`: the ones before it were authenticated by an earlier
        decryptor of this same message (an interrupted stream, resumed). Only at the start."""
        self._check()
        if self._counter or self._pending or chunks < 0:
            raise UsageError("a decryptor skips chunks only before it read any")
        _check_counter(chunks)
        self._counter = chunks

    def update(self, data: bytes | bytearray | memoryview) -> bytes:
        out = bytearray(self.output_bound(len(data)))
        n = self.update_into(data, out)
        return bytes(out[:n])

    def finalize(self) -> bytes:
        """Open the final chunk; a missing, full-sized or forged one is `IntegrityError`."""
        self._check()
        size = len(self._pending)
        if not GCM_TAG_SIZE <= size < SEALED_CHUNK_SIZE or self._counter >= MAX_CHUNKS:
            self._failed = True
            raise IntegrityError
        out = bytearray(size - GCM_TAG_SIZE)
        try:
            self._aead.open_one(self._counter, memoryview(self._pending), memoryview(out))
        except IntegrityError:
            self._failed = True
            raise
        self._done = True
        self._pending = bytearray()
        return bytes(out)


class HeaderDecryptor:
    """Streaming decryption of a whole message: salt and commitment first, then chunks."""

    __slots__ = ("_context", "_failed", "_header", "_inner", "_key")

    def __init__(self, key: bytes, context: bytes) -> None:
        if len(key) != KEY_SIZE:
            raise UsageError(f"input key must be {KEY_SIZE} bytes")
        self._key = key
        self._context = context
        self._header = bytearray()
        self._inner: Decryptor | None = None
        self._failed = False

    def output_bound(self, size: int) -> int:
        return (size // SEALED_CHUNK_SIZE + 1) * CHUNK_SIZE

    def update_into(self, data: bytes | bytearray | memoryview, out: bytearray | memoryview) -> int:
        if self._failed:
            raise IntegrityError
        src = memoryview(data).cast("B")
        if self._inner is None:
            take = min(C2SP_HEADER_SIZE - len(self._header), len(src))
            self._header += src[:take]
            src = src[take:]
            if len(self._header) < C2SP_HEADER_SIZE:
                return 0
            self._inner = self._open_header(bytes(self._header))
        return self._inner.update_into(src, out)

    def _open_header(self, head: bytes) -> Decryptor:
        salt, commitment = head[:C2SP_SALT_SIZE], head[C2SP_SALT_SIZE:]
        aead_key, base_nonce, expected = derive(self._key, salt, self._context)
        if not primitives.constant_time_equal(commitment, expected):  # mutant: core.key-commitment
            self._failed = True
            raise IntegrityError
        return Decryptor(aead_key, base_nonce)

    def update(self, data: bytes | bytearray | memoryview) -> bytes:
        out = bytearray(self.output_bound(len(data)))
        n = self.update_into(data, out)
        return bytes(out[:n])

    def skip(self, chunks: int) -> None:
        """After the header: continue at chunk `chunks` (see `Decryptor.skip`)."""
        if self._failed or self._inner is None:
            raise UsageError("a decryptor skips chunks only after the header")
        self._inner.skip(chunks)

    def finalize(self) -> bytes:
        if self._failed or self._inner is None:
            self._failed = True
            raise IntegrityError
        return self._inner.finalize()


class ChunkedReader:
    """Random-access decryption through `read_at(offset, size)` of a stored ciphertext.

    Only the chunks a read touches are fetched and authenticated; `authenticate_length`
    opens the final chunk, which proves the message length. `offset` is where the C2SP
    ciphertext starts inside the stored object (after any prefix of the caller's).
    """

    __slots__ = ("_aead", "_final_index", "_final_size", "_offset", "_read_at", "size")

    def __init__(
        self,
        key: bytes,
        context: bytes,
        read_at: ReadAt,
        ciphertext_length: int,
        *,
        offset: int = 0,
        raw: tuple[bytes, bytes] | None = None,
    ) -> None:
        self._read_at = read_at
        self._offset = offset
        if raw is None:
            if ciphertext_length < C2SP_HEADER_SIZE:
                raise IntegrityError
            head = self._fetch(0, C2SP_HEADER_SIZE)
            aead_key, base_nonce, expected = derive(key, head[:C2SP_SALT_SIZE], context)
            if not primitives.constant_time_equal(head[C2SP_SALT_SIZE:], expected):
                raise IntegrityError
            self._offset += C2SP_HEADER_SIZE
            body = ciphertext_length - C2SP_HEADER_SIZE
        else:
            aead_key, base_nonce = raw
            body = ciphertext_length
        full, rest = divmod(body, SEALED_CHUNK_SIZE)
        if rest < GCM_TAG_SIZE or full >= MAX_CHUNKS:
            raise IntegrityError  # truncated, or a full-sized final chunk
        self._aead = primitives.ChunkAead(aead_key, base_nonce)
        self._final_index = full
        self._final_size = rest
        self.size = full * CHUNK_SIZE + rest - GCM_TAG_SIZE

    def _fetch(self, offset: int, size: int) -> bytes:
        data = self._read_at(self._offset + offset, size)
        if len(data) != size:
            raise IntegrityError
        return data

    def authenticate_length(self) -> None:
        """Open the final chunk at its index; proves `size`."""
        start = self._final_index * SEALED_CHUNK_SIZE
        sealed = self._fetch(start, self._final_size)
        out = bytearray(self._final_size - GCM_TAG_SIZE)
        self._aead.open_one(self._final_index, memoryview(sealed), memoryview(out))

    def read(self, offset: int, size: int) -> bytes:
        """Plaintext bytes [offset, offset + size), clipped to the message.

        A read that reaches the end of the message also authenticates the final chunk.
        """
        if offset < 0 or size < 0:
            raise UsageError("offset and size must be non-negative")
        end = min(offset + size, self.size)
        if offset >= end:
            if offset > self.size:
                raise UsageError("offset beyond the end of the message")
            return b""
        first, last = offset // CHUNK_SIZE, (end - 1) // CHUNK_SIZE
        if end == self.size and last < self._final_index:
            self.authenticate_length()  # a read to the end also proves where the end is
        sealed = self._fetch(
            first * SEALED_CHUNK_SIZE,
            min(
                (last + 1) * SEALED_CHUNK_SIZE,
                self._final_index * SEALED_CHUNK_SIZE + self._final_size,
            )
            - first * SEALED_CHUNK_SIZE,
        )
        out = bytearray((last - first + 1) * CHUNK_SIZE)
        src, dst = memoryview(sealed), memoryview(out)
        for i in range(first, last + 1):
            pos = (i - first) * SEALED_CHUNK_SIZE
            chunk = src[pos : pos + SEALED_CHUNK_SIZE]
            plain = len(chunk) - GCM_TAG_SIZE
            if i < self._final_index and plain != CHUNK_SIZE:
                raise IntegrityError
            start = (i - first) * CHUNK_SIZE
            self._aead.open_one(i, chunk, dst[start : start + plain])
        lo = offset - first * CHUNK_SIZE
        return bytes(out[lo : lo + (end - offset)])
