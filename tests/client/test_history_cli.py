"""Issue 14, versions and restore, through the CLI against a real server process."""

from __future__ import annotations

import json
from pathlib import Path

from blindvault.client import links
from blindvault.core.keys import FolderKey
from blindvault.core.manifest import FileEntry, FolderEntry
from helpers.client import Cli


def _put(cli: Cli, tmp_path: Path, text: str) -> None:
    f = tmp_path / "doc.txt"
    f.write_text(text)
    code, _, err = cli("put", str(f), "/doc.txt")
    assert code == 0, err


def test_versions_lists_every_version_from_the_signed_manifest(cli: Cli, tmp_path: Path) -> None:
    for text in ("one", "two!", "three"):
        _put(cli, tmp_path, text)
    code, out, err = cli("versions", "/doc.txt", "--json")
    assert code == 0, err
    got = json.loads(out)
    assert [(v["version"], v["size"], v["current"]) for v in got] == [
        (3, 5, True),
        (2, 4, False),
        (1, 3, False),
    ]
    assert all(v["written_ms"] > 0 and len(v["writer"]) == 64 for v in got)
    code, out, _ = cli("versions", "/doc.txt")
    assert code == 0 and "this account" in out and "(current)" in out
    assert cli("versions", "/nope")[0] == 4
    assert cli("verify")[0] == 0  # every kept version's blob is still there and authentic


def test_restore_writes_a_new_version_a_second_device_accepts(cli: Cli, tmp_path: Path) -> None:
    _put(cli, tmp_path, "first")
    _put(cli, tmp_path, "second")
    # a second device of the same account reads the folder now (its high-water mark: v2)
    phone = tmp_path / "phone"
    phone.mkdir()
    laptop = cli.monkeypatch_home
    cli.monkeypatch.setenv("BLINDVAULT_HOME", str(phone))
    code, _, err = cli("login", "--server", cli.server.url, "--email", cli.email)
    assert code == 0, err
    assert cli("get", "/doc.txt", str(tmp_path / "seen.txt"))[0] == 0
    cli.monkeypatch.setenv("BLINDVAULT_HOME", laptop)

    code, out, err = cli("restore", "/doc.txt", "--version", "1", "--json")
    assert code == 0, err
    assert json.loads(out) == {"path": "/doc.txt", "restored": 1, "version": 3}
    versions = json.loads(cli("versions", "/doc.txt", "--json")[1])
    assert [v["version"] for v in versions] == [3, 2, 1]

    cli.monkeypatch.setenv("BLINDVAULT_HOME", str(phone))  # the other device: fresh checks pass
    code, _, err = cli("get", "/doc.txt", str(tmp_path / "phone.txt"))
    assert code == 0, err
    assert (tmp_path / "phone.txt").read_text() == "first"
    assert cli("verify")[0] == 0

    # --to writes an old version locally and changes nothing in the vault
    code, _, err = cli("restore", "/doc.txt", "--version", "2", "--to", str(tmp_path / "v2.txt"))
    assert code == 0, err
    assert (tmp_path / "v2.txt").read_text() == "second"
    assert [v["version"] for v in json.loads(cli("versions", "/doc.txt", "--json")[1])] == [3, 2, 1]
    # --at: the version current at a time (before anything: none)
    assert cli("restore", "/doc.txt", "--at", "2001-01-01T00:00:00")[0] == 4
    assert cli("restore", "/doc.txt", "--version", "9")[0] == 4
    assert cli("restore", "/doc.txt", "--version", "3")[0] == 2  # the current one already
    assert cli("restore", "/doc.txt", "--at", "not a time")[0] == 2


def test_a_folder_link_carries_the_live_version_only(cli: Cli, tmp_path: Path) -> None:
    """A link snapshot names no earlier version: no old keys, sizes, times or writers."""
    assert cli("mkdir", "/d")[0] == 0
    f = tmp_path / "doc.txt"
    for text in ("old secret", "new"):
        f.write_text(text)
        assert cli("put", str(f), "/d/doc.txt")[0] == 0
    code, out, err = cli("link", "/d", "--json")
    assert code == 0, err
    seen: list[FileEntry | FolderEntry] = []
    real = links._Holder.folder

    def spy(self: links._Holder, node: bytes, key: FolderKey) -> list[FileEntry | FolderEntry]:
        got = real(self, node, key)
        seen.extend(got)
        return got

    cli.monkeypatch.setattr(links._Holder, "folder", spy)
    code, _, err = cli("open-link", json.loads(out)["url"], str(tmp_path / "copy"))
    assert code == 0, err
    assert (tmp_path / "copy" / "doc.txt").read_text() == "new"
    (entry,) = seen
    assert isinstance(entry, FileEntry) and entry.content_version == 2
    assert entry.history == () and entry.writer == bytes(32) and entry.written_ms == 0
