"""Upload-only links (issue 19) from the CLI, against a real server: `link --upload-only`,
`drop URL FILE…` with no account, the owner's next command importing the drops as normal
files, the limits (count, revocation), and what a holder can NOT do with such a link."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx

from blindvault.core.links import b64url_encode, link_token, parse_link
from helpers.client import Cli

MIB = 1 << 20
# VmHWM: this process's own peak (ru_maxrss would carry the forking test process's over exec)
MEASURED = r"""
import re, sys
from pathlib import Path
from blindvault.cli import main
code = main(sys.argv[1:])
peak = re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1)
sys.stderr.write(f"\npeak_kib={peak}\n")
sys.exit(code)
"""


def _drop_link(cli: Cli, *args: str) -> str:
    assert cli("mkdir", "-p", "/inbox")[0] == 0
    code, out, err = cli("link", "/inbox", "--upload-only", *args, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["upload_only"] is True
    return str(doc["url"])


def _stranger(cli: Cli, tmp: Path) -> Path:
    home = tmp / "stranger"
    home.mkdir(exist_ok=True)
    cli.monkeypatch.setenv("BLINDVAULT_HOME", str(home))  # no account, no state
    return home


def _owner(cli: Cli) -> None:
    cli.monkeypatch.setenv("BLINDVAULT_HOME", cli.home.as_posix())


def _names(cli: Cli, remote: str) -> dict[str, int]:
    code, out, err = cli("ls", remote, "--json")
    assert code == 0, err
    return {e["name"]: e["size"] for e in json.loads(out)}


def test_a_dropped_file_becomes_a_normal_file_of_the_owner(cli: Cli, tmp_path: Path) -> None:
    url = _drop_link(cli)
    a, b = os.urandom(70_000), b"second file"
    (tmp_path / "scan.pdf").write_bytes(a)
    (tmp_path / "note.txt").write_bytes(b)

    _stranger(cli, tmp_path)
    code, out, err = cli(
        "drop", url, str(tmp_path / "scan.pdf"), str(tmp_path / "note.txt"), "--json"
    )
    assert code == 0, err
    dropped = json.loads(out)["dropped"]
    assert [(d["name"], d["size"]) for d in dropped] == [("scan.pdf", 70_000), ("note.txt", 11)]
    # the same name again never replaces the first drop
    code, _, err = cli("drop", url, str(tmp_path / "note.txt"))
    assert code == 0, err

    _owner(cli)
    code, out, err = cli("ls", "/inbox", "--json")  # the owner's next command imports
    assert code == 0, err
    assert "dropped file imported: /inbox/scan.pdf" in err
    names = {e["name"]: e["size"] for e in json.loads(out)}
    assert names == {"scan.pdf": 70_000, "note.txt": 11, "note (2).txt": 11}
    got = tmp_path / "got"
    got.mkdir()
    assert cli("get", "/inbox/scan.pdf", str(got))[0] == 0
    assert (got / "scan.pdf").read_bytes() == a
    assert cli("get", "/inbox/note (2).txt", str(got))[0] == 0
    assert (got / "note (2).txt").read_bytes() == b
    # imported once: the server keeps nothing pending, a later command imports nothing
    with cli.server.db() as db:
        assert db.execute("select count(*) from link_drops").fetchone()[0] == 0
    code, out, err = cli("drops", "--json")
    assert code == 0, err
    assert json.loads(out) == {"imported": [], "quarantined": [], "replayed": 0, "busy": False}


def test_count_limit_and_revocation_stop_uploads(cli: Cli, tmp_path: Path) -> None:
    url = _drop_link(cli, "--max-uploads", "1", "--expires", "7d")
    link_id = url.rsplit("/s/", 1)[1].split("#")[0]
    (tmp_path / "x.txt").write_bytes(b"x")
    _stranger(cli, tmp_path)
    assert cli("drop", url, str(tmp_path / "x.txt"))[0] == 0
    code, _, err = cli("drop", url, str(tmp_path / "x.txt"))
    assert code == 4 and "upload limit" in err, err

    _owner(cli)
    code, out, _ = cli("links", "--json")
    listed = {i["id"]: i for i in json.loads(out)}[link_id]
    assert (listed["kind"], listed["max_uploads"], listed["uploads"]) == ("drop", 1, 1)
    url2 = _drop_link(cli)
    id2 = url2.rsplit("/s/", 1)[1].split("#")[0]
    assert cli("link", "revoke", id2)[0] == 0
    _stranger(cli, tmp_path)
    code, _, err = cli("drop", url2, str(tmp_path / "x.txt"))
    assert code == 4 and "revoked" in err, err


def test_a_holder_can_read_list_or_delete_nothing(cli: Cli, tmp_path: Path) -> None:
    url = _drop_link(cli)
    (tmp_path / "x.txt").write_bytes(b"secret of someone else")
    _stranger(cli, tmp_path)
    assert cli("drop", url, str(tmp_path / "x.txt"))[0] == 0
    code, _, err = cli("open-link", url, str(tmp_path / "out"))
    assert code == 2 and "only accepts uploads" in err
    assert not (tmp_path / "out").exists()

    parsed = parse_link(url)
    lid = b64url_encode(parsed.link_id)
    token = {"X-Link-Token": b64url_encode(link_token(parsed.secret, parsed.link_id))}
    with cli.server.db() as db:
        drop_id = db.execute("select id from link_drops").fetchone()[0]
    base = cli.server.url
    with httpx.Client(base_url=base, headers=token) as h:
        assert h.get(f"/v1/l/{lid}/manifest/{'0' * 32}").status_code == 404
        assert h.get(f"/v1/l/{lid}/blob/{drop_id}").status_code == 404
        assert h.get(f"/v1/drops/{drop_id}").status_code == 401
        assert h.get("/v1/drops").status_code == 401
        assert h.delete(f"/v1/drops/{drop_id}").status_code == 401
        assert h.delete(f"/v1/links/{lid}").status_code == 401
    _owner(cli)
    assert "x.txt" in _names(cli, "/inbox")


def test_one_device_at_a_time_imports_drops(cli: Cli, tmp_path: Path) -> None:
    """While another device holds the account's drop lease, `drops` imports nothing and
    says so; the drops wait, and are imported once the lease is gone."""
    from blindvault.client.drops import DROPS_LOCK
    from blindvault.client.state import StateStore
    from blindvault.client.vault import Vault
    from blindvault.wire.locks import Lock

    url = _drop_link(cli)
    (tmp_path / "x.txt").write_bytes(b"waits")
    _stranger(cli, tmp_path)
    assert cli("drop", url, str(tmp_path / "x.txt"))[0] == 0
    _owner(cli)
    other = tmp_path / "other-device"
    other.mkdir()
    with Vault.open(cli.server.url, cli.email, "pw-1", store=StateStore(other)) as device:
        held = device.api.post_as(Lock, f"/v1/locks/{DROPS_LOCK}", {"lease_seconds": 600})
        code, out, err = cli("drops", "--json")
        assert code == 0, err
        assert json.loads(out) == {"imported": [], "quarantined": [], "replayed": 0, "busy": True}
        device.api.request(
            "DELETE", f"/v1/locks/{DROPS_LOCK}", headers={"X-Lock-Token": held.token}
        )
    code, out, err = cli("drops", "--json")
    assert code == 0, err
    assert json.loads(out)["imported"] == ["/inbox/x.txt"]


def _random_file(path: Path, size: int) -> str:
    """A file of `size` random bytes, written a MiB at a time; its SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as f:
        for left in range(size, 0, -MIB):
            piece = os.urandom(min(MIB, left))
            digest.update(piece)
            f.write(piece)
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while piece := f.read(MIB):
            digest.update(piece)
    return digest.hexdigest()


def _measured(home: Path, *args: str) -> tuple[int, float, str, str]:
    """`blindvault ARGS` in a process of its own: exit code, peak RSS (MiB), out, err."""
    env = {**os.environ, "BLINDVAULT_HOME": str(home), "BLINDVAULT_PASSWORD": "pw-1"}
    cmd = [sys.executable, "-c", MEASURED, *args]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=600)
    peak = int(re.findall(r"peak_kib=(\d+)", done.stderr)[-1]) / 1024
    return done.returncode, peak, done.stdout, done.stderr


def test_a_100_mib_drop_is_streamed_both_ways(cli: Cli, tmp_path: Path) -> None:
    """Past the old 64 MiB cap: sealed and sent by the dropper, fetched, opened and
    imported by the owner, each a piece at a time (peak memory measured against the same
    command on a tiny file), and imported byte for byte."""
    url = _drop_link(cli)
    big, small = tmp_path / "big.bin", tmp_path / "small.txt"
    digest = _random_file(big, 100 * MIB)
    small.write_bytes(b"tiny")
    stranger = _stranger(cli, tmp_path)
    code, tiny_drop, _, err = _measured(stranger, "drop", url, str(small))
    assert code == 0, err
    code, tiny_import, out, err = _measured(cli.home, "drops", "--json")
    assert code == 0 and json.loads(out)["imported"] == ["/inbox/small.txt"], err

    code, big_drop, out, err = _measured(stranger, "drop", url, str(big), "--json")
    assert code == 0, err
    assert json.loads(out)["dropped"][0]["size"] == 100 * MIB
    code, big_import, out, err = _measured(cli.home, "drops", "--json")
    assert code == 0 and json.loads(out)["imported"] == ["/inbox/big.bin"], err
    # measured (VmHWM): drop 59 -> 65 MiB, import 75 -> 106 MiB (the normal upload's parts);
    # before, the file and its drop were whole in memory on both sides (and refused > 64 MiB)
    assert big_drop - tiny_drop < 16, (tiny_drop, big_drop)
    assert big_import - tiny_import < 48, (tiny_import, big_import)

    _owner(cli)
    got = tmp_path / "got"
    got.mkdir()
    assert cli("get", "/inbox/big.bin", str(got))[0] == 0
    assert _sha256(got / "big.bin") == digest
    assert not list((cli.home / "tmp" / "drops").iterdir())  # nothing left behind


def _stored(cli: Cli) -> set[str]:
    """The server's stored files (blobs, staging), its database left out."""
    data = cli.server.data
    return {str(p) for p in data.rglob("*") if p.is_file() and "sqlite" not in p.name}


def test_a_drop_past_the_quota_or_malformed_leaves_nothing(cli: Cli, tmp_path: Path) -> None:
    url = _drop_link(cli)
    with cli.server.db() as db:  # room for 4 MiB more
        db.execute(
            "update accounts set quota_bytes = used_bytes + ? where email = ?", (4 * MIB, cli.email)
        )
    big = tmp_path / "big.bin"
    _random_file(big, 16 * MIB)
    before = _stored(cli)
    _stranger(cli, tmp_path)
    code, _, err = cli("drop", url, str(big))
    assert code == 6 and "quota" in err, err

    parsed = parse_link(url)
    where = f"/v1/l/{b64url_encode(parsed.link_id)}/drops"
    token = {"X-Link-Token": b64url_encode(link_token(parsed.secret, parsed.link_id))}
    with httpx.Client(base_url=cli.server.url, headers=token) as h:
        r = h.post(where, content=b"BVDP\x01" + os.urandom(600))  # sealed for another link
        assert r.status_code == 400 and "another link" in r.json()["error"]["message"]
        r = h.post(where, content=b"not a drop at all" * 10)
        assert r.status_code == 400 and "not a sealed drop" in r.json()["error"]["message"]

        def cut_short() -> Iterator[bytes]:  # a body that stops half way (the sender died)
            yield b"BVDP\x01" + parsed.link_id + os.urandom(16) + os.urandom(MIB)
            raise OSError("the sender died")

        with contextlib.suppress(OSError):
            h.post(where, content=cut_short())
    with cli.server.db() as db:
        lid = (parsed.link_id.hex(),)
        assert db.execute("select count(*) from link_drops where link_id = ?", lid).fetchone() == (
            0,
        )
        assert db.execute("select uploads from links where id = ?", lid).fetchone() == (0,)
    assert _stored(cli) == before
    _owner(cli)
    code, out, err = cli("drops", "--json")
    assert code == 0 and json.loads(out)["imported"] == [], err
