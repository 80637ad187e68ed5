"""Issue 12 items 5 and 10: connections cannot be held forever, and the transport and
pages are safe by default. Real server processes."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx

from helpers.real_server import real_server
from helpers.servers import free_port, start_server, stop

FEW_FILES = (
    "import resource, runpy, sys; resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64)); "
    "sys.argv[0] = 'blindvault'; runpy.run_module('blindvault', run_name='__main__')"
)
HALF = b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: "


def _held(port: int, n: int) -> list[socket.socket]:
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=60)
        s.sendall(HALF)
        socks.append(s)
    return socks


def _fate(s: socket.socket) -> str:
    try:
        # EOF: the server gave up on the half-sent request (header timeout)
        return "timed out" if s.recv(1024) == b"" else "answered"
    except ConnectionResetError:
        return "refused"  # over the connection cap: dropped at once
    except TimeoutError:
        return "held"
    finally:
        s.close()


def _fds(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def test_half_sent_requests_are_dropped_and_not_logged(tmp_path: Path) -> None:
    proc, url = start_server(tmp_path / "data", "--header-timeout", "2", "--max-connections", "50")
    port = int(url.rsplit(":", 1)[1])
    log = tmp_path / f"server-{port}.log"
    try:
        base = _fds(proc.pid)
        socks = _held(port, 300)
        peak = _fds(proc.pid)
        fates = [_fate(s) for s in socks]
        counts = {f: fates.count(f) for f in set(fates)}
        print(f"300 half-sent requests: {counts}; server fds {base} -> {peak} just after")
        assert counts.get("held", 0) == 0 and counts.get("answered", 0) == 0
        # without the cap every one of the 300 is accepted and times out; with it, about the
        # cap plus uvicorn's margin of 16 (more when the machine is busy while they arrive:
        # 102 in one loaded CI run), so at most half of them
        assert counts["timed out"] <= 300 // 2
        assert httpx.get(url + "/v1/health", timeout=60).status_code == 200
        lines = log.read_text(errors="replace").splitlines()
        assert len(lines) < 20, lines[:20]
    finally:
        stop(proc)


def test_a_stalled_body_times_out(tmp_path: Path) -> None:
    with real_server(tmp_path / "data", None, "--body-timeout", "2") as real:
        acct = real.account()
        port = int(real.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
            s.sendall(
                b"PUT /v1/blobs/" + b"ab" * 16 + b" HTTP/1.1\r\nHost: x\r\n"
                b"Authorization: Bearer " + acct.token.encode() + b"\r\n"
                b"Content-Length: 8388607\r\n\r\n" + b"x" * 1000
            )
            answer = s.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:100]


def _serve(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "blindvault", "server", "--data", str(tmp_path), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


def test_plain_http_on_a_public_address_is_refused(tmp_path: Path) -> None:
    r = _serve(tmp_path / "d", "--host", "0.0.0.0", "--port", str(free_port()))
    assert r.returncode == 2 and "--insecure-http" in r.stderr
    proc, url = start_server(tmp_path / "ok", "--host", "0.0.0.0", "--insecure-http")
    try:
        assert httpx.get(url + "/v1/health").status_code == 200
    finally:
        stop(proc)


def test_pages_and_redirects(tmp_path: Path) -> None:
    with real_server(tmp_path / "data", None) as real:
        for page in ("/docs", "/redoc", "/docs/oauth2-redirect"):
            r = httpx.get(real.url + page)
            assert r.status_code == 404 and "cdn" not in r.text.lower()
        r = httpx.get(real.url + "/v1/health/", headers={"Host": "evil.example"})
        assert r.status_code == 404 and "location" not in r.headers
        assert httpx.get(real.url + "/openapi.json").status_code == 200


def test_device_tokens_expire(tmp_path: Path) -> None:
    with real_server(tmp_path / "data", None, "--token-ttl", "86400") as real:
        acct = real.account()
        assert httpx.get(real.url + "/v1/account", headers=acct.h).status_code == 200
        real.sql("UPDATE devices SET created_at = created_at - 86401 WHERE account_id = ?", acct.id)
        r = httpx.get(real.url + "/v1/account", headers=acct.h)
        assert r.status_code == 401 and "expired" in r.json()["error"]["message"]


def test_running_out_of_files_logs_a_line_not_a_flood(tmp_path: Path) -> None:
    """With the open-file limit (64) far below the connection cap, accept() fails with
    EMFILE for as long as the sockets are held: asyncio's error is logged once a minute."""
    import os
    import time

    port = free_port()
    log = tmp_path / "server.log"

    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", FEW_FILES, "server", "--data", str(tmp_path / "d"),
             "--port", str(port), "--header-timeout", "3", "--log-level", "warning"],
            stdout=subprocess.DEVNULL, stderr=out,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    try:
        from helpers.servers import wait_http

        wait_http(f"http://127.0.0.1:{port}/v1/health")
        socks = []
        for _ in range(200):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                s.sendall(HALF)
                socks.append(s)
            except OSError:
                break
        time.sleep(1)  # let the accept loop fail for a while (no assertion on time)
        for s in socks:
            s.close()
        wait_http(f"http://127.0.0.1:{port}/v1/health")  # serving again afterwards
        text = log.read_text(errors="replace")
        lines = text.splitlines()
        print(f"{len(socks)} held sockets; {len(lines)} log lines")
        assert len(lines) < 40, lines[:40]
    finally:
        stop(proc)
