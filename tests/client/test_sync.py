"""`blindvault sync` (issue 14) as users run it: two devices of one account, each with its
own state dir and local folder, against a real server process on loopback."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from helpers.client import Cli
from helpers.sync import Device


@pytest.fixture
def two(cli: Cli, tmp_path: Path) -> tuple[Device, Device]:
    laptop = Device(cli, Path(cli.monkeypatch_home), "laptop", tmp_path / "laptop")
    home = tmp_path / "phone-home"
    home.mkdir()
    phone = Device(cli, home, "phone", tmp_path / "phone")
    code, _, err = phone("login", "--server", cli.server.url, "--email", cli.email)
    assert code == 0, err
    return laptop, phone


def test_both_ways_and_tombstone_delete(two: tuple[Device, Device]) -> None:
    laptop, phone = two
    (laptop.folder / "a.txt").write_text("from laptop")
    (laptop.folder / "d" / "e").mkdir(parents=True)
    (laptop.folder / "d" / "e" / "deep.bin").write_bytes(b"\x00" * 70_000)
    laptop.sync()
    (phone.folder / "p.txt").write_text("from phone")
    phone.sync()
    laptop.sync()
    assert laptop.files() == phone.files()
    assert set(laptop.files()) == {"a.txt", "d/e/deep.bin", "p.txt"}
    # unchanged: nothing to do, nothing re-hashed
    again = laptop.sync()
    assert again["actions"] == [] and again["hashed"] == 0
    # a delete travels as a tombstone: an entry synced before and gone now
    (phone.folder / "a.txt").unlink()
    report = phone.sync()
    assert report["actions"] == [{"action": "delete-remote", "path": "a.txt", "to": ""}]
    laptop.sync()
    assert "a.txt" not in laptop.files()
    assert laptop.files() == phone.files()


def test_conflict_keeps_both_versions_on_both_sides(two: tuple[Device, Device]) -> None:
    laptop, phone = two
    (laptop.folder / "notes.md").write_text("v1")
    laptop.sync()
    phone.sync()
    (laptop.folder / "notes.md").write_text("laptop edit")
    (phone.folder / "notes.md").write_text("phone edit")
    laptop.sync()
    report = phone.sync()
    (conflict,) = report["conflicts"]  # type: ignore[misc]
    assert conflict["path"] == "notes.md"
    assert conflict["copy"].startswith("notes (conflict phone ")
    assert conflict["copy"].endswith(").md")
    laptop.sync()
    for dev in (laptop, phone):
        assert dev.files() == {"notes.md": b"laptop edit", conflict["copy"]: b"phone edit"}


def test_identical_edits_and_edit_beats_delete(two: tuple[Device, Device]) -> None:
    laptop, phone = two
    (laptop.folder / "x.txt").write_text("v1")
    (laptop.folder / "y.txt").write_text("v1")
    laptop.sync()
    phone.sync()
    (laptop.folder / "x.txt").write_text("same")
    (phone.folder / "x.txt").write_text("same")
    (laptop.folder / "y.txt").unlink()
    (phone.folder / "y.txt").write_text("edited")
    laptop.sync()
    report = phone.sync()
    assert report["conflicts"] == []
    laptop.sync()
    for dev in (laptop, phone):
        assert dev.files() == {"x.txt": b"same", "y.txt": b"edited"}


def test_renames_are_moves_both_ways(two: tuple[Device, Device]) -> None:
    laptop, phone = two
    (laptop.folder / "big.bin").write_bytes(b"\x07" * 100_000)
    laptop.sync()
    phone.sync()
    (laptop.folder / "sub").mkdir()
    (laptop.folder / "big.bin").rename(laptop.folder / "sub" / "moved.bin")
    report = laptop.sync()
    assert report["actions"] == [
        {"action": "move-remote", "path": "big.bin", "to": "sub/moved.bin"}
    ]
    report = phone.sync()
    assert report["actions"] == [{"action": "move-local", "path": "big.bin", "to": "sub/moved.bin"}]
    assert phone.files() == {"sub/moved.bin": b"\x07" * 100_000}


def test_ignore_file_dry_run_list_and_remove(two: tuple[Device, Device]) -> None:
    laptop, phone = two
    (laptop.folder / ".blindvaultignore").write_text("*.tmp\nbuild/\n")
    (laptop.folder / "keep.txt").write_text("k")
    (laptop.folder / "junk.tmp").write_text("j")
    (laptop.folder / "build").mkdir()
    (laptop.folder / "build" / "out.o").write_text("o")
    (laptop.folder / "link").symlink_to(laptop.folder / "keep.txt")
    dry = laptop.sync("--dry-run")
    assert dry["dry_run"] is True
    code, out, _ = laptop("ls", "/")
    assert "Sync" not in out  # a dry run changes nothing
    report = laptop.sync()
    assert {a["path"] for a in report["actions"]} == {".blindvaultignore", "keep.txt"}  # type: ignore[attr-defined]
    assert "skipped symlink: link" in report["warnings"]  # type: ignore[operator]
    phone.sync()
    assert phone.files() == {"keep.txt": b"k"}
    code, out, _ = laptop("sync", str(laptop.folder))  # the pair is remembered
    assert code == 0 and "up to date" in out
    (laptop.folder / "keep.txt").write_text("k2")
    code, out, _ = laptop("sync")  # every pair
    assert code == 0 and "upload" in out and "keep.txt" in out
    code, out, _ = laptop("sync", "list", "--json")
    assert json.loads(out) == [{"local": str(laptop.folder.resolve()), "remote": "/Sync"}]
    code, _, err = laptop("sync", str(laptop.folder), "/Other")
    assert code != 0 and "sync remove" in err
    assert laptop("sync", "remove", str(laptop.folder))[0] == 0
    assert json.loads(laptop("sync", "list", "--json")[1]) == []


def test_integrity_error_stops_sync_and_changes_nothing_locally(
    two: tuple[Device, Device],
) -> None:
    laptop, phone = two
    (laptop.folder / "a-first.txt").write_text("fine")
    (laptop.folder / "z-tampered.bin").write_bytes(b"\x05" * 300_000)
    laptop.sync()
    with closing(laptop.cli.server.db()) as db:
        rows = db.execute(
            "select b.storage_key, b.size from blobs b join accounts a on a.id = b.owner "
            "where a.email = ? order by b.size desc",
            (laptop.cli.email,),
        ).fetchall()
    key = rows[0][0]  # the biggest blob: the 300 kB file
    blob = laptop.cli.server.data / "blobstore" / "blobs" / key[:2] / key[2:4] / key
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 1
    blob.write_bytes(bytes(data))
    code, _, err = phone("sync", str(phone.folder), "/Sync")
    assert code == 10, err
    assert list(phone.folder.iterdir()) == []  # not even the good file, no temporary file


def _killed_sync(dev: Device, delay: float) -> bool:
    """`blindvault sync` in its own process, SIGKILLed `delay` s after a transfer began;
    whether it was still running (killed mid-sync) rather than already done."""
    env = {
        **os.environ,
        "BLINDVAULT_HOME": str(dev.home),
        "BLINDVAULT_PASSWORD": "pw-1",
        "BLINDVAULT_DEVICE_NAME": dev.name,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "blindvault", "sync", str(dev.folder), "/Sync"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30  # until a transfer is under way (its staging folder)
    while proc.poll() is None and time.monotonic() < deadline:
        if any(dev.folder.glob(".blindvault-tmp-*")):
            break
        time.sleep(0.005)
    time.sleep(delay)
    running = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate()
    assert running or proc.returncode == 0, err
    return running


def test_sigkill_during_upload_and_download_loses_and_duplicates_nothing(
    two: tuple[Device, Device], record_property: pytest.RecordProperty
) -> None:
    laptop, phone = two
    rng = random.Random(14)
    rounds = int(os.environ.get("BLINDVAULT_SIGKILL_ROUNDS", "4"))
    killed = 0
    for n in range(rounds):
        (laptop.folder / f"big{n}.bin").write_bytes(rng.randbytes(6_000_000))
        for i in range(5):
            (laptop.folder / f"small{n}-{i}.txt").write_text(f"{n}-{i}")
        if n:
            (laptop.folder / f"big{n - 1}.bin").write_bytes(rng.randbytes(3_000_000))
        killed += _killed_sync(laptop, rng.uniform(0.0, 0.4))  # during the upload
        laptop.sync()
        killed += _killed_sync(phone, rng.uniform(0.0, 0.4))  # during the download
        phone.sync()
        assert phone.files() == laptop.files()  # nothing lost ...
        assert not any("conflict" in p for p in phone.files())  # ... nothing duplicated
        assert not [p for p in phone.folder.iterdir() if p.name.startswith(".blindvault-tmp")]
        assert laptop.sync()["actions"] == []
    record_property("sigkill_rounds", rounds)
    record_property("killed_mid_sync", killed)
    print(f"sigkill rounds={rounds} processes killed mid-sync={killed} of {2 * rounds}")
    assert killed > 0


def test_read_only_member_keeps_local_edits_with_a_clear_message(cli: Cli, tmp_path: Path) -> None:
    alice = Device(cli, Path(cli.monkeypatch_home), "alice", tmp_path / "alice")
    bob_home = tmp_path / "bob-home"
    bob_home.mkdir()
    bob = Device(cli, bob_home, "bob", tmp_path / "bob")
    bob_email = f"bob{os.getpid()}{time.time_ns()}@example.org"
    cli.monkeypatch.setenv("BLINDVAULT_NEW_PASSWORD", "pw-1")
    assert bob("signup", "--accept-weak-password", "--server", cli.server.url, "--email", bob_email,
               "--recovery-file", str(bob_home / "words"))[0] == 0  # fmt: skip

    def fingerprint(dev: Device) -> str:
        return str(json.loads(dev("fingerprint", "--json")[1])["safety_number"])

    (alice.folder / "plan.txt").write_text("v1")
    assert alice("sync", str(alice.folder), "/team")[0] == 0
    assert alice("trust", bob_email, "--fingerprint", fingerprint(bob))[0] == 0
    assert alice("share", "/team", "--with", bob_email)[0] == 0
    assert bob("trust", cli.email, "--fingerprint", fingerprint(alice))[0] == 0
    (pending,) = json.loads(bob("shares", "--json")[1])["incoming"]
    assert bob("accept", str(pending["id"]))[0] == 0
    code, _, err = bob("sync", str(bob.folder), "@team")
    assert code == 0, err
    assert (bob.folder / "plan.txt").read_text() == "v1"  # remote changes arrive
    (bob.folder / "plan.txt").write_text("bob's edit")
    (bob.folder / "new.txt").write_text("bob's file")
    code, out, err = bob("sync", str(bob.folder), "@team", "--json")
    assert code == 0, err
    assert "read-only" in err
    (report,) = json.loads(out)
    assert len([w for w in report["warnings"] if "read-only" in w]) == 2
    assert (bob.folder / "plan.txt").read_text() == "bob's edit"  # kept locally
    assert (bob.folder / "new.txt").read_text() == "bob's file"
    assert {e["name"] for e in json.loads(alice("ls", "/team", "--json")[1])} == {"plan.txt"}
