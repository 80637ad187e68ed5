"""Share links from the CLI: make, open (no account), limits, revocation, password,
and what the server stores (P-LINKKEY: the fragment secret never reaches it)."""

from __future__ import annotations

import json
import os
from contextlib import closing
from pathlib import Path

import httpx

from helpers.client import Cli


def _make_files(cli: Cli, tmp: Path) -> tuple[bytes, bytes]:
    a = os.urandom(70_000)
    b = os.urandom(5)
    (tmp / "a.bin").write_bytes(a)
    (tmp / "b.txt").write_bytes(b)
    assert cli("mkdir", "-p", "/docs/sub")[0] == 0
    assert cli("put", str(tmp / "a.bin"), "/docs")[0] == 0
    assert cli("put", str(tmp / "b.txt"), "/docs/sub")[0] == 0
    return a, b


def _link(cli: Cli, *args: str) -> str:
    code, out, err = cli("link", *args, "--json")
    assert code == 0, err
    return str(json.loads(out)["url"])


def test_file_and_folder_links_open_without_an_account(cli: Cli, tmp_path: Path) -> None:
    a, b = _make_files(cli, tmp_path)
    file_url = _link(cli, "/docs/a.bin")
    folder_url = _link(cli, "/docs")
    assert file_url.startswith(cli.server.url + "/s/")
    secret = file_url.split("#", 1)[1]

    stranger = tmp_path / "stranger"
    stranger.mkdir()
    cli.monkeypatch.setenv("BLINDVAULT_HOME", str(stranger))  # no account, no state
    code, _, err = cli("open-link", file_url, str(stranger))
    assert code == 0, err
    assert (stranger / "a.bin").read_bytes() == a
    code, _, err = cli("open-link", folder_url, str(stranger / "copy"))
    assert code == 0, err
    assert (stranger / "copy" / "a.bin").read_bytes() == a
    assert (stranger / "copy" / "sub" / "b.txt").read_bytes() == b

    # the server holds no trace of the fragment (only the token's hash)
    with closing(cli.server.db()) as db:
        rows = db.execute("select token_hash, descriptor from links").fetchall()
    for token_hash, descriptor in rows:
        assert secret.encode() not in descriptor
        assert secret not in token_hash


def test_limits_revocation_and_bad_links(cli: Cli, tmp_path: Path) -> None:
    a, _ = _make_files(cli, tmp_path)
    once = _link(cli, "/docs/a.bin", "--max-downloads", "1")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    assert cli("open-link", once, str(out_dir / "1"))[0] == 0
    assert (out_dir / "1").read_bytes() == a  # the bytes the link stands for
    code, _, err = cli("open-link", once, str(out_dir / "2"))
    assert code == 4 and "download limit" in err
    assert not (out_dir / "2").exists()

    revoked = _link(cli, "/docs/a.bin", "--expires", "7d")
    link_id = revoked.rsplit("/s/", 1)[1].split("#")[0]
    code, out, _ = cli("links", "--json")
    listed = {item["id"]: item for item in json.loads(out)}
    assert listed[link_id]["expires_at"] is not None and not listed[link_id]["revoked"]
    assert cli("link", "revoke", link_id)[0] == 0
    code, _, err = cli("open-link", revoked, str(out_dir / "3"))
    assert code == 4 and "revoked" in err
    code, out, _ = cli("links", "--json")
    assert {i["id"]: i for i in json.loads(out)}[link_id]["revoked"] is True

    # malformed, truncated, another secret: clear typed errors, nothing written
    assert cli("open-link", "not a link", str(out_dir / "4"))[0] == 9
    assert cli("open-link", once[:-5], str(out_dir / "5"))[0] == 9
    other = _link(cli, "/docs/a.bin")
    forged = other.split("#")[0] + "#" + once.split("#")[1]
    code, _, err = cli("open-link", forged, str(out_dir / "6"))
    assert code == 4  # the token does not match: same answer as an unknown link
    assert not any((out_dir / n).exists() for n in ("4", "5", "6"))

    # a deleted file (issue 14): a link is a snapshot, so it keeps serving what it named
    # until it is revoked (the server refuses to delete its blobs: 409 blob_in_link)
    gone = _link(cli, "/docs/a.bin")
    assert cli("rm", "--permanent", "/docs/a.bin")[0] == 0
    code, _, err = cli("open-link", gone, str(out_dir / "7"))
    assert code == 0, err
    assert (out_dir / "7").read_bytes() == a


def test_expired_link(cli: Cli, tmp_path: Path) -> None:
    _make_files(cli, tmp_path)
    url = _link(cli, "/docs/a.bin", "--expires", "30m")
    with closing(cli.server.db()) as db:
        db.execute("update links set expires_at = 1.0")
        db.commit()
    code, _, err = cli("open-link", url, str(tmp_path / "x"))
    assert code == 4 and "expired" in err
    assert cli("link", "/docs/a.bin", "--expires", "soon")[0] == 2


def test_password_link(cli: Cli, tmp_path: Path) -> None:
    a, _ = _make_files(cli, tmp_path)
    cli.monkeypatch.setenv("BLINDVAULT_LINK_PASSWORD", "open sesame")
    url = _link(cli, "/docs/a.bin", "--password")
    assert url.endswith(".p")
    cli.monkeypatch.setenv("BLINDVAULT_LINK_PASSWORD", "wrong")
    code, _, err = cli("open-link", url, str(tmp_path / "w"))
    assert code == 3 and "wrong link password" in err
    assert not (tmp_path / "w").exists()
    cli.monkeypatch.setenv("BLINDVAULT_LINK_PASSWORD", "open sesame")
    assert cli("open-link", url, str(tmp_path / "r"))[0] == 0
    assert (tmp_path / "r").read_bytes() == a
    # the password never reaches the server: not in what it stores
    with closing(cli.server.db()) as db:
        (descriptor,) = db.execute("select descriptor from links where password = 1").fetchone()
    assert b"open sesame" not in descriptor


def test_link_routes_need_the_token(cli: Cli, tmp_path: Path) -> None:
    _make_files(cli, tmp_path)
    url = _link(cli, "/docs")
    link_id = url.rsplit("/s/", 1)[1].split("#")[0]
    with httpx.Client(base_url=cli.server.url) as http:
        for path in (f"/v1/l/{link_id}", f"/v1/l/{link_id}/manifest/{'0' * 32}"):
            r = http.get(path)
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
            r = http.get(path, headers={"X-Link-Token": "A" * 43})
            assert r.status_code == 404
        assert http.get("/v1/l/not-a-link-id").status_code == 404
