"""Shared folders under a lying server: P-NOINJECT through the roster's writer set and
P-FRESH / P-ROSTER on the share's key version (an old envelope replayed after a rotation).

Three real accounts through the proxy: the owner shares /team with a read-only member and a
read-write member. Each test then lies about one answer and runs the real CLI command."""

from __future__ import annotations

import base64
import json
import os
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from adv_proxy import Exchange, Proxy, missing, on_json
from advlib import FAST_KDF, PASSWORD, Account, Runner, Upstream, attack, fetch, make_account

from blindvault.client.state import StateStore
from blindvault.client.vault import Vault
from blindvault.core.keys import FileKey
from blindvault.core.manifest import (
    FileEntry,
    FolderEntry,
    ManifestBody,
    manifest_hash,
    open_manifest,
    seal_manifest,
)


@dataclass
class Team:
    owner: Account
    reader: Account
    writer: Account
    extra: Account
    node: str  # /team's node id (hex)
    owner_fp: str  # the owner's identity fingerprint (hex), as compared out of band
    tmp: Path
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]

    def run(self, acc: Account, home: Path | None = None) -> Runner:
        return Runner(home or acc.home, self.monkeypatch, self.capsys)

    def ok(self, acc: Account, *args: str) -> str:
        code, out, err = self.run(acc)(*args)
        assert code == 0, (args, err)
        return out


def _accept(team: Team, member: Account) -> None:
    incoming = json.loads(team.ok(member, "shares", "--json"))["incoming"]
    (item,) = [i for i in incoming if i["owner_email"] == team.owner.email]
    team.ok(member, "accept", str(item["id"]), "--trust-on-first-use")


@pytest.fixture
def team(
    proxy: Proxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Team:
    """/team (a.txt, old.txt) shared read-only with `reader`, read-write with `writer`, and
    read-only with `extra` (who is removed later by the key-rotation tests)."""
    tag = os.urandom(3).hex()
    monkeypatch.delenv("BLINDVAULT_NEW_PASSWORD", raising=False)
    accounts = {
        name: make_account(
            proxy,
            tmp_path / name,
            f"{name}{tag}@example.org",
            {"/team/a.txt": b"alpha", "/team/old.txt": b"old"} if name == "owner" else {},
            [],
        )
        for name in ("owner", "reader", "writer", "extra")
    }
    t = Team(
        accounts["owner"],
        accounts["reader"],
        accounts["writer"],
        accounts["extra"],
        accounts["owner"].nodes["/team"],
        "",
        tmp_path,
        monkeypatch,
        capsys,
    )
    for member, role in ((t.reader, ()), (t.writer, ("--write",)), (t.extra, ())):
        t.ok(t.owner, "share", "/team", "--with", member.email, "--trust-on-first-use", *role)
        _accept(t, member)
    with t.owner.vault(proxy.url) as v:
        t.owner_fp = v.fingerprint.hex()
    for member in (t.reader, t.writer, t.extra):
        assert {e["name"] for e in json.loads(t.ok(member, "ls", "--json", "@team"))} == {
            "a.txt",
            "old.txt",
        }
    proxy.reset()
    return t


def _record(upstream: Upstream, acc: Account, node: str) -> dict[str, Any]:
    return dict(json.loads(fetch(upstream, acc, f"/v1/records/manifest/{node}")))


def test_p_noinject_read_member_in_the_write_members_slot(
    team: Team, proxy: Proxy, upstream: Upstream
) -> None:
    """The server hands out the read-only member's key as the read-write member's, and the
    read-only member signs a next listing of /team naming the writer as its author. The
    owner's `ls /team` must check the served key against the owner-signed roster: exit 10,
    the injected file never shown."""
    with team.owner.vault(proxy.url) as v:
        entry = v.stat("/team")
        assert isinstance(entry, FolderEntry)
        shown = [v.stat(f"/team/{e.name}") for e in v.ls("/team")]
    with team.writer.vault(proxy.url) as w:
        writer_fp = w.opened.identity.bundle.fingerprint
    with team.reader.vault(proxy.url) as r:
        reader_identity = r.opened.identity
    rec = _record(upstream, team.owner, team.node)
    sealed = base64.b64decode(rec["data"])
    node = bytes.fromhex(team.node)
    injected = FileEntry("injected.txt", os.urandom(16), FileKey.generate(), 1, 5, 1)
    entries = [e for e in shown if isinstance(e, FileEntry)] + [injected]
    body = ManifestBody(tuple(sorted(entries, key=lambda e: e.name.encode())), ())
    # the reader signs, but the manifest names the writer: only a key mix-up lets it in
    posing = types.SimpleNamespace(
        bundle=types.SimpleNamespace(fingerprint=writer_fp), sign=reader_identity.sign
    )
    version = int(rec["version"]) + 1
    forged = seal_manifest(
        body,
        entry.folder_key,
        node_id=node,
        version=version,
        key_version=entry.key_version,
        prev_hash=manifest_hash(sealed),
        writer=posing,  # type: ignore[arg-type]
    )
    doc = {**rec, "version": version, "data": base64.b64encode(forged).decode()}
    reader_bundle = json.loads(fetch(upstream, team.owner, f"/v1/identities/{team.reader.email}"))
    proxy.add(
        on_json("GET", f"/v1/identities/{team.writer.email}", lambda d: {**d, **reader_bundle})
    )
    proxy.add(on_json("GET", f"/v1/records/manifest/{team.node}", lambda _: doc))
    bv = team.run(team.owner)
    sent = attack(bv, proxy, ["ls", "/team"], 10)
    assert [r for r in sent if r[0] not in ("GET", "HEAD")] == []  # nothing written after it
    code, out, _ = bv("ls", "/team")
    assert code == 10
    assert "injected" not in out


LOGIN = ("/v1/prelogin", "/v1/sessions/check")


def _writes(proxy: Proxy) -> list[tuple[str, str, str, str]]:
    """What the client wrote after the lie (each command logs in again: not a write)."""
    return [r for r in proxy.after_lie() if r[0] not in ("GET", "HEAD") and r[1] not in LOGIN]


def _rotate(team: Team, proxy: Proxy) -> dict[str, Any]:
    """Record what the reader was sent before a rotation (its share listing and /team's
    manifest under key version 1), then remove `extra`: /team gets key version 2."""
    team.ok(team.reader, "shares", "--json")
    team.ok(team.reader, "ls", "@team")
    old_listing = json.loads(proxy.history[("GET", "/v1/shares")][-1])
    old_manifest = proxy.history[("GET", f"/v1/records/manifest/{team.node}")][-1]
    old_roster = proxy.history[("GET", f"/v1/records/roster/{team.node}")][-1]
    team.ok(team.owner, "unshare", "/team", "--with", team.extra.email)
    team.ok(team.owner, "rm", "/team/old.txt")  # gone after the rotation
    return {"listing": old_listing, "manifest": old_manifest, "roster": old_roster}


def _replay(proxy: Proxy, team: Team, old: dict[str, Any], *, roster: bool) -> None:
    """Serve the pre-rotation envelope in the reader's share listing, /team's pre-rotation
    manifest and (with `roster`) the pre-rotation roster."""
    (old_item,) = [i for i in old["listing"]["incoming"] if i["space"] == team.node]

    def listing(d: Any) -> Any:
        d["incoming"] = [
            {**i, "envelope": old_item["envelope"]} if i["space"] == team.node else i
            for i in d["incoming"]
        ]
        return d

    replays = {f"/v1/records/manifest/{team.node}": old["manifest"]}
    if roster:
        replays[f"/v1/records/roster/{team.node}"] = old["roster"]

    def records(ex: Exchange) -> None:
        if ex.method == "GET" and ex.path in replays and ex.status == 200:
            ex.body = replays[ex.path]
            ex.mutated = True

    proxy.add(on_json("GET", "/v1/shares", listing))
    proxy.add(records)


def _fresh_device(team: Team, acc: Account, proxy: Proxy) -> Path:
    """A new device of `acc` that pinned the owner's key (compared out of band)."""
    home = team.tmp / f"{acc.email}-fresh"
    with Vault.open(proxy.url, acc.email, PASSWORD, store=StateStore(home), min_kdf=FAST_KDF) as v:
        v.trust(team.owner.email, team.owner_fp)
    return home


def test_p_roster_old_envelope_after_rotation_on_a_fresh_device(
    team: Team, proxy: Proxy, upstream: Upstream
) -> None:
    """After the owner removed a member (key version 2), the server gives a member's NEW
    device the old envelope (key version 1, which the removed member also holds) and the
    old listing. The current roster names key version 2: the share is refused, never shown
    with the old listing (nor written to under the old key)."""
    old = _rotate(team, proxy)
    home = _fresh_device(team, team.reader, proxy)
    bv = team.run(team.reader, home)
    proxy.reset()
    _replay(proxy, team, old, roster=False)
    code, out, _ = bv("ls", "--json", "@team")
    assert code != 0, out
    assert "old.txt" not in out
    assert _writes(proxy) == []
    (item,) = json.loads(bv("shares", "--json")[1])["incoming"]
    assert item["problem"] and not item["name"]
    proxy.reset()
    assert {e["name"] for e in json.loads(bv("ls", "--json", "@team")[1])} == {"a.txt"}


def test_p_fresh_share_key_version_rolled_back_with_its_roster(
    team: Team, proxy: Proxy, upstream: Upstream
) -> None:
    """A member's device has seen key version 2 (its `shares` opened the new envelope);
    the server replays the old envelope, the old roster that confirms it and the old
    manifest the device had read. Refused: an older roster or key version than seen."""
    old = _rotate(team, proxy)
    team.ok(team.reader, "shares", "--json")  # the device has now seen key version 2
    bv = team.run(team.reader)
    proxy.reset()
    _replay(proxy, team, old, roster=True)
    before = bv.snapshot()
    code, out, _ = bv("ls", "--json", "@team")
    assert code != 0, out
    assert "old.txt" not in out
    assert bv.snapshot() == before
    (item,) = json.loads(bv("shares", "--json")[1])["incoming"]
    assert item["problem"] and not item["name"]
    assert _writes(proxy) == []


def test_p_fresh_member_is_served_an_older_shared_folder(
    team: Team, proxy: Proxy, upstream: Upstream
) -> None:
    """A member's own signed root does not name the owner's folders: its device's heads are
    what keeps a shared folder fresh. After the member saw a newer /team, the server
    serves the older, validly signed one: refused."""
    old = _record(upstream, team.owner, team.node)
    team.ok(team.owner, "rm", "/team/old.txt")
    bv = team.run(team.reader)
    assert {e["name"] for e in json.loads(bv("ls", "--json", "@team")[1])} == {"a.txt"}
    proxy.reset()
    proxy.add(on_json("GET", f"/v1/records/manifest/{team.node}", lambda _: old))
    attack(bv, proxy, ["ls", "@team"], 10)
    code, out, _ = bv("ls", "@team")
    assert code == 10
    assert "old.txt" not in out
    # a fork: another, validly signed /team at the very version the member saw (what a
    # server gets by rolling a writer back and letting it write again)
    proxy.reset()
    now = _record(upstream, team.owner, team.node)
    sealed = base64.b64decode(now["data"])
    with team.owner.vault(proxy.url) as v:
        entry = v.stat("/team")
        assert isinstance(entry, FolderEntry)
        owner = v.opened.identity
        shown = [v.stat(f"/team/{x.name}") for x in v.ls("/team")]
    node = bytes.fromhex(team.node)
    seen = open_manifest(sealed, entry.folder_key, node, {owner.bundle.fingerprint: owner.bundle})
    extra = FileEntry("forked.txt", os.urandom(16), FileKey.generate(), 1, 5, 1)
    files = [e for e in shown if isinstance(e, FileEntry)] + [extra]
    forked = seal_manifest(
        ManifestBody(tuple(sorted(files, key=lambda e: e.name.encode())), ()),
        entry.folder_key, node_id=node, version=seen.version, key_version=seen.key_version,
        prev_hash=seen.prev_hash, writer=owner,
    )  # fmt: skip
    doc = {**now, "data": base64.b64encode(forked).decode()}
    proxy.reset()
    proxy.add(on_json("GET", f"/v1/records/manifest/{team.node}", lambda _: doc))
    attack(bv, proxy, ["ls", "@team"], 10)


def test_p_roster_member_list_dropped_under_the_owner(team: Team, proxy: Proxy) -> None:
    """The server loses /team's roster (404) while still listing the grants: the owner's
    device has seen it, so this is an integrity error, not an unshared folder."""
    proxy.add(missing("GET", f"/v1/records/roster/{team.node}"))
    attack(team.run(team.owner), proxy, ["ls", "/team"], 10)
    assert _writes(proxy) == []


def test_p_bind_envelope_of_another_shared_folder(team: Team, proxy: Proxy) -> None:
    """The owner shares a second folder with the same member; the server puts that
    folder's (valid, signed) envelope into /team's share: the envelope names another
    folder, so /team's share is refused and nothing mounts under the wrong name."""
    team.ok(team.owner, "mkdir", "/other")
    team.ok(team.owner, "share", "/other", "--with", team.reader.email, "--trust-on-first-use")
    incoming = json.loads(team.ok(team.reader, "shares", "--json"))["incoming"]
    other = next(
        i for i in incoming if i["owner_email"] == team.owner.email and i["name"] == "other"
    )
    team.ok(team.reader, "accept", str(other["id"]))
    raw = json.loads(proxy.history[("GET", "/v1/shares")][-1])
    other_env = next(i["envelope"] for i in raw["incoming"] if i["id"] == other["id"])
    proxy.reset()

    def swap(d: Any) -> Any:
        d["incoming"] = [
            {**i, "envelope": other_env} if i["space"] == team.node else i for i in d["incoming"]
        ]
        return d

    proxy.add(on_json("GET", "/v1/shares", swap))
    bv = team.run(team.reader)
    before = bv.snapshot()
    items = json.loads(bv("shares", "--json")[1])["incoming"]
    (mine,) = [i for i in items if i["id"] != other["id"]]
    assert mine["problem"] and not mine["name"]
    code, out, _ = bv("ls", "--json", "@team")
    assert code != 0 and "a.txt" not in out
    assert _writes(proxy) == []
    assert bv.snapshot() == before


def test_p_roster_old_write_envelope_after_a_downgrade(team: Team, proxy: Proxy) -> None:
    """The owner makes the read-write member read-only; the server keeps serving the old
    envelope that says read-write. The roster no longer confirms it: refused."""
    team.ok(team.writer, "shares", "--json")
    raw = json.loads(proxy.history[("GET", "/v1/shares")][-1])
    (old,) = [i for i in raw["incoming"] if i["space"] == team.node]
    team.ok(team.owner, "share", "/team", "--with", team.writer.email)
    proxy.reset()

    def replay(d: Any) -> Any:
        d["incoming"] = [
            {**i, "envelope": old["envelope"]} if i["space"] == team.node else i
            for i in d["incoming"]
        ]
        return d

    proxy.add(on_json("GET", "/v1/shares", replay))
    bv = team.run(team.writer)
    items = json.loads(bv("shares", "--json")[1])["incoming"]
    assert items and all(i["problem"] and not i["name"] for i in items), items
    assert bv("ls", "@team")[0] != 0
    assert _writes(proxy) == []  # (its state did move: to the newer, honest roster)
