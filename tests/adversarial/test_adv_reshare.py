"""Re-shares under a lying server (P-RESHARE), through the malicious proxy against a real
server: the owner shares /team with `bob` (read-only, may re-share) and `dave` (read-write,
may not). A re-share counts only when signed by a member the owner-signed roster lets
re-share, on top of that very roster; a device that never pinned the owner trusts the
roster only through the pinned re-sharing member's signed addition."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from blindvault.core.constants import ROLE_READ, ROLE_WRITE
from blindvault.core.envelope import seal_envelope
from blindvault.core.identity import Identity
from blindvault.core.keys import FolderKey
from blindvault.core.reshare import encode_list, seal_addition
from blindvault.core.roster import Member, Roster, open_roster, seal_roster
from helpers.adversarial import Account, Cast, Upstream, attack, fetch, make_account
from helpers.proxy import Proxy, on_json, on_raw


@dataclass
class World(Cast):
    owner: Account
    bob: Account  # read-only, may re-share
    dave: Account  # read-write, may not re-share
    carol: Account  # not a member
    mallory: Account  # the server's own account
    node: str

    def identity(self, acc: Account, proxy: Proxy) -> Identity:
        with acc.vault(proxy.url) as v:
            return v.opened.identity

    def key(self, acc: Account, proxy: Proxy) -> tuple[FolderKey, int]:
        with acc.vault(proxy.url) as v:
            m = v.shares.mount("team")
            return m.key, m.key_version


@pytest.fixture
def world(
    proxy: Proxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> World:
    tag = os.urandom(3).hex()
    monkeypatch.delenv("BLINDVAULT_NEW_PASSWORD", raising=False)
    acc = {
        name: make_account(
            proxy,
            tmp_path / name,
            f"{name}{tag}@example.org",
            {"/team/a.txt": b"alpha"} if name == "owner" else {},
            [],
        )
        for name in ("owner", "bob", "dave", "carol", "mallory")
    }
    w = World(acc["owner"], acc["bob"], acc["dave"], acc["carol"], acc["mallory"],
              acc["owner"].nodes["/team"], monkeypatch=monkeypatch, capsys=capsys)  # fmt: skip
    for member, flags in ((w.bob, ("--allow-reshare",)), (w.dave, ("--write",))):
        w.ok(w.owner, "share", "/team", "--with", member.email, "--trust-on-first-use", *flags)
        incoming = json.loads(w.ok(member, "shares", "--json"))["incoming"]
        (item,) = incoming
        w.ok(member, "accept", str(item["id"]), "--trust-on-first-use")
    for member in (w.bob, w.dave):  # each has seen the newest roster
        w.ok(member, "ls", "@team")
    proxy.reset()
    return w


def _roster_json(w: World, upstream: Upstream) -> bytes:
    return fetch(upstream, w.owner, f"/v1/records/roster/{w.node}")


def _roster(w: World, upstream: Upstream, proxy: Proxy) -> Roster:
    data = base64.b64decode(json.loads(_roster_json(w, upstream))["data"])
    owner_bundle = w.identity(w.owner, proxy).bundle
    return open_roster(data, bytes.fromhex(w.owner.owner), bytes.fromhex(w.node), owner_bundle)


def _serve_reshares(node: str, data: bytes) -> Any:
    doc = {"kind": "reshares", "id": node, "version": 1, "data": base64.b64encode(data).decode()}
    return on_raw("GET", f"/v1/records/reshares/{node}", 200, json.dumps(doc).encode(),
                  "application/json")  # fmt: skip


def test_p_reshare_server_added_entry_is_refused_everywhere(
    world: World, proxy: Proxy, upstream: Upstream
) -> None:
    """The server adds its own account to /team's re-share list (signed with its own key,
    as no member's): the owner refuses the member list (exit 10); the members report the
    share as not verified and never show it (`@team` is not found, exit 4)."""
    roster = _roster(world, upstream, proxy)
    mallory = world.identity(world.mallory, proxy)
    added = Member(mallory.bundle.fingerprint, ROLE_WRITE, world.mallory.email)
    proxy.add(_serve_reshares(world.node, encode_list([seal_addition(roster, added, mallory)])))
    attack(world.run(world.owner), proxy, ["ls", "/team"], 10)
    for member in (world.bob, world.dave):
        attack(world.run(member), proxy, ["ls", "@team"], 4)
        _, out, _ = world.run(member)("shares", "--json")
        (got,) = json.loads(out)["incoming"]
        assert got["problem"] and not got["name"], got


def test_p_reshare_by_a_member_without_the_right(
    world: World, proxy: Proxy, upstream: Upstream
) -> None:
    """Dave (read-write, no right to re-share) and the server forge a re-share to Carol:
    Dave's signed addition on top of the real roster, Dave's envelope of the real key, a
    grant the server lists for Carol. Carol (who verified Dave's key) refuses it; the
    owner refuses the member list with Dave's addition in it."""
    roster = _roster(world, upstream, proxy)
    dave = world.identity(world.dave, proxy)
    carol = world.identity(world.carol, proxy).bundle
    key, kv = world.key(world.dave, proxy)
    addition = seal_addition(roster, Member(carol.fingerprint, ROLE_READ, carol.email), dave)
    envelope = seal_envelope(key, share_id=os.urandom(16), node_id=bytes.fromhex(world.node),
                             key_version=kv, role=ROLE_READ, sender=dave,
                             recipient=carol)  # fmt: skip
    item = {"id": os.urandom(16).hex(), "space": world.node, "owner": world.owner.owner,
            "owner_email": world.owner.email, "role": "read", "accepted": False,
            "envelope": base64.b64encode(envelope).decode(), "created_at": 0.0,
            "reshare": False, "by_email": world.dave.email}  # fmt: skip
    world.ok(world.carol, "trust", world.dave.email, "--fingerprint", dave.bundle.fingerprint.hex())
    honest = _roster_json(world, upstream)
    proxy.add(on_json("GET", "/v1/shares", lambda d: {**d, "incoming": [*d["incoming"], item]}))
    proxy.add(on_raw("GET", f"/v1/records/roster/{world.node}", 200, honest, "application/json"))
    proxy.add(_serve_reshares(world.node, encode_list([addition])))
    bv = world.run(world.carol)
    code, out, err = bv("shares", "--json")
    assert code == 0, err
    (got,) = json.loads(out)["incoming"]
    assert got["problem"] and not got["name"], got
    attack(bv, proxy, ["accept", str(item["id"])], 10)
    attack(world.run(world.owner), proxy, ["ls", "/team"], 10)


def test_p_reshare_server_substitutes_the_owners_key(
    world: World, proxy: Proxy, upstream: Upstream
) -> None:
    """Bob really re-shares /team with Carol, who has never pinned the owner. The server
    serves Carol a key of its own as the owner's and a roster signed with it that names
    Carol directly: nothing the pinned Bob signed vouches for that roster, so Carol
    refuses it (exit 10) and pins nothing."""
    world.ok(world.bob, "share", "@team", "--with", world.carol.email, "--trust-on-first-use")
    bob = world.identity(world.bob, proxy).bundle
    carol = world.identity(world.carol, proxy).bundle
    world.ok(world.carol, "trust", world.bob.email, "--fingerprint", bob.fingerprint.hex())
    (item,) = json.loads(world.ok(world.carol, "shares", "--json"))["incoming"]
    assert item["by_email"] == world.bob.email and not item["problem"], item
    key, kv = world.key(world.bob, proxy)
    real = _roster(world, upstream, proxy)  # Carol saw it: the forgery must come after it
    fake = Identity.generate(world.owner.email, 1)
    forged = seal_roster(
        owner=bytes.fromhex(world.owner.owner),
        node_id=bytes.fromhex(world.node),
        version=real.version + 1,
        prev_hash=real.hash,
        key_version=kv,
        members=[
            Member(bob.fingerprint, ROLE_READ, world.bob.email, True),
            Member(carol.fingerprint, ROLE_READ, world.carol.email),
        ],
        name="team",
        key=key,
        signer=fake,
    )
    doc = {"kind": "roster", "id": world.node, "version": 1,
           "data": base64.b64encode(forged).decode()}  # fmt: skip
    served = base64.b64encode(fake.bundle.encode()).decode()
    proxy.reset()
    proxy.add(on_json("GET", f"/v1/identities/{world.owner.email}",
                      lambda d: {**d, "identity_bundle": served}))  # fmt: skip
    proxy.add(on_raw("GET", f"/v1/records/roster/{world.node}", 200, json.dumps(doc).encode(),
                     "application/json"))  # fmt: skip
    attack(world.run(world.carol), proxy, ["accept", str(item["id"])], 10)


def test_p_reshare_replayed_after_the_owner_removed_them(
    world: World, proxy: Proxy, upstream: Upstream
) -> None:
    """Bob re-shares /team with Carol; the owner removes Carol (new roster, new key). The
    server keeps listing Carol's old grant (Bob's envelope of the old key) and serves her the
    roster and Bob's addition: the addition names the old roster, so it grants nothing and
    the share is not shown."""
    world.ok(world.bob, "share", "@team", "--with", world.carol.email, "--trust-on-first-use")
    bob = world.identity(world.bob, proxy).bundle
    world.ok(world.carol, "trust", world.bob.email, "--fingerprint", bob.fingerprint.hex())
    (item,) = json.loads(world.ok(world.carol, "shares", "--json"))["incoming"]
    world.ok(world.carol, "accept", str(item["id"]))
    raw = json.loads(proxy.history[("GET", "/v1/shares")][-1])  # Carol's own listing
    (old,) = [i for i in raw["incoming"] if i["id"] == item["id"]]
    world.ok(world.owner, "unshare", "/team", "--with", world.carol.email)
    reshares = fetch(upstream, world.owner, f"/v1/records/reshares/{world.node}")
    proxy.reset()
    proxy.add(on_json("GET", "/v1/shares", lambda d: {**d, "incoming": [*d["incoming"], old]}))
    proxy.add(on_raw("GET", f"/v1/records/roster/{world.node}", 200,
                     _roster_json(world, upstream), "application/json"))  # fmt: skip
    proxy.add(on_raw("GET", f"/v1/records/reshares/{world.node}", 200, reshares,
                     "application/json"))  # fmt: skip
    bv = world.run(world.carol)
    proxy.log.clear()
    code, out, _ = bv("ls", "@team")  # (her state moves on to the newer, honest roster)
    assert code == 4 and not out
    assert proxy.writes_after_lie() == []
    (got,) = json.loads(bv("shares", "--json")[1])["incoming"]
    assert got["problem"] and not got["name"], got
    # Bob and the owner are unaffected
    assert world.ok(world.bob, "ls", "@team")
    assert world.ok(world.owner, "ls", "/team")
