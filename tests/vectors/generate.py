"""Deterministic generator of blindvault's own test vectors: tests/vectors/v1/<type>/<case>.json.

    python tests/vectors/generate.py            # (re)write the files
    python tests/vectors/generate.py --check    # exit 1 if the files differ from a fresh run

Every "random" input (keys, nonces, salts, identity secrets) comes from HKDF over a fixed
seed and the case name, through the core's deterministic inner functions, so a run
writes the same bytes every time. The one exception is HPKE: pyca/cryptography draws the
ephemeral key itself, so envelope files are written once and kept while they still open
(`--check` verifies them instead of comparing bytes).

Each file is one case: {"type", "case", "description", "expect", "inputs", "data",
"output"}; byte strings are lowercase hex. `expect` is "valid" or the name of the
error the decoder must raise ("FormatError", "IntegrityError", "KdfPolicyError").
Other implementations (the link page in the browser and in Node) run the same files.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from generate_drops import drop_cases
from generate_sharing import file_share_cases, group_cases, reshare_cases
from vectorlib import ALICE, BOB, CAROL, OWNER, Case, det, flip, hexd, identity

from blindvault.core import content, primitives, wrap
from blindvault.core.constants import MANIFEST_PAGED, ROLE_READ, ROLE_WRITE, WRAP_FOLDER_KEY
from blindvault.core.envelope import seal_envelope
from blindvault.core.identity import Identity, safety_number
from blindvault.core.kdf import KdfParams, account_id, derive_account_keys, kdf_salt
from blindvault.core.keys import FileKey, FolderKey, MasterKey, RecoveryKey, VaultKey
from blindvault.core.links import (
    LinkDescriptor,
    _seal_descriptor_from_parts,
    format_link,
    link_key,
    link_token,
)
from blindvault.core.manifest import (
    ZERO_HASH,
    FileEntry,
    FileVersion,
    FolderEntry,
    ManifestBody,
    Tombstone,
    _seal_from_parts,
    manifest_hash,
)
from blindvault.core.padme import padded_length
from blindvault.core.pages import EMPTY_REF, Bucketer, RootBody, page_blob_id, seal_page
from blindvault.core.recovery import recovery_words
from blindvault.core.root import seal_root
from blindvault.core.roster import Member, _seal_roster_from_parts, roster_hash

OUT = Path(__file__).parent / "v1"
NON_DETERMINISTIC = {"envelope"}


# --- kdf -------------------------------------------------------------------------------


def kdf_cases() -> Iterator[Case]:
    email = "Alice@Example.org"
    for name, params in (
        ("argon2id-floor", KdfParams.argon2id(memory_kib=19456, iterations=2, lanes=1)),
        ("pbkdf2-600k", KdfParams.pbkdf2(600_000)),
    ):
        keys = derive_account_keys("correct horse battery staple", email, params)
        yield Case(
            "kdf",
            name,
            "password + email + parameters -> master key and auth key",
            "valid",
            {
                "password": "correct horse battery staple",
                "email": email,
                "params": params.to_json(),
            },
            params.encode(),
            {
                "salt": hexd(kdf_salt(email)),
                "account_id": hexd(account_id(email)),
                "master_key": hexd(keys.master.material),
                "auth_key": hexd(keys.auth.material),
            },
        )
    for name, params in (
        ("argon2id-below-floor", KdfParams.argon2id(memory_kib=1024, iterations=1, lanes=1)),
        ("pbkdf2-below-floor", KdfParams.pbkdf2(100_000)),
    ):
        yield Case(
            "kdf",
            name,
            "parameters below the floor: refuse before touching the password",
            "KdfPolicyError",
            {"password": "x", "email": email, "params": params.to_json()},
            params.encode(),
        )


# --- wrapped keys ------------------------------------------------------------------------


def wrapped_key_cases() -> Iterator[Case]:
    master, vault = MasterKey(det("master")), VaultKey(det("vault"))
    folder, file_key = FolderKey(det("folder")), FileKey(det("file"))
    node = det("node", 16)

    def wrapped(
        kind: int, wrapping: bytes, payload: bytes, obj: bytes, ver: int, tag: str
    ) -> bytes:
        return wrap._wrap_from_parts(
            MasterKey(wrapping), kind, payload, OWNER, obj, ver, det(f"nonce/{tag}", 12)
        )

    base = {"owner": hexd(OWNER)}
    good = [
        ("vault-by-master", 1, master.material, vault.material, OWNER, 1),
        ("vault-by-recovery", 2, det("recovery"), vault.material, OWNER, 1),
        ("identity-by-vault", 3, vault.material, ALICE.secret, det("identity-id", 16), 1),
        ("folder-key", 4, vault.material, folder.material, node, 7),
        ("file-key", 5, folder.material, file_key.material, node, 2**40),
    ]
    for name, kind, wk, payload, obj, ver in good:
        data = wrapped(kind, wk, payload, obj, ver, name)
        inputs = {
            **base,
            "kind": kind,
            "wrapping_key": hexd(wk),
            "object": hexd(obj),
            "version": ver,
        }
        yield Case(
            "wrapped-key",
            name,
            f"{name}: AEAD under a per-kind subkey",
            "valid",
            inputs,
            data,
            {"key": hexd(payload)},
        )
        if name != "file-key":
            continue
        bad: list[tuple[str, str, dict[str, Any], bytes]] = [
            ("moved-version", "IntegrityError", {**inputs, "version": ver + 1}, data),
            ("moved-object", "IntegrityError", {**inputs, "object": hexd(det("other", 16))}, data),
            ("moved-owner", "IntegrityError", {**inputs, "owner": hexd(det("owner2", 16))}, data),
            ("as-folder-key", "IntegrityError", {**inputs, "kind": WRAP_FOLDER_KEY}, data),
            (
                "kind-byte-rewritten",
                "IntegrityError",
                {**inputs, "kind": WRAP_FOLDER_KEY},
                data[:5] + bytes([WRAP_FOLDER_KEY]) + data[6:],
            ),
            ("wrong-key", "IntegrityError", {**inputs, "wrapping_key": hexd(det("wrong"))}, data),
            ("flipped-tag", "IntegrityError", inputs, flip(data, len(data) - 1)),
            ("flipped-nonce", "IntegrityError", inputs, flip(data, 46)),
            ("truncated", "FormatError", inputs, data[:-1]),
            ("trailing", "FormatError", inputs, data + b"\x00"),
            ("bad-magic", "FormatError", inputs, b"BVWX" + data[4:]),
            ("version-2", "FormatError", inputs, data[:4] + b"\x02" + data[5:]),
            ("version-0", "FormatError", inputs, data[:4] + b"\x00" + data[5:]),
            ("unknown-kind", "FormatError", inputs, data[:5] + b"\x09" + data[6:]),
            ("empty", "FormatError", inputs, b""),
        ]
        for bname, expect, binputs, bdata in bad:
            yield Case(
                "wrapped-key", f"file-key-{bname}", f"file key, {bname}", expect, binputs, bdata
            )


# --- identity bundles ------------------------------------------------------------------


def identity_cases() -> Iterator[Case]:
    for name, ident in (("x25519", ALICE), ("mlkem768-x25519", CAROL)):
        data = ident.bundle.encode()
        out = {
            "email": ident.bundle.email,
            "suite": ident.bundle.suite,
            "sign_public": hexd(ident.bundle.sign_public),
            "hpke_public": hexd(ident.bundle.hpke_public),
            "fingerprint": hexd(ident.bundle.fingerprint),
            "safety_number": safety_number(ident.bundle.fingerprint),
        }
        yield Case("identity-bundle", name, "self-signed public bundle", "valid", {}, data, out)
    data = ALICE.bundle.encode()
    email_at = data.index(b"alice")
    for bname, expect, bdata in (
        ("bad-signature", "IntegrityError", flip(data, len(data) - 1)),
        ("email-swapped", "IntegrityError", data[:email_at] + b"alicf" + data[email_at + 5 :]),
        ("email-not-normalized", "FormatError", data[:email_at] + b"Alice" + data[email_at + 5 :]),
        ("unknown-suite", "FormatError", data[:5] + b"\x07" + data[6:]),
        ("trailing", "FormatError", data + b"\x00"),
        ("truncated", "FormatError", data[:-1]),
    ):
        yield Case("identity-bundle", bname, f"identity bundle, {bname}", expect, {}, bdata)


# --- manifests ---------------------------------------------------------------------------


def manifest_cases() -> Iterator[Case]:
    key = FolderKey(det("manifest-folder-key"))
    node = det("manifest-node", 16)
    fp = ALICE.bundle.fingerprint
    body = ManifestBody(
        (
            FileEntry("report.pdf", det("n1", 16), FileKey(det("k1")), 1, 1050, 1_700_000_000_123),
            FileEntry(
                "Ünïcödé ✓.txt",
                det("n2", 16),
                FileKey(det("k2")),
                3,
                0,
                1_700_000_000_456,
                1_700_000_000_500,
                fp,
                (
                    FileVersion(
                        2, FileKey(det("k2v2")), 17, 1_700_000_000_300, 1_700_000_000_301, fp
                    ),
                    FileVersion(
                        1, FileKey(det("k2v1")), 9, 1_700_000_000_200, 1_700_000_000_201, fp
                    ),
                ),
            ),
            FolderEntry("photos", det("n3", 16), FolderKey(det("k3")), 1, 1_700_000_000_789),
        ),
        (Tombstone(det("n4", 16), 1_700_000_001_000),),
    )
    plain = body.encode()
    v1 = _seal_from_parts(plain, key, node, 1, 1, ZERO_HASH, ALICE, det("mnonce1", 12))
    v2 = _seal_from_parts(
        ManifestBody().encode(), key, node, 2, 1, manifest_hash(v1), ALICE, det("mnonce2", 12)
    )
    inputs = {
        "folder_key": hexd(key.material),
        "node_id": hexd(node),
        "writers": [hexd(ALICE.bundle.encode())],
    }

    def describe(b: ManifestBody) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for e in b.entries:
            if isinstance(e, FileEntry):
                out.append(
                    {
                        "kind": "file",
                        "name": e.name,
                        "node_id": hexd(e.node_id),
                        "key": hexd(e.file_key.material),
                        "content_version": e.content_version,
                        "size": e.size,
                        "mtime_ms": e.mtime_ms,
                        "written_ms": e.written_ms,
                        "writer": hexd(e.writer),
                        "history": [
                            {
                                "content_version": h.content_version,
                                "key": hexd(h.file_key.material),
                                "mtime_ms": h.mtime_ms,
                                "size": h.size,
                                "writer": hexd(h.writer),
                                "written_ms": h.written_ms,
                            }
                            for h in e.history
                        ],
                    }
                )
            else:
                out.append(
                    {
                        "kind": "folder",
                        "name": e.name,
                        "node_id": hexd(e.node_id),
                        "key": hexd(e.folder_key.material),
                        "key_version": e.key_version,
                        "mtime_ms": e.mtime_ms,
                    }
                )
        return out

    def out(sealed: bytes, b: ManifestBody, version: int, prev: bytes) -> dict[str, Any]:
        return {
            "version": version,
            "key_version": 1,
            "prev_hash": hexd(prev),
            "writer": hexd(fp),
            "hash": hexd(manifest_hash(sealed)),
            "body": hexd(b.encode()),
            "entries": describe(ManifestBody.decode(b.encode())),
            "tombstones": [
                {"node_id": hexd(t.node_id), "deleted_ms": t.deleted_ms} for t in b.tombstones
            ],
        }

    yield Case(
        "manifest",
        "v1",
        "first version: zero prev_hash",
        "valid",
        inputs,
        v1,
        out(v1, body, 1, ZERO_HASH),
    )
    yield Case(
        "manifest",
        "v2",
        "second version chains to v1",
        "valid",
        inputs,
        v2,
        out(v2, ManifestBody(), 2, manifest_hash(v1)),
    )
    bob_signed = _seal_from_parts(plain, key, node, 1, 1, ZERO_HASH, BOB, det("mnonce1", 12))
    trailing_body = _seal_from_parts(
        plain + b"\x00", key, node, 1, 1, ZERO_HASH, ALICE, det("mnonce4", 12)
    )
    sig_at = len(v1) - 64
    for bname, expect, binputs, bdata in (
        ("writer-not-authorized", "IntegrityError", inputs, bob_signed),
        ("wrong-node", "IntegrityError", {**inputs, "node_id": hexd(det("other-node", 16))}, v1),
        (
            "wrong-folder-key",
            "IntegrityError",
            {**inputs, "folder_key": hexd(det("other-key"))},
            v1,
        ),
        ("flipped-ciphertext", "IntegrityError", inputs, flip(v1, sig_at - 1)),
        ("flipped-signature", "IntegrityError", inputs, flip(v1, sig_at)),
        ("flipped-version", "IntegrityError", inputs, flip(v1, 5 + 16 + 7)),
        ("non-canonical-body", "IntegrityError", inputs, trailing_body),
        ("trailing", "FormatError", inputs, v1 + b"\x00"),
        ("truncated", "FormatError", inputs, v1[:-1]),
        ("bad-magic", "FormatError", inputs, b"XXXX" + v1[4:]),
    ):
        yield Case("manifest", bname, f"manifest, {bname}", expect, binputs, bdata)


# --- paged manifests (issue 18, spec §7a) ------------------------------------------------


def paged_manifest_cases() -> Iterator[Case]:
    """A paged root (BVMF version 2) with two buckets, its pages as `inputs.pages` (blob id
    -> page), and every way a page can fail to be the one the root names."""
    key = FolderKey(det("paged-folder-key"))
    node = det("paged-node", 16)
    bits = 1
    bucketer = Bucketer(key, bits)
    items: list[FileEntry | FolderEntry] = [
        FileEntry(f"doc-{i}.txt", det(f"pn{i}", 16), FileKey(det(f"pk{i}")), 1, 100 + i,
                  1_700_000_000_000 + i)
        for i in range(6)
    ]  # fmt: skip
    items.append(FolderEntry("sub", det("pn-sub", 16), FolderKey(det("pk-sub")), 1, 5))
    assert len({bucketer(e.name) for e in items}) == 2
    tombs = (Tombstone(det("pn-gone", 16), 1_700_000_002_000),)

    def seal_all(
        entries: list[FileEntry | FolderEntry], tag: str, sealed_node: bytes = node
    ) -> tuple[RootBody, dict[int, bytes]]:
        refs, pages = [], {}
        for b, group in enumerate(bucketer.split(entries)):
            ref, page = seal_page(group, key, node_id=sealed_node, bits=bits, bucket=b,
                                  nonce=det(f"page-nonce-{tag}-{b}", 12))  # fmt: skip
            refs.append(ref)
            pages[b] = page
        return RootBody(bits, tuple(refs), tombs), pages

    def seal_root(root: RootBody, version: int, prev: bytes, tag: str) -> bytes:
        return _seal_from_parts((MANIFEST_PAGED, root.encode()), key, node, version, 1, prev,
                                ALICE, det(f"root-nonce-{tag}", 12))  # fmt: skip

    def blobs(root: RootBody, pages: dict[int, bytes]) -> dict[str, str]:
        return {hexd(page_blob_id(node, root.refs[b].hash)): hexd(p) for b, p in pages.items()}

    r1, p1 = seal_all(items, "v1")
    s1 = seal_root(r1, 1, ZERO_HASH, "v1")
    changed = [dataclasses.replace(items[0], size=999), *items[1:]]
    moved, kept = bucketer(items[0].name), 1 - bucketer(items[0].name)
    r2, p2 = seal_all(changed, "v2")
    r2 = dataclasses.replace(
        r2, refs=tuple(r1.refs[b] if b == kept else r2.refs[b] for b in (0, 1))
    )
    p2 = {**p2, kept: p1[kept]}  # a writer rewrites only the page that changed
    s2 = seal_root(r2, 2, manifest_hash(s1), "v2")
    assert r1.refs[moved] != r2.refs[moved]
    base = {
        "folder_key": hexd(key.material),
        "node_id": hexd(node),
        "writers": [hexd(ALICE.bundle.encode())],
    }

    def out(sealed: bytes, entries: list[FileEntry | FolderEntry], version: int) -> dict[str, Any]:
        return {
            "version": version,
            "hash": hexd(manifest_hash(sealed)),
            "bits": bits,
            "names": sorted(e.name for e in entries),
            "sizes": {e.name: e.size for e in entries if isinstance(e, FileEntry)},
            "tombstones": [hexd(t.node_id) for t in tombs],
        }

    yield Case("manifest-paged", "v1", "a paged root and its two pages", "valid",
               {**base, "pages": blobs(r1, p1)}, s1, out(s1, items, 1))  # fmt: skip
    yield Case("manifest-paged", "v2", "one entry changed: chains to v1", "valid",
               {**base, "pages": blobs(r2, p2), "seen": {"version": 1,
                                                           "hash": hexd(manifest_hash(s1))}},
               s2, out(s2, changed, 2))  # fmt: skip
    good = blobs(r2, p2)
    ids = {b: hexd(page_blob_id(node, r2.refs[b].hash)) for b in (0, 1)}
    foreign_root, foreign_pages = seal_all(changed, "foreign", det("other-node", 16))
    foreign_sealed = seal_root(foreign_root, 2, manifest_hash(s1), "foreign")
    foreign_blobs = {
        hexd(page_blob_id(node, foreign_root.refs[b].hash)): hexd(p)
        for b, p in foreign_pages.items()
    }
    lumped = [seal_page(changed, key, node_id=node, bits=bits, bucket=0,
                        nonce=det("page-nonce-lumped", 12))]  # fmt: skip
    lumped_root = RootBody(bits, (lumped[0][0], EMPTY_REF), tombs)
    lumped_sealed = seal_root(lumped_root, 2, manifest_hash(s1), "lumped")
    lumped_blobs = {hexd(page_blob_id(node, lumped[0][0].hash)): hexd(lumped[0][1])}
    for name, expect, inputs, data in (
        ("tampered-page", "IntegrityError",
         {**base, "pages": {**good, ids[0]: hexd(flip(p2[0], 50))}}, s2),
        ("swapped-pages", "IntegrityError",
         {**base, "pages": {ids[0]: good[ids[1]], ids[1]: good[ids[0]]}}, s2),
        ("missing-page", "IntegrityError",
         {**base, "pages": {ids[1]: good[ids[1]]}}, s2),
        ("older-page", "IntegrityError",
         {**base, "pages": {**good, ids[moved]: hexd(p1[moved])}}, s2),
        ("foreign-page", "IntegrityError", {**base, "pages": foreign_blobs}, foreign_sealed),
        ("entry-in-another-bucket", "IntegrityError",
         {**base, "pages": lumped_blobs}, lumped_sealed),
        ("rolled-back-root", "RollbackError",
         {**base, "pages": blobs(r1, p1), "seen": {"version": 2,
                                                    "hash": hexd(manifest_hash(s2))}}, s1),
        ("flipped-paged-byte", "IntegrityError",
         {**base, "pages": good}, s2[:4] + b"\x01" + s2[5:]),
    ):  # fmt: skip
        yield Case("manifest-paged", name, f"paged manifest, {name}", expect, inputs, data)


# --- roots ---------------------------------------------------------------------------------


def root_cases() -> Iterator[Case]:
    from blindvault.core.manifest import ManifestHead

    heads = [
        ManifestHead(det(f"root-node-{i}", 16), i + 1, det(f"root-hash-{i}")) for i in range(3)
    ]
    rosters = [ManifestHead(det("root-roster-node", 16), 4, det("root-roster-hash"))]
    data = seal_root(OWNER, 1, ZERO_HASH, heads, ALICE, rosters)
    inputs = {"owner": hexd(OWNER), "signer": hexd(ALICE.bundle.encode())}
    ordered = sorted(heads, key=lambda h: h.node_id)
    out = {
        "sequence": 1,
        "prev_hash": hexd(ZERO_HASH),
        "heads": [
            {"node_id": hexd(h.node_id), "version": h.version, "hash": hexd(h.hash)}
            for h in ordered
        ],
        "rosters": [
            {"node_id": hexd(h.node_id), "version": h.version, "hash": hexd(h.hash)}
            for h in rosters
        ],
    }
    yield Case(
        "root", "valid", "per-user signed root over folder heads", "valid", inputs, data, out
    )
    yield Case(
        "root",
        "wrong-owner",
        "root of another account",
        "IntegrityError",
        {**inputs, "owner": hexd(det("x", 16))},
        data,
    )
    yield Case(
        "root",
        "wrong-signer",
        "signed by someone else",
        "IntegrityError",
        {**inputs, "signer": hexd(BOB.bundle.encode())},
        data,
    )
    yield Case("root", "flipped-head", "a head changed", "IntegrityError", inputs, flip(data, 60))
    yield Case("root", "trailing", "trailing data", "FormatError", inputs, data + b"\x00")
    yield Case(
        "root", "version-1", "a version-1 root (no roster heads) is refused", "FormatError",
        inputs, data[:4] + b"\x01" + data[5:],
    )  # fmt: skip
    yield Case(
        "root", "roster-head-changed", "the server lowers a roster head", "IntegrityError",
        inputs, flip(data, len(data) - 64 - 32 - 1),
    )  # fmt: skip


# --- rosters --------------------------------------------------------------------------------


def roster_cases() -> Iterator[Case]:
    node = det("roster-node", 16)
    key = FolderKey(det("roster-folder-key"))
    members = [
        Member(BOB.bundle.fingerprint, ROLE_WRITE, "bob@example.org"),
        Member(CAROL.bundle.fingerprint, ROLE_READ, "carol@example.org"),
    ]

    prev = det("roster-prev")

    def seal(version: int, nonce_label: str, signer: Identity = ALICE) -> bytes:
        return _seal_roster_from_parts(
            OWNER, node, version, 3, members, "Team plans", key, signer, det(nonce_label, 12), prev
        )

    data = seal(2, "roster-nonce")
    inputs = {
        "owner": hexd(OWNER),
        "node_id": hexd(node),
        "signer": hexd(ALICE.bundle.encode()),
        "folder_key": hexd(key.material),
    }
    ordered = sorted(members, key=lambda m: m.fingerprint)
    out = {
        "version": 2,
        "key_version": 3,
        "prev_hash": hexd(prev),
        "hash": hexd(roster_hash(data)),
        "owner_fingerprint": hexd(ALICE.bundle.fingerprint),
        "members": [
            {"fingerprint": hexd(m.fingerprint), "role": m.role, "email": m.email} for m in ordered
        ],
        "name": "Team plans",
    }
    yield Case(
        "roster", "valid", "owner-signed roster of a shared folder", "valid", inputs, data, out
    )
    yield Case(
        "roster",
        "wrong-signer",
        "the roster checked against another owner's bundle",
        "IntegrityError",
        {**inputs, "signer": hexd(BOB.bundle.encode())},
        data,
    )
    yield Case(
        "roster",
        "signed-by-another",
        "another user signs a roster in the owner's name",
        "IntegrityError",
        inputs,
        seal(2, "roster-nonce", identity("mallory")),
    )
    yield Case(
        "roster",
        "wrong-folder",
        "a valid roster of another folder",
        "IntegrityError",
        {**inputs, "node_id": hexd(det("other-node", 16))},
        data,
    )
    role_at = 5 + 16 + 16 + 8 + 8 + 32 + 32 + 2 + 32
    yield Case(
        "roster",
        "role-raised",
        "the server turns a read-only member into a writer",
        "IntegrityError",
        inputs,
        flip(data, role_at),
    )
    yield Case(
        "roster", "wrong-name-key", "the name opened with another folder key", "IntegrityError",
        {**inputs, "folder_key": hexd(det("other-folder-key"))}, data,
    )  # fmt: skip
    yield Case("roster", "trailing", "trailing data", "FormatError", inputs, data + b"\x00")
    yield Case("roster", "truncated", "cut short", "FormatError", inputs, data[:-1])
    yield Case(
        "roster", "version-1", "a version-1 roster (no predecessor hash) is refused",
        "FormatError", inputs, data[:4] + b"\x01" + data[5:],
    )  # fmt: skip
    prev_at = 5 + 16 + 16 + 8 + 8
    yield Case(
        "roster", "predecessor-changed", "the server rewrites the predecessor hash",
        "IntegrityError", inputs, flip(data, prev_at),
    )  # fmt: skip


# --- envelopes (HPKE: not byte-deterministic) -----------------------------------------------


def envelope_cases() -> Iterator[Case]:
    for name, recipient in (("x25519", BOB), ("mlkem768-x25519", CAROL)):
        key = FolderKey(det(f"env-key-{name}"))
        share, node = det(f"env-share-{name}", 16), det(f"env-node-{name}", 16)
        data = seal_envelope(
            key,
            share_id=share,
            node_id=node,
            key_version=3,
            role=ROLE_WRITE,
            sender=ALICE,
            recipient=recipient.bundle,
        )
        inputs = {
            "recipient_secret": hexd(recipient.secret),
            "recipient_email": recipient.bundle.email,
            "recipient_created_ms": recipient.bundle.created_ms,
            "sender": hexd(ALICE.bundle.encode()),
        }
        out = {
            "share_id": hexd(share),
            "node_id": hexd(node),
            "key_version": 3,
            "role": ROLE_WRITE,
            "kind": "folder",
            "key": hexd(key.material),
        }
        yield Case(
            "envelope", name, "node key sealed to a pinned recipient", "valid", inputs, data, out
        )
        if name == "x25519":
            yield Case(
                "envelope",
                "wrong-sender-pin",
                "sender is not who we pinned",
                "IntegrityError",
                {**inputs, "sender": hexd(CAROL.bundle.encode())},
                data,
            )
            role_at = 5 + 1 + 16 + 16 + 1 + 8
            forged = (
                data[:role_at]
                + bytes([ROLE_READ if data[role_at] == ROLE_WRITE else ROLE_WRITE])
                + data[role_at + 1 :]
            )
            yield Case(
                "envelope", "role-changed", "role byte rewritten", "IntegrityError", inputs, forged
            )
            yield Case(
                "envelope",
                "flipped-hpke",
                "HPKE ciphertext changed",
                "IntegrityError",
                inputs,
                flip(data, len(data) - 70),
            )
            yield Case(
                "envelope", "trailing", "trailing data", "FormatError", inputs, data + b"\x00"
            )


# --- links -------------------------------------------------------------------------------------


def link_cases() -> Iterator[Case]:
    link_id, secret = det("link-id", 16), det("link-secret")
    for pw in (None, "open sesame"):
        key = link_key(secret, link_id, pw)
        name = "file-with-password" if pw else "file"
        desc = LinkDescriptor(
            det("link-node", 16),
            FileKey(det("link-file-key")),
            2,
            1050,
            1_700_000_000_000,
            "report.pdf",
        )
        data = _seal_descriptor_from_parts(desc, key, link_id, det(f"link-nonce-{name}", 12))
        url = format_link("https://vault.example", link_id, secret, password=pw is not None)
        inputs = {"url": url, "password": pw}
        out = {
            "link_id": hexd(link_id),
            "secret": hexd(secret),
            "token": hexd(link_token(secret, link_id)),
            "link_key": hexd(key.material),
            "kind": "file",
            "node_id": hexd(desc.node_id),
            "key": hexd(desc.key.material),
            "version": 2,
            "size": 1050,
            "mtime_ms": desc.mtime_ms,
            "name": desc.name,
        }
        yield Case(
            "link", name, "link URL -> token, key and descriptor", "valid", inputs, data, out
        )
        if pw:
            yield Case(
                "link",
                "wrong-password",
                "wrong password",
                "IntegrityError",
                {**inputs, "password": "open sesame!"},
                data,
            )
        else:
            yield Case(
                "link", "flipped", "descriptor changed", "IntegrityError", inputs, flip(data, 30)
            )
            other = format_link(
                "https://vault.example", det("other-link", 16), secret, password=False
            )
            yield Case(
                "link",
                "other-link-id",
                "descriptor of another link",
                "IntegrityError",
                {**inputs, "url": other},
                data,
            )
    for bname, url in (
        ("no-fragment", "https://vault.example/s/" + "A" * 22),
        ("unknown-version", "https://vault.example/s/" + "A" * 22 + "#v2." + "A" * 43),
        ("short-secret", "https://vault.example/s/" + "A" * 22 + "#v1." + "A" * 42),
        ("non-canonical-secret", "https://vault.example/s/" + "A" * 22 + "#v1." + "A" * 42 + "B"),
    ):
        yield Case(
            "link", bname, f"link URL, {bname}", "FormatError", {"url": url, "password": None}, b""
        )


# --- content ---------------------------------------------------------------------------------


def content_cases() -> Iterator[Case]:
    key, node = FileKey(det("content-key")), det("content-node", 16)
    for size in (0, 1, 1000, 4097, 16384, 40000):
        plain = (
            det(f"content-plain-{size}", size)
            if size <= 255 * 32
            else (det(f"content-plain-{size}") * (size // 32 + 1))[:size]
        )
        data = content.seal_content(key, node, 1, plain, salt=det(f"content-salt-{size}", 24))
        inputs = {
            "key": hexd(key.material),
            "node_id": hexd(node),
            "content_version": 1,
            "size": size,
        }
        out = {
            "plaintext_sha256": hexd(primitives.sha256(plain)),
            "padded_size": padded_length(size),
            "context": hexd(content.content_context(node, 1)),
        }
        if size <= 1000:
            out["plaintext"] = hexd(plain)
        yield Case(
            "content",
            f"size-{size}",
            f"{size}-byte file, Padmé-padded, C2SP chunked",
            "valid",
            inputs,
            data,
            out,
        )
        if size != 40000:
            continue
        boundary = content.CONTENT_HEADER_SIZE + 16400
        for bname, expect, binputs, bdata in (
            ("truncated-at-chunk-boundary", "IntegrityError", inputs, data[:boundary]),
            ("truncated-last-byte", "IntegrityError", inputs, data[:-1]),
            ("appended", "IntegrityError", inputs, data + b"\x00" * 17),
            ("flipped-chunk", "IntegrityError", inputs, flip(data, boundary + 5)),
            ("flipped-commitment", "IntegrityError", inputs, flip(data, 40)),
            ("other-node", "IntegrityError", {**inputs, "node_id": hexd(det("x", 16))}, data),
            ("other-version", "IntegrityError", {**inputs, "content_version": 2}, data),
            ("wrong-size", "IntegrityError", {**inputs, "size": 50000}, data),
            (
                "chunks-swapped",
                "IntegrityError",
                inputs,
                data[: content.CONTENT_HEADER_SIZE]
                + data[boundary : boundary + 16400]
                + data[content.CONTENT_HEADER_SIZE : boundary]
                + data[boundary + 16400 :],
            ),
            ("bad-magic", "FormatError", inputs, b"BVCX" + data[4:]),
            ("version-2", "FormatError", inputs, data[:4] + b"\x02" + data[5:]),
        ):
            yield Case(
                "content",
                f"size-40000-{bname}",
                f"40000-byte file, {bname}",
                expect,
                binputs,
                bdata,
            )


# --- account key bundles ---------------------------------------------------------------------


def key_bundle_cases() -> Iterator[Case]:
    from blindvault.core.keybundle import KeyBundle

    email = "alice@example.org"
    master, recovery, vault = (
        MasterKey(det("kb-master")),
        RecoveryKey(det("kb-recovery")),
        VaultKey(det("kb-vault")),
    )
    root_key, ident_id, root_node = (
        FolderKey(det("kb-root")),
        det("kb-ident", 16),
        det("kb-node", 16),
    )

    def w(kind: int, wk: bytes, payload: bytes, obj: bytes, tag: str) -> bytes:
        return wrap._wrap_from_parts(
            MasterKey(wk), kind, payload, OWNER, obj, 1, det(f"kb-nonce/{tag}", 12)
        )

    bundle = KeyBundle(
        OWNER,
        1,
        1,
        ident_id,
        ALICE.bundle.created_ms,
        root_node,
        w(1, master.material, vault.material, OWNER, "m"),
        w(2, recovery.material, vault.material, OWNER, "r"),
        w(3, vault.material, ALICE.secret, ident_id, "i"),
        w(4, vault.material, root_key.material, root_node, "f"),
    )
    data = bundle.encode()
    out = {
        "vault_key": hexd(vault.material),
        "root_folder_key": hexd(root_key.material),
        "identity_fingerprint": hexd(ALICE.bundle.fingerprint),
        "root_node": hexd(root_node),
    }
    for how, secret in (("master", master), ("recovery", recovery)):
        inputs = {"email": email, "open_with": how, "key": hexd(secret.material)}
        yield Case(
            "key-bundle",
            f"open-with-{how}",
            f"key bundle opened with the {how} key",
            "valid",
            inputs,
            data,
            out,
        )
    yield Case(
        "key-bundle",
        "wrong-master",
        "another password's master key",
        "IntegrityError",
        {"email": email, "open_with": "master", "key": hexd(det("other-master"))},
        data,
    )
    yield Case(
        "key-bundle",
        "version-bumped",
        "version changed without re-wrapping",
        "IntegrityError",
        {"email": email, "open_with": "master", "key": hexd(master.material)},
        data[:21] + (2).to_bytes(8, "big") + data[29:],
    )
    yield Case(
        "key-bundle",
        "trailing",
        "trailing data",
        "FormatError",
        {"email": email, "open_with": "master", "key": hexd(master.material)},
        data + b"\x00",
    )


# --- recovery and padding ------------------------------------------------------------------------


def misc_cases() -> Iterator[Case]:
    rk = RecoveryKey(det("recovery-words"))
    yield Case(
        "recovery-words",
        "valid",
        "recovery key as 24 BIP39 English words",
        "valid",
        {"words": " ".join(recovery_words(rk))},
        rk.material,
    )
    sizes = [0, 1, 1000, 1050, 4096, 4097, 5000, 16384, 100_000, 1_000_000, 10**9]
    yield Case(
        "padme",
        "table",
        "true size -> padded size",
        "valid",
        {"sizes": sizes},
        b"",
        {"padded": [padded_length(s) for s in sizes]},
    )


GENERATORS: list[Callable[[], Iterator[Case]]] = [
    kdf_cases,
    wrapped_key_cases,
    identity_cases,
    manifest_cases,
    paged_manifest_cases,
    root_cases,
    roster_cases,
    envelope_cases,
    link_cases,
    content_cases,
    key_bundle_cases,
    misc_cases,
    group_cases,
    reshare_cases,
    file_share_cases,
    drop_cases,
]


def all_cases() -> list[Case]:
    return [case for gen in GENERATORS for case in gen()]


def render(case: Case) -> str:
    return json.dumps(case.to_json(), indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale: list[str] = []
    for case in all_cases():
        path = OUT / case.type / f"{case.case}.json"
        text = render(case)
        if case.type in NON_DETERMINISTIC and path.exists():
            continue  # kept while it still opens; tests/unit/test_own_vectors.py checks that
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if stale:
        sys.stderr.write(
            "stale vectors (run python tests/vectors/generate.py):\n" + "\n".join(stale) + "\n"
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
