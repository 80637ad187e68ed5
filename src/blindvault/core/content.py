"""File content blobs (format v1): Padmé-padded plaintext in a C2SP chunked stream.

    blob    = "BVCT" || 0x01 || C2SP ciphertext (salt || commitment || chunks)
    context = "blindvault/v1/content" || 0x00 || 0x01 || node_id[16] || content_version u64
    stream plaintext = file bytes || zero bytes up to padded_length(size)

The input key is the file version's own random `FileKey`. The node id and content
version are in the context, so a blob moved to another file or version fails the
key commitment (P-BIND). The true size comes from the authenticated manifest; the
decryptor releases only the first `size` bytes and checks that the padding is present,
complete and zero.
"""

from __future__ import annotations

from blindvault.core import chunked, primitives
from blindvault.core.constants import (
    CHUNK_SIZE,
    CONTENT_HEADER_SIZE,
    CONTENT_PREFIX_SIZE,
    FORMAT_VERSION,
    ID_SIZE,
    LABEL_BLOB_ID,
    LABEL_CONTENT,
    MAGIC_CONTENT,
    SEALED_CHUNK_SIZE,
)
from blindvault.core.encoding import Writer, header
from blindvault.core.keys import FileKey
from blindvault.core.padme import padded_length
from blindvault.errors import FormatError, IntegrityError, UsageError

__all__ = [
    "CONTENT_HEADER_SIZE",
    "ContentDecryptor",
    "ContentEncryptor",
    "ContentRangeReader",
    "blob_id",
    "content_context",
    "open_content",
    "seal_content",
    "sealed_size",
]

_PREFIX = header(MAGIC_CONTENT)
_ZEROS = bytes(CHUNK_SIZE * 16)


def content_context(node_id: bytes, content_version: int) -> bytes:
    if len(node_id) != ID_SIZE:
        raise UsageError(f"node id must be {ID_SIZE} bytes")
    w = Writer(LABEL_CONTENT + b"\x00").u8(FORMAT_VERSION).fixed(node_id, ID_SIZE)
    return w.u64(content_version).bytes()


def blob_id(node_id: bytes, content_version: int) -> bytes:
    """The server-side id of a file version's blob: SHA-256(LABEL_BLOB_ID || 0x00 ||
    node_id || u64 version)[:16]. Derived, so manifests need no blob field; opaque to
    the server, which cannot link it to the node id."""
    w = Writer(LABEL_BLOB_ID + b"\x00").fixed(node_id, ID_SIZE).u64(content_version)
    return primitives.sha256(w.bytes())[:ID_SIZE]


def sealed_size(size: int) -> int:
    """Length of the blob that stores a file of `size` bytes."""
    return CONTENT_PREFIX_SIZE + chunked.ciphertext_size(padded_length(size))


def _check_prefix(prefix: bytes) -> None:
    if prefix[:4] != MAGIC_CONTENT:
        raise FormatError("not a blindvault content blob")
    if prefix[4] != FORMAT_VERSION:
        raise FormatError(f"unsupported content format version {prefix[4]}")


class ContentEncryptor:
    """Streaming encryption of one file version; `header` comes first in the blob."""

    __slots__ = ("_enc", "_size", "header")

    def __init__(
        self, key: FileKey, node_id: bytes, content_version: int, *, salt: bytes | None = None
    ) -> None:
        head, self._enc = chunked.new_encryptor(
            key.material, content_context(node_id, content_version), salt=salt
        )
        self.header = _PREFIX + head
        self._size = 0

    @property
    def size(self) -> int:
        """Plaintext bytes taken so far."""
        return self._size

    def output_bound(self, size: int) -> int:
        return self._enc.output_bound(size)

    def update_into(self, data: bytes | bytearray | memoryview, out: bytearray | memoryview) -> int:
        self._size += len(memoryview(data).cast("B"))
        return self._enc.update_into(data, out)

    def update(self, data: bytes | bytearray | memoryview) -> bytes:
        self._size += len(memoryview(data).cast("B"))
        return self._enc.update(data)

    def finalize(self) -> bytes:
        """Append the zero padding and the final chunk; returns the last bytes of the blob."""
        pad = padded_length(self._size) - self._size
        out = bytearray()
        while pad:
            step = min(pad, len(_ZEROS))
            out += self._enc.update(memoryview(_ZEROS)[:step])
            pad -= step
        out += self._enc.finalize()
        return bytes(out)


class ContentDecryptor:
    """Streaming decryption of a blob of known true size; never releases unverified bytes."""

    __slots__ = ("_dec", "_failed", "_padded", "_pos", "_prefix", "_size")

    def __init__(self, key: FileKey, node_id: bytes, content_version: int, size: int) -> None:
        self._dec = chunked.HeaderDecryptor(key.material, content_context(node_id, content_version))
        self._size = size
        self._padded = padded_length(size)
        self._pos = 0
        self._prefix = bytearray()
        self._failed = False

    @classmethod
    def resume(
        cls, key: FileKey, node_id: bytes, content_version: int, size: int, *,
        head: bytes, chunks: int,
    ) -> ContentDecryptor:  # fmt: skip
        """Continue an interrupted stream: `head` is the blob's first CONTENT_HEADER_SIZE
        bytes as the interrupted decryptor saw them (magic, version, salt and key commitment,
        all checked again here), and its first `chunks` chunks were authenticated by it.
        Feed it the blob from `resume_offset(chunks)` on."""
        dec = cls(key, node_id, content_version, size)
        if len(head) != CONTENT_HEADER_SIZE or not 0 <= chunks * CHUNK_SIZE <= dec._padded:
            raise UsageError("cannot resume there")
        dec.update_into(head, bytearray())
        dec._dec.skip(chunks)
        dec._pos = chunks * CHUNK_SIZE
        return dec

    @property
    def verified(self) -> int:
        """Padded plaintext authenticated so far (whole chunks until `finalize`)."""
        return self._pos

    @staticmethod
    def resume_offset(chunks: int) -> int:
        """Where in the blob chunk `chunks` starts."""
        return CONTENT_HEADER_SIZE + chunks * SEALED_CHUNK_SIZE

    def output_bound(self, size: int) -> int:
        return self._dec.output_bound(size)

    def update_into(self, data: bytes | bytearray | memoryview, out: bytearray | memoryview) -> int:
        """Decrypt into `out`; returns how many bytes of the *file* were written."""
        if self._failed:
            raise IntegrityError
        src = memoryview(data).cast("B")
        if len(self._prefix) < CONTENT_PREFIX_SIZE:
            take = min(CONTENT_PREFIX_SIZE - len(self._prefix), len(src))
            self._prefix += src[:take]
            src = src[take:]
            if len(self._prefix) < CONTENT_PREFIX_SIZE:
                return 0
            try:
                _check_prefix(bytes(self._prefix))
            except FormatError:
                self._failed = True
                raise
        dst = memoryview(out).cast("B")
        try:
            n = self._dec.update_into(src, dst)
        except IntegrityError:
            self._failed = True
            raise
        return self._accept(dst, n)

    def _accept(self, dst: memoryview, n: int) -> int:
        """Count `n` plaintext bytes; check any padding among them; return the file part."""
        start = self._pos
        self._pos += n
        if self._pos > self._padded:
            self._fail(dst[:n])
        keep = max(0, min(n, self._size - start))
        if keep < n and any(dst[keep:n]):  # mutant: core.zero-padding
            self._fail(dst[:n])
        return keep

    def _fail(self, dst: memoryview) -> None:
        self._failed = True
        dst[:] = bytes(len(dst))
        raise IntegrityError

    def update(self, data: bytes | bytearray | memoryview) -> bytes:
        out = bytearray(self.output_bound(len(data)))
        n = self.update_into(data, out)
        return bytes(out[:n])

    def finalize(self) -> bytes:
        if self._failed or len(self._prefix) < CONTENT_PREFIX_SIZE:
            self._failed = True
            raise IntegrityError
        try:
            tail = bytearray(self._dec.finalize())
        except IntegrityError:
            self._failed = True
            raise
        keep = self._accept(memoryview(tail), len(tail))
        if self._pos != self._padded:
            self._failed = True
            raise IntegrityError
        return bytes(tail[:keep])


class ContentRangeReader:
    """Random access to a stored blob through `read_at(offset, size)`."""

    __slots__ = ("_reader", "size")

    def __init__(
        self,
        key: FileKey,
        node_id: bytes,
        content_version: int,
        size: int,
        read_at: chunked.ReadAt,
        blob_size: int,
    ) -> None:
        if blob_size < CONTENT_PREFIX_SIZE:
            raise FormatError("blob too short")
        _check_prefix(read_at(0, CONTENT_PREFIX_SIZE))
        if blob_size != sealed_size(size):
            raise IntegrityError
        self._reader = chunked.ChunkedReader(
            key.material,
            content_context(node_id, content_version),
            read_at,
            blob_size - CONTENT_PREFIX_SIZE,
            offset=CONTENT_PREFIX_SIZE,
        )
        self.size = size

    def authenticate_length(self) -> None:
        self._reader.authenticate_length()

    def read(self, offset: int, length: int) -> bytes:
        """File bytes [offset, offset + length), clipped to the true size."""
        if offset > self.size:
            raise UsageError("offset beyond the end of the file")
        return self._reader.read(offset, max(0, min(length, self.size - offset)))


def seal_content(
    key: FileKey, node_id: bytes, content_version: int, data: bytes, *, salt: bytes | None = None
) -> bytes:
    """One-shot: the whole blob of a small file."""
    enc = ContentEncryptor(key, node_id, content_version, salt=salt)
    return enc.header + enc.update(data) + enc.finalize()


def open_content(
    key: FileKey, node_id: bytes, content_version: int, size: int, blob: bytes
) -> bytes:
    """One-shot: the file bytes of a whole blob."""
    if len(blob) < CONTENT_PREFIX_SIZE:
        raise FormatError("blob too short")
    dec = ContentDecryptor(key, node_id, content_version, size)
    return dec.update(blob) + dec.finalize()
