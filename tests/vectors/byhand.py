"""Readers of the issue-19 formats written from docs/spec/format-v1.md alone (§6, §7,
§10, §10a, §15, §15a-§15c) with raw pyca/cryptography and hashlib calls: no
`blindvault` import. tests/vectors/test_independent.py runs every vector file of these
formats through them; a verdict that differs from the vector's (or an output that
differs) is a disagreement between the core and the spec.

Each reader returns the vector's `output` for a valid case and raises `IntegrityError`,
`FormatError` or `RollbackError` (named like the core's errors) otherwise."""

from __future__ import annotations

import base64
import hashlib
import hmac as std_hmac
import itertools
import unicodedata
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


class IntegrityError(Exception):
    pass


class FormatError(Exception):
    pass


class RollbackError(Exception):
    pass


ERRORS: dict[str, type[Exception]] = {
    "IntegrityError": IntegrityError,
    "FormatError": FormatError,
    "RollbackError": RollbackError,
}
ZERO = bytes(32)


def h(s: str) -> bytes:
    return bytes.fromhex(s)


def lbl(name: str) -> bytes:
    return b"blindvault/v1/" + name.encode()


def hkdf(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    return HKDF(hashes.SHA256(), length, salt or None, info).derive(ikm)


def sha256(*parts: bytes) -> bytes:
    return hashlib.sha256(b"".join(parts)).digest()


def padme(n: int) -> int:
    if n < 2:
        return n
    e = n.bit_length() - 1
    s = e.bit_length()
    mask = (1 << (e - s)) - 1
    return (n + mask) & ~mask


def unpad(data: bytes, floor: int) -> bytes:
    """§5/§7 pad(x, floor) reversed: x || 0x80 || zeros to padme(max(len(x)+1, floor))."""
    end = len(data.rstrip(b"\x00")) - 1
    if end < 0 or data[end] != 0x80 or len(data) != padme(max(end + 1, floor)):
        raise IntegrityError("padding")
    return data[:end]


def aead_open(key: bytes, nonce: bytes, ct: bytes, aad: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(nonce, ct, aad)
    except (InvalidTag, ValueError):
        raise IntegrityError("aead") from None


def verify(public: bytes, message: bytes, signature: bytes) -> None:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except InvalidSignature:
        raise IntegrityError("signature") from None


class R:
    """A strict reader: a short input is a `FormatError` error."""

    def __init__(self, data: bytes) -> None:
        self.d, self.at = data, 0

    def take(self, n: int) -> bytes:
        if self.at + n > len(self.d):
            raise FormatError("short")
        out = self.d[self.at : self.at + n]
        self.at += n
        return out

    def u(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def text16(self) -> str:
        try:
            s = self.take(self.u(2)).decode("utf-8")
        except UnicodeDecodeError:
            raise FormatError("utf-8") from None
        if unicodedata.normalize("NFC", s) != s:
            raise FormatError("not NFC")
        return s

    def head(self, magic: bytes, version: int) -> None:
        if self.take(4) != magic or self.u(1) != version:
            raise FormatError("magic or version")

    def end(self) -> None:
        if self.at != len(self.d):
            raise FormatError("trailing")


def name_ok(name: str) -> str:
    """§7 names: NFC UTF-8, 1-255 bytes, not . or .., no / or NUL."""
    raw = name.encode()
    if not 1 <= len(raw) <= 255 or name in (".", "..") or "/" in name or "\0" in name:
        raise IntegrityError("name")
    if unicodedata.normalize("NFC", name) != name:
        raise IntegrityError("name")
    return name


# --- §6 identity bundles ------------------------------------------------------------------


def bundle(data: bytes) -> tuple[bytes, bytes, str]:
    """(fingerprint, Ed25519 public, email) of a self-signed bundle."""
    r = R(data)
    r.head(b"BVID", 1)
    suite = r.u(1)
    email = r.text16()
    r.take(8)
    sign_pub = r.take(32)
    r.take({1: 32, 2: 1184 + 32}[suite])
    body = data[: r.at]
    verify(sign_pub, lbl("identity-sig") + b"\x00" + body, r.take(64))
    r.end()
    return sha256(lbl("fingerprint"), b"\x00", body), sign_pub, email


def derived_fingerprint(secret: bytes, email: str, created_ms: int) -> bytes:
    """The fingerprint of the suite-1 identity of a 64-byte secret (seed || X25519)."""
    sign = Ed25519PrivateKey.from_private_bytes(secret[:32]).public_key()
    hpke_pub = X25519PrivateKey.from_private_bytes(secret[32:]).public_key()
    raw = Encoding.Raw, PublicFormat.Raw
    e = email.encode()
    body = b"BVID\x01\x01" + len(e).to_bytes(2, "big") + e + created_ms.to_bytes(8, "big")
    body += sign.public_bytes(*raw) + hpke_pub.public_bytes(*raw)
    return sha256(lbl("fingerprint"), b"\x00", body)


def fresh(seen: dict[str, Any] | None, version: int, digest: bytes, prev: bytes) -> None:
    if seen is None:
        return
    if version < seen["version"]:
        raise RollbackError("older")
    if version == seen["version"] and digest != h(seen["hash"]):
        raise RollbackError("fork")
    if version == seen["version"] + 1 and prev != h(seen["hash"]):
        raise RollbackError("fork")


def open_name_box(key: bytes, info: str, box: bytes, aad: bytes) -> str:
    if len(box) != 12 + padme(258) + 16:
        raise IntegrityError("name box size")
    plain = aead_open(hkdf(key, b"", lbl(info)), box[:12], box[12:], aad)
    try:
        return name_ok(unpad(plain, 258).decode())
    except UnicodeDecodeError:
        raise IntegrityError("name") from None


def check_members(fps: list[bytes], owner_fp: bytes) -> None:
    if owner_fp in fps or any(a >= b for a, b in itertools.pairwise(fps)):
        raise IntegrityError("members")


# --- §15b group rosters --------------------------------------------------------------------


def group_roster(v: dict[str, Any], data: bytes) -> dict[str, Any]:
    inp = v["inputs"]
    gid = h(inp["group_id"])
    r = R(data)
    r.head(b"BVGR", 1)
    owner, got_gid, version, kv = r.take(16), r.take(16), r.u(8), r.u(8)
    prev, owner_fp, group_fp = r.take(32), r.take(32), r.take(32)
    members = [(r.take(32), r.text16()) for _ in range(r.u(2))]
    box = r.take(r.u(2))
    body = data[: r.at]
    sig = r.take(64)
    r.end()
    pinned_fp, pinned_pub, _ = bundle(h(inp["signer"]))
    if owner != h(inp["owner"]) or got_gid != gid or owner_fp != pinned_fp:
        raise IntegrityError("binding")
    verify(pinned_pub, lbl("group-roster-sig") + b"\x00" + body, sig)
    check_members([fp for fp, _ in members], owner_fp)
    if version < 1 or kv < 1 or (version == 1) != (prev == ZERO):
        raise IntegrityError("versions")
    digest = sha256(lbl("group-roster-hash"), b"\x00", data)
    fresh(inp.get("seen"), version, digest, prev)
    key = h(inp["group_key"])
    name = open_name_box(key, "group-name", box, b"BVGR\x01" + gid + kv.to_bytes(8, "big"))
    email = f"g-{gid.hex()}@groups.blindvault.invalid"
    if derived_fingerprint(hkdf(key, b"", lbl("group-identity"), 64), email, 0) != group_fp:
        raise IntegrityError("group fingerprint")
    info = lbl("group-key") + b"\x00" + gid + kv.to_bytes(8, "big")
    return {
        "version": version,
        "key_version": kv,
        "prev_hash": prev.hex(),
        "hash": digest.hex(),
        "owner_fingerprint": owner_fp.hex(),
        "group_fingerprint": group_fp.hex(),
        "group_email": email,
        "group_key": hkdf(h(inp["root_folder_key"]), b"", info).hex(),
        "members": [{"fingerprint": fp.hex(), "email": e} for fp, e in members],
        "name": name,
    }


# --- §15 rosters and §15c re-shares ----------------------------------------------------------


def roster(data: bytes, owner: bytes, node: bytes, signer: bytes) -> dict[str, Any]:
    r = R(data)
    r.head(b"BVRS", 2)
    got_owner, got_node, version, kv = r.take(16), r.take(16), r.u(8), r.u(8)
    prev, owner_fp = r.take(32), r.take(32)
    members = [(r.take(32), r.u(1), r.text16()) for _ in range(r.u(2))]
    box = r.take(r.u(2))
    body = data[: r.at]
    sig = r.take(64)
    r.end()
    pinned_fp, pinned_pub, _ = bundle(signer)
    if got_owner != owner or got_node != node or owner_fp != pinned_fp:
        raise IntegrityError("binding")
    verify(pinned_pub, lbl("roster-sig") + b"\x00" + body, sig)
    check_members([fp for fp, _, _ in members], owner_fp)
    if any(role & 0x7F not in (1, 2) for _, role, _ in members):
        raise IntegrityError("role")
    if version < 1 or kv < 1 or (version == 1) != (prev == ZERO):
        raise IntegrityError("versions")
    return {
        "version": version,
        "key_version": kv,
        "owner_fp": owner_fp,
        "box": box,
        "hash": sha256(lbl("roster-hash"), b"\x00", data),
        "members": [
            {"fingerprint": fp, "role": role & 0x7F, "email": e, "reshare": bool(role & 0x80)}
            for fp, role, e in members
        ],
    }


def reshare(v: dict[str, Any], data: bytes) -> dict[str, Any]:
    inp = v["inputs"]
    owner, node = h(inp["owner"]), h(inp["node_id"])
    ros = roster(h(inp["roster"]), owner, node, h(inp["signer"]))
    r = R(data)
    r.head(b"BVRL", 1)
    n = r.u(2)
    if n > 1000:
        raise FormatError("too many")
    raw = [r.take(r.u(2)) for _ in range(n)]
    r.end()
    parsed = []
    for a in raw:
        ar = R(a)
        ar.head(b"BVRA", 1)
        fields = [ar.take(16), ar.take(16), ar.take(32), ar.take(32), ar.take(32), ar.u(1)]
        email = ar.text16()
        body = a[: ar.at]
        sig = ar.take(64)
        ar.end()
        if fields[5] not in (1, 2):
            raise FormatError("role")
        parsed.append((*fields, email, body, sig))
    members = {m["fingerprint"]: m for m in ros["members"]}
    added: list[dict[str, Any]] = []
    by: list[dict[str, str]] = []
    for a_owner, a_node, rhash, signer_fp, fp, role, email, body, sig in parsed:
        if rhash != ros["hash"]:
            continue  # obsolete
        if a_owner != owner or a_node != node:
            raise IntegrityError("another folder")
        granter = members.get(signer_fp)
        if granter is None or not granter["reshare"] or role > granter["role"]:
            raise IntegrityError("right or role")
        taken = [*ros["members"], *added]
        if fp == ros["owner_fp"] or account(email) == owner or any(m["fingerprint"] == fp or m["email"] == email
                                        for m in taken):  # fmt: skip
            raise IntegrityError("not new")
        gfp, gpub, _ = bundle(h(inp["bundles"][granter["email"]]))
        if gfp != signer_fp:
            raise IntegrityError("the granter's key")
        verify(gpub, lbl("reshare-sig") + b"\x00" + body, sig)
        added.append({"fingerprint": fp, "role": role, "email": email, "reshare": False})
        by.append({"member": fp.hex(), "by": signer_fp.hex()})
    every = sorted([*ros["members"], *added], key=lambda m: m["fingerprint"])
    return {
        "roster_hash": ros["hash"].hex(),
        "members": [{**m, "fingerprint": m["fingerprint"].hex()} for m in every],
        "added_by": by,
    }


def account(email: str) -> bytes:
    """§3: the account id of an address (an IntegrityError if it is none)."""
    norm = unicodedata.normalize("NFKC", email).strip().lower()
    local, sep, domain = norm.partition("@")
    bad = any(c.isspace() or ord(c) < 0x20 for c in norm) or len(norm.encode()) > 320
    if not (sep and local and domain) or "@" in domain or bad:
        raise IntegrityError("no address")
    return sha256(lbl("account-id"), b"\x00", norm.encode())[:16]


# --- §15a single-file share holders (§7 manifests) -------------------------------------------


def holder(v: dict[str, Any], data: bytes) -> dict[str, Any]:
    inp = v["inputs"]
    node = h(inp["node_id"])
    ros = roster(h(inp["roster"]), h(inp["owner"]), node, h(inp["signer"]))
    kv = ros["key_version"]
    key = hkdf(h(inp["root_folder_key"]), b"", lbl("file-share-key") + b"\x00" + node
               + kv.to_bytes(8, "big"))  # fmt: skip
    writers = {ros["owner_fp"]} | {m["fingerprint"] for m in ros["members"] if m["role"] == 2}
    pinned = {fp: pub for fp, pub, _ in (bundle(h(b)) for b in inp["bundles"])}
    r = R(data)
    r.head(b"BVMF", 1)
    got_node, version, _, prev, writer, nonce = (
        r.take(16), r.u(8), r.u(8), r.take(32), r.take(32), r.take(12)
    )  # fmt: skip
    head = data[:113]
    ct = r.take(r.u(4))
    signed = data[: r.at]
    sig = r.take(64)
    r.end()
    if got_node != node or writer not in writers or writer not in pinned:
        raise IntegrityError("node or writer")
    verify(pinned[writer], lbl("manifest-sig") + b"\x00" + signed, sig)
    plain = unpad(aead_open(hkdf(key, b"", lbl("manifest-key")), nonce, ct, head), 1024)
    if (version == 1) != (prev == ZERO):
        raise IntegrityError("versions")
    digest = sha256(lbl("manifest-hash"), b"\x00", data)
    fresh(inp.get("seen"), version, digest, prev)
    b = R(plain)
    b.head(b"BVMB", 4)
    if b.u(4) != 1 or b.u(1) != 1:
        raise IntegrityError("a holder holds exactly one file")
    name, fnode, fkey = b.text16(), b.take(16), b.take(32)
    cv, size = b.u(8), b.u(8)
    b.take(8 + 8 + 32)
    history = [int.from_bytes(b.take(96)[:8], "big") for _ in range(b.u(1))]
    if fnode != node:
        raise IntegrityError("a holder holds its own file")
    return {
        "holder_key": key.hex(),
        "key_version": kv,
        "version": version,
        "hash": digest.hex(),
        "writer": writer.hex(),
        "name": open_name_box(key, "roster-name", ros["box"],
                              b"BVRS\x02" + node + kv.to_bytes(8, "big")),
        "file": {"name": name, "node_id": fnode.hex(), "key": fkey.hex(), "content_version": cv,
                 "size": size, "history": history},
    }  # fmt: skip


# --- §10, §10a upload-only links -----------------------------------------------------------


def b64u(text: str, size: int) -> bytes:
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if len(raw) != size or base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != text:
        raise FormatError("b64u")
    return raw


def parse_url(url: str) -> tuple[bytes, bytes]:
    path, fragment = url.split("#", 1)
    if not fragment.startswith("v1."):
        raise FormatError("fragment")
    return b64u(path.rsplit("/s/", 1)[1], 16), b64u(fragment[3:], 32)


class DropKeys:
    def __init__(self, vault: bytes, link_id: bytes) -> None:
        root = hkdf(vault, b"", lbl("drop/root"))
        self.link_id = link_id
        self.secret = hkdf(root, link_id, lbl("drop/link-secret"))
        self.recipient = hkdf(root, link_id, lbl("drop/recipient-key"))
        self.note = hkdf(root, link_id, lbl("drop/owner-note"))
        self.bind = hkdf(self.secret, link_id, lbl("drop/bind-key"))
        self.token = hkdf(self.secret, link_id, lbl("link-token"))
        self.link_key = hkdf(self.secret, link_id, lbl("link-key"))


def _sealed(magic: bytes, key: bytes, link_id: bytes, data: bytes) -> R:
    r = R(data)
    r.head(magic, 1)
    r.take(16)
    nonce = r.take(12)
    plain = aead_open(key, nonce, data[r.at :], magic + b"\x01" + link_id + nonce)
    return R(unpad(plain, 512))


def drop_link(v: dict[str, Any], data: bytes) -> dict[str, Any]:
    inp = v["inputs"]
    link_id, secret = parse_url(inp["url"])
    r = _sealed(b"BVDL", hkdf(secret, link_id, lbl("link-key")), link_id, data)
    try:
        recipient, max_size, name = r.take(32), r.u(8), r.text16()
        r.end()
    except FormatError:
        raise IntegrityError("descriptor") from None
    keys = DropKeys(h(inp["vault_key"]), h(inp["link_id"]))
    if keys.secret != secret:
        raise AssertionError("the URL's secret is not the one the owner derives")
    return {
        "secret": keys.secret.hex(),
        "token": keys.token.hex(),
        "link_key": keys.link_key.hex(),
        "recipient": recipient.hex(),
        "max_size": max_size,
        "name": name_ok(name),
    }


def drop_note(v: dict[str, Any], data: bytes) -> dict[str, Any]:
    keys = DropKeys(h(v["inputs"]["vault_key"]), h(v["inputs"]["link_id"]))
    r = _sealed(b"BVDN", keys.note, keys.link_id, data)
    try:
        path = r.text16()
        r.end()
    except FormatError:
        raise IntegrityError("note") from None
    return {"path": path, "note_key": keys.note.hex()}


SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)


def open_content(key: bytes, node: bytes, size: int, blob: bytes) -> bytes:
    """§5 with content version 1; every failure an `IntegrityError`."""
    info = b"c2sp.org/chunked-encryption@v1+AEAD_AES_256_GCM\x00"
    ctx = b"blindvault/v1/content\x00\x01" + node + (1).to_bytes(8, "big")
    if blob[:5] != b"BVCT\x01" or len(blob) < 61:
        raise IntegrityError("content header")
    from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

    out = HKDFExpand(hashes.SHA512(), 76, info + blob[5:29] + ctx).derive(key)
    if not std_hmac.compare_digest(out[44:], blob[29:61]):
        raise IntegrityError("commitment")
    body, plain, i = blob[61:], b"", 0
    while True:
        sealed, body = body[: 16384 + 16], body[16384 + 16 :]
        nonce = (int.from_bytes(out[32:44], "big") ^ i).to_bytes(12, "big")
        plain += aead_open(out[:32], nonce, sealed, b"")
        i += 1
        if len(sealed) < 16384 + 16:
            break
    want = 4096 if size <= 4096 else padme(size)
    if body or len(plain) != want or plain[size:] != bytes(want - size):
        raise IntegrityError("content length or padding")
    return plain[:size]


def drop(v: dict[str, Any], data: bytes) -> dict[str, Any]:
    """The owner's side: everything that fails is one `IntegrityError` (§10a)."""
    try:
        return _drop(v, data)
    except FormatError:
        raise IntegrityError("drop") from None


def _drop(v: dict[str, Any], data: bytes) -> dict[str, Any]:
    r = R(data)
    r.head(b"BVDP", 1)
    link_id, drop_id = r.take(16), r.take(16)
    preamble = data[:37]
    n = r.u(2)
    if n > 4096:
        raise IntegrityError("header length")
    sealed = r.take(n)
    keys = DropKeys(h(v["inputs"]["vault_key"]), link_id)
    secret = X25519PrivateKey.from_private_bytes(keys.recipient)
    try:
        header = SUITE.decrypt(sealed, secret, lbl("drop/hpke-info") + b"\x00" + preamble)
    except (InvalidTag, ValueError):
        raise IntegrityError("hpke") from None
    hr = R(unpad(header, 512))
    file_key, size, mtime, name = hr.take(32), hr.u(8), hr.u(8), hr.text16()
    fields = header[: hr.at]
    tag = hr.take(32)
    hr.end()
    expected = std_hmac.new(keys.bind, lbl("drop/tag") + b"\x00" + preamble + fields,
                            hashlib.sha256).digest()  # fmt: skip
    if not std_hmac.compare_digest(tag, expected):
        raise IntegrityError("tag")
    plain = open_content(file_key, drop_id, size, data[r.at :])
    return {
        "link_id": link_id.hex(),
        "drop_id": drop_id.hex(),
        "file_key": file_key.hex(),
        "size": size,
        "mtime_ms": mtime,
        "name": name_ok(name),
        "tag": tag.hex(),
        "enc": sealed[:32].hex(),
        "content_offset": r.at,
        "plaintext_sha256": hashlib.sha256(plain).hexdigest(),
    }


READERS: dict[str, Callable[[dict[str, Any], bytes], dict[str, Any]]] = {
    "group-roster": group_roster,
    "reshare": reshare,
    "file-share": holder,
    "drop-link": drop_link,
    "drop-note": drop_note,
    "drop": drop,
}
