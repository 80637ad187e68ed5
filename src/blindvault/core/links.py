"""Share links: the secret lives in the URL fragment, which browsers never send.

    URL      = BASE "/s/" link_id "#" fragment
    link_id  = base64url(16 random bytes), no padding (22 characters)
    fragment = "v1." || base64url(secret[32]) [ || ".p" when a password is also needed ]

    token    = HKDF-SHA-256(secret, salt=link_id, info=LABEL_LINK_TOKEN, 32)
               (sent to the server, which keeps only its hash; enforces expiry, download
               limits and revocation; reveals nothing about the key)
    pw       = PBKDF2-SHA-256(NFKC(password), salt=LABEL_LINK_PASSWORD || 0x00 || link_id,
               600,000, 32)                                    (only with a password)
    link key = HKDF-SHA-256(secret [|| pw], salt=link_id, info=LABEL_LINK_KEY, 32)

    descriptor = "BVLK" || 0x02 || link_id[16] || nonce[12]
                 || AES-256-GCM(link key, nonce, pad(plain), aad = the 33 bytes before it)
    plain      = kind u8 || node_id[16] || key[32] || version u64 || size u64
                 || mtime_ms u64 || name (u16-length UTF-8)
    pad(x)     = x || 0x80 || 0x00... to Padmé(max(len(x) + 1, 512)) bytes

The descriptor tells a link holder what the link opens: for a file, its key, content
version and true size; for a folder, the id and key of the link's *snapshot* root (a
fresh random id and key, never the live folder's) and key version 1. A folder link is a
snapshot (P-LINKSNAP): the owner's client re-seals a copy of every manifest of the
subtree, holding only the entries that exist then, under fresh folder keys reachable
only from the descriptor; nothing written later, and no live folder key, is reachable.
Uses only primitives WebCrypto has (HKDF, PBKDF2, AES-GCM), so the static link page can
do the same.
"""

from __future__ import annotations

import base64
import binascii
import unicodedata
from dataclasses import dataclass

from blindvault.core import primitives
from blindvault.core.constants import (
    GCM_NONCE_SIZE,
    ID_SIZE,
    KEY_SIZE,
    LABEL_LINK_KEY,
    LABEL_LINK_PASSWORD,
    LABEL_LINK_TOKEN,
    LINK_FRAGMENT_PREFIX,
    LINK_PASSWORD_MARK,
    LINK_SECRET_SIZE,
    MAGIC_LINK,
    MAX_NAME_BYTES,
    NODE_FILE,
    NODE_FOLDER,
    PAD_DESCRIPTOR_MIN,
    PBKDF2_DEFAULT_ITERATIONS,
)
from blindvault.core.encoding import Reader, Writer, check_header, header
from blindvault.core.keys import FileKey, FolderKey, LinkKey
from blindvault.core.manifest import check_name
from blindvault.core.padme import pad_block, unpad_block
from blindvault.errors import FormatError, IntegrityError, UsageError

__all__ = [
    "LinkDescriptor",
    "ParsedLink",
    "b64url_decode",
    "b64url_encode",
    "format_link",
    "link_key",
    "link_token",
    "new_link",
    "open_link_descriptor",
    "parse_link",
    "seal_link_descriptor",
]


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, size: int) -> bytes:
    """Strict unpadded base64url of exactly `size` bytes (one encoding per value)."""
    if not isinstance(text, str) or not text.isascii() or "=" in text:
        raise FormatError("not base64url")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise FormatError("not base64url") from None
    if len(raw) != size or b64url_encode(raw) != text:
        raise FormatError("wrong length or non-canonical base64url")
    return raw


@dataclass(frozen=True, slots=True)
class ParsedLink:
    base: str
    link_id: bytes
    secret: bytes
    needs_password: bool

    def __repr__(self) -> str:
        return f"ParsedLink({self.base!r}, {b64url_encode(self.link_id)!r}, <redacted>)"


def new_link() -> tuple[bytes, bytes]:
    """A fresh (link_id, secret) pair."""
    return primitives.random_bytes(ID_SIZE), primitives.random_bytes(LINK_SECRET_SIZE)


def format_link(base: str, link_id: bytes, secret: bytes, *, password: bool) -> str:
    if len(link_id) != ID_SIZE or len(secret) != LINK_SECRET_SIZE:
        raise UsageError("wrong link id or secret size")
    fragment = LINK_FRAGMENT_PREFIX + b64url_encode(secret)
    if password:
        fragment += LINK_PASSWORD_MARK
    return f"{base.rstrip('/')}/s/{b64url_encode(link_id)}#{fragment}"


def parse_link(url: str) -> ParsedLink:
    """Split a link into base, id and fragment secret; `FormatError` on anything else."""
    if not isinstance(url, str):
        raise FormatError("not a link")
    url = url.strip()
    rest, sep, fragment = url.partition("#")
    base, marker, link_id = rest.rpartition("/s/")
    if not sep or not marker or not base or "?" in link_id or "/" in link_id:
        raise FormatError("not a blindvault link")
    if not fragment.startswith(LINK_FRAGMENT_PREFIX):
        raise FormatError("unknown link version")
    body = fragment[len(LINK_FRAGMENT_PREFIX) :]
    needs_password = body.endswith(LINK_PASSWORD_MARK)
    if needs_password:
        body = body[: -len(LINK_PASSWORD_MARK)]
    return ParsedLink(
        base,
        b64url_decode(link_id, ID_SIZE),
        b64url_decode(body, LINK_SECRET_SIZE),
        needs_password,
    )


def link_token(secret: bytes, link_id: bytes) -> bytes:
    """What the link holder shows the server; independent of the key and the password."""
    return primitives.hkdf_sha256(secret, salt=link_id, info=LABEL_LINK_TOKEN, length=KEY_SIZE)


def link_key(
    secret: bytes,
    link_id: bytes,
    password: str | None,
    *,
    iterations: int = PBKDF2_DEFAULT_ITERATIONS,
) -> LinkKey:
    """The key that opens the link's descriptor; needs the password when one was set."""
    if len(secret) != LINK_SECRET_SIZE or len(link_id) != ID_SIZE:
        raise UsageError("wrong link id or secret size")
    ikm = secret
    if password is not None:
        pw = unicodedata.normalize("NFKC", password).encode("utf-8")
        salt = LABEL_LINK_PASSWORD + b"\x00" + link_id
        ikm += primitives.pbkdf2_sha256(pw, salt, iterations=iterations, length=KEY_SIZE)
    return LinkKey(primitives.hkdf_sha256(ikm, salt=link_id, info=LABEL_LINK_KEY, length=KEY_SIZE))


@dataclass(frozen=True, slots=True)
class LinkDescriptor:
    """What a link opens. For folders `size` is 0 and `version` is the key version."""

    node_id: bytes
    key: FileKey | FolderKey
    version: int
    size: int
    mtime_ms: int
    name: str


def _aad(link_id: bytes, nonce: bytes) -> bytes:
    return Writer(header(MAGIC_LINK)).fixed(link_id, ID_SIZE).fixed(nonce, GCM_NONCE_SIZE).bytes()


def _seal_descriptor_from_parts(
    desc: LinkDescriptor, key: LinkKey, link_id: bytes, nonce: bytes
) -> bytes:
    kind = NODE_FOLDER if isinstance(desc.key, FolderKey) else NODE_FILE
    w = Writer().u8(kind).fixed(desc.node_id, ID_SIZE).fixed(desc.key.material, KEY_SIZE)
    plain = w.u64(desc.version).u64(desc.size).u64(desc.mtime_ms).text16(check_name(desc.name))
    aad = _aad(link_id, nonce)
    padded = pad_block(plain.bytes(), PAD_DESCRIPTOR_MIN)
    return aad + primitives.aes256gcm_seal(key.material, nonce, padded, aad)


def seal_link_descriptor(desc: LinkDescriptor, key: LinkKey, link_id: bytes) -> bytes:
    nonce = primitives.random_bytes(GCM_NONCE_SIZE)
    return _seal_descriptor_from_parts(desc, key, link_id, nonce)


def open_link_descriptor(data: bytes, key: LinkKey, link_id: bytes) -> LinkDescriptor:
    r = Reader(data)
    check_header(r, MAGIC_LINK)
    got_id, nonce = r.take(ID_SIZE), r.take(GCM_NONCE_SIZE)
    sealed = r.rest()
    if got_id != link_id:
        raise IntegrityError
    plain = primitives.aes256gcm_open(key.material, nonce, sealed, _aad(link_id, nonce))
    try:
        p = Reader(unpad_block(plain, PAD_DESCRIPTOR_MIN))
        kind, node_id, raw = p.u8(), p.take(ID_SIZE), p.take(KEY_SIZE)
        version, size, mtime = p.u64(), p.u64(), p.u64()
        name = check_name(p.text16(max_size=MAX_NAME_BYTES))
        p.finish()
    except (FormatError, UsageError):
        raise IntegrityError from None
    if kind not in (NODE_FILE, NODE_FOLDER):
        raise IntegrityError
    node_key: FileKey | FolderKey = FolderKey(raw) if kind == NODE_FOLDER else FileKey(raw)
    return LinkDescriptor(node_id, node_key, version, size, mtime, name)
