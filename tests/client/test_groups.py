"""Groups (issue 19), end to end through the CLI against a real server process: a group of
three with two shares; one member removed is locked out of both (the server at once, the
keys for everything written afterwards); the others keep reading the new content."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from blindvault.client.state import StateStore
from blindvault.core.keys import FolderKey
from blindvault.core.manifest import open_manifest_for_link
from blindvault.errors import IntegrityError
from helpers.client import Cli
from helpers.people import User
from helpers.people import user as _user


def _safety(user: User) -> str:
    return str(user.json("fingerprint")["safety_number"])


def _put(user: User, tmp: Path, data: bytes, remote: str) -> None:
    local = tmp / secrets.token_hex(4)
    local.mkdir()
    parent, name = remote.rsplit("/", 1)
    (local / name).write_bytes(data)
    user.ok("mkdir", "-p", parent)
    user.ok("put", str(local / name), parent)


def _get(user: User, tmp: Path, remote: str) -> bytes:
    out = tmp / secrets.token_hex(4)
    user.ok("get", remote, str(out))
    return out.read_bytes()


def _keys(user: User) -> dict[str, tuple[bytes, FolderKey]]:
    """The folder keys a member's client holds for @plans and @notes."""
    vault = user.vault()
    try:
        return {n: (vault.shares.mount(n).node_id, vault.shares.mount(n).key) for n in
                ("plans", "notes")}  # fmt: skip
    finally:
        vault.close()


def test_a_group_of_three_with_two_shares_one_member_removed(cli: Cli, tmp_path: Path) -> None:
    alice = User(cli, cli.email, cli.home, "pw-1")
    bob, carol, dave = (_user(cli, n) for n in ("bob", "carol", "dave"))
    _put(alice, tmp_path, b"plan one", "/plans/p.txt")
    _put(alice, tmp_path, b"note one", "/notes/n.txt")

    created = alice.json("group", "create", "team")
    assert created["members"] == [] and created["version"] == 1
    assert alice("group", "create", "team")[0] == 5  # one group per name
    assert alice("group", "show", "nope")[0] == 4
    assert alice("group", "add", "team")[0] == 2  # no email
    # members are verified as share recipients are: an unverified one is refused, nothing added
    code, _, err = alice("group", "add", "team", bob.email)
    assert code == 8 and "not verified" in err
    assert alice.json("group", "show", "team")["members"] == []
    alice.ok("trust", bob.email, "--fingerprint", _safety(bob))
    alice.ok("group", "add", "team", bob.email, carol.email, dave.email, "--trust-on-first-use")
    shown = alice.json("group", "show", "team")
    assert sorted(m["email"] for m in shown["members"]) == sorted(
        [bob.email, carol.email, dave.email]
    )

    alice.ok("share", "/plans", "--with-group", "team")
    alice.ok("share", "/notes", "--with-group", "team")
    assert alice("share", "/notes", "--with-group", "team", "--write")[0] == 2
    for member in (bob, carol, dave):
        member.ok("trust", alice.email, "--fingerprint", _safety(alice))
        assert _get(member, tmp_path, "@plans/p.txt") == b"plan one"
        assert _get(member, tmp_path, "@notes/n.txt") == b"note one"
        (listed,) = [g for g in member.json("group", "list") if g["name"] == "team"]
        assert listed["owner_email"] == alice.email
    old = _keys(dave)

    # adding a member is one request: no share is touched
    with closing(sqlite3.connect(cli.server.data / "blindvault.sqlite3")) as db:
        spaces_before = db.execute("select group_id, space, envelope from group_spaces").fetchall()
    erin = _user(cli, "erin")
    alice.ok("group", "add", "team", erin.email, "--trust-on-first-use")
    with closing(sqlite3.connect(cli.server.data / "blindvault.sqlite3")) as db:
        assert db.execute("select group_id, space, envelope from group_spaces").fetchall() == (
            spaces_before
        )
    erin.ok("trust", alice.email, "--fingerprint", _safety(alice))
    assert _get(erin, tmp_path, "@notes/n.txt") == b"note one"
    alice.ok("group", "remove", "team", erin.email)

    removed = alice.json("group", "remove", "team", dave.email)
    assert sorted(removed["rotated"]) == ["/notes", "/plans"]
    assert dave.email not in {m["email"] for m in removed["members"]}
    assert dave("ls", "@plans")[0] == 4 and dave("ls", "@notes")[0] == 4  # cut off at once

    _put(alice, tmp_path, b"plan two", "/plans/p2.txt")
    _put(alice, tmp_path, b"note two", "/notes/n2.txt")
    for member in (bob, carol):  # the others read the new content
        assert _get(member, tmp_path, "@plans/p2.txt") == b"plan two"
        assert _get(member, tmp_path, "@notes/n2.txt") == b"note two"
    # written afterwards: unreadable with the keys Dave had, in both shares
    with closing(sqlite3.connect(cli.server.data / "blindvault.sqlite3")) as db:
        for node, key in old.values():
            (data,) = db.execute(
                "select data from records where kind = 'manifest' and id = ?", (node.hex(),)
            ).fetchone()
            with pytest.raises(IntegrityError):
                open_manifest_for_link(data, FolderKey(key.material), node)
    assert alice.json("verify", "/plans")["problems"] == []
    # removing a folder shared with the group ends that share for every member
    alice.ok("rm", "-r", "/notes")
    assert [i["name"] for i in bob.json("shares")["incoming"]] == ["plans"]
    assert bob("ls", "@notes")[0] == 4


@contextmanager
def _unpinned(cli: Cli, owner: User, email: str) -> Iterator[None]:
    """`owner`'s device without its pin of `email` (as if never verified here)."""
    store = StateStore(owner.home)
    state = store.load(cli.server.url, owner.email)
    pin = state.peers.pop(email)
    store.save(state)
    try:
        yield
    finally:
        state = store.load(cli.server.url, owner.email)
        state.peers[email] = pin
        store.save(state)


def test_unshare_with_group_ends_one_share_and_rotates_it(cli: Cli, tmp_path: Path) -> None:
    """`unshare PATH --with-group NAME`: the group's grant ends on the server, the folder
    gets new keys sealed to its remaining direct member only; the group keeps its other
    share; nothing written afterwards opens with the key the group's members held."""
    alice = User(cli, cli.email, cli.home, "pw-1")
    bob, carol = (_user(cli, n) for n in ("bob", "carol"))
    _put(alice, tmp_path, b"plan one", "/plans/p.txt")
    _put(alice, tmp_path, b"note one", "/notes/n.txt")
    alice.ok("group", "create", "team")
    alice.ok("group", "add", "team", bob.email, "--trust-on-first-use")
    alice.ok("share", "/plans", "--with-group", "team")
    alice.ok("share", "/notes", "--with-group", "team")
    shared = alice.json("share", "/plans", "--with", carol.email, "--trust-on-first-use")
    for member in (bob, carol):
        member.ok("trust", alice.email, "--fingerprint", _safety(alice))
    carol.ok("accept", str(shared["id"]))  # type: ignore[index]
    assert _get(bob, tmp_path, "@plans/p.txt") == b"plan one"
    old = _keys(bob)["plans"]
    # `shares` names the group (from its verified roster), not its roster entry
    (item,) = [i for i in alice.json("shares")["items"] if i["path"] == "/plans"]
    assert {(m["email"], m.get("group")) for m in item["members"]} == {
        (carol.email, None),
        (f"g-{alice.json('group', 'show', 'team')['id']}@groups.blindvault.invalid", "team"),
    }
    assert "group team  read  (every member of the group)" in alice.ok("shares")

    assert alice("unshare", "/plans", "--with-group", "nope")[0] == 4
    assert alice("unshare", "/plans", "--with", carol.email, "--with-group", "team")[0] == 2
    alice.ok("mkdir", "/other")
    code, _, err = alice("unshare", "/other", "--with-group", "team")
    assert code == 4 and "not shared with group team" in err
    # a remaining member this device has not verified: refused before anything changes
    with _unpinned(cli, alice, carol.email):
        code, _, err = alice("unshare", "/plans", "--with-group", "team")
    assert code == 8 and "not verified" in err
    assert _get(bob, tmp_path, "@plans/p.txt") == b"plan one"  # the group's grant is kept
    done = alice.json("unshare", "/plans", "--with-group", "team")
    assert done == {"remote": "/plans", "removed_group": "team", "reencrypted": False,
                    "not_in_roster": []}  # fmt: skip
    group_id = alice.json("group", "show", "team")["id"]
    with closing(sqlite3.connect(cli.server.data / "blindvault.sqlite3")) as db:
        rows = db.execute("select space from group_spaces where group_id = ?", (group_id,))
        spaces = {r[0] for r in rows}
    assert old[0].hex() not in spaces and len(spaces) == 1  # /notes only
    revoked = [e for e in alice.json("audit")["entries"] if e["event"] == "share.revoke"]
    assert [e["detail"] for e in revoked] == [{"group": group_id, "space": old[0].hex()}]
    assert alice.json("group", "show", "team")["shares"] == ["/notes"]
    assert bob("ls", "@plans")[0] == 4  # cut off at once
    assert _get(bob, tmp_path, "@notes/n.txt") == b"note one"  # the group's other share
    _put(alice, tmp_path, b"plan two", "/plans/p2.txt")
    assert _get(carol, tmp_path, "@plans/p2.txt") == b"plan two"  # resealed to Carol
    with closing(sqlite3.connect(cli.server.data / "blindvault.sqlite3")) as db:
        (data,) = db.execute(
            "select data from records where kind = 'manifest' and id = ?", (old[0].hex(),)
        ).fetchone()
    with pytest.raises(IntegrityError):
        open_manifest_for_link(data, FolderKey(old[1].material), old[0])
    code, _, err = alice("unshare", "/plans", "--with-group", "team")  # once only
    assert code == 4 and "not shared with group team" in err
    assert alice.json("verify", "/plans")["problems"] == []
