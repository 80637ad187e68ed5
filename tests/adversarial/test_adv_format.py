"""Issue 11, the format items, through the lying proxy against a real server process.

- item 4 (P-LINKSNAP): a folder link is a snapshot under keys of its own; nothing written
  later, and no live folder key (the root key for `link /`), is reachable from it.
- item 7 (P-ROSTERFRESH): only the owner writes a roster (403 for a read-write member);
  the owner's second device refuses an older and a forked same-version roster (exit 10)
  before it seals anything.
- item 9 (P-META): entries carry no author; `ls --json` attributes nothing.
- item 13: sealed manifests, rosters and link descriptors are Padmé-padded (counts and name
  lengths do not show in stored sizes); `signup --pq` makes a post-quantum identity.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path
from typing import Any

import pytest

from blindvault.client.http import b64e
from blindvault.client.links import create_link
from blindvault.client.state import StateStore
from blindvault.client.vault import Vault
from blindvault.core.constants import ROLE_READ, ROLE_WRITE, SUITE_MLKEM768_X25519
from blindvault.core.identity import IdentityBundle
from blindvault.core.links import b64url_encode, link_key, link_token, open_link_descriptor
from blindvault.core.links import parse_link as parse
from blindvault.core.manifest import FolderEntry
from blindvault.core.roster import Member, open_roster, seal_roster
from blindvault.errors import RemoteError
from helpers.adversarial import (
    FAST_KDF,
    PASSWORD,
    Account,
    Upstream,
    attack,
    fetch,
    new_account,
    runner_in,
    token_of,
)
from helpers.proxy import Exchange, Proxy


def _live_keys(v: Vault) -> set[bytes]:
    keys = {v.opened.root_key.material}
    for e in v.walk("/"):
        entry = v.stat(e.path)
        if isinstance(entry, FolderEntry):
            keys.add(entry.folder_key.material)
    return keys


def _descriptor_key(proxy: Proxy, url: str) -> tuple[bytes, bytes]:
    """What a link holder finds in the descriptor: (node id, key)."""
    import httpx

    p = parse(url)
    lid = b64url_encode(p.link_id)
    token = b64url_encode(link_token(p.secret, p.link_id))
    doc = httpx.get(f"{proxy.url}/v1/l/{lid}", headers={"X-Link-Token": token}).json()
    desc = open_link_descriptor(
        base64.b64decode(doc["descriptor"]), link_key(p.secret, p.link_id, None), p.link_id
    )
    return desc.node_id, desc.key.material


def test_p_linksnap_folder_link_is_a_snapshot(
    proxy: Proxy,
    upstream: Upstream,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = {"/team/a.txt": os.urandom(3000), "/team/sub/b.txt": os.urandom(20000)}
    alice = new_account(proxy, tmp_path, "alice", files, [])
    with alice.vault(proxy.url) as v:
        url = create_link(v, "/team")
        root_url = create_link(v, "/")
        later = tmp_path / "later.txt"
        later.write_bytes(b"written after the link was made")
        v.put(later, "/team")
        v.put(later, "/team/sub")
        v.put(later, "/")
        live = _live_keys(v)
        nodes = {bytes.fromhex(n) for n in alice.nodes.values()}
        team_node = v.stat("/team").node_id  # type: ignore[union-attr]

    # the fragment and the descriptor hold no live folder key (nor the root key for `/`)
    for u in (url, root_url):
        node, key = _descriptor_key(proxy, u)
        assert parse(u).secret not in live
        assert key not in live and node not in nodes

    holder = runner_in(tmp_path / "holder-home", monkeypatch, capsys)
    for u, base in ((url, "team"), (root_url, "vault")):
        out = tmp_path / f"out-{base}"
        out.mkdir()
        code, _, err = holder("open-link", u, str(out))
        assert code == 0, err
        got = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
        prefix = "" if base == "team" else "team/"
        assert got == sorted(f"{base}/{prefix}{n}" for n in ("a.txt", "sub/b.txt")), got

    # the server serves the live manifest for the snapshot's id: nothing opens (exit 10)
    live_rec = fetch(upstream, alice, f"/v1/records/manifest/{team_node.hex()}")

    def serve_live(ex: Exchange) -> None:
        if ex.method == "GET" and "/manifest/" in ex.path and ex.path.startswith("/v1/l/"):
            doc = json.loads(live_rec)
            ex.set_json({"version": 1, "data": doc["data"]})
            ex.mutated = True

    proxy.add(serve_live)
    out = tmp_path / "out-lied"
    out.mkdir()
    code, _, err = holder("open-link", url, str(out))
    assert code == 10, err
    assert [p for p in out.rglob("*") if p.is_file()] == []


def _share_world(proxy: Proxy, tmp: Path) -> tuple[Account, Account, Account]:
    alice = new_account(proxy, tmp, "alice", {"/team/a.txt": b"team file"}, [])
    bob = new_account(proxy, tmp, "bob", {}, [])
    carol = new_account(proxy, tmp, "carol", {}, [])
    return alice, bob, carol


def _roster_path(v: Vault) -> str:
    return f"/v1/records/roster/{v.stat('/team').node_id.hex()}"  # type: ignore[union-attr]


def test_p_rosterfresh_only_the_owner_writes_a_roster_and_no_author_is_shown(
    proxy: Proxy,
    upstream: Upstream,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    alice, bob, _ = _share_world(proxy, tmp_path)
    with alice.vault(proxy.url) as a:
        a.shares.share("/team", bob.email, write=True, trust_on_first_use=True)
        path = _roster_path(a)
        roster = fetch(upstream, alice, path)
    with bob.vault(proxy.url) as b:
        (item,) = b.shares.incoming()
        b.shares.accept(item.id, trust_on_first_use=True)
        mount = b.shares.mount("team")
        rec = json.loads(roster)
        # a read-write member rewrites the owner's roster with a copy of it: refused
        with pytest.raises(RemoteError) as caught:
            mount.space.api.put_json(
                path, {"expected_version": rec["version"], "data": rec["data"]}
            )
        assert caught.value.status == 403
        src = tmp_path / "by-bob.txt"
        src.write_bytes(b"bob wrote this")
        b.put(src, "@team")
    assert fetch(upstream, alice, path) == roster  # unchanged
    # item 9: the member's write is attributed to nobody in `ls --json`
    owner = runner_in(alice.home, monkeypatch, capsys)
    code, out, err = owner("ls", "--json", "/team")
    assert code == 0, err
    shown = json.loads(out)
    assert {e["name"] for e in shown} == {"a.txt", "by-bob.txt"}
    assert all("author" not in e for e in shown)


def test_p_rosterfresh_owner_second_device_refuses_old_and_forked_rosters(
    proxy: Proxy,
    upstream: Upstream,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    alice, bob, carol = _share_world(proxy, tmp_path)
    with alice.vault(proxy.url) as a:
        a.shares.share("/team", bob.email, trust_on_first_use=True)
        path = _roster_path(a)
        v1 = json.loads(fetch(upstream, alice, path))
        a.shares.share("/team", carol.email, trust_on_first_use=True)
        v2 = json.loads(fetch(upstream, alice, path))
        node = a.stat("/team").node_id  # type: ignore[union-attr]
        me = a.opened.identity
        opened_v1 = open_roster(base64.b64decode(v1["data"]), a.owner, node, me.bundle)
        opened_v2 = open_roster(base64.b64decode(v2["data"]), a.owner, node, me.bundle)
        # a fork: another version-2 roster, validly signed by the owner (e.g. from a second
        # device the server let write at the same version), naming Mallory... here Bob as a
        # writer, which the owner never decided
        bob_m = opened_v1.members[0]
        fork = seal_roster(
            owner=a.owner,
            node_id=node,
            version=2,
            key_version=opened_v2.key_version,
            members=[Member(bob_m.fingerprint, ROLE_WRITE, bob_m.email)],
            name="team",
            key=a.stat("/team").folder_key,  # type: ignore[union-attr]
            signer=me,
            prev_hash=opened_v1.hash,
        )
        assert opened_v1.members[0].role == ROLE_READ
        bob_fp = IdentityBundle.decode(
            base64.b64decode(a.api.get_json(f"/v1/identities/{bob.email}")["identity_bundle"])
        ).fingerprint.hex()

    # the owner's second device: honest login, Bob pinned, nothing else
    home_b = tmp_path / "alice-device-2"
    with Vault.open(
        proxy.url, alice.email, PASSWORD, store=StateStore(home_b), min_kdf=FAST_KDF
    ) as second:
        second.trust(bob.email, bob_fp)
    device2 = runner_in(home_b, monkeypatch, capsys)
    assert device2("ls", "/")[0] == 0  # honest: learns the root folder's head, no roster
    assert json.loads((next((home_b / "accounts").glob("*.json"))).read_text())["rosters"] == {}

    def serve(data: str) -> Any:
        def rule(ex: Exchange) -> None:
            if ex.method == "GET" and ex.path == path and ex.status == 200:
                doc = ex.json()
                ex.set_json({**doc, "data": data})
                ex.mutated = True

        return rule

    for lie in (v1["data"], b64e(fork)):
        proxy.reset()
        proxy.add(serve(lie))
        sent = attack(device2, proxy, ["share", "/team", "--with", bob.email, "--write"], 10)
        assert [r for r in sent if r[0] not in ("GET", "HEAD")] == []  # nothing sealed
    proxy.reset()
    code, _, err = device2("share", "/team", "--with", bob.email, "--write")
    assert code == 0, err  # the honest roster passes on the same device


def test_sealed_metadata_is_padded_on_the_server(
    proxy: Proxy, upstream: Upstream, tmp_path: Path
) -> None:
    """Item 13: what the server stores does not show entry counts or name lengths: a folder of
    one 1-byte name and one of three 60-byte names store the same size (Padmé, 1024-byte
    floor; larger manifests show only their Padmé bucket)."""
    files = {"/x/a": b"1"} | {f"/{'y' * 120}/{'n' * 59}{i}": b"2" for i in range(3)}
    alice = new_account(proxy, tmp_path, "alice", files, [])
    bob = new_account(proxy, tmp_path, "bob", {}, [])

    def size(path: str) -> int:
        return len(base64.b64decode(json.loads(fetch(upstream, alice, path))["data"]))

    manifests = [size(f"/v1/records/manifest/{alice.nodes[p]}") for p in ("/x", "/" + "y" * 120)]
    assert manifests[0] == manifests[1]
    with alice.vault(proxy.url) as a:
        for folder in ("/x", "/" + "y" * 120):
            a.shares.share(folder, bob.email, trust_on_first_use=True)
        rosters = [size(f"/v1/records/roster/{alice.nodes[p]}") for p in ("/x", "/" + "y" * 120)]
        assert rosters[0] == rosters[1]
        urls = [create_link(a, "/x/a"), create_link(a, f"/{'y' * 120}/{'n' * 59}0")]

    import httpx

    sizes = []
    for u in urls:
        p = parse(u)
        token = b64url_encode(link_token(p.secret, p.link_id))
        doc = httpx.get(
            f"{proxy.url}/v1/l/{b64url_encode(p.link_id)}", headers={"X-Link-Token": token}
        ).json()
        sizes.append(len(base64.b64decode(doc["descriptor"])))
    assert sizes[0] == sizes[1]


def test_signup_pq_makes_a_post_quantum_identity(
    proxy: Proxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Item 13 (docs): the hybrid suite is reachable from `signup --pq`."""
    import httpx

    email = f"pq{secrets.token_hex(3)}@example.org"
    monkeypatch.setenv("BLINDVAULT_NEW_PASSWORD", PASSWORD)
    run = runner_in(tmp_path / "pq-home", monkeypatch, capsys)
    code, _, err = run(
        "signup", "--accept-weak-password", "--server", proxy.url, "--email", email, "--pq",
        "--recovery-file", str(tmp_path / "words"),
    )  # fmt: skip
    assert code == 0, err
    served = httpx.get(f"{proxy.url}/v1/identities/{email}")
    if served.status_code == 401:  # identities need a session: look it up as the user
        served = httpx.get(
            f"{proxy.url}/v1/identities/{email}",
            headers={"Authorization": f"Bearer {token_of(tmp_path / 'pq-home')}"},
        )
    bundle = IdentityBundle.decode(base64.b64decode(served.json()["identity_bundle"]))
    assert bundle.suite == SUITE_MLKEM768_X25519


def test_p_rosterfresh_member_refuses_a_forked_roster(
    proxy: Proxy,
    upstream: Upstream,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A member who has seen roster version 2 is served another, validly owner-signed
    version 2 (a fork): the share is reported, not mounted, and nothing is written."""
    alice, bob, carol = _share_world(proxy, tmp_path)
    with alice.vault(proxy.url) as a:
        a.shares.share("/team", bob.email, trust_on_first_use=True)
        path = _roster_path(a)
        node = a.stat("/team").node_id  # type: ignore[union-attr]
        v1 = open_roster(
            base64.b64decode(json.loads(fetch(upstream, alice, path))["data"]),
            a.owner,
            node,
            a.opened.identity.bundle,
        )
        a.shares.share("/team", carol.email, trust_on_first_use=True)
        fork = seal_roster(
            owner=a.owner,
            node_id=node,
            version=2,
            key_version=v1.key_version,
            members=list(v1.members),
            name="team",
            key=a.stat("/team").folder_key,  # type: ignore[union-attr]
            signer=a.opened.identity,
            prev_hash=v1.hash,
        )
    with bob.vault(proxy.url) as b:
        (item,) = b.shares.incoming()
        b.shares.accept(item.id, trust_on_first_use=True)
        assert b.ls("@team")  # honest: Bob has seen roster version 2
    member = runner_in(bob.home, monkeypatch, capsys)

    def serve_fork(ex: Exchange) -> None:
        if ex.method == "GET" and ex.path == path and ex.status == 200:
            ex.set_json({**ex.json(), "data": b64e(fork)})
            ex.mutated = True

    proxy.add(serve_fork)
    proxy.log.clear()
    _, out, _ = member("shares", "--json")
    listed = json.loads(out)["incoming"]
    assert next(i["problem"] for i in listed if i["id"] == item.id), out
    assert member("ls", "@team")[0] != 0
    data = ("/v1/records", "/v1/blobs", "/v1/shares", "/v1/spaces", "/v1/links")
    assert [w for w in proxy.writes_after_lie() if w[1].startswith(data)] == []
