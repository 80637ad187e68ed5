"""`blindvault sync` SIGKILLed at exact points (issue 14): just before and just after a
manifest write, and just after a local rename into place (a download or a local move),
before the index records it. The next `sync` loses nothing and duplicates nothing.

The process kills itself at the chosen point (a wrapper patches the call, then runs the
real CLI), so each case is hit every time rather than by timing luck."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.client import Cli
from helpers.sync import Device

WRAPPER = r"""
import os, signal, sys
from blindvault.client.net.http import ApiClient
where, nth = os.environ["KILL_AT"], int(os.environ.get("KILL_NTH", "1"))
hits = [0]

def hit():
    hits[0] += 1
    if hits[0] == nth:
        os.kill(os.getpid(), signal.SIGKILL)

if where.startswith("manifest"):
    real = ApiClient.put_json
    def put_json(self, path, *a, **kw):
        manifest = "/v1/records/manifest/" in path
        if manifest and where == "manifest-before":
            hit()
        out = real(self, path, *a, **kw)
        if manifest and where == "manifest-after":
            hit()
        return out
    ApiClient.put_json = put_json
else:
    real_replace = os.replace
    def replace(src, dst):
        real_replace(src, dst)
        hit()
    os.replace = replace

from blindvault.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _killed(dev: Device, where: str, nth: int) -> int:
    env = {
        **os.environ,
        "BLINDVAULT_HOME": str(dev.home),
        "BLINDVAULT_PASSWORD": "pw-1",
        "BLINDVAULT_DEVICE_NAME": dev.name,
        "KILL_AT": where,
        "KILL_NTH": str(nth),
    }
    cmd = [sys.executable, "-c", WRAPPER, "sync", str(dev.folder), "/Sync"]
    done = subprocess.run(cmd, env=env, capture_output=True, check=False, timeout=300)
    return done.returncode


@pytest.fixture
def two(cli: Cli, tmp_path: Path) -> tuple[Device, Device]:
    laptop = Device(cli, Path(cli.monkeypatch_home), "laptop", tmp_path / "laptop")
    home = tmp_path / "phone-home"
    home.mkdir()
    phone = Device(cli, home, "phone", tmp_path / "phone")
    code, _, err = phone("login", "--server", cli.server.url, "--email", cli.email)
    assert code == 0, err
    return laptop, phone


def _agree(laptop: Device, phone: Device) -> None:
    laptop.sync()
    phone.sync()
    laptop.sync()
    assert phone.files() == laptop.files()  # nothing lost ...
    assert not any("conflict" in p for p in laptop.files())  # ... nothing duplicated
    code, out, _ = laptop("ls", "/Sync")
    assert code == 0 and out.count("a.txt") == 1
    assert laptop.sync()["actions"] == [] and phone.sync()["actions"] == []


@pytest.mark.parametrize(("where", "nth"), [("manifest-before", 2), ("manifest-after", 2)])
def test_sigkill_around_a_manifest_write(two: tuple[Device, Device], where: str, nth: int) -> None:
    laptop, phone = two
    for name in ("a.txt", "b.txt", "c.txt"):
        (laptop.folder / name).write_text(f"{name} v1")
    assert _killed(laptop, where, nth) == -9
    _agree(laptop, phone)
    (laptop.folder / "a.txt").write_text("a.txt v2")
    (laptop.folder / "b.txt").unlink()
    assert _killed(laptop, where, 1) == -9  # the edit or the delete, half done
    _agree(laptop, phone)
    assert phone.files() == {"a.txt": b"a.txt v2", "c.txt": b"c.txt v1"}


def test_sigkill_after_a_local_rename_into_place(two: tuple[Device, Device]) -> None:
    laptop, phone = two
    for name in ("a.txt", "b.txt", "c.txt"):
        (laptop.folder / name).write_text(f"{name} v1")
    laptop.sync()
    assert _killed(phone, "rename", 2) == -9  # downloads: the second one renamed, unrecorded
    _agree(laptop, phone)
    (laptop.folder / "d").mkdir()
    (laptop.folder / "c.txt").rename(laptop.folder / "d" / "c.txt")  # a move for the phone
    laptop.sync()
    assert _killed(phone, "rename", 1) == -9
    _agree(laptop, phone)
    assert set(phone.files()) == {"a.txt", "b.txt", "d/c.txt"}
