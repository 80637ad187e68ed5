"""Single-file shares (issue 19) under a lying server: a swapped holder, an old version
replayed, a write forged by a read-only member, and a holder that names another file.

Three real accounts through the proxy: the owner shares /docs/a.txt and /docs/b.txt
read-only with `reader`, and /docs/a.txt read-write with `writer`. Each test lies about one
answer and runs the real CLI command of the owner and of a member: exit 10, nothing shown,
nothing written, no trust state moved (`attack`)."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from blindvault.core.fileshare import holder_body
from blindvault.core.identity import Identity
from blindvault.core.keys import FileKey, FolderKey
from blindvault.core.manifest import FileEntry, manifest_hash, open_manifest, seal_manifest
from helpers.adversarial import Account, Cast, Upstream, attack, fetch, make_account
from helpers.proxy import Proxy, on_json


@dataclass
class Docs(Cast):
    owner: Account
    reader: Account
    writer: Account
    a: str  # node id (hex) of /docs/a.txt: its holder's node id too
    b: str
    tmp: Path

    def out(self) -> Path:
        d = self.tmp / f"out-{os.urandom(3).hex()}"
        d.mkdir()
        return d


def _accept_all(docs: Docs, member: Account) -> None:
    for item in json.loads(docs.ok(member, "shares", "--json"))["incoming"]:
        if not item["accepted"]:
            docs.ok(member, "accept", str(item["id"]), "--trust-on-first-use")


@pytest.fixture
def docs(
    proxy: Proxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Docs:
    tag = os.urandom(3).hex()
    monkeypatch.delenv("BLINDVAULT_NEW_PASSWORD", raising=False)
    files = {"/docs/a.txt": b"alpha", "/docs/b.txt": b"bravo"}
    accounts = {
        name: make_account(
            proxy, tmp_path / name, f"{name}{tag}@example.org", files if name == "owner" else {}, []
        )
        for name in ("owner", "reader", "writer")
    }
    owner = accounts["owner"]
    d = Docs(owner, accounts["reader"], accounts["writer"], owner.nodes["/docs/a.txt"],
             owner.nodes["/docs/b.txt"], tmp_path, monkeypatch=monkeypatch,
             capsys=capsys)  # fmt: skip
    for path in ("/docs/a.txt", "/docs/b.txt"):
        d.ok(owner, "share", path, "--with", d.reader.email, "--trust-on-first-use")
    d.ok(owner, "share", "/docs/a.txt", "--with", d.writer.email, "--write",
         "--trust-on-first-use")  # fmt: skip
    _accept_all(d, d.reader)
    _accept_all(d, d.writer)
    assert {e["name"] for e in json.loads(d.ok(d.reader, "ls", "--json", "@shared"))} == {
        "a.txt",
        "b.txt",
    }
    proxy.reset()
    return d


def _holder(upstream: Upstream, docs: Docs, node: str) -> dict[str, Any]:
    return dict(json.loads(fetch(upstream, docs.owner, f"/v1/records/manifest/{node}")))


def _refused(docs: Docs, proxy: Proxy, cases: list[tuple[Account, str]]) -> None:
    for acc, remote in cases:
        out = docs.out()
        sent = attack(docs.run(acc), proxy, ["get", remote, str(out)], 10, out_dir=out)
        assert [r for r in sent if r[0] not in ("GET", "HEAD")] == []


def test_swapped_shared_files_are_refused(docs: Docs, proxy: Proxy, upstream: Upstream) -> None:
    """The server answers for b.txt's holder with a.txt's (validly signed) holder: the
    holder is bound to its node id, so neither the owner nor the member shows alpha as b."""
    a = _holder(upstream, docs, docs.a)
    proxy.add(on_json("GET", f"/v1/records/manifest/{docs.b}", lambda _: a))
    _refused(docs, proxy, [(docs.reader, "@shared/b.txt"), (docs.owner, "/docs/b.txt")])


def test_an_old_version_of_a_shared_file_is_refused(
    docs: Docs, proxy: Proxy, upstream: Upstream
) -> None:
    """The writer writes version 2 of a.txt; after the reader and the owner saw it, the
    server replays the holder with version 1: a rollback (P-FRESH), exit 10."""
    old = _holder(upstream, docs, docs.a)
    (docs.tmp / "v2").write_bytes(b"alpha, version 2")
    docs.ok(docs.writer, "put", str(docs.tmp / "v2"), "@shared/a.txt")
    for acc, remote in ((docs.reader, "@shared/a.txt"), (docs.owner, "/docs/a.txt")):
        out = docs.out()
        docs.ok(acc, "get", remote, str(out / "a"))
        assert (out / "a").read_bytes() == b"alpha, version 2"
    proxy.reset()
    proxy.add(on_json("GET", f"/v1/records/manifest/{docs.a}", lambda _: old))
    _refused(docs, proxy, [(docs.reader, "@shared/a.txt"), (docs.owner, "/docs/a.txt")])


def _next_holder(
    proxy: Proxy,
    upstream: Upstream,
    docs: Docs,
    node: str,
    entry: FileEntry,
    signer: Identity,
    key: FolderKey,
) -> dict[str, Any]:
    """The next version of a holder, naming `entry`, sealed under `key`, signed by `signer`."""
    rec = _holder(upstream, docs, node)
    sealed = base64.b64decode(rec["data"])
    with docs.owner.vault(proxy.url) as v:
        opened = open_manifest(sealed, key, bytes.fromhex(node),
                               {v.fingerprint: v.opened.identity.bundle})  # fmt: skip
    version = int(rec["version"]) + 1
    forged = seal_manifest(holder_body(entry), key, node_id=bytes.fromhex(node), version=version,
                           key_version=opened.key_version, prev_hash=manifest_hash(sealed),
                           writer=signer)  # fmt: skip
    return {**rec, "version": version, "data": base64.b64encode(forged).decode()}


def test_a_write_forged_by_a_reader_is_refused(
    docs: Docs, proxy: Proxy, upstream: Upstream
) -> None:
    """The server accepts (and serves) a next version of a.txt signed by the read-only
    member, who holds the holder key: not a writer of the owner-signed roster (P-ROSTER)."""
    with docs.reader.vault(proxy.url) as r:
        mount = r.shares.spaces.file_mounts()["a.txt"]
        key, reader = mount.key, r.opened.identity
    entry = FileEntry("a.txt", bytes.fromhex(docs.a), FileKey.generate(), 9, 6, 1)
    doc = _next_holder(proxy, upstream, docs, docs.a, entry, reader, key)
    proxy.add(on_json("GET", f"/v1/records/manifest/{docs.a}", lambda _: doc))
    _refused(docs, proxy, [(docs.owner, "/docs/a.txt"), (docs.writer, "@shared/a.txt")])


def test_a_holder_naming_another_file_is_refused(
    docs: Docs, proxy: Proxy, upstream: Upstream
) -> None:
    """A read-write member (a roster writer) signs a holder of a.txt that names another
    node's file: a single-file share holds exactly its own file, so it is refused."""
    with docs.writer.vault(proxy.url) as w:
        mount = w.shares.spaces.file_mounts()["a.txt"]
        key, writer = mount.key, w.opened.identity
    entry = FileEntry("a.txt", os.urandom(16), FileKey.generate(), 1, 6, 1)
    doc = _next_holder(proxy, upstream, docs, docs.a, entry, writer, key)
    proxy.add(on_json("GET", f"/v1/records/manifest/{docs.a}", lambda _: doc))
    # (the holder itself is authentic, by a roster writer: a device may remember its head)
    for acc, remote in ((docs.owner, "/docs/a.txt"), (docs.reader, "@shared/a.txt")):
        out = docs.out()
        proxy.log.clear()
        code, shown, err = docs.run(acc)("get", remote, str(out))
        assert code == 10, err
        assert shown == "" and list(out.iterdir()) == []
        assert [r for r in proxy.after_lie() if r[0] not in ("GET", "HEAD")] == []


def test_shares_items_take_roles_from_the_signed_roster(docs: Docs, proxy: Proxy) -> None:
    """`shares --json` items: the server raises the reader's role and lists a grant for a
    stranger; the roles shown are the owner-signed roster's, the stranger is reported."""

    def lie(d: Any) -> Any:
        out = [{**g, "role": "write"} for g in d["outgoing"]]
        fake = {**out[0], "id": "ab" * 16, "member_email": "mallory@example.org"}
        d["outgoing"] = [*out, fake]
        return d

    proxy.add(on_json("GET", "/v1/shares", lie))
    items = {i["path"]: i for i in json.loads(docs.ok(docs.owner, "shares", "--json"))["items"]}
    a, b = items["/docs/a.txt"], items["/docs/b.txt"]
    assert {m["email"]: m["role"] for m in a["members"]} == {
        docs.reader.email: "read",
        docs.writer.email: "write",
    }
    assert [m["role"] for m in b["members"]] == ["read"] and a["kind"] == b["kind"] == "file"
    assert "mallory@example.org" in a["not_in_roster"] + b["not_in_roster"]
