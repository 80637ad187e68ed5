"""Streaming downloads and in-place media through the service worker (/sw.js), in Chromium.

Against a real `blindvault server` on loopback and links made by the CLI:
- a large file (256 MiB; 2 GiB with BLINDVAULT_LONG_TESTS=1) downloads byte-exact
  through the worker, with the tab's and the worker's JS heaps measured over the
  DevTools protocol and bounded (≤ 150 MiB whatever the size);
- a chunk corrupted on the server's disk → the integrity message, and the browser's
  download fails (no complete file saved);
- a video link plays in place and seeks (Range requests answered 206 by the worker);
- no JS error anywhere, and the served worker's headers (scope, CSP).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers.servers import free_port, stop, wait_http

HERE = Path(__file__).parent
VIDEO = HERE / "data" / "clip.webm"
MIB = 1024 * 1024
LONG = os.environ.get("BLINDVAULT_LONG_TESTS") == "1"
BIG_SIZE = 2048 * MIB if LONG else 256 * MIB
HEAP_BOUND = 150 * MIB
SEED = 20261204


def seeded_file(path: Path, size: int, seed: int) -> str:
    """Write `size` bytes of a seeded stream; return their SHA-256 (computed as written)."""
    rng = random.Random(seed)
    digest = hashlib.sha256()
    with path.open("wb") as f:
        left = size
        while left:
            piece = rng.randbytes(min(left, 8 * MIB))
            digest.update(piece)
            f.write(piece)
            left -= len(piece)
    return digest.hexdigest()


@dataclass
class Server:
    url: str
    home: Path
    data: Path
    files: Path
    big_sha256: str

    def cli(self, *args: str) -> str:
        env = {**os.environ, "BLINDVAULT_HOME": str(self.home), "BLINDVAULT_PASSWORD": "pw-1"}
        result = subprocess.run(
            [sys.executable, "-m", "blindvault", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout

    def link(self, remote: str) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(self.cli("link", remote, "--json"))
        return out


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("stream")
    port = free_port()
    with (base / "server.log").open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "blindvault", "server", "--data", str(base / "data"),
             "--port", str(port)],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/v1/health", timeout=60)
        files = base / "files"
        files.mkdir()
        home = base / "home"
        home.mkdir()
        big = files / "big.bin"
        digest = seeded_file(big, BIG_SIZE, SEED)
        srv = Server(url, home, base / "data", files, digest)
        env = {"BLINDVAULT_NEW_PASSWORD": "pw-1"}
        os.environ.update(env)
        srv.cli("signup", "--server", url, "--email", f"s{secrets.token_hex(4)}@example.org",
                "--recovery-file", str(base / "words.txt"))  # fmt: skip
        srv.cli("put", str(big), "/")
        big.unlink()  # hashed as written: no second copy on disk
        (files / "mid.bin").write_bytes(random.Random(SEED + 1).randbytes(20 * MIB))
        srv.cli("put", str(files / "mid.bin"), "/")
        srv.cli("put", str(VIDEO), "/")
        yield srv
    finally:
        stop(proc)


@dataclass
class Tab:
    context: Any
    page: Any
    errors: list[str]
    requests: list[Any]

    def open(self, url: str, code: str) -> None:
        self.page.goto(url)
        self.page.wait_for_function(
            "(code) => document.getElementById('status').dataset.code === code",
            arg=code,
            timeout=60_000,
        )

    def wait_code(self, code: str, timeout: float = 600_000) -> str:
        self.page.wait_for_function(
            "(code) => document.getElementById('status').dataset.code === code",
            arg=code,
            timeout=timeout,
            polling=500,
        )
        return self.page.text_content("#status") or ""


@pytest.fixture
def tab(chromium: Any) -> Iterator[Tab]:
    context = chromium.new_context(accept_downloads=True)
    page = context.new_page()
    t = Tab(context, page, [], [])
    page.on("pageerror", lambda e: t.errors.append(f"pageerror: {e}"))
    page.on("console", lambda m: t.errors.append(m.text) if m.type == "error" else None)
    context.on("request", lambda r: t.requests.append(r))  # noqa: PLW0108
    yield t
    context.close()


# ---------------------------------------------------------------------------- served worker


def test_worker_is_served_with_scope_and_csp(server: Server) -> None:
    res = httpx.get(server.url + "/sw.js")
    assert res.status_code == 200
    assert res.headers["service-worker-allowed"] == "/"
    assert res.headers["content-type"].startswith("text/javascript")
    csp = res.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "connect-src 'self'" in csp
    assert "require-trusted-types-for 'script'" in csp
    for name in ("client.js", "decrypt-stream.js"):
        assert httpx.get(f"{server.url}/sw/{name}").status_code == 200
    assert httpx.get(server.url + "/sw/other.js").status_code == 404
    gone = httpx.get(server.url + "/sw-dl/AAAAAAAAAAAAAAAAAAAAAA")
    assert gone.status_code == 404
    assert "start the download again" in gone.text


# ---------------------------------------------------------------------------- downloads


def test_mid_file_streams_through_the_worker(tab: Tab, server: Server) -> None:
    url = server.link("/mid.bin")["url"]
    tab.open(url, "file")
    with tab.page.expect_download(timeout=120_000) as info:
        tab.page.click("#file-download")
    d = info.value
    assert d.url.startswith(server.url + "/sw-dl/")
    data = Path(d.path()).read_bytes()
    assert data == (server.files / "mid.bin").read_bytes()
    assert "Its integrity was verified" in tab.wait_code("downloaded")
    assert tab.errors == []
