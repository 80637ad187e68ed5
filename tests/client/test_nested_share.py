"""Nested shares (issue 19), end to end through the CLI against a real server process: a
folder inside a shared folder shared with a third person, who sees only it; the members
of the folder around it keep reading (and writing) it; a member added around it is added
inside; unsharing the inner person rotates only the inner folder, unsharing an outer
member locks them out of both; and a folder that already holds a shared one can be shared
too."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from helpers import people
from helpers.client import Cli
from helpers.people import User


def _trusting(owner: User, *others: User) -> None:
    """Each of `others` verifies the owner's safety number (so shares show their names)."""
    number = str(owner.json("fingerprint")["safety_number"])  # type: ignore[index]
    for person in others:
        person.ok("trust", owner.email, "--fingerprint", number)


def _accept(person: User, name: str) -> str:
    """Accept the incoming share called `name`; returns its @mount."""
    item = next(s for s in people.incoming(person) if s["name"] == name and not s["accepted"])
    return str(person.json("accept", str(item["id"]))["path"])  # type: ignore[index]


def _three(cli: Cli, tmp: Path, folder: str) -> tuple[User, User, User, bytes]:
    """Alice, Bob and Carol (who verified Alice), and a file f.bin in Alice's `folder`."""
    alice, bob, carol = people.alice(cli), people.user(cli, "bob"), people.user(cli, "carol")
    _trusting(alice, bob, carol)
    data = os.urandom(3000)
    (tmp / "f.bin").write_bytes(data)
    alice.ok("mkdir", "-p", folder)
    alice.ok("put", str(tmp / "f.bin"), folder)
    return alice, bob, carol, data


def _give(owner: User, remote: str, person: User, *flags: str) -> None:
    """`owner` shares `remote` with `person`, who accepts it."""
    owner.ok("share", remote, "--with", person.email, "--trust-on-first-use", *flags)
    _accept(person, remote.rsplit("/", 1)[-1].lstrip("@"))


def _read(person: User, remote: str, tmp: Path) -> bytes | None:
    out = tmp / f"read-{os.urandom(4).hex()}"
    code, _, _ = person("get", remote, str(out))
    return out.read_bytes() if code == 0 else None


def _key_version(owner: User, remote: str) -> int:
    vault = owner.vault()
    try:
        entry = vault.stat(remote)
        return int(entry.key_version)  # type: ignore[union-attr]
    finally:
        vault.close()


@dataclass
class Four:
    alice: User
    bob: User  # read-write member of /team
    carol: User  # of /team/sub only
    dave: User  # joins /team later
    tmp: Path
    inner: bytes  # /team/sub/deep/in.bin


def _nested(cli: Cli, tmp_path: Path) -> Four:
    """/team shared read-write with Bob, then /team/sub shared with Carol."""
    alice, bob, carol = people.alice(cli), people.user(cli, "bob"), people.user(cli, "carol")
    dave = people.user(cli, "dave")
    _trusting(alice, bob, carol, dave)
    secret, inner = os.urandom(5000), os.urandom(7000)
    (tmp_path / "top.txt").write_bytes(secret)
    (tmp_path / "in.bin").write_bytes(inner)
    alice.ok("mkdir", "-p", "/team/sub/deep")
    alice.ok("put", str(tmp_path / "top.txt"), "/team")
    alice.ok("put", str(tmp_path / "in.bin"), "/team/sub/deep")
    alice.ok("share", "/team", "--with", bob.email, "--write", "--trust-on-first-use")
    assert _accept(bob, "team") == "@team"

    # Carol gets /team/sub only: a space of its own, Bob's access carried over
    alice.ok("share", "/team/sub", "--with", carol.email, "--trust-on-first-use")
    assert _accept(carol, "sub") == "@sub"
    assert _read(carol, "@sub/deep/in.bin", tmp_path) == inner
    assert {e["name"] for e in carol.json("ls", "/")} == {"@sub"}  # type: ignore[union-attr,index]
    assert _read(bob, "@team/sub/deep/in.bin", tmp_path) == inner
    assert _read(bob, "@team/top.txt", tmp_path) == secret
    return Four(alice, bob, carol, dave, tmp_path, inner)


def _writes_inside(f: Four) -> None:
    # Bob (read-write around it) writes inside: Alice and Carol read it
    (f.tmp / "bob.txt").write_bytes(b"bob was here")
    f.bob.ok("put", str(f.tmp / "bob.txt"), "@team/sub")
    assert _read(f.alice, "/team/sub/bob.txt", f.tmp) == b"bob was here"
    assert _read(f.carol, "@sub/bob.txt", f.tmp) == b"bob was here"
    # Carol is read-only inside: the server refuses her write
    assert f.carol("put", str(f.tmp / "bob.txt"), "@sub/c.txt")[0] == 3

    # Bob syncs @team; a change inside /team/sub (another space, another feed) arrives
    synced = f.tmp / "bob-sync"
    synced.mkdir()
    f.bob.ok("sync", str(synced), "@team", "--once")
    assert (synced / "sub" / "deep" / "in.bin").read_bytes() == f.inner
    (f.tmp / "later.txt").write_bytes(b"written later by alice")
    f.alice.ok("put", str(f.tmp / "later.txt"), "/team/sub")
    f.bob.ok("sync", str(synced), "@team", "--once")
    assert (synced / "sub" / "later.txt").read_bytes() == b"written later by alice"
    assert _read(f.carol, "@sub/later.txt", f.tmp) == b"written later by alice"


def _members(f: Four, path: str) -> set[str]:
    items = {i["path"]: i for i in f.alice.json("shares")["items"]}  # type: ignore[index]
    return {str(m["email"]) for m in items[path]["members"]}


def _passed_down(f: Four) -> None:
    # a member added around it is added inside (and reads it without accepting it)
    f.alice.ok("share", "/team", "--with", f.dave.email, "--trust-on-first-use")
    _accept(f.dave, "team")
    assert _read(f.dave, "@team/sub/deep/in.bin", f.tmp) == f.inner
    assert _members(f, "/team/sub") == {f.bob.email, f.carol.email, f.dave.email}
    assert _members(f, "/team") == {f.bob.email, f.dave.email}
    # Bob has it through /team: removing him here alone is refused, nothing changes
    code, _, err = f.alice("unshare", "/team/sub", "--with", f.bob.email)
    assert code == 2 and "through the shared folder around it" in err


def _unshare_inner_then_outer(f: Four) -> None:
    # Carol out: only /team/sub's keys change; she reads nothing, the others all still do
    team_kv, sub_kv = _key_version(f.alice, "/team"), _key_version(f.alice, "/team/sub")
    f.alice.ok("unshare", "/team/sub", "--with", f.carol.email)
    assert _key_version(f.alice, "/team") == team_kv
    assert _key_version(f.alice, "/team/sub") == sub_kv + 1
    assert _read(f.carol, "@sub/deep/in.bin", f.tmp) is None
    assert _read(f.bob, "@team/sub/deep/in.bin", f.tmp) == f.inner
    assert _read(f.dave, "@team/sub/bob.txt", f.tmp) == b"bob was here"

    # Carol again, then Bob out of /team: locked out of both, Carol and Dave keep theirs
    f.alice.ok("share", "/team/sub", "--with", f.carol.email)
    _accept(f.carol, "sub")
    f.alice.ok("unshare", "/team", "--with", f.bob.email)
    assert _read(f.bob, "@team/top.txt", f.tmp) is None
    assert _read(f.bob, "@team/sub/deep/in.bin", f.tmp) is None
    assert f.bob.vault().shares.incoming() == []
    assert _read(f.carol, "@sub/deep/in.bin", f.tmp) == f.inner
    assert _read(f.dave, "@team/sub/deep/in.bin", f.tmp) == f.inner
    assert _members(f, "/team/sub") == {f.carol.email, f.dave.email}
    assert f.alice.json("verify", "/team")["problems"] == []  # type: ignore[index]


def test_a_folder_inside_a_shared_folder_shared_and_unshared(cli: Cli, tmp_path: Path) -> None:
    f = _nested(cli, tmp_path)
    _writes_inside(f)
    _passed_down(f)
    _unshare_inner_then_outer(f)


def test_a_folder_holding_a_shared_folder_can_be_shared(cli: Cli, tmp_path: Path) -> None:
    alice, bob, carol, data = _three(cli, tmp_path, "/proj/inner")
    _give(alice, "/proj/inner", carol)
    _give(alice, "/proj", bob)
    assert _read(bob, "@proj/inner/f.bin", tmp_path) == data  # passed down to /proj/inner
    assert _read(carol, "@inner/f.bin", tmp_path) == data
    assert _read(carol, "@proj/inner/f.bin", tmp_path) is None  # Carol has only the inner one

    # a group share does not nest, either way round: refused, nothing changes
    alice.ok("group", "create", "crew")
    code, _, err = alice("share", "/proj/inner", "--with-group", "crew")
    assert code == 2 and "do not nest" in err


def test_a_member_who_reshares_passes_on_the_nested_shares(cli: Cli, tmp_path: Path) -> None:
    """Bob may re-share /team; /team/sub inside it is shared with Carol. When Bob adds Erin
    to @team, he adds her to /team/sub too (his re-share right there is copied from /team),
    so she reads inside; the owner removing her from /team removes her from both."""
    alice, bob, carol, data = _three(cli, tmp_path, "/team/sub")
    erin = people.user(cli, "erin")
    _trusting(bob, erin)
    _give(alice, "/team/sub", carol)
    _give(alice, "/team", bob, "--allow-reshare")
    _give(bob, "@team", erin)
    assert _read(erin, "@team/sub/f.bin", tmp_path) == data
    assert _members(Four(alice, bob, carol, erin, tmp_path, data), "/team/sub") == {
        bob.email, carol.email, erin.email,
    }  # fmt: skip
    alice.ok("unshare", "/team", "--with", erin.email)
    assert _read(erin, "@team/sub/f.bin", tmp_path) is None
    assert erin.vault().shares.incoming() == []
    assert _read(carol, "@sub/f.bin", tmp_path) == data


def test_a_trashed_nested_share_stays_readable_to_the_enclosing_members(
    cli: Cli, tmp_path: Path
) -> None:
    """Trashing /team/sub ends the shares of the people who had only /team/sub; the
    members of /team, who read /team's trash anyway, keep theirs, and read it again once it
    is restored."""
    alice, bob, carol, data = _three(cli, tmp_path, "/team/sub")
    _give(alice, "/team", bob)
    _give(alice, "/team/sub", carol)

    alice.ok("rm", "-r", "/team/sub")
    assert _read(carol, "@sub/f.bin", tmp_path) is None
    alice.ok("trash", "restore", "/team/sub")
    assert _read(bob, "@team/sub/f.bin", tmp_path) == data
    assert _read(carol, "@sub/f.bin", tmp_path) is None


def test_a_removed_member_is_told_the_share_is_gone(cli: Cli, tmp_path: Path) -> None:
    """After the owner removed them, a member's `ls @team` says the share is gone (exit 4),
    not that they never had it."""
    alice, bob, _, _ = _three(cli, tmp_path, "/team")
    _give(alice, "/team", bob)
    alice.ok("unshare", "/team", "--with", bob.email)
    code, _, err = bob("ls", "@team")
    assert code == 4 and "not shared with you any more" in err
    code, _, err = bob("ls", "@nothing")
    assert code == 4 and "no accepted share named @nothing" in err
