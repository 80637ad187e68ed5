"""Folder manifests: a folder's children, sealed, signed, versioned and hash-chained.

    body   = pad("BVMB" || 0x04 || n u32 || n entries (strictly ascending UTF-8 name)
                 || m u32 || m tombstones (strictly ascending node id)
                 || trash (core/trash.py))
    entries, tombstones: core/entries.py; a file's earlier versions: core/history.py
    pad(x) = x || 0x80 || 0x00... to Padmé(max(len(x) + 1, 1024)) bytes (padme.pad_block)

    sealed = head || u32 length || AES-256-GCM(manifest key, nonce, body, aad = head)
             || Ed25519 signature[64] by the writer
    head   = "BVMF" || 0x01 || node_id[16] || version u64 || key_version u64
             || prev_hash[32] || writer fingerprint[32] || nonce[12]
    manifest key = HKDF-SHA-256(folder key, salt="", info=LABEL_MANIFEST_KEY, 32)
    signature    = Ed25519(LABEL_MANIFEST_SIG || 0x00 || all bytes before it)
    hash         = SHA-256(LABEL_MANIFEST_HASH || 0x00 || sealed)

Version 1 has an all-zero prev_hash; version n+1 names the hash of version n.
Deletions are tombstones inside a signed manifest (P-TOMBSTONE); sizes and times shown
to users come only from here (P-META). Body version 1 carried a per-entry `author` that
nothing authenticated (any writer could name anybody); version 2 drops it: who wrote a
listing is the manifest's signed `writer`. Version 3 (issue 14) keeps each file's earlier
content versions inside the signed body. Version 4 (issue 14) adds the folder's trash.
Older bodies are refused.

A sealed manifest of version 2 (issue 18, core/pages.py) has the same head, signature,
chain and hash, and a paged root (BVMR) for a body: the folder's tombstones and trash and
the hashes of the sealed pages holding its entries. `OpenedManifest.paged` is that root;
the tree (client/tree/paged.py) fetches and checks the pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

from blindvault.core import primitives
from blindvault.core.constants import (
    ED25519_SIGNATURE_SIZE,
    FINGERPRINT_SIZE,
    GCM_NONCE_SIZE,
    HASH_SIZE,
    ID_SIZE,
    KEY_SIZE,
    LABEL_MANIFEST_HASH,
    LABEL_MANIFEST_KEY,
    LABEL_MANIFEST_SIG,
    MAGIC_MANIFEST,
    MAGIC_MANIFEST_BODY,
    MANIFEST_PAGED,
    MANIFEST_WHOLE,
    PAD_MANIFEST_MIN,
)
from blindvault.core.encoding import Reader, Writer, check_header, header
from blindvault.core.entries import (
    Entry,
    FileEntry,
    FolderEntry,
    Tombstone,
    check_name,
    read_count,
    read_entry,
    read_tombstones,
    write_entry,
    write_tombstones,
)
from blindvault.core.history import MAX_HISTORY, FileVersion
from blindvault.core.identity import Identity, IdentityBundle
from blindvault.core.keys import FolderKey
from blindvault.core.padme import pad_block, unpad_block
from blindvault.core.pages import RootBody
from blindvault.core.trash import TrashItem, read_trash, write_trash
from blindvault.errors import FormatError, IntegrityError, RollbackError, UsageError

__all__ = [
    "MAX_HISTORY",
    "Entry",
    "FileEntry",
    "FileVersion",
    "FolderEntry",
    "ManifestBody",
    "ManifestHead",
    "OpenedManifest",
    "RootBody",
    "Tombstone",
    "TrashItem",
    "check_fresh",
    "check_name",
    "check_unique",
    "open_manifest",
    "open_manifest_for_link",
    "seal_manifest",
]

ZERO_HASH = bytes(HASH_SIZE)
_MAX_BODY = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ManifestBody:
    """The plaintext of a manifest; `encode` sorts, so any order goes in."""

    entries: tuple[Entry, ...] = ()
    tombstones: tuple[Tombstone, ...] = ()
    trash: tuple[TrashItem, ...] = ()

    def encode(self) -> bytes:
        entries = sorted(self.entries, key=lambda e: check_name(e.name).encode("utf-8"))
        tombs = sorted(self.tombstones, key=lambda t: t.node_id)
        check_unique(entries, tombs, self.trash)
        w = Writer(header(MAGIC_MANIFEST_BODY)).u32(len(entries))
        for e in entries:
            write_entry(w, e)
        write_tombstones(w, tombs)
        write_trash(w, self.trash)
        return pad_block(w.bytes(), PAD_MANIFEST_MIN)

    @classmethod
    def decode(cls, data: bytes) -> ManifestBody:
        r = Reader(data)
        check_header(r, MAGIC_MANIFEST_BODY)
        r = Reader(unpad_block(data, PAD_MANIFEST_MIN))
        r.take(5)
        entries = [read_entry(r) for _ in range(read_count(r))]
        tombs = read_tombstones(r)
        trash = read_trash(r, read_count(r))
        r.finish()
        names = [e.name.encode("utf-8") for e in entries]
        if any(a >= b for a, b in pairwise(names)):
            raise FormatError("entries not in canonical order")
        try:
            check_unique(entries, tombs, trash)
        except UsageError:
            raise FormatError("duplicate node id") from None
        return cls(tuple(entries), tuple(tombs), trash)

    def find(self, name: str) -> Entry | None:
        for e in self.entries:
            if e.name == name:
                return e
        return None


def check_unique(
    entries: list[Entry], tombs: list[Tombstone], trash: tuple[TrashItem, ...]
) -> None:
    """Names and node ids unique among live entries and tombstones; a trash item may share
    its node id with a tombstone (the delete that put it there), never with a live entry."""
    names = [e.name for e in entries]
    ids = [e.node_id for e in entries] + [t.node_id for t in tombs]
    live = {e.node_id for e in entries}
    if len(set(names)) != len(names) or len(set(ids)) != len(ids):
        raise UsageError("duplicate name or node id in manifest")
    if any(t.entry.node_id in live for t in trash):  # mutant: core.trash-apart
        raise UsageError("a live entry is also in the trash")


@dataclass(frozen=True, slots=True)
class ManifestHead:
    """What a client remembers of a folder: the highest version seen and its hash."""

    node_id: bytes
    version: int
    hash: bytes


@dataclass(frozen=True, slots=True)
class OpenedManifest:
    node_id: bytes
    version: int
    key_version: int
    prev_hash: bytes
    writer: bytes
    body: ManifestBody
    hash: bytes = field(repr=False)
    # a paged manifest (version 2): its root; `body` then holds no entries (they are in
    # the pages), only the tombstones and trash
    paged: RootBody | None = field(default=None, repr=False)

    @property
    def head(self) -> ManifestHead:
        return ManifestHead(self.node_id, self.version, self.hash)


def _manifest_key(folder_key: FolderKey) -> bytes:
    return primitives.hkdf_sha256(
        folder_key.material, salt=b"", info=LABEL_MANIFEST_KEY, length=KEY_SIZE
    )


def _head(
    fmt: int,
    node_id: bytes,
    version: int,
    key_version: int,
    prev: bytes,
    writer: bytes,
    nonce: bytes,
) -> bytes:
    w = Writer(MAGIC_MANIFEST + bytes([fmt])).fixed(node_id, ID_SIZE).u64(version)
    w.u64(key_version)
    return (
        w.fixed(prev, HASH_SIZE)
        .fixed(writer, FINGERPRINT_SIZE)
        .fixed(nonce, GCM_NONCE_SIZE)
        .bytes()
    )


def manifest_hash(sealed: bytes) -> bytes:
    return primitives.sha256(LABEL_MANIFEST_HASH + b"\x00" + sealed)


def _seal_from_parts(
    plain: bytes | tuple[int, bytes],
    folder_key: FolderKey,
    node_id: bytes,
    version: int,
    key_version: int,
    prev_hash: bytes,
    writer: Identity,
    nonce: bytes,
) -> bytes:
    if version < 1 or (version == 1) != (prev_hash == ZERO_HASH):
        raise UsageError("version 1 has a zero prev_hash, later versions a real one")
    fmt, raw = plain if isinstance(plain, tuple) else (MANIFEST_WHOLE, plain)
    head = _head(fmt, node_id, version, key_version, prev_hash, writer.bundle.fingerprint, nonce)
    ct = primitives.aes256gcm_seal(_manifest_key(folder_key), nonce, raw, head)
    signed = Writer(head).var32(ct).bytes()
    return signed + writer.sign(LABEL_MANIFEST_SIG + b"\x00" + signed)


def seal_manifest(
    body: ManifestBody | RootBody,
    folder_key: FolderKey,
    *,
    node_id: bytes,
    version: int,
    key_version: int,
    prev_hash: bytes,
    writer: Identity,
) -> bytes:
    """Encrypt and sign a folder's manifest (`version` n+1 chains to version n's hash);
    a `RootBody` is sealed as a paged manifest (version 2 of the sealed format)."""
    nonce = primitives.random_bytes(GCM_NONCE_SIZE)
    fmt = MANIFEST_PAGED if isinstance(body, RootBody) else MANIFEST_WHOLE
    return _seal_from_parts(
        (fmt, body.encode()), folder_key, node_id, version, key_version, prev_hash, writer, nonce
    )


def open_manifest(
    sealed: bytes,
    folder_key: FolderKey,
    node_id: bytes,
    writers: dict[bytes, IdentityBundle],
) -> OpenedManifest:
    """Verify and decrypt a manifest of folder `node_id`.

    `writers` maps the fingerprints of the identities allowed to write this folder
    (from pins and the owner-signed roster) to their bundles; a manifest signed by
    anybody else is an `IntegrityError`, as is any change to any byte (P-NOINJECT).
    """
    parts = _split(sealed, node_id)
    bundle = writers.get(parts.writer)
    if bundle is None:  # mutant: core.manifest-writer-known
        raise IntegrityError
    # mutant: core.manifest-signature
    bundle.verify(LABEL_MANIFEST_SIG + b"\x00" + sealed[: parts.signed_len], parts.signature)
    return _decrypt(sealed, parts, folder_key)


def open_manifest_for_link(sealed: bytes, folder_key: FolderKey, node_id: bytes) -> OpenedManifest:
    """Decrypt a manifest for a share-link holder, who knows the folder key and no one.

    A link holder has no account, so no pinned writer keys to check the signature with.
    What it gets: the AEAD under the folder key (which the server never has) proves the
    manifest was written by someone holding that key, for this node id, unmodified. What
    it does not get: *which* key holder wrote it, and freshness across visits (a link
    holder keeps no state), both stated in docs/threat-model.md. Account holders always
    use `open_manifest`. A link snapshot is always written whole (§10), so a paged
    manifest here is refused.
    """
    parts = _split(sealed, node_id)
    if parts.fmt != MANIFEST_WHOLE:  # mutant: core.link-manifest-whole
        raise FormatError("a link snapshot is never a paged manifest")
    return _decrypt(sealed, parts, folder_key)


@dataclass(frozen=True, slots=True)
class _Sealed:
    fmt: int
    version: int
    key_version: int
    prev: bytes
    writer: bytes
    nonce: bytes
    head: bytes
    ct: bytes
    signed_len: int
    signature: bytes


def _split(sealed: bytes, node_id: bytes) -> _Sealed:
    r = Reader(sealed)
    if r.take(len(MAGIC_MANIFEST)) != MAGIC_MANIFEST:
        raise FormatError("wrong magic")
    fmt = r.u8()
    if fmt not in (MANIFEST_WHOLE, MANIFEST_PAGED):
        raise FormatError(f"unsupported format version {fmt}")
    got_node = r.take(ID_SIZE)
    version, key_version = r.u64(), r.u64()
    prev, writer, nonce = r.take(HASH_SIZE), r.take(FINGERPRINT_SIZE), r.take(GCM_NONCE_SIZE)
    head = sealed[: r.position]
    ct = r.var32(max_size=_MAX_BODY)
    signed_len = r.position
    signature = r.take(ED25519_SIGNATURE_SIZE)
    r.finish()
    if got_node != node_id or version < 1 or (version == 1) != (prev == ZERO_HASH):
        raise IntegrityError
    return _Sealed(fmt, version, key_version, prev, writer, nonce, head, ct, signed_len, signature)


def _decrypt(sealed: bytes, parts: _Sealed, folder_key: FolderKey) -> OpenedManifest:
    plain = primitives.aes256gcm_open(_manifest_key(folder_key), parts.nonce, parts.ct, parts.head)
    paged: RootBody | None = None
    try:
        if parts.fmt == MANIFEST_PAGED:
            paged = RootBody.decode(plain)
            body = ManifestBody((), paged.tombstones, paged.trash)
        else:
            body = ManifestBody.decode(plain)
    except FormatError:
        raise IntegrityError from None
    node_id = parts.head[5 : 5 + ID_SIZE]
    return OpenedManifest(
        node_id,
        parts.version,
        parts.key_version,
        parts.prev,
        parts.writer,
        body,
        manifest_hash(sealed),
        paged,
    )


def check_fresh(seen: ManifestHead | None, new: OpenedManifest) -> None:
    """Refuse a manifest older than, or forked from, the highest version seen (P-FRESH)."""
    if seen is None:
        return
    if seen.node_id != new.node_id:
        raise UsageError("heads of different folders")
    if new.version < seen.version:  # mutant: core.manifest-fresh-rollback
        raise RollbackError
    if new.version == seen.version and new.hash != seen.hash:  # mutant: core.manifest-fresh-fork
        raise RollbackError
    # mutant: core.manifest-fresh-chain
    if new.version == seen.version + 1 and new.prev_hash != seen.hash:
        raise RollbackError
