"""Single-file shares (issue 19), end to end through the CLI against a real server process:
a file shared read-write and edited by the recipient, read-only members, `@shared/` names
and their clashes, unshare with key rotation, and a forced write by a reader."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from blindvault.core.keys import FolderKey
from blindvault.core.manifest import FileEntry, open_manifest_for_link
from blindvault.errors import IntegrityError
from helpers.client import Cli
from helpers.people import User, alice, db, incoming, user


def _accept(member: User) -> str:
    """Accept the oldest pending share (pinning its owner on first use)."""
    item = next(i for i in incoming(member) if not i["accepted"])
    return str(member.json("accept", str(item["id"]), "--trust-on-first-use")["path"])  # type: ignore[index]


def _get(person: User, remote: str, tmp: Path) -> bytes:
    out = tmp / f"got-{os.urandom(4).hex()}"
    person.ok("get", remote, str(out))
    return out.read_bytes()


def _put(person: User, data: bytes, remote: str, tmp: Path) -> tuple[int, str, str]:
    local = tmp / f"put-{os.urandom(4).hex()}"
    local.write_bytes(data)
    return person("put", str(local), remote)


def _names(person: User, remote: str) -> dict[str, dict[str, object]]:
    return {str(e["name"]): e for e in person.json("ls", remote)}  # type: ignore[union-attr,index]


def test_a_file_shared_read_write_is_edited_by_the_recipient(cli: Cli, tmp_path: Path) -> None:
    owner, bob = alice(cli), user(cli, "bob")
    v1 = os.urandom(40_000)
    owner.ok("mkdir", "/docs")
    assert _put(owner, v1, "/docs/report.pdf", tmp_path)[0] == 0
    share = owner.json(
        "share", "/docs/report.pdf", "--with", bob.email, "--write", "--trust-on-first-use"
    )
    assert share["role"] == "read-write"  # type: ignore[index]
    assert _accept(bob) == "@shared/report.pdf"
    assert "@shared" in _names(bob, "/")
    listed = _names(bob, "@shared")
    assert set(listed) == {"report.pdf"} and listed["report.pdf"]["size"] == len(v1)
    assert _get(bob, "@shared/report.pdf", tmp_path) == v1

    v2 = os.urandom(1000)  # the recipient writes a new version; the owner's devices take it
    assert _put(bob, v2, "@shared/report.pdf", tmp_path)[0] == 0
    assert _names(owner, "/docs")["report.pdf"]["size"] == len(v2)
    assert _get(owner, "/docs/report.pdf", tmp_path) == v2
    # the owner's `versions` names the writer by the email this device pinned for the key
    latest = owner.json("versions", "/docs/report.pdf")[0]  # type: ignore[index]
    assert latest["writer"] == bob.json("fingerprint")["fingerprint"]  # type: ignore[index]
    assert latest["writer_email"] == bob.email
    lines = owner.ok("versions", "/docs/report.pdf").splitlines()
    assert bob.email in lines[0] and "this account" in lines[1]
    v3 = b"the owner again"
    assert _put(owner, v3, "/docs/report.pdf", tmp_path)[0] == 0
    assert _get(bob, "@shared/report.pdf", tmp_path) == v3
    assert owner.json("verify", "/docs")["problems"] == []  # type: ignore[index]
    folder = tmp_path / "up" / "docs"  # `put` of a whole folder (small files batched)
    folder.mkdir(parents=True)
    (folder / "report.pdf").write_bytes(b"v4, with a folder")
    (folder / "other.txt").write_bytes(b"not shared")
    owner.ok("put", str(folder), "/")
    assert _get(bob, "@shared/report.pdf", tmp_path) == b"v4, with a folder"
    assert set(_names(owner, "/docs")) == {"report.pdf", "other.txt"}
    assert len(bob.json("versions", "@shared/report.pdf")) == 4  # type: ignore[arg-type]
    bob.ok("restore", "@shared/report.pdf", "--version", "1", "--to", str(tmp_path / "v1"))
    assert (tmp_path / "v1").read_bytes() == v1  # an earlier version, from the holder's space
    code, _, err = bob("rm", "@shared/report.pdf")
    assert code == 2 and "owner" in err
    # a file shared with you stays where it is shared
    assert bob("mv", "@shared/report.pdf", "@shared/x.pdf")[0] == 2


def test_readers_clashing_names_and_unshare(cli: Cli, tmp_path: Path) -> None:
    owner, bob, carol = alice(cli), user(cli, "bob"), user(cli, "carol")
    first, second = os.urandom(3000), os.urandom(5000)
    owner.ok("mkdir", "/a")
    owner.ok("mkdir", "/b")
    _put(owner, first, "/a/notes.txt", tmp_path)
    _put(owner, second, "/b/notes.txt", tmp_path)
    for path in ("/a/notes.txt", "/b/notes.txt"):
        owner.ok("share", path, "--with", bob.email, "--trust-on-first-use")
    owner.ok("share", "/a/notes.txt", "--with", carol.email, "--trust-on-first-use")
    got = {_accept(bob), _accept(bob)}
    assert got == {"@shared/notes.txt", "@shared/notes-2.txt"}
    assert {_get(bob, f"{p}", tmp_path) for p in got} == {first, second}
    _accept(carol)

    # read-only: the server refuses the write, nothing changes
    code, _, err = _put(bob, b"evil", "@shared/notes.txt", tmp_path)
    assert code == 3 and "read-only" in err

    name_a = next(p for p in got if _get(bob, p, tmp_path) == first).removeprefix("@shared/")
    vault = bob.vault()
    mount = vault.shares.spaces.file_mounts()[name_a]
    node, old_key = mount.node_id, mount.key
    vault.close()
    items = {i["path"]: i for i in owner.json("shares")["items"]}  # type: ignore[index]
    assert set(items) == {"/a/notes.txt", "/b/notes.txt"}
    a_item = items["/a/notes.txt"]
    assert a_item["kind"] == "file" and not a_item["problem"] and not a_item["not_in_roster"]
    roles = {m["email"]: (m["role"], m["accepted"]) for m in a_item["members"]}
    assert roles == {bob.email: ("read", True), carol.email: ("read", True)}
    assert all(isinstance(m["since"], float) and m["share_id"] for m in a_item["members"])
    owner.ok("unshare", "/a/notes.txt", "--with", bob.email, "--reencrypt")
    assert _get(carol, "@shared/notes.txt", tmp_path) == first  # a new version, same bytes
    items = {i["path"]: i for i in owner.json("shares")["items"]}  # type: ignore[index]
    assert [m["email"] for m in items["/a/notes.txt"]["members"]] == [carol.email]
    assert set(_names(bob, "@shared")) == {p.removeprefix("@shared/") for p in got} - {name_a}
    assert bob("get", f"@shared/{name_a}", str(tmp_path / "gone"))[0] == 4
    after = b"after the unshare"
    _put(owner, after, "/a/notes.txt", tmp_path)
    with db(cli) as conn:
        (sealed,) = conn.execute(
            "select data from records where kind = 'manifest' and id = ?", (node.hex(),)
        ).fetchone()
    with pytest.raises(IntegrityError):  # written afterwards: not with the key Bob had
        open_manifest_for_link(sealed, FolderKey(old_key.material), node)
    assert _get(carol, "@shared/notes.txt", tmp_path) == after  # Carol is still a member
    assert _get(owner, "/a/notes.txt", tmp_path) == after


def test_a_forced_write_by_a_reader_of_a_file_is_rejected(cli: Cli, tmp_path: Path) -> None:
    owner, bob = alice(cli), user(cli, "bob")
    owner.ok("mkdir", "/docs")
    _put(owner, b"original", "/docs/plan.txt", tmp_path)
    owner.ok("share", "/docs/plan.txt", "--with", bob.email, "--trust-on-first-use")
    _accept(bob)
    with db(cli) as conn:  # the server lets Bob write although the roster says read-only
        conn.execute(
            "update grants set role = 'write' where member = "
            "(select id from accounts where email = ?)",
            (bob.email,),
        )
        conn.commit()
    assert _put(bob, b"forged", "@shared/plan.txt", tmp_path)[0] in (0, 10)
    code, _, _ = owner("get", "/docs/plan.txt", str(tmp_path / "plan"))
    assert code == 10 and not (tmp_path / "plan").exists()
    assert owner("ls", "/docs")[0] == 10


def test_a_rotation_cut_short_leaves_the_owner_reading(cli: Cli, tmp_path: Path) -> None:
    """Unshare re-seals the holder (key version 2) before it writes the roster; a crash in
    between leaves a roster at key version 1: the owner's devices still read the file (the
    key derived for version 2 must open it), the member's old key opens nothing new."""
    from blindvault.client.tree import Space
    from blindvault.core.fileshare import holder_key
    from blindvault.core.manifest import ManifestBody

    owner, bob = alice(cli), user(cli, "bob")
    owner.ok("mkdir", "/docs")
    _put(owner, b"kept", "/docs/plan.txt", tmp_path)
    owner.ok("share", "/docs/plan.txt", "--with", bob.email, "--trust-on-first-use")
    _accept(bob)
    vault = owner.vault()
    try:
        entry = vault.stat("/docs/plan.txt")
        assert isinstance(entry, FileEntry)
        holder = vault.shares.spaces.shared_file(entry)
        assert holder is not None and holder.key_version == 1
        space: Space = holder.space
        new_key = holder_key(vault.session.keys().root_key, entry.node_id, 2)

        def same(body: ManifestBody) -> ManifestBody:
            return body

        vault.session.tree.update(entry.node_id, holder.key, same, 1, space, new_key=new_key)
        vault.session.save()
    finally:
        vault.close()
    assert _get(owner, "/docs/plan.txt", tmp_path) == b"kept"
    assert bob("get", "@shared/plan.txt", str(tmp_path / "bob"))[0] == 10
