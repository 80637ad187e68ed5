"""The whole scenario as a user types it: the CLI in subprocesses against a real server
process, on SQLite + local disk and on PostgreSQL + SeaweedFS. Two users, two devices,
nested folders, an empty file, unicode and 255-byte names, a 1 GiB + 1 byte file with its
memory measured, password change, recovery, and a revoked device locked out."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.servers import s3_spec, start_server, stop

GIB = 1 << 30
LONG_NAME = "é" * 127 + "x"  # 255 bytes of UTF-8, the longest name allowed
UNICODE_NAME = "Ünïcödé — 日本語 ✓.txt"
MEASURE = (
    "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
    "sys.stderr.write(f'\\nMAXRSS_KB={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\\n'); "
    "sys.exit(r.returncode)"
)


@pytest.fixture(scope="module", params=["sqlite-local", "postgres-seaweedfs"])
def server_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    data = tmp_path_factory.mktemp("e2e") / "data"
    extra: list[str] = []
    if request.param == "postgres-seaweedfs":
        extra = [
            "--db",
            request.getfixturevalue("pg_url"),
            "--blobs",
            s3_spec(request.getfixturevalue("weed")),
        ]
    proc, url = start_server(data, *extra)
    try:
        yield url
    finally:
        stop(proc)


class User:
    def __init__(self, home: Path, email: str, url: str) -> None:
        self.home, self.email, self.url = home, email, url
        home.mkdir(parents=True, exist_ok=True)

    def run(
        self,
        *args: str,
        password: str = "first-pw",
        new: str | None = None,
        stdin: str | None = None,
        measure: bool = False,
    ) -> tuple[int, str, str, int]:
        env = {**os.environ, "BLINDVAULT_HOME": str(self.home), "BLINDVAULT_PASSWORD": password}
        env.pop("BLINDVAULT_NEW_PASSWORD", None)
        if new is not None:
            env["BLINDVAULT_NEW_PASSWORD"] = new
        cmd = [sys.executable, "-m", "blindvault", *args]
        if measure:
            cmd = [sys.executable, "-c", MEASURE, *cmd]
        p = subprocess.run(
            cmd,
            check=False,
            env=env,
            input=stdin or "",
            capture_output=True,
            text=True,
            timeout=600,
        )
        rss = 0
        for line in p.stderr.splitlines():
            if line.startswith("MAXRSS_KB="):
                rss = int(line.split("=", 1)[1])
        return p.returncode, p.stdout, p.stderr, rss


def big_file(path: Path, size: int) -> str:
    block = os.urandom(1 << 20)
    digest = hashlib.sha256()
    with path.open("wb") as f:
        left = size
        while left:
            piece = block[: min(left, len(block))]
            f.write(piece)
            digest.update(piece)
            left -= len(piece)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _put_and_get_a_tree(
    alice: User, alice_phone: User, tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    # a known tree: nested folders, an empty file, unicode and long names, 1 GiB + 1 byte
    tree = tmp_path / "tree"
    (tree / "a" / "b" / "c").mkdir(parents=True)
    (tree / "a" / "empty").write_bytes(b"")
    (tree / "a" / "b" / UNICODE_NAME).write_text("unicode ✓")
    (tree / "a" / "b" / "c" / LONG_NAME).write_bytes(os.urandom(5000))
    big_hash = big_file(tree / "big.bin", GIB + 1)

    code, _, err, put_rss = alice.run("put", str(tree), "/", measure=True)
    assert code == 0, err
    code, out, _, _ = alice_phone.run("tree", "--json")
    paths = {e["path"]: e for e in json.loads(out)}
    assert paths["/tree/big.bin"]["size"] == GIB + 1
    assert paths["/tree/a/empty"]["size"] == 0
    assert f"/tree/a/b/{UNICODE_NAME}" in paths
    assert f"/tree/a/b/c/{LONG_NAME}" in paths

    # the other device downloads everything, the 1 GiB file with its memory measured
    dest = tmp_path / "restore"
    code, _, err, get_rss = alice_phone.run("get", "/tree", str(dest), measure=True)
    assert code == 0, err
    assert sha256_of(dest / "big.bin") == big_hash
    assert (dest / "a" / "empty").read_bytes() == b""
    assert (dest / "a" / "b" / UNICODE_NAME).read_text() == "unicode ✓"
    assert (dest / "a" / "b" / "c" / LONG_NAME).read_bytes() == (
        tree / "a" / "b" / "c" / LONG_NAME
    ).read_bytes()
    (dest / "big.bin").unlink()
    (tree / "big.bin").unlink()
    _, _, _, ls_rss = alice.run("ls", measure=True)
    record_property("rss_put_1gib_kb", put_rss)
    record_property("rss_get_1gib_kb", get_rss)
    print(
        f"\npeak RSS: put 1 GiB {put_rss // 1024} MiB, get 1 GiB {get_rss // 1024} MiB, ls {ls_rss // 1024} MiB"
    )
    # memory does not grow with the file: a 1 GiB transfer stays within 100 MiB of a plain
    # `ls` (whose own peak is mostly Argon2id's 64 MiB); measured here: +0 to +50 MiB
    assert put_rss < ls_rss + 100 * 1024
    assert get_rss < ls_rss + 100 * 1024


def _change_password(alice: User, alice_phone: User, server_url: str) -> None:
    # password change: the new one works (after logging in again), the old one fails
    assert alice.run("passwd", "--accept-weak-password", new="second-pw")[0] == 0
    assert alice.run("ls", password="first-pw")[0] == 3
    assert alice.run("ls", password="second-pw")[0] == 0
    assert alice_phone.run("ls", password="second-pw")[0] == 3  # signed out by the change
    assert (
        alice_phone.run(
            "login", "--server", server_url, "--email", alice.email, password="second-pw"
        )[0]
        == 0
    )


def _locked_out_and_clear_errors(rescue: User, alice_phone: User, tmp_path: Path) -> None:
    # a revoked device is locked out
    code, out, _, _ = rescue.run("devices", "--json", password="third-pw")
    phone_ids = [d["id"] for d in json.loads(out) if d["name"] != "recovery" and not d["revoked"]]
    for device in phone_ids:
        assert rescue.run("devices", "revoke", device, password="third-pw")[0] == 0
    assert alice_phone.run("ls", password="third-pw")[0] == 3

    # unknown remote path, unwritable local path: clear errors, nothing written
    code, _, err, _ = rescue.run("get", "/nope", str(tmp_path), password="third-pw")
    assert code == 4
    assert "no such" in err
    blocker = tmp_path / "a-file"  # a path under a file: unwritable for root too
    blocker.write_bytes(b"")
    code, _, err, _ = rescue.run(
        "get", "/tree/a/empty", str(blocker / "sub" / "x"), password="third-pw"
    )
    assert code == 7, err
    assert blocker.read_bytes() == b""
    assert rescue.run("verify", password="third-pw")[0] == 0


def test_scenario(server_url: str, tmp_path: Path, record_property: pytest.RecordProperty) -> None:
    tag = os.urandom(3).hex()
    alice = User(tmp_path / "alice-laptop", f"alice{tag}@example.org", server_url)
    alice_phone = User(tmp_path / "alice-phone", alice.email, server_url)
    bob = User(tmp_path / "bob", f"bob{tag}@example.org", server_url)
    words_file = tmp_path / "words.txt"

    code, _, err, _ = alice.run(
        "signup",
        "--accept-weak-password",
        "--server",
        server_url,
        "--email",
        alice.email,
        "--recovery-file",
        str(words_file),
        new="first-pw",
    )
    assert code == 0, err
    assert (
        bob.run(
            "signup",
            "--accept-weak-password",
            "--server",
            server_url,
            "--email",
            bob.email,
            new="bob-pw",
        )[0]
        == 0
    )
    assert alice_phone.run("login", "--server", server_url, "--email", alice.email)[0] == 0

    _put_and_get_a_tree(alice, alice_phone, tmp_path, record_property)
    # the other user sees nothing of it
    code, out, _, _ = bob.run("ls", "--json", password="bob-pw")
    assert (code, json.loads(out)) == (0, [])

    _change_password(alice, alice_phone, server_url)

    # recovery with the words, from a third device
    rescue = User(tmp_path / "alice-rescue", alice.email, server_url)
    code, _, err, _ = rescue.run(
        "recover",
        "--accept-weak-password",
        "--server",
        server_url,
        "--email",
        alice.email,
        stdin=words_file.read_text(),
        new="third-pw",
    )
    assert code == 0, err
    assert rescue.run("ls", "/tree", password="third-pw")[0] == 0

    _locked_out_and_clear_errors(rescue, alice_phone, tmp_path)
