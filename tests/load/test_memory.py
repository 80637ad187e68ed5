"""Issue 12 item 3 (and 5): the server's memory stays bounded whatever anyone sends —
oversized JSON bodies (declared or streamed), bodies held one byte short, batch answers
over the cap. One real server process (SQLite + local disk); its peak RSS is printed and
must stay under PEAK_MIB."""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from helpers.memory import rss_mib
from helpers.servers import start_server, stop

MIB = 1 << 20
PEAK_MIB = 400  # an idle server is ~110 MiB; unbounded bodies took it past 1,100 MiB


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, str]]:
    proc, url = start_server(tmp_path / "data", "--body-timeout", "30")
    try:
        yield proc.pid, url
    finally:
        stop(proc)


def _token(url: str) -> str:
    email = f"mem{secrets.token_hex(4)}@example.org"
    auth = base64.b64encode(os.urandom(32)).decode()
    body = {"email": email, "kdf": {"alg": "argon2id", "m": 65536, "t": 3, "p": 4},
            "auth_key": auth, "recovery_auth_key": auth, "key_bundle": "eA==",
            "identity_bundle": "eQ=="}  # fmt: skip
    assert httpx.post(url + "/v1/accounts", json=body, timeout=60).status_code == 201
    r = httpx.post(url + "/v1/sessions", json={"email": email, "auth_key": auth}, timeout=60)
    return str(r.json()["token"])


def _declared(port: int, path: str, size: int, method: str = "POST") -> bytes:
    """Declare `size` bytes, send 1 MiB of them, return the answer's status line."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(
            f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {size}\r\n\r\n".encode()
        )
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            s.sendall(b" " * MIB)
        return s.recv(200).split(b"\r\n", 1)[0]


def _streamed(url: str, path: str, size: int) -> int:
    def body() -> Iterator[bytes]:
        yield b'{"items": ['
        for _ in range(size // MIB):
            yield b" " * MIB

    try:
        r = httpx.post(url + path, content=body(), timeout=60)
    except httpx.HTTPError:  # the server answered and closed while we were still sending
        return 413
    return r.status_code


def test_peak_memory_is_bounded(server: tuple[int, str]) -> None:
    pid, url = server
    port = int(url.rsplit(":", 1)[1])
    token = _token(url)
    start = rss_mib(pid)
    # 1. oversized JSON, declared: refused before a byte is parsed
    for path in ("/v1/records/batch-get", "/v1/prelogin", "/v1/sessions"):
        for _ in range(5):
            assert _declared(port, path, 40 * MIB).startswith(b"HTTP/1.1 413"), path
    # anonymous record writes get the 1 MiB cap too (the larger one needs a session)
    anon = _declared(port, f"/v1/records/manifest/{secrets.token_hex(16)}", 4 * MIB, "PUT")
    assert anon.startswith(b"HTTP/1.1 413")
    # 2. oversized JSON, streamed without a length: refused at the limit
    codes = [_streamed(url, "/v1/records/batch-get", 40 * MIB) for _ in range(10)]
    assert set(codes) == {413}, codes
    # 3. 40 authenticated PUTs held one byte short of 8 MiB (spooled to disk, not memory)
    socks = []
    for _ in range(40):
        s = socket.create_connection(("127.0.0.1", port), timeout=60)
        s.sendall(
            f"PUT /v1/blobs/{secrets.token_hex(16)} HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: {8 * MIB}\r\n\r\n".encode()
        )
        s.sendall(b"x" * (8 * MIB - 1))
        socks.append(s)
    held = rss_mib(pid)
    for s in socks:
        s.close()
    # 4. a records/batch-get answer over the cap: 413, not a 100 MB answer
    h = {"Authorization": f"Bearer {token}"}
    ids = [secrets.token_hex(16) for _ in range(4)]
    data = base64.b64encode(os.urandom(3 * MIB)).decode()
    with httpx.Client(headers=h, timeout=120) as c:
        for rid in ids:
            r = c.put(
                f"{url}/v1/records/manifest/{rid}", json={"expected_version": 0, "data": data}
            )
            assert r.status_code == 200, r.text
        items = [{"kind": "manifest", "id": i} for i in ids]
        threads = [
            threading.Thread(
                target=lambda: c.post(f"{url}/v1/records/batch-get", json={"items": items})
            )
            for _ in range(8)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        r = c.post(f"{url}/v1/records/batch-get", json={"items": items})
        assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
        assert c.post(f"{url}/v1/records/batch-get", json={"items": items[:2]}).status_code == 200
    end = rss_mib(pid)
    print(
        f"\nserver RSS: start {start[0]:.0f} MiB; with 40 held 8 MiB PUTs {held[0]:.0f} MiB; "
        f"end {end[0]:.0f} MiB; peak {end[1]:.0f} MiB"
    )
    assert end[1] < PEAK_MIB
