"""Vectors of the issue-19 sharing formats (spec §15a-§15c): group rosters (`BVGR`),
re-share additions and their list (`BVRA`, `BVRL`) and single-file share holders.
Imported by generate.py (which writes the files); same rules: every input from `det`."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from vectorlib import ALICE, BOB, CAROL, OWNER, Case, det, flip, hexd, identity

from blindvault.core.constants import (
    LABEL_GROUP_SIG,
    LABEL_RESHARE_SIG,
    ROLE_READ,
    ROLE_WRITE,
)
from blindvault.core.entries import FileEntry, FolderEntry
from blindvault.core.fileshare import holder_body, holder_key
from blindvault.core.group import (
    GroupMember,
    _seal_group_roster_from_parts,
    group_email,
    group_identity,
    group_key,
    open_group_roster,
)
from blindvault.core.identity import Identity
from blindvault.core.keys import FileKey, FolderKey
from blindvault.core.manifest import ZERO_HASH, ManifestBody, _seal_from_parts, manifest_hash
from blindvault.core.reshare import encode_list, seal_addition
from blindvault.core.roster import Member, _seal_roster_from_parts, open_roster, roster_hash

__all__ = ["file_share_cases", "group_cases", "reshare_cases"]

DAN, ERIN, FRANK, MALLORY = (
    identity("dan"),
    identity("erin"),
    identity("frank"),
    identity("mallory"),
)


def bundle_hex(who: Identity) -> str:
    return hexd(who.bundle.encode())


# --- groups (§15b) -------------------------------------------------------------------------


def group_cases() -> Iterator[Case]:
    root = FolderKey(det("group-root-folder-key"))
    gid = det("group-id", 16)
    k1, k2 = group_key(root, gid, 1), group_key(root, gid, 2)
    bob, carol, dan = (GroupMember(p.bundle.fingerprint, p.bundle.email) for p in (BOB, CAROL, DAN))

    def seal(
        version: int,
        kv: int,
        members: list[GroupMember],
        prev: bytes,
        tag: str,
        signer: Identity = ALICE,
    ) -> bytes:
        return _seal_group_roster_from_parts(
            OWNER, gid, version, kv, members, "Design team", k1 if kv == 1 else k2, signer,
            det(f"group-nonce-{tag}", 12), prev,
        )  # fmt: skip

    v1 = seal(1, 1, [bob, carol], ZERO_HASH, "v1")
    v2 = seal(2, 1, [bob, carol, dan], _hash(v1), "v2")  # dan added: same key version
    v3 = seal(3, 2, [bob, dan], _hash(v2), "v3")  # carol removed: a new key version
    base = {
        "owner": hexd(OWNER),
        "group_id": hexd(gid),
        "signer": bundle_hex(ALICE),
        "root_folder_key": hexd(root.material),
    }

    def seen(data: bytes) -> dict[str, Any]:
        r = _open(data, gid)
        return {"version": r.version, "hash": hexd(r.hash)}

    def out(data: bytes, key: FolderKey) -> dict[str, Any]:
        r = _open(data, gid)
        return {
            "version": r.version,
            "key_version": r.key_version,
            "prev_hash": hexd(r.prev_hash),
            "hash": hexd(r.hash),
            "owner_fingerprint": hexd(r.owner_fingerprint),
            "group_fingerprint": hexd(r.group_fingerprint),
            "group_email": group_email(gid),
            "group_key": hexd(key.material),
            "members": [{"fingerprint": hexd(m.fingerprint), "email": m.email} for m in r.members],
            "name": r.name(key),
        }

    for name, desc, data, key, extra in (
        ("v1", "first roster: zero predecessor", v1, k1, {}),
        ("v2-member-added", "a member added: same key version, chains to v1", v2, k1,
         {"seen": seen(v1)}),
        ("v3-member-removed", "a member removed: key version 2 (new key, new group key pair)",
         v3, k2, {"seen": seen(v2)}),
    ):  # fmt: skip
        inputs = {**base, "group_key": hexd(key.material), **extra}
        yield Case("group-roster", name, desc, "valid", inputs, data, out(data, key))

    inputs = {**base, "group_key": hexd(k1.material)}
    body = v1[:-64]
    fp_at = 5 + 16 + 16 + 8 + 8 + 32 + 32
    other_fp = group_identity(FolderKey(det("another-group-key")), gid).bundle.fingerprint
    refp = body[:fp_at] + other_fp + body[fp_at + 32 :]
    refp = refp + ALICE.sign(LABEL_GROUP_SIG + b"\x00" + refp)
    fork = seal(2, 1, [bob], _hash(v1), "fork")
    bad_prev = seal(2, 1, [bob, carol, dan], det("not-v1"), "bad-prev")
    member_at = fp_at + 32 + 2
    for name, expect, desc, binputs, bdata in (
        ("wrong-owner", "IntegrityError", "checked for another owner account",
         {**inputs, "owner": hexd(det("other-owner", 16))}, v1),
        ("wrong-group", "IntegrityError", "a valid roster of another group",
         {**inputs, "group_id": hexd(det("other-group", 16))}, v1),
        ("wrong-signer", "IntegrityError", "checked against another owner's pinned bundle",
         {**inputs, "signer": bundle_hex(BOB)}, v1),
        ("signed-by-another", "IntegrityError", "someone else signs a roster of this group",
         inputs, seal(1, 1, [bob, carol], ZERO_HASH, "v1", MALLORY)),
        ("flipped-signature", "IntegrityError", "a signature byte changed", inputs,
         flip(v1, len(v1) - 1)),
        ("member-swapped", "IntegrityError", "the server changes a member's fingerprint",
         inputs, flip(v1, member_at)),
        ("old-group-key", "IntegrityError",
         "a removed member's key (key version 1) against the key-version-2 roster",
         {**inputs, "seen": seen(v2)}, v3),
        ("group-fingerprint-not-the-keys", "IntegrityError",
         "owner-signed, but its group fingerprint is not the key pair of the group key",
         inputs, refp),
        ("rolled-back", "RollbackError", "version 1 served to a device that saw version 2",
         {**inputs, "seen": seen(v2)}, v1),
        ("forked", "RollbackError", "another owner-signed version 2 than the one seen",
         {**inputs, "seen": seen(v2)}, fork),
        ("predecessor-changed", "RollbackError", "version 2 not naming the version 1 seen",
         {**inputs, "seen": seen(v1)}, bad_prev),
        ("truncated", "FormatError", "cut short", inputs, v1[:-1]),
        ("trailing", "FormatError", "trailing data", inputs, v1 + b"\x00"),
        ("bad-magic", "FormatError", "another magic", inputs, b"BVGX" + v1[4:]),
        ("version-2", "FormatError", "an unknown version byte", inputs,
         v1[:4] + b"\x02" + v1[5:]),
    ):  # fmt: skip
        yield Case("group-roster", name, f"group roster, {desc}", expect, binputs, bdata)


def _open(data: bytes, gid: bytes) -> Any:
    return open_group_roster(data, OWNER, gid, ALICE.bundle)


def _hash(data: bytes) -> bytes:
    return bytes(_open(data, data[21:37]).hash)


# --- re-shares (§15c) ------------------------------------------------------------------------


def reshare_cases() -> Iterator[Case]:
    node = det("reshare-node", 16)
    key = FolderKey(det("reshare-folder-key"))

    def member(who: Identity, role: int, reshare: bool = False) -> Member:
        return Member(who.bundle.fingerprint, role, who.bundle.email, reshare)

    def roster(version: int, members: list[Member], prev: bytes, node_id: bytes = node) -> bytes:
        return _seal_roster_from_parts(
            OWNER, node_id, version, 1, members, "Projects", key, ALICE,
            det(f"reshare-roster-nonce-{version}", 12), prev,
        )  # fmt: skip

    r1 = roster(1, [member(BOB, ROLE_WRITE, True)], ZERO_HASH)
    r2 = roster(2, [member(BOB, ROLE_WRITE, True), member(CAROL, ROLE_READ, True),
                    member(DAN, ROLE_READ)], roster_hash(r1))  # fmt: skip
    old, cur = (open_roster(r, OWNER, node, ALICE.bundle) for r in (r1, r2))

    def add(who: Identity, new: Identity, role: int, on: Any = cur, email: str = "") -> bytes:
        return seal_addition(on, Member(new.bundle.fingerprint, role, email or new.bundle.email),
                             who)  # fmt: skip

    def resign(addition: bytes, at: int, value: int, signer: Identity) -> bytes:
        body = bytearray(addition[:-64])
        body[at] = value
        return bytes(body) + signer.sign(LABEL_RESHARE_SIG + b"\x00" + bytes(body))

    bundles = {p.bundle.email: bundle_hex(p) for p in (BOB, CAROL, DAN)}
    base = {
        "owner": hexd(OWNER),
        "node_id": hexd(node),
        "signer": bundle_hex(ALICE),
        "roster": hexd(r2),
        "bundles": bundles,
    }

    def out(added: list[tuple[Identity, int, Identity]]) -> dict[str, Any]:
        members = [(m.fingerprint, m.role, m.email, m.reshare) for m in cur.members]
        members += [(p.bundle.fingerprint, role, p.bundle.email, False) for p, role, _ in added]
        return {
            "roster_hash": hexd(cur.hash),
            "members": [
                {"fingerprint": hexd(fp), "role": role, "email": email, "reshare": rs}
                for fp, role, email, rs in sorted(members)
            ],
            "added_by": [{"member": bundle_fp(p), "by": bundle_fp(by)} for p, _, by in added],
        }

    erin_by_bob = add(BOB, ERIN, ROLE_WRITE)
    frank_by_carol = add(CAROL, FRANK, ROLE_READ)
    valid = (
        ("one-addition", "a re-sharing writer adds a writer", [erin_by_bob],
         [(ERIN, ROLE_WRITE, BOB)]),
        ("two-additions", "two re-sharing members add one person each",
         [erin_by_bob, frank_by_carol], [(ERIN, ROLE_WRITE, BOB), (FRANK, ROLE_READ, CAROL)]),
        ("obsolete-skipped", "an addition on top of the previous roster grants nothing",
         [add(BOB, ERIN, ROLE_WRITE, old)], []),
        ("empty", "no additions", [], []),
    )  # fmt: skip
    for name, desc, adds, added in valid:
        yield Case("reshare", name, desc, "valid", base, encode_list(adds), out(added))

    role_at = 5 + 16 + 16 + 32 + 32 + 32
    other_node = seal_addition(dataclasses.replace(cur, node_id=det("other-node", 16)),
                               Member(ERIN.bundle.fingerprint, ROLE_READ, ERIN.bundle.email),
                               BOB)  # fmt: skip
    other_owner = seal_addition(dataclasses.replace(cur, owner=det("other-owner", 16)),
                                Member(ERIN.bundle.fingerprint, ROLE_READ, ERIN.bundle.email),
                                BOB)  # fmt: skip
    forged = erin_by_bob[:-64] + MALLORY.sign(LABEL_RESHARE_SIG + b"\x00" + erin_by_bob[:-64])
    one = encode_list([erin_by_bob])
    invalid = (
        ("no-right", "IntegrityError", "a member without the re-share bit adds someone",
         base, [add(DAN, ERIN, ROLE_READ)]),
        ("role-above-signer", "IntegrityError", "a reading member adds a writer",
         base, [add(CAROL, ERIN, ROLE_WRITE)]),
        ("adds-a-member", "IntegrityError", "adds someone who is a member already",
         base, [add(BOB, DAN, ROLE_READ)]),
        ("adds-a-members-email", "IntegrityError", "adds a new key under a member's email",
         base, [add(BOB, ERIN, ROLE_READ, email=DAN.bundle.email)]),
        ("adds-the-owner", "IntegrityError", "adds the owner",
         base, [add(BOB, ALICE, ROLE_READ)]),
        ("adds-the-owners-address", "IntegrityError", "adds another key under the owner's address",
         base, [add(BOB, ERIN, ROLE_READ, email="Alice@Example.org")]),
        ("adds-twice", "IntegrityError", "two additions of the same person",
         base, [erin_by_bob, add(CAROL, ERIN, ROLE_READ)]),
        ("other-folder", "IntegrityError", "names this roster's hash but another folder",
         base, [other_node]),
        ("other-owner", "IntegrityError", "names this roster's hash but another owner",
         base, [other_owner]),
        ("flipped-signature", "IntegrityError", "a signature byte changed",
         base, [flip(erin_by_bob, len(erin_by_bob) - 1)]),
        ("signed-by-another", "IntegrityError", "signed by a non-member in a member's name",
         base, [forged]),
        ("signer-key-swapped", "IntegrityError",
         "the server hands out another key for the re-sharing member",
         {**base, "bundles": {**bundles, BOB.bundle.email: bundle_hex(MALLORY)}},
         [erin_by_bob]),
        ("role-with-reshare-bit", "FormatError", "an added member with the re-share bit",
         base, [resign(erin_by_bob, role_at, ROLE_WRITE | 0x80, BOB)]),
        ("addition-truncated", "FormatError", "an addition cut short",
         base, [erin_by_bob[:-1]]),
        ("addition-bad-magic", "FormatError", "an addition with another magic",
         base, [b"BVRX" + erin_by_bob[4:]]),
    )  # fmt: skip
    for name, expect, desc, inputs, adds in invalid:
        yield Case("reshare", name, f"re-shares, {desc}", expect, inputs, encode_list(adds))
    for name, desc, data in (
        ("list-truncated", "the list cut short", one[:-1]),
        ("list-trailing", "trailing data after the list", one + b"\x00"),
        ("list-bad-magic", "the list with another magic", b"BVRX" + one[4:]),
        ("list-version-2", "an unknown list version", one[:4] + b"\x02" + one[5:]),
    ):
        yield Case("reshare", name, f"re-shares, {desc}", "FormatError", base, data)


def bundle_fp(who: Identity) -> str:
    return hexd(who.bundle.fingerprint)


# --- single-file shares (§15a) ----------------------------------------------------------------


def file_share_cases() -> Iterator[Case]:
    root = FolderKey(det("file-share-root-folder-key"))
    node = det("file-share-node", 16)
    k1, k2 = holder_key(root, node, 1), holder_key(root, node, 2)
    fp = ALICE.bundle.fingerprint

    def rost(version: int, kv: int, members: list[Member], prev: bytes) -> bytes:
        return _seal_roster_from_parts(
            OWNER, node, version, kv, members, "report.pdf", k1 if kv == 1 else k2, ALICE,
            det(f"file-share-roster-nonce-{version}", 12), prev,
        )  # fmt: skip

    bob_w = Member(BOB.bundle.fingerprint, ROLE_WRITE, BOB.bundle.email)
    carol_r = Member(CAROL.bundle.fingerprint, ROLE_READ, CAROL.bundle.email)
    r1 = rost(1, 1, [bob_w, carol_r], ZERO_HASH)
    r2 = rost(2, 2, [bob_w], roster_hash(r1))  # carol removed: key version 2

    e1 = FileEntry("report.pdf", node, FileKey(det("file-share-key-1")), 1, 1050,
                   1_700_000_000_000, 1_700_000_000_001, fp)  # fmt: skip
    e2 = FileEntry("report.pdf", node, FileKey(det("file-share-key-2")), 2, 2100,
                   1_700_000_100_000, 1_700_000_100_001, BOB.bundle.fingerprint,
                   (e1.as_version(),))  # fmt: skip

    def holder(
        body: ManifestBody,
        key: FolderKey,
        version: int,
        kv: int,
        prev: bytes,
        writer: Identity,
        tag: str,
        node_id: bytes = node,
    ) -> bytes:
        return _seal_from_parts(body.encode(), key, node_id, version, kv, prev, writer,
                                det(f"file-share-nonce-{tag}", 12))  # fmt: skip

    h1 = holder(holder_body(e1), k1, 1, 1, ZERO_HASH, ALICE, "v1")
    h2 = holder(holder_body(e2), k1, 2, 1, manifest_hash(h1), BOB, "v2")
    h3 = holder(holder_body(e2), k2, 3, 2, manifest_hash(h2), ALICE, "v3")
    base = {
        "owner": hexd(OWNER),
        "node_id": hexd(node),
        "signer": bundle_hex(ALICE),
        "root_folder_key": hexd(root.material),
        "bundles": [bundle_hex(p) for p in (ALICE, BOB, CAROL)],
    }

    def head(data: bytes) -> dict[str, Any]:
        return {"version": int.from_bytes(data[21:29], "big"), "hash": hexd(manifest_hash(data))}

    def out(data: bytes, key: FolderKey, kv: int, e: FileEntry, writer: Identity) -> dict[str, Any]:
        return {
            "holder_key": hexd(key.material),
            "key_version": kv,
            "version": head(data)["version"],
            "hash": hexd(manifest_hash(data)),
            "writer": bundle_fp(writer),
            "name": "report.pdf",
            "file": {
                "name": e.name,
                "node_id": hexd(e.node_id),
                "key": hexd(e.file_key.material),
                "content_version": e.content_version,
                "size": e.size,
                "history": [v.content_version for v in e.history],
            },
        }

    in1, in2 = {**base, "roster": hexd(r1)}, {**base, "roster": hexd(r2)}
    for name, desc, inputs, data, o in (
        ("v1-owner", "the holder as the owner first shares the file", in1, h1,
         out(h1, k1, 1, e1, ALICE)),
        ("v2-member-write", "a read-write member writes a new version", {**in1, "seen": head(h1)},
         h2, out(h2, k1, 1, e2, BOB)),
        ("v3-rotated", "a member removed: the holder re-sealed under key version 2",
         {**in2, "seen": head(h2)}, h3, out(h3, k2, 2, e2, ALICE)),
    ):  # fmt: skip
        yield Case("file-share", name, desc, "valid", inputs, data, o)

    other = det("file-share-other-node", 16)
    e_other = dataclasses.replace(e1, node_id=other)
    folder = FolderEntry("report.pdf", node, FolderKey(det("file-share-folder")), 1, 5)
    extra = FileEntry("notes.txt", det("file-share-extra", 16), FileKey(det("fs-x")), 1, 3, 7)
    two = ManifestBody((e1, extra), ())

    def bad(body: ManifestBody, tag: str) -> bytes:
        return holder(body, k1, 1, 1, ZERO_HASH, ALICE, tag)

    for name, expect, desc, inputs, data in (
        ("reader-wrote", "IntegrityError", "a read-only member signs a new version", in1,
         holder(holder_body(e2), k1, 2, 1, manifest_hash(h1), CAROL, "reader")),
        ("old-key-after-rotation", "IntegrityError",
         "a version sealed under key version 1 after the rotation to 2", in2,
         holder(holder_body(e2), k1, 3, 2, manifest_hash(h2), BOB, "old-key")),
        ("two-entries", "IntegrityError", "the holder holds a second file", in1, bad(two, "two")),
        ("a-folder", "IntegrityError", "the holder holds a folder of the file's node id", in1,
         bad(ManifestBody((folder,), ()), "folder")),
        ("another-file", "IntegrityError", "the holder holds another node's file", in1,
         bad(holder_body(e_other), "other")),
        ("empty", "IntegrityError", "the holder holds nothing", in1,
         bad(ManifestBody(), "empty")),
        ("another-holder", "IntegrityError", "a valid holder of another file", in1,
         holder(holder_body(e_other), holder_key(root, other, 1), 1, 1, ZERO_HASH, ALICE,
                "another", other)),
        ("wrong-root-key", "IntegrityError", "another account's root folder key",
         {**in1, "root_folder_key": hexd(det("other-root-key"))}, h1),
        ("rolled-back", "RollbackError", "version 1 served to a device that saw version 2",
         {**in1, "seen": head(h2)}, h1),
        ("truncated", "FormatError", "cut short", in1, h1[:-1]),
        ("bad-magic", "FormatError", "another magic", in1, b"BVMX" + h1[4:]),
    ):  # fmt: skip
        yield Case("file-share", name, f"single-file share holder, {desc}", expect, inputs, data)
