"""Groups (issue 19) under a lying server, through the malicious proxy in front of a real
server on both backends (SQLite + local disk, PostgreSQL + SeaweedFS).

Alice's group `team` had Bob, Carol and Dave and shares /plans; Carol was removed (group
roster version 3, group key version 2). Each test lies about one answer and runs the real
CLI command: a member the server adds to the roster, an old roster replayed, an old group
key or a roster that no longer names the member, a substituted key for a remaining member.
Every one is refused before anything is sealed or written."""

from __future__ import annotations

import base64
import copy
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from blindvault.core.constants import MAGIC_GROUP_ROSTER
from blindvault.core.encoding import Writer, header
from blindvault.core.group import GroupRoster, open_group_roster
from blindvault.core.identity import Identity, IdentityBundle
from blindvault.core.kdf import account_id
from blindvault.core.keys import FolderKey
from blindvault.core.manifest import open_manifest_for_link
from blindvault.errors import IntegrityError
from helpers.adversarial import (
    Account,
    Runner,
    Upstream,
    attack,
    fetch,
    make_account,
    runner_for,
    runner_in,
)
from helpers.proxy import Proxy, on_json, refuse
from helpers.servers import s3_spec, start_server, stop

LOGIN = ("/v1/prelogin", "/v1/sessions/check")


@dataclass
class World:
    proxy: Proxy
    upstream: Upstream
    alice: Account
    bob: Account
    carol: Account
    dave: Account
    mallory: Account
    alice_bundle: IdentityBundle
    group: str  # the group id (hex)
    before: dict[str, dict[str, Any]]  # /v1/groups as each one saw it before Carol left

    def roster(self, data: str) -> GroupRoster:
        raw = base64.b64decode(data)
        owner = account_id(self.alice.email)
        return open_group_roster(raw, owner, bytes.fromhex(self.group), self.alice_bundle)

    def now(self, acc: Account) -> dict[str, Any]:
        return dict(json.loads(fetch(self.upstream, acc, "/v1/groups")))


def _vault_trust(acc: Account, url: str, *others: Account) -> None:
    with acc.vault(url) as v:
        for o in others:
            with o.vault(url) as ov:
                v.trust(o.email, ov.fingerprint.hex())


@pytest.fixture(scope="module", params=["sqlite-local", "postgres-seaweedfs"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp(f"adv-groups-{request.param}")
    extra: list[str] = []
    if request.param == "postgres-seaweedfs":
        extra = ["--db", request.getfixturevalue("pg_url"),
                 "--blobs", s3_spec(request.getfixturevalue("weed"))]  # fmt: skip
    proc, url = start_server(tmp / "data", *extra)
    proxy = Proxy(url)
    try:
        tag = secrets.token_hex(3)
        made = {
            n: make_account(
                proxy,
                tmp / n,
                f"{n}{tag}@example.org",
                {"/plans/p.txt": b"plan"} if n == "alice" else {},
                [],
            )
            for n in ("alice", "bob", "carol", "dave", "mallory")
        }
        alice, bob, carol, dave = (made[n] for n in ("alice", "bob", "carol", "dave"))
        _vault_trust(alice, proxy.url, bob, carol, dave)
        with alice.vault(proxy.url) as a:
            a.groups.create("team")
            info = a.groups.add("team", [bob.email, carol.email, dave.email])
            a.groups.share("/plans", "team")
            alice_bundle = a.opened.identity.bundle
        upstream = Upstream(url, tmp / "data")
        before = {}
        for m in (bob, carol, dave):
            _vault_trust(m, proxy.url, alice)
            with m.vault(proxy.url) as v:
                assert [g.name for g in v.groups.listing()] == ["team"]
                assert [e.name for e in v.ls("@plans")] == ["p.txt"]
        for acc in (alice, bob, carol):
            before[acc.email] = dict(json.loads(fetch(upstream, acc, "/v1/groups")))
        with alice.vault(proxy.url) as a:
            a.groups.remove("team", [carol.email])
        with bob.vault(proxy.url) as v:  # Bob's device sees version 3
            assert v.groups.listing()[0].version == 3
        proxy.reset()
        yield World(proxy, upstream, alice, bob, carol, dave, made["mallory"], alice_bundle,
                    info.id, before)  # fmt: skip
    finally:
        proxy.close()
        stop(proc)


@pytest.fixture
def proxy(world: World) -> Iterator[Proxy]:
    world.proxy.reset()
    yield world.proxy
    world.proxy.reset()


def _runner(world: World, acc: Account, tmp: Path, mp: pytest.MonkeyPatch,
            cap: pytest.CaptureFixture[str]) -> Runner:  # fmt: skip
    mp.delenv("BLINDVAULT_NEW_PASSWORD", raising=False)
    return runner_for(acc, tmp, mp, cap)


def _writes(proxy: Proxy) -> list[tuple[str, str, str, str]]:
    return [r for r in proxy.after_lie() if r[0] not in ("GET", "HEAD") and r[1] not in LOGIN]


def _with_member(world: World, roster: GroupRoster, raw: bytes, extra: Identity) -> bytes:
    """`raw` (an owner-signed roster) with one more member and the next version, keeping the
    owner's signature: what a server that adds a member can make."""
    members = sorted([*((m.fingerprint, m.email) for m in roster.members),
                      (extra.bundle.fingerprint, extra.bundle.email)])  # fmt: skip
    w = Writer(header(MAGIC_GROUP_ROSTER)).fixed(roster.owner, 16).fixed(roster.group_id, 16)
    w.u64(roster.version + 1).u64(roster.key_version).fixed(roster.hash, 32)
    w.fixed(roster.owner_fingerprint, 32).fixed(roster.group_fingerprint, 32).u16(len(members))
    for fp, email in members:
        w.fixed(fp, 32).text16(email)
    return w.var16(roster.name_box).bytes() + raw[-64:]


def _mallory(world: World) -> Identity:
    with world.mallory.vault(world.proxy.url) as v:
        return v.opened.identity


def test_a_member_the_server_adds_to_the_group_roster_is_refused(
    world: World, proxy: Proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """The server lists Mallory in team's roster (and as a member with a key of hers). Alice
    removing Dave must not seal the new group key to Mallory; Bob must not take the roster."""
    mallory = _mallory(world)
    owned = world.now(world.alice)["owned"][0]
    raw = base64.b64decode(owned["roster"])
    forged = base64.b64encode(_with_member(world, world.roster(owned["roster"]), raw, mallory))

    def lie(doc: dict[str, Any]) -> dict[str, Any]:
        for g in doc["owned"] + doc["member_of"]:
            g["roster"] = forged.decode()
        for g in doc["owned"]:
            g["members"].append({"member": account_id(mallory.bundle.email).hex(),
                                 "member_email": mallory.bundle.email,
                                 "envelope": g["members"][0]["envelope"]})  # fmt: skip
        return doc

    proxy.add(on_json("GET", "/v1/groups", lie))
    bv = _runner(world, world.alice, tmp_path / "a", monkeypatch, capsys)
    args = ["group", "remove", "team", world.dave.email, "--trust-on-first-use"]
    attack(bv, proxy, args, 10)
    assert _writes(proxy) == []  # nothing sealed, no roster written
    bv = _runner(world, world.bob, tmp_path / "b", monkeypatch, capsys)
    attack(bv, proxy, ["group", "list"], 10)


def test_a_replayed_old_group_roster_is_refused(
    world: World, proxy: Proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """The server serves team's roster from before Carol left (owner-signed, version 2, with
    Carol's envelope) at the current record version: Alice's `group remove` would otherwise
    seal the current group key to Carol again; Bob's device saw version 3."""
    old_owned = world.before[world.alice.email]["owned"][0]
    old_member = world.before[world.bob.email]["member_of"][0]
    assert world.roster(old_owned["roster"]).version == 2

    def lie(doc: dict[str, Any]) -> dict[str, Any]:
        for g in doc["owned"]:
            g.update({k: copy.deepcopy(old_owned[k]) for k in ("roster", "members")})
        for g in doc["member_of"]:
            g.update({k: old_member[k] for k in ("roster", "envelope")})
        return doc

    proxy.add(on_json("GET", "/v1/groups", lie))
    bv = _runner(world, world.alice, tmp_path / "a", monkeypatch, capsys)
    args = ["group", "remove", "team", world.dave.email, "--trust-on-first-use"]
    attack(bv, proxy, args, 10)
    assert _writes(proxy) == []
    bv = _runner(world, world.bob, tmp_path / "b", monkeypatch, capsys)
    attack(bv, proxy, ["group", "list"], 10)


def test_an_old_group_key_for_the_current_roster_is_refused(
    world: World, proxy: Proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """Bob is served the current roster with the group key he had before the rotation."""
    old_member = world.before[world.bob.email]["member_of"][0]

    def lie(doc: dict[str, Any]) -> dict[str, Any]:
        for g in doc["member_of"]:
            g["envelope"] = old_member["envelope"]
        return doc

    proxy.add(on_json("GET", "/v1/groups", lie))
    bv = _runner(world, world.bob, tmp_path / "b", monkeypatch, capsys)
    code, _, err = bv("group", "list")
    assert code == 10 and "not the one the member list names" in err
    attack(bv, proxy, ["group", "list"], 10)


def test_a_removed_member_served_the_current_roster_is_refused(
    world: World, proxy: Proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """The server keeps Carol in the group's rows: she gets the current roster (which does not
    name her) and her old group key; the share with the group stays invisible to her."""
    current = world.now(world.bob)["member_of"][0]
    old_member = world.before[world.carol.email]["member_of"][0]

    def lie(doc: dict[str, Any]) -> dict[str, Any]:
        doc["member_of"] = [{**current, "envelope": old_member["envelope"]}]
        return doc

    proxy.add(on_json("GET", "/v1/groups", lie))
    bv = _runner(world, world.carol, tmp_path / "c", monkeypatch, capsys)
    code, _, err = bv("group", "list")
    assert code == 10 and "does not name this account" in err
    attack(bv, proxy, ["group", "list"], 10)
    code, out, _ = bv("ls", "@plans")
    assert code == 4 and "p.txt" not in out


def test_a_substituted_key_for_a_remaining_member_is_not_sealed_to(
    world: World, proxy: Proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """On a device of Alice's that never pinned Bob, the server serves a key of its own for
    Bob while Alice removes Dave with --trust-on-first-use: the group's signed roster names
    Bob's real key, so nothing is sealed (exit 8)."""
    bv = _runner(world, world.alice, tmp_path / "a", monkeypatch, capsys)
    (state,) = list((bv.home / "accounts").glob("*.json"))
    doc = json.loads(state.read_text())
    doc["peers"].pop(world.bob.email)
    state.write_text(json.dumps(doc))
    fake = Identity.generate(world.bob.email, 1).bundle.encode()
    proxy.add(on_json("GET", f"/v1/identities/{world.bob.email}",
                      lambda d: {**d, "identity_bundle": base64.b64encode(fake).decode(),
                                 "certificate": None}))  # fmt: skip
    args = ["group", "remove", "team", world.dave.email, "--trust-on-first-use"]
    code, _, err = bv(*args)
    assert code == 8 and "signed member list" in err
    attack(bv, proxy, args, 8)
    assert _writes(proxy) == []


def test_a_group_grant_the_server_keeps_after_unshare_opens_nothing_new(
    world: World, proxy: Proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """Alice ends the group's share of /extra (`unshare --with-group`); the server answers
    the DELETE but keeps the group's grant. Bob, still in the group, is shown nothing of
    /extra any more, and what Alice writes there afterwards does not open with the folder
    key he held (the new key was sealed to nobody in the group)."""
    src = tmp_path / "x.txt"
    src.write_bytes(b"before")
    with world.alice.vault(proxy.url) as a:
        a.mkdir("/extra")
        a.put(src, "/extra")
        a.groups.share("/extra", "team")
    with world.bob.vault(proxy.url) as v:
        mount = v.shares.mount("extra")
        node, held = mount.node_id, FolderKey(mount.key.material)
    proxy.before(refuse("DELETE", f"/v1/groups/{world.group}/spaces/{node.hex()}", 204, {}))
    alice = runner_in(world.alice.home, monkeypatch, capsys)
    code, _, err = alice("unshare", "/extra", "--with-group", "team")
    assert code == 0, err
    spaces = [s["space"] for s in world.now(world.alice)["owned"][0]["spaces"]]
    assert node.hex() in spaces  # the lie: the server still lets the group in
    src.write_bytes(b"after")
    with world.alice.vault(proxy.url) as a:
        a.put(src, "/extra/y.txt")
    bob = _runner(world, world.bob, tmp_path / "b", monkeypatch, capsys)
    code, out, _ = bob("ls", "@extra")
    assert code != 0 and "y.txt" not in out
    data = json.loads(fetch(world.upstream, world.alice, f"/v1/records/manifest/{node.hex()}"))
    with pytest.raises(IntegrityError):
        open_manifest_for_link(base64.b64decode(data["data"]), held, node)
