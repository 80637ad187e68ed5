"""`mv` into and out of a shared folder (issue 19), through the CLI against a real server:
what moves gets new keys under the destination, the old ciphertext is deleted, members see
exactly what is inside the share, and what cannot move is refused before any change."""

from __future__ import annotations

import os
from pathlib import Path

from blindvault.core.content import blob_id
from blindvault.core.manifest import FileEntry
from helpers.client import Cli
from helpers.people import User, alice, db, incoming, user


def _entry(person: User, remote: str) -> FileEntry:
    vault = person.vault()
    try:
        entry = vault.stat(remote)
    finally:
        vault.close()
    assert isinstance(entry, FileEntry)
    return entry


def _blobs(cli: Cli) -> set[str]:
    with db(cli) as conn:
        return {r[0] for r in conn.execute("select id from blobs").fetchall()}


def _names(person: User, remote: str) -> set[str]:
    return {str(e["name"]) for e in person.json("ls", remote)}  # type: ignore[union-attr,index]


def test_moving_into_and_out_of_a_shared_folder_rekeys(cli: Cli, tmp_path: Path) -> None:
    owner, bob = alice(cli), user(cli, "bob")
    data, inner = os.urandom(20_000), os.urandom(3000)
    for name, content in (("private.txt", data), ("inner.bin", inner)):
        (tmp_path / name).write_bytes(content)
    owner.ok("mkdir", "/team")
    owner.ok("mkdir", "/proj")
    owner.ok("put", str(tmp_path / "private.txt"), "/")
    owner.ok("put", str(tmp_path / "inner.bin"), "/proj")
    owner.ok("share", "/team", "--with", bob.email, "--trust-on-first-use")
    (item,) = incoming(bob)
    bob.ok("accept", str(item["id"]), "--trust-on-first-use")

    before = _entry(owner, "/private.txt")
    old_blob = blob_id(before.node_id, before.content_version).hex()
    owner.ok("mv", "/private.txt", "/team/moved.txt")
    after = _entry(owner, "/team/moved.txt")
    assert after.node_id != before.node_id and after.file_key != before.file_key
    assert old_blob not in _blobs(cli)  # the old ciphertext is gone
    assert "private.txt" not in _names(owner, "/")
    bob.ok("get", "@team/moved.txt", str(tmp_path / "by-bob"))
    assert (tmp_path / "by-bob").read_bytes() == data
    assert after.mtime_ms == before.mtime_ms

    (item,) = owner.json("shares")["items"]  # type: ignore[index]
    assert item["path"] == "/team" and item["kind"] == "folder"
    assert [(m["email"], m["role"]) for m in item["members"]] == [(bob.email, "read")]

    owner.ok("mv", "/proj", "/team/")  # a folder, with what is inside it
    assert _names(bob, "@team/proj") == {"inner.bin"}
    bob.ok("get", "@team/proj/inner.bin", str(tmp_path / "inner-by-bob"))
    assert (tmp_path / "inner-by-bob").read_bytes() == inner

    shared = _entry(owner, "/team/moved.txt")
    owner.ok("mv", "/team/moved.txt", "/out.txt")  # out again: Bob no longer sees it
    assert _names(bob, "@team") == {"proj"}
    out = _entry(owner, "/out.txt")
    assert out.file_key != shared.file_key
    assert blob_id(shared.node_id, shared.content_version).hex() not in _blobs(cli)
    owner.ok("get", "/out.txt", str(tmp_path / "out"))
    assert (tmp_path / "out").read_bytes() == data

    # refused before anything changes: a read-only member moving out, a name taken
    code, _, err = bob("mv", "@team/proj/inner.bin", "/mine.bin")
    assert code == 2 and "read-only" in err
    assert _names(bob, "@team/proj") == {"inner.bin"} and "mine.bin" not in _names(bob, "/")
    owner.ok("put", str(tmp_path / "inner.bin"), "/")
    code, _, err = owner("mv", "/inner.bin", "/team/proj/inner.bin")
    assert code == 2 and "exists" in err
    owner.ok("mkdir", "/other")
    owner.ok("share", "/other", "--with", bob.email, "--trust-on-first-use")
    code, _, err = owner("mv", "/other", "/team/")
    assert code == 2 and "shared folder" in err
