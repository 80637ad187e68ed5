"""The CLI as a user runs it, against a real server process on loopback."""

from __future__ import annotations

import json
import os
from contextlib import closing
from pathlib import Path

from helpers.client import Cli


def tree_of(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def make_tree(root: Path) -> None:
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "a.txt").write_text("hello")
    (root / "sub" / "b.bin").write_bytes(os.urandom(200_000))
    (root / "sub" / "deeper" / "empty").write_bytes(b"")


def test_put_get_cp_r_semantics(cli: Cli, tmp_path: Path) -> None:
    src = tmp_path / "src"
    make_tree(src)
    assert cli("mkdir", "/existing")[0] == 0
    assert cli("put", str(src), "/existing")[0] == 0  # into an existing folder: keeps its name
    assert cli("put", str(src), "/renamed")[0] == 0  # otherwise the destination names it
    code, out, _ = cli("ls", "/", "--json")
    assert code == 0
    assert {e["name"] for e in json.loads(out)} == {"existing", "renamed"}
    assert {e["name"] for e in json.loads(cli("ls", "/existing", "--json")[1])} == {"src"}
    dest = tmp_path / "dest"
    dest.mkdir()
    assert cli("get", "/existing/src", str(dest))[0] == 0  # into an existing folder
    assert cli("get", "/renamed", str(tmp_path / "named"))[0] == 0  # the destination names it
    assert tree_of(dest / "src") == tree_of(src)
    assert tree_of(tmp_path / "named") == tree_of(src)
    assert cli("put", str(src / "a.txt"), str(src / "sub" / "b.bin"), "/existing")[0] == 0
    assert cli("get", "/existing/a.txt", str(tmp_path / "copy.txt"))[0] == 0
    assert (tmp_path / "copy.txt").read_text() == "hello"


def test_ls_long_tree_mv_rm(cli: Cli, tmp_path: Path) -> None:
    src = tmp_path / "src"
    make_tree(src)
    cli("put", str(src), "/")
    code, out, _ = cli("ls", "-l", "/src")
    assert code == 0
    assert "a.txt" in out
    assert "5" in out
    assert cli("mv", "/src/a.txt", "/src/sub")[0] == 0
    assert cli("mv", "/src/sub", "/moved")[0] == 0
    entries = json.loads(cli("tree", "--json")[1])
    paths = {e["path"] for e in entries}
    assert "/moved/a.txt" in paths
    assert "/moved/deeper/empty" in paths
    assert cli("rm", "/moved")[0] == 7  # not empty without -r (as rm(1))
    assert cli("rm", "-r", "/moved")[0] == 0
    assert {e["path"] for e in json.loads(cli("tree", "--json")[1])} == {"/src"}
    assert cli("rm", "/nope")[0] == 4
    assert cli("verify")[0] == 0


def test_passwd_rewraps_one_object_whatever_the_tree(cli: Cli, tmp_path: Path) -> None:
    src = tmp_path / "many"
    src.mkdir()
    for i in range(20):
        (src / f"f{i}").write_bytes(os.urandom(100))
    cli("put", str(src), "/")
    with closing(cli.server.db()) as db:
        before = db.execute("select kind, id, version from records order by kind, id").fetchall()
        blobs_before = db.execute("select count(*) from blobs").fetchone()
        (kb_before,) = db.execute(
            "select key_bundle_version from accounts where email = ?", (cli.email,)
        ).fetchone()
    cli.monkeypatch.setenv("BLINDVAULT_NEW_PASSWORD", "pw-2")
    code, out, _ = cli("passwd", "--accept-weak-password", "--json")
    assert code == 0
    assert json.loads(out) == {"objects_written": 1}
    with closing(cli.server.db()) as db:
        assert (
            db.execute("select kind, id, version from records order by kind, id").fetchall()
            == before
        )
        assert db.execute("select count(*) from blobs").fetchone() == blobs_before
        (kb_after,) = db.execute(
            "select key_bundle_version from accounts where email = ?", (cli.email,)
        ).fetchone()
    assert kb_after == kb_before + 1  # the one object written: the key bundle, once
    assert cli("ls", "/many", password="pw-1")[0] == 3  # the old password is refused
    assert cli("ls", "/many", password="pw-2")[0] == 0


def test_recover_with_words_from_stdin(cli: Cli) -> None:
    words = (cli.home / "words.txt").read_text().strip()
    cli.monkeypatch.setenv("BLINDVAULT_NEW_PASSWORD", "pw-new")
    code, _, err = cli(
        "recover",
        "--accept-weak-password",
        "--server",
        cli.server.url,
        "--email",
        cli.email,
        stdin=words + "\n",
    )
    assert code == 0, err
    assert cli("whoami", password="pw-new")[0] == 0
    bad = " ".join(["abandon"] * 24)
    assert (
        cli(
            "recover",
            "--accept-weak-password",
            "--server",
            cli.server.url,
            "--email",
            cli.email,
            stdin=bad + "\n",
        )[0]
        == 9
    )


def test_devices_and_revoke(cli: Cli) -> None:
    _, out, _ = cli("devices", "--json")
    device = json.loads(out)[0]
    assert device["current"]
    assert cli("devices", "revoke", device["id"])[0] == 0
    assert cli("ls")[0] == 3  # this device's token is revoked


def test_tampered_blob_is_exit_10_and_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    f = tmp_path / "doc.bin"
    f.write_bytes(os.urandom(300_000))
    cli("put", str(f), "/")
    with closing(cli.server.db()) as db:
        (key,) = db.execute(
            "select storage_key from blobs b join accounts a on a.id = b.owner where a.email = ?",
            (cli.email,),
        ).fetchone()
    blob = cli.server.data / "blobstore" / "blobs" / key[:2] / key[2:4] / key
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 1
    blob.write_bytes(bytes(data))
    out = tmp_path / "out"
    out.mkdir()
    code, _, err = cli("get", "/doc.bin", str(out))
    assert code == 10, err
    assert list(out.iterdir()) == []  # no partial or temporary file left
    assert cli("verify")[0] == 10


def test_tampered_packed_blob_is_exit_10_and_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    """A small file's blob is a row of the packed store: flipping a byte there is caught
    the same way (the client authenticates every blob it reads)."""
    import sqlite3

    f = tmp_path / "note.txt"
    f.write_bytes(os.urandom(4096))
    cli("put", str(f), "/")
    with closing(cli.server.db()) as db:
        (key,) = db.execute(
            "select b.storage_key from blobs b join accounts a on a.id = b.owner"
            " where a.email = ? order by b.created_at desc limit 1",
            (cli.email,),
        ).fetchone()
    with closing(sqlite3.connect(cli.server.data / "blobstore" / "small.sqlite3")) as packed:
        (data,) = packed.execute("select data from small where key = ?", (key,)).fetchone()
        flipped = bytearray(data)
        flipped[len(flipped) // 2] ^= 1
        packed.execute("update small set data = ? where key = ?", (bytes(flipped), key))
        packed.commit()
    out = tmp_path / "out"
    out.mkdir()
    code, _, err = cli("get", "/note.txt", str(out))
    assert code == 10, err
    assert list(out.iterdir()) == []


def test_plain_http_to_a_remote_host_is_refused(cli: Cli) -> None:
    code, _, err = cli("ls", "--server", "http://192.0.2.1:8470", "--email", cli.email)
    assert code == 8
    assert "plain HTTP" in err


def test_server_stores_no_names_and_pads_sizes(cli: Cli, tmp_path: Path) -> None:
    """P-MINMETA: dump the database and the blob store after uploading a known tree."""
    src = tmp_path / "Secret-Project-Name"
    src.mkdir()
    (src / "passport-scan.pdf").write_bytes(b"x" * 1000)
    (src / "contract-draft.txt").write_bytes(b"y" * 1050)
    cli("put", str(src), "/")
    dump = b"".join(p.read_bytes() for p in cli.server.data.rglob("*") if p.is_file())
    for secret in (b"Secret-Project-Name", b"passport-scan", b"contract-draft", b"xxxxxxxx"):
        assert secret not in dump
    with closing(cli.server.db()) as db:
        sizes = sorted(
            r[0]
            for r in db.execute(
                "select size from blobs b join accounts a on a.id = b.owner where a.email = ?",
                (cli.email,),
            )
        )
    assert len(sizes) == 2
    assert sizes[0] == sizes[1]  # 1000 and 1050 bytes are stored alike


def test_rm_empty_folder_like_rmdir_and_get_error_names_destination(
    cli: Cli, tmp_path: Path
) -> None:
    assert cli("mkdir", "/empty")[0] == 0
    code, _, err = cli("rm", "/empty")
    assert code == 0 and "empty folder" in err
    assert cli("ls", "/empty")[0] == 4
    (tmp_path / "f.txt").write_text("hello")
    assert cli("put", str(tmp_path / "f.txt"), "/")[0] == 0
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    dest = blocker / "out.txt"
    code, _, err = cli("get", "/f.txt", str(dest))
    assert code == 7, err
    assert str(dest) in err and ".part" not in err and "partial" not in err.lower()
    dest = Path("/proc/blindvault-test-out.txt")  # no file can be made there, even as root
    code, _, err = cli("get", "/f.txt", str(dest))
    assert code == 7, err
    assert str(dest) in err and ".part" not in err and "partial" not in err.lower()
