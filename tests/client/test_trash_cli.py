"""Issue 14, the trash, through the CLI against a real server process: rm moves into the
folder's signed trash, `trash` lists it, `trash restore` puts it back byte for byte,
`rm --permanent` and `trash empty` delete for good, and a second device sees the trash."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.client import Cli


def _put(cli: Cli, tmp_path: Path, name: str, data: bytes, remote: str = "/") -> None:
    f = tmp_path / name
    f.write_bytes(data)
    code, _, err = cli("put", str(f), remote)
    assert code == 0, err


def _blobs(cli: Cli) -> set[str]:

    code, out, err = cli("prune", "--dry-run", "--json")
    assert code == 0, err
    return set(json.loads(out)["listed"])


def test_rm_moves_to_the_trash_and_restore_is_byte_exact(cli: Cli, tmp_path: Path) -> None:
    data = bytes(range(256)) * 300
    _put(cli, tmp_path, "doc.bin", data)
    _put(cli, tmp_path, "doc.bin", data[::-1])  # a second version: both go to the trash
    assert cli("mkdir", "/d")[0] == 0
    _put(cli, tmp_path, "in.txt", b"inside", "/d/")

    assert cli("rm", "/doc.bin")[0] == 0
    assert cli("rm", "/d")[0] == 7  # a non-empty folder needs -r (exit 7, as `rm` refuses)
    assert cli("rm", "-r", "/d")[0] == 0
    assert [e["path"] for e in json.loads(cli("ls", "/", "--json")[1])] == []
    code, out, err = cli("trash", "--json")
    assert code == 0, err
    got = json.loads(out)
    assert {(t["path"], t["kind"], t["size"]) for t in got} == {
        ("/doc.bin", "file", len(data)),
        ("/d", "folder", 0),
    }
    assert all(set(t) == {"path", "deleted_at", "size", "kind", "id"} for t in got)
    code, out, _ = cli("trash")
    assert code == 0 and "/doc.bin" in out

    code, out, err = cli("trash", "restore", "/doc.bin", "--json")
    assert code == 0, err
    assert json.loads(out) == {"path": "/doc.bin", "restored_to": "/doc.bin"}
    assert cli("get", "/doc.bin", str(tmp_path / "back.bin"))[0] == 0
    assert (tmp_path / "back.bin").read_bytes() == data[::-1]
    versions = json.loads(cli("versions", "/doc.bin", "--json")[1])
    assert [v["version"] for v in versions] == [2, 1]  # the versions came back with it

    # a folder comes back with its subtree; --to puts it under another name
    _put(cli, tmp_path, "d", b"now a file")  # the name is taken meanwhile
    assert cli("trash", "restore", "/d")[0] == 2  # clear error, nothing changed
    code, out, err = cli("trash", "restore", "/d", "--to", "/d2")
    assert code == 0, err
    assert cli("get", "/d2/in.txt", str(tmp_path / "in2.txt"))[0] == 0
    assert (tmp_path / "in2.txt").read_bytes() == b"inside"
    assert json.loads(cli("trash", "--json")[1]) == []
    assert cli("trash", "restore", "/nope")[0] == 4
    assert cli("verify")[0] == 0


def test_permanent_rm_and_trash_empty_delete_for_good(cli: Cli, tmp_path: Path) -> None:
    _put(cli, tmp_path, "a.txt", b"a")
    _put(cli, tmp_path, "b.txt", b"b")
    before = _blobs(cli)
    assert cli("rm", "--permanent", "/a.txt")[0] == 0
    assert json.loads(cli("trash", "--json")[1]) == []  # not in the trash
    assert len(_blobs(cli)) == len(before) - 1  # its blob went at once
    assert cli("rm", "/b.txt")[0] == 0
    assert len(_blobs(cli)) == len(before) - 1  # a trashed file keeps its blob
    code, out, _ = cli("trash", "empty", "--older-than", "30d", "--json")
    assert code == 0 and json.loads(out) == []  # deleted just now: kept
    assert cli("trash", "empty", "--older-than", "soon")[0] == 2
    code, out, _ = cli("trash", "empty", "--json")
    assert code == 0 and [t["path"] for t in json.loads(out)] == ["/b.txt"]
    assert len(_blobs(cli)) == len(before) - 2
    assert cli("trash", "restore", "/b.txt")[0] == 4


def test_a_second_device_sees_the_trash(cli: Cli, tmp_path: Path) -> None:
    _put(cli, tmp_path, "x.txt", b"x")
    assert cli("rm", "/x.txt")[0] == 0
    phone = tmp_path / "phone"
    phone.mkdir()
    cli.monkeypatch.setenv("BLINDVAULT_HOME", str(phone))
    code, _, err = cli("login", "--server", cli.server.url, "--email", cli.email)
    assert code == 0, err
    code, out, _ = cli("trash", "--json")
    assert code == 0 and [t["path"] for t in json.loads(out)] == ["/x.txt"]
    assert cli("trash", "restore", "/x.txt")[0] == 0
    assert cli("get", "/x.txt", str(tmp_path / "x2.txt"))[0] == 0
    assert (tmp_path / "x2.txt").read_bytes() == b"x"
