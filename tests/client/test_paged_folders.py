"""Issue 18 against a real server process, with the real thresholds: a folder of 2,049
files is written paged, then edited (put, mv, rm) one page at a time, read whole by a
second device, verified, and linked (a link's snapshot is whole: the link page reads it)."""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path

from helpers.client import Cli

N = 2_049  # one more than PAGE_SPLIT


def _paged_folders(cli: Cli) -> int:
    """How many of the account's folder manifests on the server are paged roots."""
    with closing(cli.server.db()) as db:
        (owner,) = db.execute("select id from accounts where email = ?", (cli.email,)).fetchone()
        rows = db.execute(
            "select data from records where owner = ? and kind = 'manifest'", (owner,)
        ).fetchall()
    return sum(1 for (data,) in rows if bytes(data)[:5] == b"BVMF\x02")


def test_a_folder_over_the_threshold_is_paged_and_stays_usable(cli: Cli, tmp_path: Path) -> None:
    src = tmp_path / "big"
    src.mkdir()
    for i in range(N):
        (src / f"file-{i:05d}.txt").write_text(f"{i}")
    code, _, err = cli("put", str(src), "/")
    assert code == 0, err
    assert _paged_folders(cli) == 1  # /big: a paged root

    one = tmp_path / "one.txt"
    one.write_text("one more")
    assert cli("put", str(one), "/big")[0] == 0
    assert cli("mv", "/big/file-00007.txt", "/big/seven.txt")[0] == 0
    assert cli("rm", "--permanent", "/big/file-00008.txt")[0] == 0
    assert cli("rm", "/big/file-00009.txt")[0] == 0  # to the trash (kept in the root)

    code, out, err = cli("ls", "/big", "--json")
    assert code == 0, err
    names = {e["name"] for e in json.loads(out)}
    assert len(names) == N - 1
    assert {"one.txt", "seven.txt"} <= names
    assert not {"file-00007.txt", "file-00008.txt", "file-00009.txt"} & names
    code, out, err = cli("get", "/big/seven.txt", str(tmp_path / "seven.txt"))
    assert code == 0, err
    assert (tmp_path / "seven.txt").read_text() == "7"

    # a second device: no page cache, reads every page against the signed root
    second = tmp_path / "second"
    second.mkdir()
    cli.monkeypatch.setenv("BLINDVAULT_HOME", str(second))
    code, _, err = cli("login", "--server", cli.server.url, "--email", cli.email)
    assert code == 0, err
    code, out, err = cli("ls", "/big", "--json")
    assert code == 0, err
    assert {e["name"] for e in json.loads(out)} == names
    code, out, err = cli("verify")
    assert code == 0, err + out
    assert cli("trash", "restore", "/big/file-00009.txt")[0] == 0
    assert _paged_folders(cli) == 1

    # a link to it is a whole snapshot, which an account-less holder opens
    code, out, err = cli("link", "/big", "--json")
    assert code == 0, err
    url = json.loads(out)["url"]
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    cli.monkeypatch.setenv("BLINDVAULT_HOME", str(stranger))
    code, _, err = cli("open-link", url, str(stranger / "copy"))
    assert code == 0, err
    assert len(list((stranger / "copy").iterdir())) == N
