"""The folder tree under a lying server: P-AEAD and P-BIND on manifests and the signed
root, P-FRESH (replays, forks), P-TOMBSTONE (dropped objects), P-NOINJECT (entries from a
writer who is not the owner) and P-META (only authenticated metadata is shown)."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from adv_proxy import (
    RECORD,
    Proxy,
    append,
    flip_bit,
    missing,
    on_json,
    on_record,
    replace,
    truncate,
)
from advlib import (
    FAST_KDF,
    PASSWORD,
    Account,
    Runner,
    Upstream,
    attack,
    fetch,
    make_account,
    runner_for,
    same_requests,
)

from blindvault.client.state import StateStore
from blindvault.client.vault import Vault
from blindvault.core.identity import Identity, IdentityBundle
from blindvault.core.keys import FileKey
from blindvault.core.manifest import (
    FileEntry,
    FolderEntry,
    ManifestBody,
    manifest_hash,
    open_manifest,
    seal_manifest,
)

Runs = dict[str, list[tuple[str, str, str, str]]]


def record_path(kind: str, ident: str) -> str:
    return f"/v1/records/{kind}/{ident}"


def test_p_aead_manifest_and_root_bytes(bv: Runner, proxy: Proxy, victim: Account) -> None:
    """P-AEAD: any changed byte of the /sub manifest or of the signed root is refused."""
    sub = victim.nodes["/sub"]
    for kind, ident, args in (
        ("manifest", sub, ["ls", "/sub"]),
        ("root", victim.owner, ["ls", "/"]),
    ):
        lies: dict[str, Any] = {f"flip-{i}": flip_bit(i) for i in (5, 20, 30, 60, 100, 112, 130)}
        lies |= {
            "flip-last": flip_bit(-1),
            "flip-sig-start": flip_bit(-64),
            "truncate": truncate(-1),
            "append": append(b"\x00"),
            "empty": replace(b""),
            "garbage": replace(os.urandom(300)),
        }
        runs: Runs = {}
        for name, op in lies.items():
            proxy.reset()
            proxy.add(on_record(kind, op, ident))
            structural = name in ("truncate", "append", "empty", "garbage")
            runs[name] = attack(bv, proxy, args, {9, 10} if structural else 10)
        same_requests(runs)
        for name in ("magic", "format-version"):  # parsed before anything is verified
            proxy.reset()
            proxy.add(on_record(kind, flip_bit(0 if name == "magic" else 4), ident))
            attack(bv, proxy, args, {9, 10})


def test_p_bind_manifests_cannot_move(
    bv: Runner, proxy: Proxy, victim: Account, upstream: Upstream
) -> None:
    """P-BIND: the root manifest served as /sub's, /sub/deep's as /sub's, and the root
    record's bytes presented as a manifest."""
    sub = record_path("manifest", victim.nodes["/sub"])
    runs: Runs = {}
    for name, source in (
        ("root-folder", record_path("manifest", victim.nodes["/"])),
        ("deep-folder", record_path("manifest", victim.nodes["/sub/deep"])),
        ("signed-root", record_path("root", victim.owner)),
    ):
        other = json.loads(fetch(upstream, victim, source))
        proxy.reset()
        proxy.add(on_json("GET", sub, lambda d, o=other: {**d, "data": o["data"]}))
        runs[name] = attack(bv, proxy, ["ls", "/sub"], {9, 10} if name == "signed-root" else 10)
    same_requests(runs)


def test_p_fresh_replayed_manifest_root_and_version(
    bv: Runner, proxy: Proxy, victim: Account, upstream: Upstream
) -> None:
    """P-FRESH: after seeing the latest state, the server serves older (valid, signed)
    manifests and roots, or relabels a record's version."""
    root_path = record_path("manifest", victim.nodes["/"])
    signed_root = record_path("root", victim.owner)
    old_manifests = [json.loads(b) for b in proxy.history.get(("GET", root_path), [])]
    old_roots = [json.loads(b) for b in proxy.history.get(("GET", signed_root), [])]
    now = json.loads(fetch(upstream, victim, root_path))
    old_manifests = [m for m in old_manifests if m["version"] < now["version"]]
    old_roots = [
        r
        for r in old_roots
        if r["data"] != json.loads(fetch(upstream, victim, signed_root))["data"]
    ]
    assert len(old_manifests) >= 3 and len(old_roots) >= 3
    runs: Runs = {}
    for i, old in enumerate(old_manifests[:3]):
        proxy.reset()
        proxy.add(on_json("GET", root_path, lambda _, o=old: o))
        runs[f"manifest-v{old['version']}"] = attack(bv, proxy, ["ls", "/"], 10)
        assert i < 3
    for old in old_roots[:3]:
        proxy.reset()
        proxy.add(on_json("GET", signed_root, lambda _, o=old: o))
        attack(bv, proxy, ["ls", "/"], 10)  # refused at open: nothing after it either
    for delta in (-1, 1):  # the same sealed bytes under another record version
        proxy.reset()
        proxy.add(on_json("GET", root_path, lambda d, k=delta: {**d, "version": d["version"] + k}))
        runs[f"relabel{delta:+d}"] = attack(bv, proxy, ["ls", "/"], 10)
    same_requests(runs)


def _records(db: Path, email: str) -> list[tuple[str, str, int, bytes]]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(
            "select r.kind, r.id, r.version, r.data from records r "
            "join accounts a on a.id = r.owner where a.email = ?",
            (email,),
        ).fetchall()


def test_p_fresh_fork_of_two_devices(
    proxy: Proxy,
    upstream: Upstream,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """P-FRESH: the server forks the account. Device B writes (version n+1); the server
    rolls back to n and lets device A write another n+1. B must notice, however valid A's
    objects are; A, which never saw B's write, cannot (the documented limit)."""
    email = f"fork{os.urandom(3).hex()}@example.org"
    acc = make_account(proxy, tmp_path / "a", email, {"/x.txt": b"x"}, [])
    db = upstream.data / "blindvault.sqlite3"
    home_b = tmp_path / "b"
    with Vault.open(proxy.url, email, PASSWORD, store=StateStore(home_b), min_kdf=FAST_KDF) as b:
        assert b.verify()[2] == []
    before = _records(db, email)
    (tmp_path / "y.txt").write_text("from B")
    bv_b = Runner(home_b, monkeypatch, capsys)
    assert bv_b("put", str(tmp_path / "y.txt"), "/")[0] == 0
    # B pinned its own write: the signed root it wrote is its new high-water mark
    (state,) = (home_b / "accounts").glob("*.json")
    root = next(d for k, _, _, d in _records(db, email) if k == "root")
    assert json.loads(state.read_text())["root_sequence"] == int.from_bytes(root[21:29], "big")
    with closing(sqlite3.connect(db)) as conn:  # the server rolls back B's write...
        for kind, ident, version, data in before:
            conn.execute(
                "update records set version = ?, data = ? where kind = ? and id = ?",
                (version, data, kind, ident),
            )
        conn.commit()
    (tmp_path / "z.txt").write_text("from A")
    with acc.vault(proxy.url) as a:  # ...and A writes another n+1 on the old state
        a.put(tmp_path / "z.txt", "/")
        assert {e.name for e in a.ls("/")} == {"x.txt", "z.txt"}
    before_state = bv_b.snapshot()
    code, out, err = bv_b("ls", "/")
    assert code == 10, err
    assert "rollback" in err or "fork" in err
    assert out == ""
    assert bv_b("ls", "/")[0] == 10
    assert bv_b.snapshot() == before_state


def test_p_tombstone_dropped_objects_are_not_deletions(
    bv: Runner, proxy: Proxy, victim: Account
) -> None:
    """P-TOMBSTONE: the server drops a folder, the signed root or a blob: the client
    refuses or reports it, and never writes a deletion."""
    attack_drop = {
        "folder": (missing("GET", record_path("manifest", victim.nodes["/sub"])), ["ls", "/sub"]),
        "deep": (
            missing("GET", record_path("manifest", victim.nodes["/sub/deep"])),
            ["ls", "/sub/deep"],
        ),
        "root": (missing("GET", record_path("root", victim.owner)), ["ls", "/"]),
        "blob": (missing("GET", f"/v1/blobs/{victim.blobs['/a.txt']}"), ["verify"]),
    }
    for name, (rule, args) in attack_drop.items():
        proxy.reset()
        proxy.add(rule)
        attack(bv, proxy, args, 10)
        assert proxy.writes_after_lie() == [], name
    proxy.reset()
    code, out, _ = bv("ls", "/")
    assert code == 0
    assert "a.txt" in out.split()


def test_p_tombstone_put_into_a_dropped_folder_writes_nothing(
    proxy: Proxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A folder the client has seen disappears while the user puts a file into it: the
    client must not recreate it empty (which would delete its content)."""
    acc = make_account(
        proxy, tmp_path / "h", f"drop{os.urandom(3).hex()}@example.org", {"/d/keep.txt": b"k"}, []
    )
    bv = runner_for(acc, tmp_path, monkeypatch, capsys)
    (tmp_path / "new.txt").write_text("new")
    proxy.reset()
    proxy.add(missing("GET", record_path("manifest", acc.nodes["/d"])))
    attack(bv, proxy, ["put", str(tmp_path / "new.txt"), "/d"], 10)
    assert proxy.writes_after_lie() == []
    proxy.reset()
    assert bv("ls", "/d")[1].split() == ["keep.txt"]


def test_p_noinject_entry_from_an_unknown_writer(
    bv: Runner, proxy: Proxy, victim: Account, upstream: Upstream
) -> None:
    """P-NOINJECT (own tree): someone who knows /sub's folder key (say, a former member)
    but not the owner's signing key writes a well-formed next version with an extra file.
    It is not shown: the whole manifest is refused."""
    sub_node = bytes.fromhex(victim.nodes["/sub"])
    folder = victim.entries["/sub"]
    assert isinstance(folder, FolderEntry)
    account = json.loads(fetch(upstream, victim, "/v1/account"))
    me = IdentityBundle.decode(base64.b64decode(account["identity_bundle"]))
    rec = json.loads(fetch(upstream, victim, record_path("manifest", victim.nodes["/sub"])))
    sealed = base64.b64decode(rec["data"])
    opened = open_manifest(sealed, folder.folder_key, sub_node, {me.fingerprint: me})
    mallory = Identity.generate("mallory@example.org", 1)
    injected = FileEntry("injected.txt", os.urandom(16), FileKey.generate(), 1, 5, 1)
    body = ManifestBody(
        tuple(sorted((*opened.body.entries, injected), key=lambda e: e.name.encode())),
        opened.body.tombstones,
    )
    runs: Runs = {}
    for name, version, prev in (
        ("next-version", opened.version + 1, manifest_hash(sealed)),
        ("same-version", opened.version, opened.prev_hash),
    ):
        forged = seal_manifest(
            body,
            folder.folder_key,
            node_id=sub_node,
            version=version,
            key_version=folder.key_version,
            prev_hash=prev,
            writer=mallory,
        )
        doc = {**rec, "version": version, "data": base64.b64encode(forged).decode()}
        proxy.reset()
        proxy.add(on_json("GET", record_path("manifest", victim.nodes["/sub"]), lambda _, d=doc: d))
        runs[name] = attack(bv, proxy, ["ls", "/sub"], 10)
    same_requests(runs)


def test_p_meta_only_authenticated_metadata_is_shown(
    bv: Runner, proxy: Proxy, victim: Account
) -> None:
    """P-META: the server lies in every field it controls outside the sealed bytes of what
    `ls -l` reads (the manifest and signed-root records: extra size, time and author
    fields, headers); `ls -l --json` shows the manifest's values only."""
    told: list[str] = []

    def lie(ex: Any) -> None:
        m = RECORD.match(ex.path)
        if ex.method != "GET" or ex.status != 200 or not m:
            return
        ex.set_json(
            {
                **ex.json(),
                "size": 1,
                "mtime_ms": 0,
                "updated_at": 0,
                "author": "00" * 32,
                "entries": [{"name": "a.txt", "size": 1, "mtime_ms": 0, "author": "00" * 32}],
            }
        )
        ex.headers["last-modified"] = "Thu, 01 Jan 1970 00:00:00 GMT"
        ex.headers["x-size"] = "1"
        ex.mutated = True
        told.append(m.group(1))

    proxy.add(lie)
    code, out, err = bv("ls", "-l", "--json", "/")
    assert code == 0, err
    assert {"manifest", "root"} <= set(told)  # the lie was told where `ls -l` reads
    shown = {e["name"]: e for e in json.loads(out)}
    for path, content in victim.files.items():
        if path.count("/") == 1:
            assert shown[path[1:]]["size"] == len(content)
            assert "author" not in shown[path[1:]]  # issue 11, item 9: no unsigned author
            assert shown[path[1:]]["mtime_ms"] == victim.entries[path].mtime_ms


def test_p_fresh_sdk_pins_its_own_writes(proxy: Proxy, upstream: Upstream, tmp_path: Path) -> None:
    """The SDK, like the CLI, must remember the root it wrote itself: otherwise a server can
    fork a device's own write away (the fork test above, through `Vault`)."""
    email = f"sdk{os.urandom(3).hex()}@example.org"
    acc = make_account(proxy, tmp_path / "h", email, {}, [])
    (tmp_path / "f.txt").write_text("f")
    with acc.vault(proxy.url) as vault:
        vault.put(tmp_path / "f.txt", "/")
    (state,) = (acc.home / "accounts").glob("*.json")
    root = next(
        d for k, _, _, d in _records(upstream.data / "blindvault.sqlite3", email) if k == "root"
    )
    assert json.loads(state.read_text())["root_sequence"] == int.from_bytes(root[21:29], "big")


def test_p_fresh_new_device_refuses_a_folder_older_than_its_signed_root(
    proxy: Proxy,
    upstream: Upstream,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """P-FRESH on a device that has read nothing yet: it has no folder heads of its own, so
    only the owner-signed root says which version of /d is current. The server serves an
    older (validly signed) /d: refused, and the old listing is not shown."""
    email = f"new{os.urandom(3).hex()}@example.org"
    acc = make_account(proxy, tmp_path / "a", email, {"/d/old.txt": b"old"}, [])
    path = record_path("manifest", acc.nodes["/d"])
    old = json.loads(fetch(upstream, acc, path))
    (tmp_path / "new.txt").write_text("new")
    with acc.vault(proxy.url) as vault:
        vault.put(tmp_path / "new.txt", "/d")
        vault.rm("/d/old.txt")
    assert json.loads(fetch(upstream, acc, path))["version"] > old["version"]
    home = tmp_path / "fresh"
    Vault.open(proxy.url, email, PASSWORD, store=StateStore(home), min_kdf=FAST_KDF).close()
    bv = Runner(home, monkeypatch, capsys)
    assert bv("ls", "/")[0] == 0  # the root folder only: this device never read /d
    assert (
        acc.nodes["/d"]
        not in json.loads(next((home / "accounts").glob("*.json")).read_text())["heads"]
    )
    proxy.reset()
    proxy.add(on_json("GET", path, lambda _: old))
    attack(bv, proxy, ["ls", "/d"], 10)
    code, out, _ = bv("ls", "/d")
    assert code == 10
    assert "old.txt" not in out
    proxy.reset()
    assert bv("ls", "/d")[1].split() == ["new.txt"]
