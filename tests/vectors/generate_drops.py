"""Vectors of upload-only links (file drops, spec §10a): the descriptor (`BVDL`), the
owner's note (`BVDN`) and drops (`BVDP`). Imported by generate.py; every input from `det`.

pyca/cryptography's HPKE draws the ephemeral key itself, so a drop's HPKE header is
sealed here from RFC 9180 (§4 LabeledExtract/LabeledExpand, §4.1 DHKEM(X25519) Encap,
§5.1 KeySchedule in mode_base, §5.2 single-shot Seal) with an ephemeral secret from `det`,
which makes the drop byte-for-byte reproducible; the core (pyca's HPKE) opens each valid
one in tests/unit/test_own_vectors.py, and the page (dropcore.js) seals the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from vectorlib import Case, det, flip, hexd

from blindvault.core import content, primitives
from blindvault.core.constants import MAGIC_DROP_LINK, PAD_DROP_HEADER_MIN
from blindvault.core.drops import (
    DropTarget,
    OwnerDropKeys,
    _fields,
    _info,
    _preamble,
    _seal,
    _tag,
    bind_key,
    seal_drop_link,
    seal_owner_note,
)
from blindvault.core.encoding import Writer
from blindvault.core.keys import FileKey, VaultKey
from blindvault.core.links import format_link
from blindvault.core.padme import pad_block

__all__ = ["drop_cases", "hpke_seal_fixed"]

BASE_URL = "https://vault.example"
_KEM = b"KEM\x00\x20"
_HPKE = b"HPKE\x00\x20\x00\x01\x00\x02"


def _extract(suite: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    h = hmac.HMAC(salt or bytes(32), hashes.SHA256())
    h.update(b"HPKE-v1" + suite + label + ikm)
    return h.finalize()


def _expand(suite: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    full = length.to_bytes(2, "big") + b"HPKE-v1" + suite + label + info
    return HKDFExpand(hashes.SHA256(), length, full).derive(prk)


def hpke_seal_fixed(recipient: bytes, info: bytes, plain: bytes, ephemeral: bytes) -> bytes:
    """RFC 9180 base-mode single-shot Seal with a given ephemeral X25519 secret."""
    eph = X25519PrivateKey.from_private_bytes(ephemeral)
    enc = eph.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    dh = eph.exchange(X25519PublicKey.from_public_bytes(recipient))
    prk = _extract(_KEM, b"", b"eae_prk", dh)
    shared = _expand(_KEM, prk, b"shared_secret", enc + recipient, 32)
    context = (
        b"\x00"
        + _extract(_HPKE, b"", b"psk_id_hash", b"")
        + _extract(_HPKE, b"", b"info_hash", info)
    )
    secret = _extract(_HPKE, shared, b"secret", b"")
    key = _expand(_HPKE, secret, b"key", context, 32)
    nonce = _expand(_HPKE, secret, b"base_nonce", context, 12)
    return enc + AESGCM(key).encrypt(nonce, plain, b"")


def _plain(tag: str, size: int) -> bytes:
    return (det(f"drop-plain-{tag}") * (size // 32 + 1))[:size]


def drop_cases() -> Iterator[Case]:
    vault = VaultKey(det("drop-vault-key"))
    link_id, other_id = det("drop-link-id", 16), det("drop-other-link-id", 16)
    keys, other = OwnerDropKeys(vault, link_id), OwnerDropKeys(vault, other_id)
    url = format_link(BASE_URL, link_id, keys.secret, password=False)
    target = DropTarget(keys.recipient_public, 50_000_000, "Inbox")
    desc = seal_drop_link(target, keys.link_key, link_id, _nonce=det("drop-link-nonce", 12))
    base = {"vault_key": hexd(vault.material), "link_id": hexd(link_id), "url": url}
    yield Case(
        "drop-link", "valid", "vault key -> link secret, token, link key; the descriptor",
        "valid", base, desc,
        {
            "secret": hexd(keys.secret), "token": hexd(keys.token),
            "link_key": hexd(keys.link_key.material), "recipient": hexd(keys.recipient_public),
            "max_size": target.max_size, "name": target.name,
        },
    )  # fmt: skip

    def raw_desc(plain: bytes, tag: str) -> bytes:  # padded by _seal
        nonce = det(f"drop-link-nonce-{tag}", 12)
        return _seal(MAGIC_DROP_LINK, keys.link_key.material, link_id, plain, nonce)

    def fields(name_bytes: bytes) -> bytes:
        w = Writer().fixed(keys.recipient_public, 32).u64(target.max_size)
        return w.u16(len(name_bytes)).fixed(name_bytes, len(name_bytes)).bytes()

    unpadded = Writer().fixed(desc[:33], 33).bytes()  # the AAD
    unpadded += primitives.aes256gcm_seal(
        keys.link_key.material, desc[21:33], fields(b"Inbox") + b"\x80", desc[:33]
    )
    for name, expect, what, inputs, data in (
        ("other-link-id", "IntegrityError", "the descriptor of another link (same secret)",
         {**base, "url": format_link(BASE_URL, other_id, keys.secret, password=False)}, desc),
        ("wrong-secret", "IntegrityError", "opened with another secret",
         {**base, "url": format_link(BASE_URL, link_id, det("drop-bad-secret"), password=False)},
         desc),
        ("flipped-ciphertext", "IntegrityError", "a ciphertext byte changed", base,
         flip(desc, 40)),
        ("flipped-nonce", "IntegrityError", "a nonce byte changed", base, flip(desc, 25)),
        ("truncated-tag", "IntegrityError", "the last byte cut", base, desc[:-1]),
        ("truncated-header", "FormatError", "cut inside the link id", base, desc[:20]),
        ("truncated-after-nonce", "IntegrityError", "cut 7 bytes after the nonce", base,
         desc[:40]),
        ("bad-magic", "FormatError", "another magic", base, b"BVDX" + desc[4:]),
        ("version-2", "FormatError", "an unknown version byte", base,
         desc[:4] + b"\x02" + desc[5:]),
        ("name-not-nfc", "IntegrityError", "a folder name not in Unicode NFC", base,
         raw_desc(fields("Cafe\u0301".encode()), "nfc")),
        ("name-with-slash", "IntegrityError", "a folder name with a slash", base,
         raw_desc(fields(b"a/b"), "slash")),
        ("bad-padding", "IntegrityError", "padded short of the 512-byte floor", base, unpadded),
    ):  # fmt: skip
        yield Case("drop-link", name, f"upload-only link descriptor, {what}", expect, inputs, data)

    note_in = {"vault_key": hexd(vault.material), "link_id": hexd(link_id)}
    path = "Documents/Inbox ✓"
    note = seal_owner_note(path, keys, _nonce=det("drop-note-nonce", 12))
    yield Case("drop-note", "valid", "the owner's note: the folder the link's drops go to",
               "valid", note_in, note, {"path": path, "note_key": hexd(keys.note_key)})  # fmt: skip
    other_note = seal_owner_note(path, other, _nonce=det("drop-note-nonce-other", 12))
    for name, expect, what, inputs, data in (
        ("other-link", "IntegrityError", "another link's note", note_in, other_note),
        ("other-vault", "IntegrityError", "opened with another account's vault key",
         {**note_in, "vault_key": hexd(det("drop-other-vault"))}, note),
        ("flipped", "IntegrityError", "a ciphertext byte changed", note_in, flip(note, 40)),
        ("truncated-header", "FormatError", "cut inside the link id", note_in, note[:20]),
        ("bad-magic", "FormatError", "another magic", note_in, b"BVDX" + note[4:]),
        ("version-2", "FormatError", "an unknown version byte", note_in,
         note[:4] + b"\x02" + note[5:]),
    ):  # fmt: skip
        yield Case("drop-note", name, f"owner's note, {what}", expect, inputs, data)

    yield from _drops(keys, other, target, base, desc)


def _drops(
    keys: OwnerDropKeys, other: OwnerDropKeys, target: DropTarget, base: dict[str, Any],
    desc: bytes,
) -> Iterator[Case]:  # fmt: skip
    link_id = keys.link_id

    def seal(tag: str, name: str, size: int, *, link: bytes = link_id, secret: bytes = keys.secret,
             recipient: bytes = target.recipient, pad: bool = True, node: bytes | None = None,
             ) -> tuple[bytes, dict[str, Any], dict[str, Any]]:  # fmt: skip
        drop_id, file_key = det(f"drop-id-{tag}", 16), det(f"drop-file-key-{tag}")
        eph, salt = det(f"drop-ephemeral-{tag}"), det(f"drop-salt-{tag}", 24)
        mtime, plain = 1_700_000_000_000 + size, _plain(tag, size)
        preamble = _preamble(link, drop_id)
        flds = _fields(file_key, size, mtime, name)
        tag_ = _tag(bind_key(secret, link), preamble, flds)
        header = pad_block(flds + tag_, PAD_DROP_HEADER_MIN) if pad else flds + tag_
        sealed = hpke_seal_fixed(recipient, _info(preamble), header, eph)
        blob = content.seal_content(FileKey(file_key), node or drop_id, 1, plain, salt=salt)
        data = preamble + Writer().var16(sealed).bytes() + blob
        inputs = {
            **base,
            "descriptor": hexd(desc),
            "name": name,
            "mtime_ms": mtime,
            "plaintext": hexd(plain),
            "fixed": {"drop_id": hexd(drop_id), "file_key": hexd(file_key),
                      "ephemeral": hexd(eph), "content_salt": hexd(salt)},
        }  # fmt: skip
        out = {
            "link_id": hexd(link), "drop_id": hexd(drop_id), "file_key": hexd(file_key),
            "size": size, "mtime_ms": mtime, "name": name, "tag": hexd(tag_),
            "enc": hexd(sealed[:32]), "content_offset": len(preamble) + 2 + len(sealed),
            "plaintext_sha256": hexd(primitives.sha256(plain)),
        }  # fmt: skip
        return data, inputs, out

    for name, what, fname, size in (
        ("empty-file", "an empty file", "empty.txt", 0),
        ("small", "a 13-byte file with a non-ASCII name", "résumé ✓.pdf", 13),
        ("two-chunks", "a 17,000-byte file: two content chunks", "photo.jpg", 17_000),
    ):
        data, inputs, out = seal(name, fname, size)
        yield Case("drop", name, f"a drop: {what}", "valid", inputs, data, out)

    good, _, _ = seal("small", "résumé ✓.pdf", 13)
    inputs = {"vault_key": base["vault_key"], "link_id": base["link_id"]}
    h_len = int.from_bytes(good[37:39], "big")
    at = 39 + h_len  # the content blob
    for name, what, data, binputs in (
        ("not-through-the-link", "tag made without the link's secret (as a server would)",
         seal("forged", "x.txt", 5, secret=det("drop-not-the-secret"))[0], inputs),
        ("sealed-to-another-key", "header sealed to another recipient key",
         seal("other-key", "x.txt", 5, recipient=other.recipient_public)[0], inputs),
        ("other-links-drop", "a drop of another link of the same owner under this link's id",
         good[:5] + other.link_id + good[21:], inputs),
        ("drop-id-changed", "the preamble's drop id rewritten",
         good[:21] + det("drop-id-x", 16) + good[37:], inputs),
        ("header-unpadded", "a header not padded to its 512-byte floor",
         seal("unpadded", "x.txt", 5, pad=False)[0], inputs),
        ("content-of-another-node", "content sealed for another node id than the drop id",
         seal("node", "x.txt", 5, node=det("drop-other-node", 16))[0], inputs),
        ("flipped-header", "a byte of the sealed header changed", flip(good, 60), inputs),
        ("flipped-content", "a content byte changed", flip(good, at + 70), inputs),
        ("header-length-too-long", "a header length past the 4096-byte limit",
         good[:37] + (4097).to_bytes(2, "big") + good[39:], inputs),
        ("truncated-content", "the last byte cut", good[:-1], inputs),
        ("truncated-head", "cut inside the header", good[:80], inputs),
        ("trailing", "bytes after the content", good + b"\x00", inputs),
        ("bad-magic", "another magic", b"BVDX" + good[4:], inputs),
        ("version-2", "an unknown version byte", good[:4] + b"\x02" + good[5:], inputs),
    ):  # fmt: skip
        yield Case("drop", name, f"a drop, {what}: quarantined", "IntegrityError", binputs, data)
