"""Vectors computed independently of the core: straight from docs/spec/format-v1.md with
raw pyca/cryptography and hashlib calls written here, never through `blindvault.core`'s
encoders. The files under tests/vectors/v1/ were produced by the core itself (regression
pins, see the README there); these checks are what tells a bug in the core from a pin.

- §5 content: the pinned valid content vectors are opened by hand (HKDF-Expand-SHA-512,
  commitment, AES-256-GCM per chunk with nonce0 XOR u96(i)), and a blob sealed by hand
  from fixed inputs is opened by the core.
- §13 blob ids: SHA-256 over the label, node id and u64 version.
- §5 Padmé: the formula evaluated with integers, against the core and the pinned table.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import byhand
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from blindvault.core.content import ContentDecryptor, blob_id
from blindvault.core.keys import FileKey
from blindvault.core.padme import padded_length
from blindvault.errors import IntegrityError

V1 = Path(__file__).parent / "v1"
CHUNK = 16384
INFO = b"c2sp.org/chunked-encryption@v1+" + b"AEAD_AES_256_GCM" + b"\x00"


def context(node: bytes, version: int) -> bytes:
    return b"blindvault/v1/content" + b"\x00" + b"\x01" + node + version.to_bytes(8, "big")


def derive(key: bytes, salt: bytes, ctx: bytes) -> tuple[bytes, bytes, bytes]:
    out = HKDFExpand(hashes.SHA512(), 32 + 12 + 32, INFO + salt + ctx).derive(key)
    return out[:32], out[32:44], out[44:]


def nonce(base: bytes, i: int) -> bytes:
    return (int.from_bytes(base, "big") ^ i).to_bytes(12, "big")


def padme(size: int) -> int:
    if size <= 4096:
        return 4096
    e = size.bit_length() - 1  # floor(log2 L)
    s = e.bit_length()  # floor(log2 E) + 1
    mask = (1 << (e - s)) - 1
    return (size + mask) & ~mask


def open_by_hand(blob: bytes, key: bytes, node: bytes, version: int) -> bytes:
    assert blob[:5] == b"BVCT\x01"
    salt, commitment = blob[5:29], blob[29:61]
    k, base, expected = derive(key, salt, context(node, version))
    assert commitment == expected
    body, out, i = blob[61:], b"", 0
    while True:  # full chunks, then the one short final chunk
        sealed = body[: CHUNK + 16]
        out += AESGCM(k).decrypt(nonce(base, i), sealed, b"")
        body, i = body[len(sealed) :], i + 1
        if len(sealed) < CHUNK + 16:
            assert body == b""
            return out


def seal_by_hand(key: bytes, node: bytes, version: int, salt: bytes, plain: bytes) -> bytes:
    k, base, commitment = derive(key, salt, context(node, version))
    padded = plain + bytes(padme(len(plain)) - len(plain))
    chunks = [padded[i : i + CHUNK] for i in range(0, len(padded), CHUNK)]
    if not chunks or len(chunks[-1]) == CHUNK:
        chunks.append(b"")  # the last chunk is always short
    body = b"".join(AESGCM(k).encrypt(nonce(base, i), c, b"") for i, c in enumerate(chunks))
    return b"BVCT\x01" + salt + commitment + body


def _valid_content() -> list[dict[str, Any]]:
    docs = [json.loads(p.read_text()) for p in sorted((V1 / "content").glob("*.json"))]
    return [d for d in docs if d["expect"] == "valid"]


@pytest.mark.parametrize("vec", _valid_content(), ids=lambda v: v["case"])
def test_pinned_content_vectors_open_by_hand(vec: dict[str, Any]) -> None:
    inp, out = vec["inputs"], vec["output"]
    node = bytes.fromhex(inp["node_id"])
    assert context(node, inp["content_version"]).hex() == out["context"]
    plain = open_by_hand(
        bytes.fromhex(vec["data"]), bytes.fromhex(inp["key"]), node, inp["content_version"]
    )
    assert len(plain) == out["padded_size"] == padme(inp["size"])
    assert plain[inp["size"] :] == bytes(len(plain) - inp["size"])
    assert hashlib.sha256(plain[: inp["size"]]).hexdigest() == out["plaintext_sha256"]


# Fixed inputs sealed by hand (not by the core); the blob's hash is pinned so a change in
# this hand-written encoder shows too.
HAND = [
    ("hello", bytes(range(32)), bytes(16), 1, b"\x11" * 24, b"hello, world\n"),
    ("two-chunks", b"\x42" * 32, bytes(range(16)), 7, bytes(range(24)), bytes(20000)),
    ("exact-chunk", b"\x99" * 32, b"\x01" * 16, 2**40, b"\x00" * 24, b"x" * CHUNK),
]


@pytest.mark.parametrize("case", HAND, ids=[c[0] for c in HAND])
def test_hand_sealed_content_opens_in_the_core(case: tuple[Any, ...]) -> None:
    _, key, node, version, salt, plain = case
    blob = seal_by_hand(key, node, version, salt, plain)
    dec = ContentDecryptor(FileKey(key), node, version, len(plain))
    buf = bytearray(dec.output_bound(len(blob)) + CHUNK + 16)
    n = dec.update_into(blob, buf)
    assert bytes(buf[:n]) + dec.finalize() == plain
    assert open_by_hand(blob, key, node, version)[: len(plain)] == plain
    wrong = bytearray(blob)
    wrong[40] ^= 1  # a commitment byte: the core refuses
    d2 = ContentDecryptor(FileKey(key), node, version, len(plain))
    with pytest.raises(IntegrityError):
        d2.update_into(bytes(wrong), bytearray(len(buf)))
        d2.finalize()


def test_hand_sealed_blob_hashes_are_pinned() -> None:
    got = {
        name: hashlib.sha256(seal_by_hand(k, n, v, s, p)).hexdigest()[:16]
        for name, k, n, v, s, p in HAND
    }
    assert got == PINNED_HAND


PINNED_HAND = {
    "hello": "a76b42dea3c2358b",
    "two-chunks": "817317147da39e7e",
    "exact-chunk": "1773b9c7305c43a7",
}


@pytest.mark.parametrize(
    ("node", "version"), [(bytes(16), 1), (bytes(range(16)), 2), (b"\xff" * 16, 2**64 - 1)]
)
def test_blob_id_by_hand(node: bytes, version: int) -> None:
    raw = b"blindvault/v1/blob-id" + b"\x00" + node + version.to_bytes(8, "big")
    assert blob_id(node, version) == hashlib.sha256(raw).digest()[:16]


def test_padme_by_hand() -> None:
    sizes = [*range(0, 70000, 97), 4096, 4097, 1 << 20, (1 << 20) + 1, 10**9, 2**40 + 3]
    for size in sizes:
        assert padded_length(size) == padme(size), size
    table = json.loads((V1 / "padme" / "table.json").read_text())
    assert [padme(s) for s in table["inputs"]["sizes"]] == table["output"]["padded"]


# --- issue 19: groups, re-shares, single-file shares, upload-only links and drops ----------
# tests/vectors/byhand.py reads each of these formats from the spec alone (no blindvault
# import); every vector file of them must get the same verdict and output there.

ISSUE19_TYPES = sorted(byhand.READERS)


def _issue19() -> list[dict[str, Any]]:
    return [
        json.loads(p.read_text(encoding="utf-8"))
        for t in ISSUE19_TYPES
        for p in sorted((V1 / t).glob("*.json"))
    ]


@pytest.mark.parametrize("vec", _issue19(), ids=lambda v: f"{v['type']}/{v['case']}")
def test_issue19_vectors_by_hand(vec: dict[str, Any]) -> None:
    read = byhand.READERS[vec["type"]]
    data = bytes.fromhex(vec["data"])
    if vec["expect"] == "valid":
        assert read(vec, data) == vec["output"]
    else:
        with pytest.raises(byhand.ERRORS[vec["expect"]]):
            read(vec, data)


def test_issue19_vector_counts() -> None:
    """Every format has valid and invalid cases; the counts docs/spec §14 and the README
    of tests/vectors/v1 state."""
    counts: dict[str, list[int]] = {}
    for v in _issue19():
        c = counts.setdefault(v["type"], [0, 0])
        c[v["expect"] != "valid"] += 1
    assert counts == ISSUE19_COUNTS


ISSUE19_COUNTS = {
    "drop": [3, 14],
    "drop-link": [1, 12],
    "drop-note": [1, 6],
    "file-share": [3, 11],
    "group-roster": [3, 15],
    "reshare": [4, 19],
}


def _labeled_extract(suite: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt or bytes(32), b"HPKE-v1" + suite + label + ikm, hashlib.sha256).digest()


def _labeled_expand(suite: bytes, prk: bytes, label: bytes, info: bytes, n: int) -> bytes:
    return HKDFExpand(hashes.SHA256(), n, n.to_bytes(2, "big") + b"HPKE-v1" + suite + label
                      + info).derive(prk)  # fmt: skip


def hpke_seal_by_hand(recipient: bytes, info: bytes, plain: bytes, ephemeral: bytes) -> bytes:
    """RFC 9180 §4.1 Encap (DHKEM(X25519, HKDF-SHA256)), §5.1 KeySchedule (mode_base),
    §5.2 Seal with sequence 0, AES-256-GCM."""
    kem, suite = b"KEM\x00\x20", b"HPKE\x00\x20\x00\x01\x00\x02"
    eph = X25519PrivateKey.from_private_bytes(ephemeral)
    enc = eph.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    dh = eph.exchange(X25519PublicKey.from_public_bytes(recipient))
    shared = _labeled_expand(kem, _labeled_extract(kem, b"", b"eae_prk", dh), b"shared_secret",
                             enc + recipient, 32)  # fmt: skip
    ctx = b"\x00" + _labeled_extract(suite, b"", b"psk_id_hash", b"")
    ctx += _labeled_extract(suite, b"", b"info_hash", info)
    secret = _labeled_extract(suite, shared, b"secret", b"")
    key = _labeled_expand(suite, secret, b"key", ctx, 32)
    nonce = _labeled_expand(suite, secret, b"base_nonce", ctx, 12)
    return enc + AESGCM(key).encrypt(nonce, plain, b"")


def _valid_drops() -> list[dict[str, Any]]:
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((V1 / "drop").glob("*.json"))]
    return [d for d in docs if d["expect"] == "valid"]


@pytest.mark.parametrize("vec", _valid_drops(), ids=lambda v: v["case"])
def test_valid_drops_sealed_by_hand_are_the_vectors_bytes(vec: dict[str, Any]) -> None:
    """§10a sealed from the fixed inputs by hand (the holder's side): the same bytes."""
    inp, fixed = vec["inputs"], vec["inputs"]["fixed"]
    link_id, secret = byhand.parse_url(inp["url"])
    target = byhand.drop_link({"inputs": inp}, bytes.fromhex(inp["descriptor"]))
    drop_id, file_key = bytes.fromhex(fixed["drop_id"]), bytes.fromhex(fixed["file_key"])
    plain = bytes.fromhex(inp["plaintext"])
    preamble = b"BVDP\x01" + link_id + drop_id
    name = inp["name"].encode()
    fields = file_key + len(plain).to_bytes(8, "big") + inp["mtime_ms"].to_bytes(8, "big")
    fields += len(name).to_bytes(2, "big") + name
    bind = byhand.hkdf(secret, link_id, b"blindvault/v1/drop/bind-key")
    tag = hmac.new(bind, b"blindvault/v1/drop/tag\x00" + preamble + fields, hashlib.sha256)
    header = fields + tag.digest()
    size = byhand.padme(max(len(header) + 1, 512))
    header += b"\x80" + bytes(size - len(header) - 1)
    info = b"blindvault/v1/drop/hpke-info\x00" + preamble
    sealed = hpke_seal_by_hand(bytes.fromhex(target["recipient"]), info, header,
                               bytes.fromhex(fixed["ephemeral"]))  # fmt: skip
    blob = seal_by_hand(file_key, drop_id, 1, bytes.fromhex(fixed["content_salt"]), plain)
    drop = preamble + len(sealed).to_bytes(2, "big") + sealed + blob
    assert drop.hex() == vec["data"]
