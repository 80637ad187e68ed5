"""A sync SIGKILLed in the middle of a large file resumes it mid-file (issue 14).

The process kills itself at an exact point (after the Nth upload part the server
acknowledged, or after the Nth recorded download checkpoint), so each case is hit every
time. A proxy in front of the real server counts the content bytes of the next run: only
the rest of the file moves. A server that changes the blob between the runs is caught by
the resumed decryptor (exit 10) and nothing partial appears under the file's name."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from blindvault.core.constants import CHUNK_SIZE, SEALED_CHUNK_SIZE
from blindvault.core.content import sealed_size
from helpers.client import Cli
from helpers.proxy import BLOB, Exchange, Proxy, flip_bit, on_blob
from helpers.sync import Device

MIB = 1 << 20
PART = 8 * MIB  # the server's part size
SIZE = 40 * MIB + 12345
CHECKPOINT = 4 * MIB  # the killed run's download checkpoints

WRAPPER = r"""
import os, signal, sys
from blindvault.client.net import partial
from blindvault.client.net.http import ApiClient
where, nth = os.environ["KILL_AT"], int(os.environ["KILL_NTH"])
hits = [0]

def hit():
    hits[0] += 1
    if hits[0] == nth:
        os.kill(os.getpid(), signal.SIGKILL)

if where == "part":
    real = ApiClient.request
    def request(self, method, path, *a, **kw):
        out = real(self, method, path, *a, **kw)
        if method == "PUT" and "/parts/" in path:
            hit()
        return out
    ApiClient.request = request
else:
    partial.CHECKPOINT = int(os.environ["CHECKPOINT"])
    real_checkpoint = partial._checkpoint
    def checkpoint(f, path, state):
        real_checkpoint(f, path, state)
        if not state.complete:
            hit()
    partial._checkpoint = checkpoint

from blindvault.cli import main
sys.exit(main(sys.argv[1:]))
"""


class Counter:
    """Content bytes through the proxy that the server accepted or served: upload parts
    sent, blob bytes received."""

    def __init__(self) -> None:
        self.sent = self.got = 0

    def __call__(self, ex: Exchange) -> None:
        if ex.status >= 300:  # e.g. a part the killed run left half-sent
            return
        if ex.method == "PUT" and "/parts/" in ex.path:
            self.sent += len(ex.request_body)
        elif ex.method == "GET" and BLOB.match(ex.path):
            self.got += len(ex.body)


@pytest.fixture
def proxy(cli: Cli) -> Iterator[Proxy]:
    p = Proxy(cli.server.url)
    try:
        yield p
    finally:
        p.close()


@pytest.fixture
def two(cli: Cli, tmp_path: Path, proxy: Proxy) -> tuple[Device, Device]:
    """The laptop talks to the server directly, the phone through the proxy."""
    laptop = Device(cli, Path(cli.monkeypatch_home), "laptop", tmp_path / "laptop")
    home = tmp_path / "phone-home"
    home.mkdir()
    phone = Device(cli, home, "phone", tmp_path / "phone")
    code, _, err = phone("login", "--server", proxy.url, "--email", cli.email)
    assert code == 0, err
    return laptop, phone


def _killed(dev: Device, where: str, nth: int) -> int:
    env = {
        **os.environ,
        "BLINDVAULT_HOME": str(dev.home),
        "BLINDVAULT_PASSWORD": "pw-1",
        "BLINDVAULT_DEVICE_NAME": dev.name,
        "KILL_AT": where,
        "KILL_NTH": str(nth),
        "CHECKPOINT": str(CHECKPOINT),
    }
    cmd = [sys.executable, "-c", WRAPPER, "sync", str(dev.folder), "/Sync"]
    done = subprocess.run(cmd, env=env, capture_output=True, check=False, timeout=300)
    return done.returncode


def _counted(proxy: Proxy) -> Counter:
    """Counts the content bytes through `proxy` from now on."""
    count = Counter()
    proxy.add(count)
    return count


def _synced_big_file(dev: Device) -> bytes:
    """A new SIZE-byte big.bin in `dev`'s folder, synced up; its content."""
    data = os.urandom(SIZE)
    (dev.folder / "big.bin").write_bytes(data)
    dev.sync()
    return data


def _killed_download(two: tuple[Device, Device], nth: int) -> bytes:
    """A big file synced up from the laptop; the phone's sync of it killed after its `nth`
    download checkpoint. Returns the file's content."""
    laptop, phone = two
    data = _synced_big_file(laptop)
    assert _killed(phone, "checkpoint", nth) == -9
    return data


def _staging(dev: Device) -> list[str]:
    return sorted(p.name for p in dev.folder.glob(".blindvault-tmp-*"))


def test_an_upload_killed_mid_file_sends_only_the_rest(
    two: tuple[Device, Device], proxy: Proxy
) -> None:
    laptop, phone = two
    data = os.urandom(SIZE)
    (phone.folder / "big.bin").write_bytes(data)
    (phone.folder / "small.txt").write_text("small")
    assert _killed(phone, "part", 3) == -9  # three parts acknowledged, the rest not
    assert len([n for n in _staging(phone) if "-part-" in n]) == 1  # kept for the next run
    count = _counted(proxy)
    phone.sync()
    assert 0 < count.sent <= sealed_size(SIZE) - 3 * PART  # only what the server lacked
    assert _staging(phone) == []
    laptop.sync()
    assert laptop.files() == {"big.bin": data, "small.txt": b"small"}  # byte-exact
    assert phone.sync()["actions"] == []


def test_a_kept_snapshot_changed_locally_is_not_sent(two: tuple[Device, Device]) -> None:
    laptop, phone = two
    data = os.urandom(SIZE)
    (phone.folder / "big.bin").write_bytes(data)
    assert _killed(phone, "part", 2) == -9
    (snap,) = phone.folder.glob(".blindvault-tmp-part-*/big.bin")
    with snap.open("r+b") as f:  # the private copy changed after the fact
        f.seek(SIZE - 10)
        f.write(b"0123456789")
    phone.sync()
    laptop.sync()
    assert laptop.files() == {"big.bin": data}  # the real content, copied again


def test_sync_remove_drops_what_was_kept_to_resume(two: tuple[Device, Device]) -> None:
    _, phone = two
    (phone.folder / "big.bin").write_bytes(os.urandom(SIZE))
    assert _killed(phone, "part", 2) == -9
    assert _staging(phone)
    assert phone("sync", "remove", str(phone.folder))[0] == 0
    assert _staging(phone) == []
    assert (phone.folder / "big.bin").stat().st_size == SIZE  # the user's file stays


def test_an_upload_of_a_file_changed_meanwhile_starts_over(
    two: tuple[Device, Device], proxy: Proxy
) -> None:
    laptop, phone = two
    (phone.folder / "big.bin").write_bytes(os.urandom(SIZE))
    assert _killed(phone, "part", 2) == -9
    data = os.urandom(SIZE)
    (phone.folder / "big.bin").write_bytes(data)  # the same size, new content and mtime
    count = _counted(proxy)
    phone.sync()
    assert count.sent == sealed_size(SIZE)  # nothing of the old content was reused
    assert _staging(phone) == []
    laptop.sync()
    assert laptop.files() == {"big.bin": data}


def test_a_download_killed_mid_file_fetches_only_the_rest(
    two: tuple[Device, Device], proxy: Proxy
) -> None:
    phone, data = two[1], _killed_download(two, 3)  # 12 MiB verified and recorded
    assert not (phone.folder / "big.bin").exists()  # nothing partial under its name
    count = _counted(proxy)
    phone.sync()
    assert 0 < count.got <= sealed_size(SIZE) - 3 * CHECKPOINT
    assert phone.files() == {"big.bin": data}
    assert _staging(phone) == []


def test_a_kept_prefix_changed_locally_is_not_trusted(
    two: tuple[Device, Device], proxy: Proxy
) -> None:
    phone, data = two[1], _killed_download(two, 2)
    (kept,) = phone.folder.glob(".blindvault-tmp-part-*/content")
    with kept.open("r+b") as f:  # one verified byte changed on disk after the fact
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 1]))
    count = _counted(proxy)
    phone.sync()
    assert count.got == sealed_size(SIZE)  # the prefix was fetched again
    assert phone.files() == {"big.bin": data}


def test_a_blob_changed_between_the_runs_is_an_integrity_error(
    two: tuple[Device, Device], proxy: Proxy
) -> None:
    phone, data = two[1], _killed_download(two, 2)
    proxy.add(on_blob(flip_bit(100)))  # the rest, as the server now serves it
    code, _, err = phone("sync", str(phone.folder), "/Sync")
    assert code == 10, err
    assert phone.files() == {}  # nothing partial visible, nothing unverified kept
    proxy.reset()
    phone.sync()
    assert phone.files() == {"big.bin": data}
    assert _staging(phone) == []


def test_an_interrupted_get_resumes_mid_file(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`get` of a large file: stopped after two checkpoints (Ctrl-C), the next `get` asks
    the server for the rest only, and the file is byte-exact."""
    from blindvault.client.net import partial
    from blindvault.client.net.http import ApiClient
    from blindvault.core.content import ContentDecryptor

    data = os.urandom(SIZE)
    (tmp_path / "big.bin").write_bytes(data)
    assert cli("put", str(tmp_path / "big.bin"), "/")[0] == 0
    monkeypatch.setattr(partial, "CHECKPOINT", CHECKPOINT)
    real_checkpoint, calls = partial._checkpoint, [0]

    def checkpoint(*args: object) -> None:
        real_checkpoint(*args)  # type: ignore[arg-type]
        calls[0] += 1
        if calls[0] == 2:
            raise KeyboardInterrupt  # the user pressed Ctrl-C

    monkeypatch.setattr(partial, "_checkpoint", checkpoint)
    out = tmp_path / "back.bin"
    assert cli("get", "/big.bin", str(out))[0] == 130
    assert not out.exists()  # nothing partial under its name
    ranges: list[str] = []
    real_stream = ApiClient.stream

    def stream(self: ApiClient, path: str, headers: dict[str, str] | None = None) -> object:
        ranges.append((headers or {}).get("Range", ""))
        return real_stream(self, path, headers)

    monkeypatch.setattr(ApiClient, "stream", stream)
    assert cli("get", "/big.bin", str(out))[0] == 0
    ((asked,),) = [re.findall(r"^bytes=(\d+)-$", r) for r in ranges]  # one request, the rest
    chunks = (int(asked) - ContentDecryptor.resume_offset(0)) // SEALED_CHUNK_SIZE
    assert int(asked) == ContentDecryptor.resume_offset(chunks)  # at a chunk boundary ...
    assert chunks * CHUNK_SIZE >= 2 * CHECKPOINT  # ... after what the two checkpoints kept
    assert out.read_bytes() == data
    assert [p.name for p in tmp_path.iterdir() if "blindvault-part" in p.name] == []
