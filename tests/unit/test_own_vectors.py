"""Apply every file of tests/vectors/v1/ through the public API of the core.

The same files are the contract for every other implementation (the link page).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from blindvault.client.tree.paged import PageCache, load
from blindvault.core import content, wrap
from blindvault.core.drops import (
    OwnerDropKeys,
    open_drop,
    open_drop_head,
    open_drop_link,
    open_owner_note,
    peek_drop,
)
from blindvault.core.envelope import open_envelope
from blindvault.core.fileshare import holder_key, the_file
from blindvault.core.group import (
    check_group_fresh,
    group_email,
    group_identity,
    group_key,
    open_group_roster,
)
from blindvault.core.identity import Identity, IdentityBundle, safety_number
from blindvault.core.kdf import KdfParams, account_id, derive_account_keys, kdf_salt
from blindvault.core.keys import FolderKey, MasterKey, VaultKey
from blindvault.core.links import link_key, link_token, open_link_descriptor, parse_link
from blindvault.core.manifest import FileEntry, ManifestHead, check_fresh, open_manifest
from blindvault.core.padme import padded_length
from blindvault.core.recovery import recovery_key_from_words
from blindvault.core.reshare import apply_additions, decode_list, open_addition
from blindvault.core.root import open_root
from blindvault.core.roster import open_roster
from blindvault.errors import FormatError, IntegrityError, KdfPolicyError, RollbackError

ROOT = Path(__file__).parents[1] / "vectors"
FILES = sorted((ROOT / "v1").glob("*/*.json"))
ERRORS: dict[str, type[Exception]] = {
    "FormatError": FormatError,
    "IntegrityError": IntegrityError,
    "KdfPolicyError": KdfPolicyError,
    "RollbackError": RollbackError,
}


def h(value: str) -> bytes:
    return bytes.fromhex(value)


def apply_kdf(v: dict[str, Any], data: bytes) -> dict[str, Any]:
    inp = v["inputs"]
    params = KdfParams.from_json(inp["params"])
    assert params.encode() == data
    keys = derive_account_keys(inp["password"], inp["email"], params)
    return {
        "salt": kdf_salt(inp["email"]).hex(),
        "account_id": account_id(inp["email"]).hex(),
        "master_key": keys.master.material.hex(),
        "auth_key": keys.auth.material.hex(),
    }


def apply_wrapped_key(v: dict[str, Any], data: bytes) -> dict[str, Any]:
    inp = v["inputs"]
    wrapping = MasterKey(h(inp["wrapping_key"]))
    payload = wrap._unwrap(
        wrapping, inp["kind"], data, h(inp["owner"]), h(inp["object"]), inp["version"]
    )
    return {"key": payload.hex()}


def apply_manifest_paged(v: dict[str, Any], data: bytes) -> dict[str, Any]:
    """Spec §7a through the tree's own page reader (client/tree/paged.py): the pages are
    served from `inputs.pages` as the server's batch answer would."""
    inp = v["inputs"]
    writers = {b.fingerprint: b for b in (IdentityBundle.decode(h(w)) for w in inp["writers"])}
    key, node = FolderKey(h(inp["folder_key"])), h(inp["node_id"])
    m = open_manifest(data, key, node, writers)
    if "seen" in inp:
        check_fresh(ManifestHead(node, inp["seen"]["version"], h(inp["seen"]["hash"])), m)
    pages = {h(k): h(p) for k, p in inp["pages"].items()}
    body, _ = load(lambda ids: {i: pages[i] for i in ids if i in pages}, m, key, PageCache())
    assert m.paged is not None
    return {
        "version": m.version,
        "hash": m.hash.hex(),
        "bits": m.paged.bits,
        "names": sorted(e.name for e in body.entries),
        "sizes": {e.name: e.size for e in body.entries if isinstance(e, FileEntry)},
        "tombstones": [t.node_id.hex() for t in body.tombstones],
    }


def apply_identity(v: dict[str, Any], data: bytes) -> dict[str, Any]:
    b = IdentityBundle.decode(data)
    return {
        "email": b.email,
        "suite": b.suite,
        "sign_public": b.sign_public.hex(),
        "hpke_public": b.hpke_public.hex(),
        "fingerprint": b.fingerprint.hex(),
        "safety_number": safety_number(b.fingerprint),
    }


def apply_manifest(v: dict[str, Any], data: bytes) -> dict[str, Any]:
    inp = v["inputs"]
    writers = {b.fingerprint: b for b in (IdentityBundle.decode(h(w)) for w in inp["writers"])}
    m = open_manifest(data, FolderKey(h(inp["folder_key"])), h(inp["node_id"]), writers)
    entries: list[dict[str, Any]] = []
    for e in m.body.entries:
        common = {"name": e.name, "node_id": e.node_id.hex(), "mtime_ms": e.mtime_ms}
        if isinstance(e, FileEntry):
            entries.append(
                {**common, "kind": "file", "key": e.file_key.material.hex(),
                 "content_version": e.content_version, "size": e.size,
                 "written_ms": e.written_ms, "writer": e.writer.hex(),
                 "history": [
                     {"content_version": x.content_version, "key": x.file_key.material.hex(),
                      "mtime_ms": x.mtime_ms, "size": x.size, "writer": x.writer.hex(),
                      "written_ms": x.written_ms}
                     for x in e.history
                 ]}
            )  # fmt: skip
        else:
            entries.append(
                {**common, "kind": "folder", "key": e.folder_key.material.hex(),
                 "key_version": e.key_version}
            )  # fmt: skip
    return {
        "version": m.version,
        "key_version": m.key_version,
        "prev_hash": m.prev_hash.hex(),
        "writer": m.writer.hex(),
        "hash": m.hash.hex(),
        "body": m.body.encode().hex(),
        "entries": entries,
        "tombstones": [
            {"node_id": t.node_id.hex(), "deleted_ms": t.deleted_ms} for t in m.body.tombstones
        ],
    }


def apply_root(v: dict[str, Any], data: bytes) -> dict[str, Any]:
    inp = v["inputs"]
    r = open_root(data, h(inp["owner"]), IdentityBundle.decode(h(inp["signer"])))
    return {
        "sequence": r.sequence,
        "prev_hash": r.prev_hash.hex(),
        "heads": [
            {"node_id": x.node_id.hex(), "version": x.version, "hash": x.hash.hex()}
            for x in r.heads
        ],
        "rosters": [
            {"node_id": x.node_id.hex(), "version": x.version, "hash": x.hash.hex()}
            for x in r.rosters
        ],
    }


def apply_roster(v: dict[str, Any], data: bytes) -> dict[str, Any]:
    inp = v["inputs"]
    r = open_roster(
        data, h(inp["owner"]), h(inp["node_id"]), IdentityBundle.decode(h(inp["signer"]))
    )
    return {
        "version": r.version,
        "key_version": r.key_version,
        "prev_hash": r.prev_hash.hex(),
        "hash": r.hash.hex(),
        "owner_fingerprint": r.owner_fingerprint.hex(),
        "members": [
            {"fingerprint": m.fingerprint.hex(), "role": m.role, "email": m.email}
            for m in r.members
        ],
        "name": r.name(FolderKey(h(inp["folder_key"]))),
    }


def apply_envelope(v: dict[str, Any], data: bytes) -> dict[str, Any]:
    inp = v["inputs"]
    me = Identity(h(inp["recipient_secret"]), inp["recipient_email"], inp["recipient_created_ms"])
    e = open_envelope(data, me, IdentityBundle.decode(h(inp["sender"])))
    return {
        "share_id": e.share_id.hex(),
        "node_id": e.node_id.hex(),
        "key_version": e.key_version,
        "role": e.role,
        "kind": "folder" if isinstance(e.key, FolderKey) else "file",
        "key": e.key.material.hex(),
    }


def apply_link(v: dict[str, Any], data: bytes) -> dict[str, Any]:
    inp = v["inputs"]
    link = parse_link(inp["url"])
    key = link_key(link.secret, link.link_id, inp["password"])
    d = open_link_descriptor(data, key, link.link_id)
    return {
        "link_id": link.link_id.hex(),
        "secret": link.secret.hex(),
        "token": link_token(link.secret, link.link_id).hex(),
        "link_key": key.material.hex(),
        "kind": "folder" if isinstance(d.key, FolderKey) else "file",
        "node_id": d.node_id.hex(),
        "key": d.key.material.hex(),
        "version": d.version,
        "size": d.size,
        "mtime_ms": d.mtime_ms,
        "name": d.name,
    }


def apply_content(v: dict[str, Any], data: bytes) -> dict[str, Any]:
    inp = v["inputs"]
    from blindvault.core import primitives
    from blindvault.core.keys import FileKey

    plain = content.open_content(
        FileKey(h(inp["key"])), h(inp["node_id"]), inp["content_version"], inp["size"], data
    )
    out = {
        "plaintext_sha256": primitives.sha256(plain).hex(),
        "padded_size": padded_length(inp["size"]),
        "context": content.content_context(h(inp["node_id"]), inp["content_version"]).hex(),
    }
    if inp["size"] <= 1000:
        out["plaintext"] = plain.hex()
    return out


def apply_key_bundle(v: dict[str, Any], data: bytes) -> dict[str, Any]:
    from blindvault.core.keybundle import KeyBundle
    from blindvault.core.keys import RecoveryKey

    inp = v["inputs"]
    bundle = KeyBundle.decode(data)
    if inp["open_with"] == "master":
        opened = bundle.open(MasterKey(h(inp["key"])), inp["email"])
    else:
        opened = bundle.open_with_recovery(RecoveryKey(h(inp["key"])), inp["email"])
    return {
        "vault_key": opened.vault.material.hex(),
        "root_folder_key": opened.root_key.material.hex(),
        "identity_fingerprint": opened.identity.bundle.fingerprint.hex(),
        "root_node": bundle.root_node.hex(),
    }


def apply_recovery(v: dict[str, Any], data: bytes) -> dict[str, Any]:
    assert recovery_key_from_words(v["inputs"]["words"]).material == data
    return {}


def apply_padme(v: dict[str, Any], data: bytes) -> dict[str, Any]:
    return {"padded": [padded_length(s) for s in v["inputs"]["sizes"]]}


def apply_group_roster(v: dict[str, Any], data: bytes) -> dict[str, Any]:
    """§15b as a member's device checks it (client/sharing/groupkeys.py): the roster, its
    freshness, then the group key it holds against the roster's group fingerprint."""
    inp = v["inputs"]
    gid = h(inp["group_id"])
    r = open_group_roster(data, h(inp["owner"]), gid, IdentityBundle.decode(h(inp["signer"])))
    if "seen" in inp:
        check_group_fresh((inp["seen"]["version"], h(inp["seen"]["hash"])), r)
    key = FolderKey(h(inp["group_key"]))
    name = r.name(key)
    if group_identity(key, gid).bundle.fingerprint != r.group_fingerprint:
        raise IntegrityError("the group key is not the one the member list names")
    return {
        "version": r.version,
        "key_version": r.key_version,
        "prev_hash": r.prev_hash.hex(),
        "hash": r.hash.hex(),
        "owner_fingerprint": r.owner_fingerprint.hex(),
        "group_fingerprint": r.group_fingerprint.hex(),
        "group_email": group_email(gid),
        "group_key": group_key(
            FolderKey(h(inp["root_folder_key"])), gid, r.key_version
        ).material.hex(),
        "members": [{"fingerprint": m.fingerprint.hex(), "email": m.email} for m in r.members],
        "name": name,
    }


def apply_reshare(v: dict[str, Any], data: bytes) -> dict[str, Any]:
    """§15c: the list (record `reshares`) applied to the owner-signed roster."""
    inp = v["inputs"]
    roster = open_roster(
        h(inp["roster"]),
        h(inp["owner"]),
        h(inp["node_id"]),
        IdentityBundle.decode(h(inp["signer"])),
    )
    additions = [open_addition(a) for a in decode_list(data)]
    bundles = {e: IdentityBundle.decode(h(b)) for e, b in inp["bundles"].items()}
    r = apply_additions(roster, additions, lambda m: bundles[m.email])
    return {
        "roster_hash": roster.hash.hex(),
        "members": [
            {
                "fingerprint": m.fingerprint.hex(),
                "role": m.role,
                "email": m.email,
                "reshare": m.reshare,
            }
            for m in r.members
        ],
        "added_by": [{"member": m.hex(), "by": b.hex()} for m, b in r.added_by],
    }


def apply_file_share(v: dict[str, Any], data: bytes) -> dict[str, Any]:
    """§15a: the holder key from the owner's root folder key and the roster's key version,
    the holder opened with the roster's writers, fresh, holding exactly its file."""
    inp = v["inputs"]
    node = h(inp["node_id"])
    roster = open_roster(
        h(inp["roster"]), h(inp["owner"]), node, IdentityBundle.decode(h(inp["signer"]))
    )
    key = holder_key(FolderKey(h(inp["root_folder_key"])), node, roster.key_version)
    allowed = roster.writer_fingerprints()
    pinned = (IdentityBundle.decode(h(b)) for b in inp["bundles"])
    m = open_manifest(
        data, key, node, {b.fingerprint: b for b in pinned if b.fingerprint in allowed}
    )
    if "seen" in inp:
        check_fresh(ManifestHead(node, inp["seen"]["version"], h(inp["seen"]["hash"])), m)
    e = the_file(m.body, node)
    return {
        "holder_key": key.material.hex(),
        "key_version": roster.key_version,
        "version": m.version,
        "hash": m.hash.hex(),
        "writer": m.writer.hex(),
        "name": roster.name(key),
        "file": {
            "name": e.name,
            "node_id": e.node_id.hex(),
            "key": e.file_key.material.hex(),
            "content_version": e.content_version,
            "size": e.size,
            "history": [x.content_version for x in e.history],
        },
    }


def apply_drop_link(v: dict[str, Any], data: bytes) -> dict[str, Any]:
    """§10a, a link holder: the URL gives the link key; the descriptor opens under it."""
    inp = v["inputs"]
    link = parse_link(inp["url"])
    t = open_drop_link(data, link_key(link.secret, link.link_id, None), link.link_id)
    keys = OwnerDropKeys(VaultKey(h(inp["vault_key"])), h(inp["link_id"]))
    assert keys.secret == link.secret  # the owner derives the secret in the URL
    return {
        "secret": keys.secret.hex(),
        "token": keys.token.hex(),
        "link_key": keys.link_key.material.hex(),
        "recipient": t.recipient.hex(),
        "max_size": t.max_size,
        "name": t.name,
    }


def apply_drop_note(v: dict[str, Any], data: bytes) -> dict[str, Any]:
    inp = v["inputs"]
    keys = OwnerDropKeys(VaultKey(h(inp["vault_key"])), h(inp["link_id"]))
    return {"path": open_owner_note(data, keys), "note_key": keys.note_key.hex()}


def apply_drop(v: dict[str, Any], data: bytes) -> dict[str, Any]:
    """§10a, the owner: the keys of the link the preamble names open the drop."""
    from blindvault.core import primitives
    from blindvault.core.padme import unpad_block

    vault = VaultKey(h(v["inputs"]["vault_key"]))
    link_id, _ = peek_drop(data)
    keys = OwnerDropKeys(vault, link_id)
    header, body = open_drop(data, keys)
    _, at = open_drop_head(data, keys)
    # open_drop checked the tag; read its bytes again to compare them with the vector
    plain = unpad_block(keys.open_header(data[39:at], data[:37]), 512)
    return {
        "link_id": header.link_id.hex(),
        "drop_id": header.drop_id.hex(),
        "file_key": header.file_key.material.hex(),
        "size": header.size,
        "mtime_ms": header.mtime_ms,
        "name": header.name,
        "tag": plain[-32:].hex(),
        "enc": data[39:71].hex(),
        "content_offset": at,
        "plaintext_sha256": primitives.sha256(body).hex(),
    }


APPLY: dict[str, Callable[[dict[str, Any], bytes], dict[str, Any]]] = {
    "kdf": apply_kdf,
    "wrapped-key": apply_wrapped_key,
    "identity-bundle": apply_identity,
    "manifest": apply_manifest,
    "root": apply_root,
    "roster": apply_roster,
    "envelope": apply_envelope,
    "link": apply_link,
    "content": apply_content,
    "key-bundle": apply_key_bundle,
    "recovery-words": apply_recovery,
    "padme": apply_padme,
    "manifest-paged": apply_manifest_paged,
    "group-roster": apply_group_roster,
    "reshare": apply_reshare,
    "file-share": apply_file_share,
    "drop-link": apply_drop_link,
    "drop-note": apply_drop_note,
    "drop": apply_drop,
}


def test_every_type_has_valid_and_invalid_cases() -> None:
    cases = [json.loads(p.read_text(encoding="utf-8")) for p in FILES]
    types = {c["type"] for c in cases}
    assert types == set(APPLY)
    for t in types - {"recovery-words", "padme"}:
        expects = {c["expect"] for c in cases if c["type"] == t}
        assert "valid" in expects, t
        assert expects - {"valid"}, t
    assert len(cases) >= 200


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_vector(path: Path) -> None:
    v = json.loads(path.read_text(encoding="utf-8"))
    data = h(v["data"])
    apply = APPLY[v["type"]]
    if v["type"] == "link" and v["expect"] == "FormatError":
        with pytest.raises(FormatError):
            parse_link(v["inputs"]["url"])
        return
    if v["expect"] == "valid":
        assert apply(v, data) == v["output"]
    else:
        with pytest.raises(ERRORS[v["expect"]]):
            apply(v, data)


def test_files_match_a_fresh_generator_run() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
