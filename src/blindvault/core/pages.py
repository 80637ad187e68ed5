"""Paged folder manifests (issue 18): a big folder's entries in sealed pages named by a root.

A folder with more than PAGE_SPLIT entries is written as a sealed manifest of version 2
(core/manifest.py: the same head, signature, chain and hash as version 1) whose body is
a *root*: the folder's tombstones and trash, and one reference per bucket to a sealed
page holding the entries whose name falls in that bucket. Spec: docs/spec/format-v1.md §7a.

    root   = pad("BVMR" || 0x01 || bits u8 || (count u32 || size u32 || page_hash[32]) * 2^bits
                 || m u32 || tombstone * m || k u32 || trash * k, 1024)
    page   = head || AEAD(page key, nonce, pad("BVMP" || 0x01 || n u32 || entry * n, 1024),
                          aad = head)
    head   = "BVMG" || 0x01 || node_id[16] || bits u8 || bucket u32 || nonce[12]
    bucket(name) = u32(HMAC-SHA-256(bucket key, UTF-8 name)[0:4]) >> (32 - bits)
    page key   = HKDF(folder key, "", LABEL_PAGE_KEY, 32)
    bucket key = HKDF(folder key, "", LABEL_BUCKET_KEY, 32)
    page_hash  = SHA-256(LABEL_PAGE_HASH || 0x00 || page)
    page blob  = SHA-256(LABEL_PAGE_ID || 0x00 || node_id || page_hash)[0:16]

Only the root is signed and chained; a page is authentic because the signed root names
its hash, so a changed, swapped, older, foreign or missing page is an `IntegrityError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from blindvault.core import primitives
from blindvault.core.constants import (
    GCM_NONCE_SIZE,
    HASH_SIZE,
    ID_SIZE,
    KEY_SIZE,
    LABEL_BUCKET_KEY,
    LABEL_PAGE_HASH,
    LABEL_PAGE_ID,
    LABEL_PAGE_KEY,
    MAGIC_MANIFEST_ROOT,
    MAGIC_PAGE,
    MAGIC_PAGE_BODY,
    MAX_MANIFEST_ENTRIES,
    MAX_PAGE_BITS,
    PAD_MANIFEST_MIN,
    PAGE_TARGET,
)
from blindvault.core.encoding import Reader, Writer, check_header, header
from blindvault.core.entries import (
    Entry,
    Tombstone,
    check_name,
    read_count,
    read_entry,
    read_tombstones,
    write_entry,
    write_tombstones,
)
from blindvault.core.keys import FolderKey
from blindvault.core.padme import pad_block, unpad_block
from blindvault.core.trash import TrashItem, read_trash, write_trash
from blindvault.errors import FormatError, IntegrityError, UsageError

__all__ = [
    "EMPTY_REF",
    "Bucketer",
    "PageRef",
    "RootBody",
    "choose_bits",
    "open_page",
    "page_blob_id",
    "page_hash",
    "seal_page",
]

ZERO_HASH = bytes(HASH_SIZE)
PAGE_HEAD_SIZE = 5 + ID_SIZE + 1 + 4 + GCM_NONCE_SIZE  # 38


@dataclass(frozen=True, slots=True)
class PageRef:
    """What the signed root says of one bucket's page: how many entries, how many sealed
    bytes, and its hash (all zero, with no page stored, for an empty bucket)."""

    count: int
    size: int
    hash: bytes


EMPTY_REF = PageRef(0, 0, ZERO_HASH)


@dataclass(frozen=True, slots=True)
class RootBody:
    """The plaintext of a paged root: bucket width, one reference per bucket, and the
    folder-level lists that stay in the root (tombstones, trash)."""

    bits: int
    refs: tuple[PageRef, ...]
    tombstones: tuple[Tombstone, ...] = ()
    trash: tuple[TrashItem, ...] = ()

    @property
    def total(self) -> int:
        return sum(r.count for r in self.refs)

    def encode(self) -> bytes:
        if not 1 <= self.bits <= MAX_PAGE_BITS or len(self.refs) != 1 << self.bits:
            raise UsageError("a paged root names one page per bucket")
        w = Writer(header(MAGIC_MANIFEST_ROOT)).u8(self.bits)
        for ref in self.refs:
            if (ref.count == 0) != (ref.hash == ZERO_HASH) or (ref.count == 0) != (ref.size == 0):
                raise UsageError("an empty bucket has no page, a page is never empty")
            w.u32(ref.count).u32(ref.size).fixed(ref.hash, HASH_SIZE)
        tombs = sorted(self.tombstones, key=lambda t: t.node_id)
        if any(a.node_id == b.node_id for a, b in pairwise(tombs)):
            raise UsageError("duplicate tombstone")
        write_tombstones(w, tombs)
        write_trash(w, self.trash)
        return pad_block(w.bytes(), PAD_MANIFEST_MIN)

    @classmethod
    def decode(cls, data: bytes) -> RootBody:
        check_header(Reader(data), MAGIC_MANIFEST_ROOT)
        r = Reader(unpad_block(data, PAD_MANIFEST_MIN))
        r.take(5)
        bits = r.u8()
        if not 1 <= bits <= MAX_PAGE_BITS:
            raise FormatError("page bits out of range")
        refs = []
        for _ in range(1 << bits):
            count, size, digest = r.u32(), r.u32(), r.take(HASH_SIZE)
            if (count == 0) != (digest == ZERO_HASH) or (count == 0) != (size == 0):
                raise FormatError("an empty bucket has no page, a page is never empty")
            refs.append(PageRef(count, size, digest))
        if sum(ref.count for ref in refs) > MAX_MANIFEST_ENTRIES:
            raise FormatError("entry count out of range")
        tombs = read_tombstones(r)
        trash = read_trash(r, read_count(r))
        r.finish()
        return cls(bits, tuple(refs), tuple(tombs), trash)


def choose_bits(n: int) -> int:
    """The bucket width a (re)split of `n` entries uses: about PAGE_TARGET per page."""
    bits = 1
    while bits < MAX_PAGE_BITS and n > PAGE_TARGET << bits:
        bits += 1
    return bits


class Bucketer:
    """Which bucket a name falls in, keyed by the folder key: the server, which never
    sees names, learns nothing from which page an entry is in."""

    def __init__(self, folder_key: FolderKey, bits: int) -> None:
        self.bits = bits
        self._key = _derive(folder_key, LABEL_BUCKET_KEY)

    def __call__(self, name: str) -> int:
        mac = primitives.hmac_sha256(self._key, name.encode("utf-8"))
        return int.from_bytes(mac[:4], "big") >> (32 - self.bits)

    def split(self, entries: Iterable[Entry]) -> list[list[Entry]]:
        out: list[list[Entry]] = [[] for _ in range(1 << self.bits)]
        for e in entries:
            out[self(e.name)].append(e)
        return out


def _derive(folder_key: FolderKey, label: bytes) -> bytes:
    return primitives.hkdf_sha256(folder_key.material, salt=b"", info=label, length=KEY_SIZE)


def page_hash(sealed: bytes) -> bytes:
    return primitives.sha256(LABEL_PAGE_HASH + b"\x00" + sealed)


def page_blob_id(node_id: bytes, digest: bytes) -> bytes:
    """The blob id a page is stored under: derived from its hash (content-addressed) and
    the folder, so the server cannot tell which folder a page belongs to."""
    return primitives.sha256(LABEL_PAGE_ID + b"\x00" + node_id + digest)[:ID_SIZE]


def _page_head(node_id: bytes, bits: int, bucket: int, nonce: bytes) -> bytes:
    w = Writer(header(MAGIC_PAGE)).fixed(node_id, ID_SIZE).u8(bits).u32(bucket)
    return w.fixed(nonce, GCM_NONCE_SIZE).bytes()


def seal_page(
    entries: Sequence[Entry],
    folder_key: FolderKey,
    *,
    node_id: bytes,
    bits: int,
    bucket: int,
    nonce: bytes | None = None,
) -> tuple[PageRef, bytes]:
    """Seal one bucket's entries; returns the root's reference to it and the page.
    (`nonce` is for the test vectors only; a fresh random one otherwise.)"""
    ordered = sorted(entries, key=lambda e: check_name(e.name).encode("utf-8"))
    if not ordered:
        raise UsageError("an empty bucket has no page")
    if any(a.name == b.name for a, b in pairwise(ordered)):
        raise UsageError("duplicate name in manifest")
    w = Writer(header(MAGIC_PAGE_BODY)).u32(len(ordered))
    for e in ordered:
        write_entry(w, e)
    nonce = nonce or primitives.random_bytes(GCM_NONCE_SIZE)
    head = _page_head(node_id, bits, bucket, nonce)
    plain = pad_block(w.bytes(), PAD_MANIFEST_MIN)
    key = _derive(folder_key, LABEL_PAGE_KEY)
    sealed = head + primitives.aes256gcm_seal(key, nonce, plain, head)
    return PageRef(len(ordered), len(sealed), page_hash(sealed)), sealed


def open_page(
    sealed: bytes,
    ref: PageRef,
    folder_key: FolderKey,
    *,
    node_id: bytes,
    bucket: int,
    bucketer: Bucketer,
) -> tuple[Entry, ...]:
    """Verify one page against the signed root's reference, decrypt it, and return its
    entries; anything but exactly the page the root names is an `IntegrityError`."""
    if len(sealed) != ref.size or page_hash(sealed) != ref.hash:  # mutant: core.page-hash
        raise IntegrityError
    head = sealed[:PAGE_HEAD_SIZE]
    if len(sealed) < PAGE_HEAD_SIZE + 16:
        raise IntegrityError
    # mutant: core.page-head
    if head != _page_head(node_id, bucketer.bits, bucket, head[-GCM_NONCE_SIZE:]):
        raise IntegrityError
    key = _derive(folder_key, LABEL_PAGE_KEY)
    plain = primitives.aes256gcm_open(key, head[-GCM_NONCE_SIZE:], sealed[PAGE_HEAD_SIZE:], head)
    try:
        entries = _decode_page(plain)
    except FormatError:
        raise IntegrityError from None
    if len(entries) != ref.count:  # mutant: core.page-count
        raise IntegrityError
    if any(bucketer(e.name) != bucket for e in entries):  # mutant: core.page-bucket
        raise IntegrityError
    return entries


def _decode_page(plain: bytes) -> tuple[Entry, ...]:
    check_header(Reader(plain), MAGIC_PAGE_BODY)
    r = Reader(unpad_block(plain, PAD_MANIFEST_MIN))
    r.take(5)
    n = read_count(r)
    entries = tuple(read_entry(r) for _ in range(n))
    r.finish()
    names = [e.name.encode("utf-8") for e in entries]
    if any(a >= b for a, b in pairwise(names)):
        raise FormatError("entries not in canonical order")
    return entries
