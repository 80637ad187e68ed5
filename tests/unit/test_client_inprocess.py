"""The client SDK against the real server app in this process (tests/helpers/inprocess.py):
no server process, so these run in the unit suite. The real-process versions stay in
tests/client (the CLI, transfer limits, sockets)."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from blindvault.client.state import StateStore
from blindvault.client.vault import Vault
from blindvault.core.kdf import KdfParams
from blindvault.errors import FormatError
from helpers.inprocess import InProcess, InProcessTransport, inprocess

__all__ = ["inprocess"]

FAST = KdfParams.argon2id(19456, 2, 1)  # the floor: allowed, and keeps each test short


def _signup(server: InProcess, home: Path, email: str) -> Vault:
    vault, words = Vault.signup(
        server.url, email, "pw", store=StateStore(home), params=FAST,
        transport=server.transport,
    )  # fmt: skip
    assert len(words) == 24
    return vault


def _open(server: InProcess, home: Path, email: str, transport: httpx.BaseTransport) -> Vault:
    return Vault.open(
        server.url, email, "pw", store=StateStore(home), min_kdf=FAST, transport=transport
    )


def test_two_devices_write_one_folder(inprocess: InProcess, tmp_path: Path) -> None:
    """tests/client/test_concurrency.py in process: compare-and-swap with re-read and retry
    loses no entry, and both devices end up with a verified tree."""
    laptop = _signup(inprocess, tmp_path / "laptop", "concurrent@example.org")
    phone = _open(inprocess, tmp_path / "phone", "concurrent@example.org", inprocess.transport)
    errors: list[BaseException] = []

    def writer(vault: Vault, prefix: str) -> None:
        try:
            for i in range(10):
                f = tmp_path / f"{prefix}{i}.txt"
                f.write_text(f"{prefix} {i}")
                vault.put(f, "/")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=writer, args=(v, p)) for v, p in ((laptop, "l"), (phone, "p"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    assert errors == []
    names = {e.name for e in laptop.ls("/")}
    assert names == {f"{p}{i}.txt" for p in "lp" for i in range(10)}
    assert {e.name for e in phone.ls("/")} == names
    for vault in (laptop, phone):
        assert vault.verify() == (1, 20, [])
        vault.close()


def test_put_get_mv_rm(inprocess: InProcess, tmp_path: Path) -> None:
    vault = _signup(inprocess, tmp_path / "home", "files@example.org")
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"alpha")
    (src / "sub" / "b.bin").write_bytes(bytes(range(256)) * 100)
    with vault:
        vault.put(src, "/")
        vault.mv("/src/a.txt", "/src/sub/a2.txt")
        assert sorted(e.name for e in vault.ls("/src/sub")) == ["a2.txt", "b.bin"]
        vault.get("/src/sub", tmp_path / "out")
        assert (tmp_path / "out" / "a2.txt").read_bytes() == b"alpha"
        assert (tmp_path / "out" / "b.bin").read_bytes() == bytes(range(256)) * 100
        vault.rm("/src/sub/b.bin")
        assert [e.name for e in vault.ls("/src/sub")] == ["a2.txt"]
        assert vault.verify() == (3, 1, [])  # /, /src, /src/sub


class Lying(httpx.BaseTransport):
    """Once `lie` is set, answers every record read with a JSON object without fields."""

    def __init__(self, inner: InProcessTransport) -> None:
        self.inner = inner
        self.lie = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.inner.handle_request(request)
        if self.lie and request.method == "GET" and request.url.path.startswith("/v1/records/"):
            return httpx.Response(200, json={})
        return answer


def test_a_malformed_answer_is_a_format_error(inprocess: InProcess, tmp_path: Path) -> None:
    _signup(inprocess, tmp_path / "home", "lied-to@example.org").close()
    lying = Lying(inprocess.transport)
    vault = _open(inprocess, tmp_path / "other", "lied-to@example.org", lying)
    lying.lie = True
    with vault, pytest.raises(FormatError):
        vault.ls("/")
