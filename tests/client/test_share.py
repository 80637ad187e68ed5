"""Sharing with people, end to end through the CLI against a real server process:
read-only and read-write members, accept, unshare with key rotation, and what a
malicious server cannot do (P-PEERKEY, P-ROSTER, P-NOINJECT)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from blindvault.core.keys import FolderKey
from blindvault.core.manifest import open_manifest_for_link
from blindvault.errors import IntegrityError
from helpers import people
from helpers.client import Cli
from helpers.people import User


def _team(alice: User, tmp: Path) -> dict[str, bytes]:
    files = {"a.txt": os.urandom(3000), "b.bin": os.urandom(50_000)}
    for name, data in files.items():
        (tmp / name).write_bytes(data)
    alice.ok("mkdir", "-p", "/team/sub")
    alice.ok("put", str(tmp / "a.txt"), "/team")
    alice.ok("put", str(tmp / "b.bin"), "/team/sub")
    return files


def _fingerprint(user: User) -> str:
    return str(user.json("fingerprint")["safety_number"])  # type: ignore[index]


def _bob_joins_read_only(
    cli: Cli, alice: User, bob: User, files: dict[str, bytes], tmp_path: Path
) -> dict[str, object]:
    # an unverified recipient is refused without a terminal, and nothing is granted
    code, _, err = alice("share", "/team", "--with", bob.email)
    assert code == 8 and "not verified" in err
    with people.db(cli) as db:
        assert _grants_to(db, bob.email) == 0

    alice.ok("trust", bob.email, "--fingerprint", _fingerprint(bob))
    share = alice.json("share", "/team", "--with", bob.email)
    assert share["role"] == "read-only"  # type: ignore[index]

    # Bob sees it pending; accepting needs Alice verified too
    (pending,) = people.incoming(bob)
    assert "not verified" in str(pending["problem"]) and not pending["name"]
    code, _, err = bob("accept", str(pending["id"]))
    assert code == 8
    bob.ok("trust", alice.email, "--fingerprint", _fingerprint(alice))
    (pending,) = people.incoming(bob)
    assert pending["name"] == "team" and not pending["accepted"] and not pending["problem"]
    assert bob.json("accept", str(pending["id"]))["path"] == "@team"  # type: ignore[index]

    names = {e["name"] for e in bob.json("ls", "@team")}  # type: ignore[union-attr,index]
    assert names == {"a.txt", "sub"}
    out = tmp_path / "bob-out"
    out.mkdir()
    bob.ok("get", "@team/sub/b.bin", str(out))
    assert (out / "b.bin").read_bytes() == files["b.bin"]

    # read-only: the server refuses Bob's writes (exit 3), nothing changes
    (tmp_path / "evil.txt").write_bytes(b"evil")
    code, _, err = bob("put", str(tmp_path / "evil.txt"), "@team")
    assert code == 3 and "read-only" in err
    assert bob("mkdir", "@team/x")[0] == 3
    return pending


def _carol_writes(alice: User, bob: User, carol: User, tmp_path: Path) -> None:
    # Carol may write; Alice and Bob read what she wrote
    alice.ok("share", "/team", "--with", carol.email, "--write", "--trust-on-first-use")
    (c_share,) = people.incoming(carol)
    carol.ok("accept", str(c_share["id"]), "--trust-on-first-use")
    (tmp_path / "c.txt").write_bytes(b"from carol")
    carol.ok("put", str(tmp_path / "c.txt"), "@team/sub")
    listed = {e["name"]: e for e in alice.json("ls", "/team/sub")}  # type: ignore[union-attr,index]
    assert set(listed) == {"b.bin", "c.txt"}
    alice.ok("get", "/team/sub/c.txt", str(tmp_path / "c-by-alice"))
    assert (tmp_path / "c-by-alice").read_bytes() == b"from carol"
    bob.ok("get", "@team/sub/c.txt", str(tmp_path / "c-by-bob"))
    assert (tmp_path / "c-by-bob").read_bytes() == b"from carol"
    assert alice.json("verify", "/team")["problems"] == []  # type: ignore[index]


def _bob_keys(bob: User) -> tuple[FolderKey, bytes, FolderKey, bytes]:
    # Bob's keys, as his client held them before the unshare
    bob_vault = bob.vault()
    mount = bob_vault.shares.mount("team")
    old_root_key, team_node = mount.key, mount.node_id
    sub_entry = bob_vault.stat("@team/sub")
    assert sub_entry is not None
    old_sub_key, sub_node = sub_entry.folder_key, sub_entry.node_id  # type: ignore[union-attr]
    bob_vault.close()
    return old_root_key, team_node, old_sub_key, sub_node


def _unshare_bob(
    cli: Cli, alice: User, bob: User, pending: dict[str, object], tmp_path: Path
) -> None:
    old_root_key, team_node, old_sub_key, sub_node = _bob_keys(bob)
    alice.ok("unshare", "/team", "--with", bob.email)
    assert bob("ls", "@team")[0] == 4  # the server cut him off at once
    assert all(s["id"] != pending["id"] for s in people.incoming(bob))

    # written afterwards: unreadable with every key Bob ever had
    (tmp_path / "after.txt").write_bytes(b"after the unshare")
    alice.ok("put", str(tmp_path / "after.txt"), "/team/sub")
    with people.db(cli) as db:
        rows = dict(
            db.execute(
                "select id, data from records where kind = 'manifest' and id in (?, ?)",
                (team_node.hex(), sub_node.hex()),
            ).fetchall()
        )
    for node, key in ((team_node, old_root_key), (sub_node, old_sub_key)):
        with pytest.raises(IntegrityError):
            open_manifest_for_link(rows[node.hex()], FolderKey(key.material), node)


def _carol_keeps_access_then_reencrypt(
    cli: Cli, alice: User, carol: User, files: dict[str, bytes], tmp_path: Path
) -> None:
    # Carol keeps access through her re-sealed envelope, and can still write
    carol.ok("get", "@team/sub/after.txt", str(tmp_path / "after-by-carol"))
    assert (tmp_path / "after-by-carol").read_bytes() == b"after the unshare"
    carol.ok("put", str(tmp_path / "c.txt"), "@team/c2.txt")

    # --reencrypt: every file gets a new content version (new key, new blob)
    with people.db(cli) as db:
        before = {r[0] for r in db.execute("select id from blobs").fetchall()}
    alice.ok("unshare", "/team", "--with", carol.email, "--reencrypt")
    with people.db(cli) as db:
        after = {r[0] for r in db.execute("select id from blobs").fetchall()}
    assert len(after - before) == 5 and not (after & before & _blob_ids(alice, "/team"))
    alice.ok("get", "/team/sub/b.bin", str(tmp_path / "b-again"))
    assert (tmp_path / "b-again").read_bytes() == files["b.bin"]
    assert carol("ls", "@team")[0] == 4
    assert alice.json("verify", "/team")["problems"] == []  # type: ignore[index]


def test_read_only_and_read_write_members_then_unshare(cli: Cli, tmp_path: Path) -> None:
    alice, bob, carol = people.alice(cli), people.user(cli, "bob"), people.user(cli, "carol")
    files = _team(alice, tmp_path)
    pending = _bob_joins_read_only(cli, alice, bob, files, tmp_path)
    _carol_writes(alice, bob, carol, tmp_path)
    _unshare_bob(cli, alice, bob, pending, tmp_path)
    _carol_keeps_access_then_reencrypt(cli, alice, carol, files, tmp_path)


def _blob_ids(user: User, remote: str) -> set[str]:
    from blindvault.core.content import blob_id
    from blindvault.core.manifest import FileEntry

    vault = user.vault()
    try:
        ids = set()
        for e in vault.walk(remote):
            if e.kind == "file":
                entry = vault.stat(e.path)
                assert isinstance(entry, FileEntry)
                ids.add(blob_id(entry.node_id, entry.content_version).hex())
        return ids
    finally:
        vault.close()


def test_a_forced_write_by_a_reader_is_rejected_by_every_client(cli: Cli, tmp_path: Path) -> None:
    alice, bob, carol = people.alice(cli), people.user(cli, "bob"), people.user(cli, "carol")
    _team(alice, tmp_path)
    for member, extra in ((bob, ()), (carol, ("--write",))):
        alice.ok("share", "/team", "--with", member.email, "--trust-on-first-use", *extra)
        (item,) = people.incoming(member)
        member.ok("accept", str(item["id"]), "--trust-on-first-use")

    # the server lets Bob write although the owner-signed roster says read-only
    with people.db(cli) as db:
        db.execute(
            "update grants set role = 'write' where member = "
            "(select id from accounts where email = ?)",
            (bob.email,),
        )
        db.commit()
    (tmp_path / "forged.txt").write_bytes(b"forged")
    assert bob("put", str(tmp_path / "forged.txt"), "@team")[0] in (0, 10)
    for reader, path in ((alice, "/team"), (carol, "@team"), (bob, "@team")):
        code, out, _ = reader("ls", path)
        assert code == 10, (reader.email, out)
        assert "forged" not in out


def test_server_substituting_the_recipients_key_seals_nothing(cli: Cli) -> None:
    alice, bob = people.alice(cli), people.user(cli, "bob")
    alice.ok("mkdir", "/team")
    alice.ok("trust", bob.email, "--fingerprint", _fingerprint(bob))

    from blindvault.core.identity import Identity

    impostor = Identity.generate(bob.email, 1).bundle.encode()
    with people.db(cli) as db:
        db.execute("update accounts set identity_bundle = ? where email = ?", (impostor, bob.email))
        db.commit()
    code, _, err = alice("share", "/team", "--with", bob.email, "--trust-on-first-use")
    assert code == 8 and "changed" in err
    with people.db(cli) as db:
        assert _grants_to(db, bob.email) == 0
        (alice_id,) = db.execute(
            "select id from accounts where email = ?", (alice.email,)
        ).fetchone()
        rosters = "select count(*) from records where kind = 'roster' and owner = ?"
        assert db.execute(rosters, (alice_id,)).fetchone()[0] == 0


def _grants_to(db: sqlite3.Connection, email: str) -> int:
    query = (
        "select count(*) from grants join accounts on accounts.id = grants.member where email = ?"
    )
    return int(db.execute(query, (email,)).fetchone()[0])


def test_a_tampered_or_replayed_roster_is_reported_not_shown(cli: Cli, tmp_path: Path) -> None:
    alice, bob, carol = people.alice(cli), people.user(cli, "bob"), people.user(cli, "carol")
    _team(alice, tmp_path)
    alice.ok("share", "/team", "--with", bob.email, "--trust-on-first-use")
    (item,) = people.incoming(bob)
    bob.ok("accept", str(item["id"]), "--trust-on-first-use")
    roster = "records where kind = 'roster' and owner = (select id from accounts where email = ?)"
    with people.db(cli) as db:
        (v1,) = db.execute(f"select data from {roster}", (alice.email,)).fetchone()
    alice.ok("share", "/team", "--with", carol.email, "--trust-on-first-use")
    assert bob("ls", "@team")[0] == 0  # Bob has now seen the roster at version 2

    with people.db(cli) as db:  # the server replays version 1 (which lacks Carol)
        db.execute(
            f"update {roster.replace('records', 'records set data = ?', 1)}", (v1, alice.email)
        )
        db.commit()
    (listed,) = people.incoming(bob)
    assert listed["problem"] and not listed["name"]
    assert bob("ls", "@team")[0] == 4  # not shown
    assert bob("shares", "--strict")[0] == 1

    with people.db(cli) as db:  # a flipped bit in the roster: the signature fails
        flipped = bytearray(v1)
        flipped[40] ^= 1
        db.execute(
            f"update {roster.replace('records', 'records set data = ?', 1)}",
            (bytes(flipped), alice.email),
        )
        db.commit()
    (listed,) = people.incoming(bob)
    assert listed["problem"]


def test_removing_a_shared_folder_ends_its_shares(cli: Cli, tmp_path: Path) -> None:
    alice, bob = people.alice(cli), people.user(cli, "bob")
    _team(alice, tmp_path)
    alice.ok("share", "/team", "--with", bob.email, "--trust-on-first-use")
    (item,) = people.incoming(bob)
    bob.ok("accept", str(item["id"]), "--trust-on-first-use")
    code, _, err = bob("link", "@team/a.txt")
    assert code == 2 and "owner" in err  # links into a share are the owner's to make
    alice.ok("rm", "-r", "/team")
    assert people.incoming(bob) == []
    assert bob("ls", "@team")[0] == 4


def test_a_writer_trashes_into_the_shared_folders_trash(cli: Cli, tmp_path: Path) -> None:
    """Issue 14: a read-write member's `rm` lands in the shared folder's own (signed) trash;
    the owner sees it and restores it; a read-only member cannot trash anything."""
    alice, carol, bob = people.alice(cli), people.user(cli, "carol"), people.user(cli, "bob")
    files = _team(alice, tmp_path)
    alice.ok("share", "/team", "--with", carol.email, "--write", "--trust-on-first-use")
    alice.ok("share", "/team", "--with", bob.email, "--trust-on-first-use")
    for member in (carol, bob):
        (item,) = people.incoming(member)
        member.ok("accept", str(item["id"]), "--trust-on-first-use")
    assert bob("rm", "@team/a.txt")[0] == 3  # read-only: refused, nothing changes
    carol.ok("rm", "@team/a.txt")
    (seen,) = carol.json("trash")  # type: ignore[misc]
    assert seen["path"] == "/@team/a.txt" and seen["kind"] == "file"
    (owner_view,) = alice.json("trash")  # type: ignore[misc]
    assert owner_view["path"] == "/team/a.txt" and owner_view["id"] == seen["id"]
    assert [e["name"] for e in bob.json("ls", "@team")] == ["sub"]  # type: ignore[union-attr,index]
    alice.ok("trash", "restore", "/team/a.txt")
    bob.ok("get", "@team/a.txt", str(tmp_path / "a-by-bob"))
    assert (tmp_path / "a-by-bob").read_bytes() == files["a.txt"]
    assert carol.json("trash") == []
