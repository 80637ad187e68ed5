"""Nested shares under a lying server (issue 19): whether a folder inside a share is a
space of its own is decided from signed state, never from the grant list.

The owner shares /team with a member and /team/sub, inside it, with a third person. A
member's device enters /team/sub's space only through a grant it can open and the
owner-signed roster confirms; the owner's device knows its nested shares from its own
roster and signed root. Each test lies about one answer and runs the real CLI command."""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from helpers.adversarial import Account, Cast, Upstream, attack, make_account
from helpers.lookalike import forged_next, lookalike
from helpers.proxy import Proxy, on_json


@dataclass(kw_only=True)
class Nest(Cast):
    owner: Account
    member: Account  # of /team (read-write)
    inner: Account  # of /team/sub only
    team: str  # node ids (hex)
    sub: str

    def read(self, acc: Account, remote: str) -> bytes:
        out = acc.home.parent / f"read-{os.urandom(4).hex()}"
        self.ok(acc, "get", remote, str(out))
        return out.read_bytes()


def _accept(nest: Nest, person: Account) -> None:
    incoming = json.loads(nest.ok(person, "shares", "--json"))["incoming"]
    (item,) = [i for i in incoming if i["owner_email"] == nest.owner.email]
    nest.ok(person, "accept", str(item["id"]), "--trust-on-first-use")


@pytest.fixture
def nest(
    proxy: Proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Nest:  # fmt: skip
    tag = os.urandom(3).hex()
    monkeypatch.delenv("BLINDVAULT_NEW_PASSWORD", raising=False)
    files = {"/team/a.txt": b"alpha", "/team/sub/s.txt": b"inside"}
    acc = {
        name: make_account(
            proxy, tmp_path / name, f"{name}{tag}@example.org", files if name == "owner" else {}, []
        )
        for name in ("owner", "member", "inner")
    }
    n = Nest(owner=acc["owner"], member=acc["member"], inner=acc["inner"],
             team=acc["owner"].nodes["/team"], sub=acc["owner"].nodes["/team/sub"],
             monkeypatch=monkeypatch, capsys=capsys)  # fmt: skip
    n.ok(n.owner, "share", "/team", "--with", n.member.email, "--write", "--trust-on-first-use")
    _accept(n, n.member)
    n.ok(n.owner, "share", "/team/sub", "--with", n.inner.email, "--trust-on-first-use")
    _accept(n, n.inner)
    assert n.read(n.member, "@team/sub/s.txt") == b"inside"
    proxy.reset()
    return n


def _without(space: str, side: str) -> Any:
    """A share listing with every grant on `space` left out of `side`."""

    def change(d: Any) -> Any:
        d[side] = [g for g in d[side] if g["space"] != space]
        return d

    return change


def test_a_hidden_nested_grant_is_an_integrity_error_not_an_empty_folder(
    nest: Nest, proxy: Proxy
) -> None:
    """The server hides the member's grant on /team/sub: the member's device reads the
    folder /team's signed manifest names where it is not, and stops (exit 10) instead of
    showing it empty or writing into the wrong space."""
    proxy.add(on_json("GET", "/v1/shares", _without(nest.sub, "incoming")))
    attack(nest.run(nest.member), proxy, ["ls", "@team/sub"], 10)


def test_a_grant_sealed_to_someone_else_does_not_open_the_nested_space(
    nest: Nest, proxy: Proxy
) -> None:
    """The server lists, as the member's grant on another folder of the owner, the grant it
    made for the inner person: its envelope is not sealed to the member, so the member's
    device never enters that space with it (exit 10, nothing written)."""
    with nest.inner.vault(proxy.url) as v:
        theirs = next(i for i in v.spaces.listing(fresh=True)["incoming"]
                      if i["space"] == nest.sub)  # fmt: skip
    proxy.add(on_json("GET", "/v1/shares", _without(nest.sub, "incoming")))
    proxy.add(on_json("GET", "/v1/shares", lambda d: {**d, "incoming": [*d["incoming"], theirs]}))
    attack(nest.run(nest.member), proxy, ["ls", "@team/sub"], 10)


def test_the_owner_knows_its_nested_shares_without_the_grant_list(
    nest: Nest, proxy: Proxy, upstream: Upstream, tmp_path: Path
) -> None:
    """The server lists none of the owner's grants: the owner's device still knows
    /team/sub is a space of its own (its roster, named by the signed root), so what it
    writes there goes into that space, where the inner person reads it."""
    proxy.add(on_json("GET", "/v1/shares", lambda d: {**d, "outgoing": []}))
    (tmp_path / "new.txt").write_bytes(b"written while the list lied")
    nest.ok(nest.owner, "put", str(tmp_path / "new.txt"), "/team/sub")
    proxy.reset()
    with closing(sqlite3.connect(upstream.data / "blindvault.sqlite3")) as db:
        spaces = {row[0] for row in db.execute(
            "select space from records where kind = 'manifest' and id = ?", (nest.sub,))}  # fmt: skip
    assert spaces == {nest.sub}
    assert nest.read(nest.inner, "@sub/new.txt") == b"written while the list lied"


def test_another_accounts_grant_on_the_same_node_is_not_the_nested_share(
    nest: Nest, proxy: Proxy, upstream: Upstream, tmp_path: Path
) -> None:
    """/team/other, a new nested share the member has not opened yet. Mallory, a read-only
    member of /team whom the member verified, shares with him a look-alike folder of hers
    with the same node id; the server lists her grant (under the owner's account id) instead
    of the owner's, serves her roster and her forged next version of /team/other. The
    member's device takes a nested share only from the owner of the share around it, so it
    never counts Mallory as a writer there: exit 10, the injected file never shown."""
    email = f"mallory{os.urandom(3).hex()}@example.org"
    mallory = make_account(proxy, tmp_path / "mallory", email, {}, [])
    nest.ok(nest.owner, "share", "/team", "--with", mallory.email, "--trust-on-first-use")
    number = json.loads(nest.ok(mallory, "fingerprint", "--json"))["safety_number"]
    nest.ok(nest.member, "trust", mallory.email, "--fingerprint", str(number))
    (tmp_path / "o.txt").write_bytes(b"other")
    nest.ok(nest.owner, "mkdir", "/team/other")
    nest.ok(nest.owner, "put", str(tmp_path / "o.txt"), "/team/other")
    nest.ok(nest.owner, "share", "/team/other", "--with", nest.inner.email)
    with nest.owner.vault(proxy.url) as owner, mallory.vault(proxy.url) as her:
        other, forged = forged_next(owner, her, "/team/other")
        roster = lookalike(her, other, nest.member.email)
    node = other.hex()

    def listing(d: Any) -> Any:
        owner = next(i["owner"] for i in d["incoming"] if i["owner_email"] == nest.owner.email)
        hers = [{**i, "owner": owner} for i in d["incoming"]
                if i["owner_email"] == mallory.email and i["space"] == node]  # fmt: skip
        return {**d, "incoming": hers + [i for i in d["incoming"] if i["space"] != node]}

    nest.ok(nest.member, "ls", "@team")  # honest: the member's device sees /team's new roster
    proxy.reset()
    proxy.add(on_json("GET", "/v1/shares", listing))
    proxy.add(on_json("GET", f"/v1/records/roster/{node}", lambda _: roster))
    proxy.add(on_json("GET", f"/v1/records/manifest/{node}", lambda _: forged))
    attack(nest.run(nest.member), proxy, ["ls", "@team/other"], 10)
    code, out, _ = nest.run(nest.member)("ls", "@team/other")
    assert code == 10 and "injected" not in out
