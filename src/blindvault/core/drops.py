"""Upload-only links (file drops): who can seal what, and what the owner can check.

An upload-only link looks like any link (`core.links`: BASE "/s/" link_id "#v1." secret),
but its secret is *derived* by the owner's devices, so they can recompute it for any link
id without storing anything:

    drop root   = HKDF-SHA-256(Kvault, salt="", info=LABEL_DROP_ROOT, 32)
    secret      = HKDF-SHA-256(drop root, salt=link_id, info=LABEL_DROP_SECRET, 32)
    recipient   = X25519 secret HKDF-SHA-256(drop root, salt=link_id, info=LABEL_DROP_KEY, 32)
                  (never derivable from the link secret: a holder cannot open any drop)
    note key    = HKDF-SHA-256(drop root, salt=link_id, info=LABEL_DROP_NOTE, 32)
    bind key    = HKDF-SHA-256(secret, salt=link_id, info=LABEL_DROP_BIND, 32)
    token, link key: as for every link (`core.links.link_token`, `link_key`, no password)

    descriptor  = "BVDL" || 0x01 || link_id[16] || nonce[12]
                  || AES-256-GCM(link key, nonce, pad(recipient public[32] || max_size u64
                     || folder name (u16-length UTF-8)), aad = the 33 bytes before it)
    owner note  = "BVDN" || 0x01 || link_id[16] || nonce[12]
                  || AES-256-GCM(note key, nonce, pad(target path (u16-length UTF-8)), aad)

    drop        = preamble || u16 len || H || content
    preamble    = "BVDP" || 0x01 || link_id[16] || drop_id[16]
    H           = HPKE base mode (RFC 9180: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
                  AES-256-GCM) sealed to the recipient public key,
                  info = LABEL_DROP_INFO || 0x00 || preamble, plaintext = pad(header)
    header      = file_key[32] || size u64 || mtime_ms u64 || name (u16-length UTF-8) || tag[32]
    tag         = HMAC-SHA-256(bind key, LABEL_DROP_TAG || 0x00 || preamble || file_key
                  || size u64 || mtime_ms u64 || name (u16-length UTF-8))
    content     = a content blob (`core.content`) under file_key, node id = drop_id, version 1

A drop is sealed and opened as a stream (`drop_sealer`, `open_drop_head` then a
`ContentDecryptor`): the header, at most DROP_HEAD_MAX bytes, names the size, so neither
side holds more than a chunk of the content in memory, whatever the file's size.

The descriptor is sealed under the link key, so a server cannot hand holders another
recipient key. The tag needs the link secret, so a server (which never sees the fragment)
cannot make a drop the owner accepts as coming through this link; any holder of the link
can, and nothing says which holder: a drop is anonymous by design. The owner note tells
the owner's devices where the link's drops go, sealed so the server can neither read nor
redirect it. Only primitives WebCrypto has (X25519, HKDF, HMAC, AES-GCM) are needed to seal.
"""

from __future__ import annotations

from dataclasses import dataclass

from blindvault.core import primitives
from blindvault.core.constants import (
    C2SP_SALT_SIZE,
    DROP_HEADER_MAX,
    GCM_NONCE_SIZE,
    ID_SIZE,
    KEY_SIZE,
    LABEL_DROP_BIND,
    LABEL_DROP_INFO,
    LABEL_DROP_KEY,
    LABEL_DROP_NOTE,
    LABEL_DROP_ROOT,
    LABEL_DROP_SECRET,
    LABEL_DROP_TAG,
    MAGIC_DROP,
    MAGIC_DROP_LINK,
    MAGIC_DROP_NOTE,
    MAX_DROP_PATH_BYTES,
    MAX_NAME_BYTES,
    PAD_DESCRIPTOR_MIN,
    PAD_DROP_HEADER_MIN,
    SUITE_X25519,
    X25519_KEY_SIZE,
)
from blindvault.core.content import ContentEncryptor, open_content, sealed_size
from blindvault.core.encoding import Reader, Writer, check_header, header
from blindvault.core.keys import FileKey, LinkKey, VaultKey
from blindvault.core.links import link_key, link_token
from blindvault.core.manifest import check_name
from blindvault.core.padme import pad_block, unpad_block
from blindvault.errors import FormatError, IntegrityError, UsageError

__all__ = [
    "DROP_HEAD_MAX",
    "DropHeader",
    "DropSealer",
    "DropTarget",
    "OwnerDropKeys",
    "drop_sealer",
    "open_drop",
    "open_drop_head",
    "open_drop_link",
    "open_owner_note",
    "peek_drop",
    "seal_drop",
    "seal_drop_link",
    "seal_owner_note",
]


@dataclass(frozen=True, slots=True)
class DropTarget:
    """What a holder learns from the descriptor: whom to seal to, how much, into what."""

    recipient: bytes  # X25519 public key
    max_size: int
    name: str


@dataclass(frozen=True, slots=True)
class DropHeader:
    link_id: bytes
    drop_id: bytes
    file_key: FileKey
    size: int
    mtime_ms: int
    name: str


class OwnerDropKeys:
    """The owner's keys for one upload-only link, all derived from the vault key."""

    def __init__(self, vault: VaultKey, link_id: bytes) -> None:
        if len(link_id) != ID_SIZE:
            raise UsageError("wrong link id size")
        root = primitives.hkdf_sha256(vault.material, salt=b"", info=LABEL_DROP_ROOT, length=32)
        self.link_id = link_id
        self.secret = primitives.hkdf_sha256(root, salt=link_id, info=LABEL_DROP_SECRET, length=32)
        self._recipient = primitives.hkdf_sha256(root, salt=link_id, info=LABEL_DROP_KEY, length=32)
        self._note = primitives.hkdf_sha256(root, salt=link_id, info=LABEL_DROP_NOTE, length=32)

    def __repr__(self) -> str:
        return "OwnerDropKeys(<redacted>)"

    @property
    def recipient_public(self) -> bytes:
        return primitives.hpke_public_key(SUITE_X25519, self._recipient)

    @property
    def token(self) -> bytes:
        return link_token(self.secret, self.link_id)

    @property
    def link_key(self) -> LinkKey:
        return link_key(self.secret, self.link_id, None)

    @property
    def note_key(self) -> bytes:
        return self._note

    def open_header(self, sealed: bytes, preamble: bytes) -> bytes:
        return primitives.hpke_open(SUITE_X25519, self._recipient, sealed, _info(preamble))


def bind_key(secret: bytes, link_id: bytes) -> bytes:
    return primitives.hkdf_sha256(secret, salt=link_id, info=LABEL_DROP_BIND, length=KEY_SIZE)


def _info(preamble: bytes) -> bytes:
    return LABEL_DROP_INFO + b"\x00" + preamble


def _sealed_aad(magic: bytes, link_id: bytes, nonce: bytes) -> bytes:
    return Writer(header(magic)).fixed(link_id, ID_SIZE).fixed(nonce, GCM_NONCE_SIZE).bytes()


def _seal(magic: bytes, key: bytes, link_id: bytes, plain: bytes, nonce: bytes | None) -> bytes:
    nonce = primitives.random_bytes(GCM_NONCE_SIZE) if nonce is None else nonce
    aad = _sealed_aad(magic, link_id, nonce)
    return aad + primitives.aes256gcm_seal(key, nonce, pad_block(plain, PAD_DESCRIPTOR_MIN), aad)


def _open(magic: bytes, key: bytes, link_id: bytes, data: bytes) -> Reader:
    r = Reader(data)
    check_header(r, magic)
    r.take(ID_SIZE)  # the AAD below names the expected link id: another link's fails
    nonce = r.take(GCM_NONCE_SIZE)
    plain = primitives.aes256gcm_open(key, nonce, r.rest(), _sealed_aad(magic, link_id, nonce))
    try:
        return Reader(unpad_block(plain, PAD_DESCRIPTOR_MIN))
    except FormatError:
        raise IntegrityError from None


def seal_drop_link(
    target: DropTarget, key: LinkKey, link_id: bytes, *, _nonce: bytes | None = None
) -> bytes:
    """The descriptor (`_nonce`: deterministic test vectors only)."""
    w = Writer().fixed(target.recipient, X25519_KEY_SIZE).u64(target.max_size)
    plain = w.text16(check_name(target.name)).bytes()
    return _seal(MAGIC_DROP_LINK, key.material, link_id, plain, _nonce)


def open_drop_link(data: bytes, key: LinkKey, link_id: bytes) -> DropTarget:
    """A holder's view of an upload-only link; `IntegrityError` if anything is off."""
    r = _open(MAGIC_DROP_LINK, key.material, link_id, data)
    try:
        recipient, max_size = r.take(X25519_KEY_SIZE), r.u64()
        name = check_name(r.text16(max_size=MAX_NAME_BYTES))
        r.finish()
    except (FormatError, UsageError):
        raise IntegrityError from None
    return DropTarget(recipient, max_size, name)


def seal_owner_note(path: str, keys: OwnerDropKeys, *, _nonce: bytes | None = None) -> bytes:
    """The owner's note (`_nonce`: deterministic test vectors only)."""
    if len(path.encode("utf-8")) > MAX_DROP_PATH_BYTES:
        raise UsageError("the folder path is too long for an upload-only link")
    plain = Writer().text16(path).bytes()
    return _seal(MAGIC_DROP_NOTE, keys.note_key, keys.link_id, plain, _nonce)


def open_owner_note(data: bytes, keys: OwnerDropKeys) -> str:
    """The folder this link's drops go to; `IntegrityError` if the note is not the owner's."""
    r = _open(MAGIC_DROP_NOTE, keys.note_key, keys.link_id, data)
    try:
        path = r.text16(max_size=MAX_DROP_PATH_BYTES)
        r.finish()
    except FormatError:
        raise IntegrityError from None
    return path


# --- a drop ------------------------------------------------------------------------------


PREAMBLE_SIZE = len(MAGIC_DROP) + 1 + 2 * ID_SIZE
DROP_HEAD_MAX = PREAMBLE_SIZE + 2 + DROP_HEADER_MAX  # the bytes before a drop's content


def _preamble(link_id: bytes, drop_id: bytes) -> bytes:
    return Writer(header(MAGIC_DROP)).fixed(link_id, ID_SIZE).fixed(drop_id, ID_SIZE).bytes()


def _fields(file_key: bytes, size: int, mtime_ms: int, name: str) -> bytes:
    w = Writer().fixed(file_key, KEY_SIZE).u64(size).u64(mtime_ms)
    return w.text16(check_name(name)).bytes()


def _tag(bind: bytes, preamble: bytes, fields: bytes) -> bytes:
    return primitives.hmac_sha256(bind, LABEL_DROP_TAG + b"\x00" + preamble + fields)


@dataclass(frozen=True)
class DropSealer:
    """A drop being sealed as a stream: `head` (preamble, length, sealed header) comes
    first, then the content blob of `encryptor()` over exactly `size` bytes. Every call of
    `encryptor()` seals the same bytes (the content salt is fixed here), so a sender that
    must send the drop again sends the same drop (the server refuses it as a replay)."""

    head: bytes
    drop_id: bytes
    size: int
    _file_key: FileKey
    _salt: bytes

    def encryptor(self) -> ContentEncryptor:
        return ContentEncryptor(self._file_key, self.drop_id, 1, salt=self._salt)

    @property
    def sealed_size(self) -> int:
        """The whole drop's length (known before any content byte is read)."""
        return len(self.head) + sealed_size(self.size)

    def __repr__(self) -> str:
        return "DropSealer(<redacted>)"


def drop_sealer(
    target: DropTarget, secret: bytes, link_id: bytes, name: str, size: int, *, mtime_ms: int
) -> DropSealer:
    """A holder starts sealing one file of `size` bytes for the link's owner; it cannot
    open it again."""
    if size > target.max_size:
        raise UsageError(f"{name}: larger than this link accepts ({target.max_size} bytes)")
    drop_id = primitives.random_bytes(ID_SIZE)
    file_key = FileKey(primitives.random_bytes(KEY_SIZE))
    preamble = _preamble(link_id, drop_id)
    fields = _fields(file_key.material, size, mtime_ms, name)
    tag = _tag(bind_key(secret, link_id), preamble, fields)
    plain = pad_block(fields + tag, PAD_DROP_HEADER_MIN)
    sealed = primitives.hpke_seal(SUITE_X25519, target.recipient, plain, _info(preamble))
    head = preamble + Writer().var16(sealed).bytes()
    salt = primitives.random_bytes(C2SP_SALT_SIZE)
    return DropSealer(head, drop_id, size, file_key, salt)


def seal_drop(
    target: DropTarget,
    secret: bytes,
    link_id: bytes,
    name: str,
    data: bytes,
    *,
    mtime_ms: int,
) -> bytes:
    """One-shot: the whole drop of a small file."""
    sealer = drop_sealer(target, secret, link_id, name, len(data), mtime_ms=mtime_ms)
    enc = sealer.encryptor()
    return sealer.head + enc.header + enc.update(data) + enc.finalize()


def peek_drop(data: bytes) -> tuple[bytes, bytes]:
    """(link_id, drop_id) of a drop, unauthenticated: which link's keys to try."""
    r = Reader(data[: len(_preamble(bytes(ID_SIZE), bytes(ID_SIZE)))])
    try:
        check_header(r, MAGIC_DROP)
        return r.take(ID_SIZE), r.take(ID_SIZE)
    except FormatError:
        raise IntegrityError from None


def open_drop_head(head: bytes, keys: OwnerDropKeys) -> tuple[DropHeader, int]:
    """The owner opens the header of a drop of `keys`' link from its first bytes (at least
    `DROP_HEAD_MAX` of them, or all there are): the header and where the content blob
    starts; `IntegrityError` if the drop is of another link, not made with the link's
    secret, or tampered. The content is checked by `ContentDecryptor(header.file_key,
    header.drop_id, 1, header.size)`, which releases nothing unverified."""
    r = Reader(head[:DROP_HEAD_MAX])
    try:
        check_header(r, MAGIC_DROP)
        link_id, drop_id = r.take(ID_SIZE), r.take(ID_SIZE)
        sealed = r.var16(max_size=DROP_HEADER_MAX)
    except FormatError:
        raise IntegrityError from None
    # another link's drop names another link in the HPKE info and was sealed to another
    # recipient key: it fails to open below
    preamble = _preamble(link_id, drop_id)
    try:
        h = Reader(unpad_block(keys.open_header(sealed, preamble), PAD_DROP_HEADER_MIN))
        file_key, size, mtime = h.take(KEY_SIZE), h.u64(), h.u64()
        name = check_name(h.text16(max_size=MAX_NAME_BYTES))
        tag = h.take(32)
        h.finish()
    except (FormatError, UsageError):
        raise IntegrityError from None
    fields = _fields(file_key, size, mtime, name)
    expected = _tag(bind_key(keys.secret, link_id), preamble, fields)
    if not primitives.constant_time_equal(tag, expected):  # mutant: drops.bind-tag
        raise IntegrityError
    return DropHeader(link_id, drop_id, FileKey(file_key), size, mtime, name), r.position


def open_drop(data: bytes, keys: OwnerDropKeys) -> tuple[DropHeader, bytes]:
    """One-shot: the owner opens a whole drop of `keys`' link: header and file bytes, or
    `IntegrityError` (wrong link, not made with the link's secret, tampered, truncated)."""
    header, at = open_drop_head(data, keys)
    try:
        body = open_content(header.file_key, header.drop_id, 1, header.size, data[at:])
    except FormatError:
        raise IntegrityError from None
    return header, body
