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
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from blindvault.core.content import sealed_size
from helpers.web import run_cli, web_server

HERE = Path(__file__).parent
VIDEO = HERE / "data" / "clip.webm"
MIB = 1024 * 1024
LONG = os.environ.get("BLINDVAULT_LONG_TESTS") == "1"
BIG_SIZE = 2048 * MIB if LONG else 256 * MIB
HEAP_BOUND = 150 * MIB
SEED = 20261204
TAMPER_SIZE = 24 * MIB + 12345  # a padded size no other test file has


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
    secrets: list[str] = field(default_factory=list)

    def cli(self, *args: str) -> str:
        return run_cli(self.home, *args, env={"BLINDVAULT_PASSWORD": "pw-1"}, timeout=900)

    def link(self, remote: str) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(self.cli("link", remote, "--json"))
        self.secrets.append(str(out["url"]).split("#", 1)[1].removeprefix("v1."))
        return out


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("stream")
    with web_server(base) as web:
        files = base / "files"
        files.mkdir()
        home = base / "home"
        home.mkdir()
        big = files / "big.bin"
        digest = seeded_file(big, BIG_SIZE, SEED)
        srv = Server(web.url, home, web.data, files, digest)
        run_cli(home, "signup", "--accept-weak-password", "--server", web.url, "--email",
                f"s{secrets.token_hex(4)}@example.org", "--recovery-file", str(base / "words.txt"),
                env={"BLINDVAULT_NEW_PASSWORD": "pw-1"})  # fmt: skip
        srv.cli("put", str(big), "/")
        big.unlink()  # hashed as written: no second copy on disk
        (files / "mid.bin").write_bytes(random.Random(SEED + 1).randbytes(20 * MIB))
        srv.cli("put", str(files / "mid.bin"), "/")
        (files / "bad.bin").write_bytes(random.Random(SEED + 2).randbytes(TAMPER_SIZE))
        srv.cli("put", str(files / "bad.bin"), "/")
        srv.cli("put", str(VIDEO), "/")
        yield srv


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
def tab(chromium: Any, server: Server) -> Iterator[Tab]:
    context = chromium.new_context(accept_downloads=True)
    page = context.new_page()
    t = Tab(context, page, [], [])
    page.on("pageerror", lambda e: t.errors.append(f"pageerror: {e}"))
    page.on("console", lambda m: t.errors.append(m.text) if m.type == "error" else None)
    context.on("request", lambda r: t.requests.append(r))  # noqa: PLW0108
    yield t
    context.close()
    # P-LINKKEY: no request of the page or of the service worker (whose blob fetches
    # and /sw-dl/, /sw-media/ ids are seen here too) carries a link secret
    assert any("/sw.js" in r.url for r in t.requests)
    for r in t.requests:
        sent = r.url + json.dumps(r.headers) + (r.post_data or "")
        assert not any(secret in sent for secret in server.secrets), r.url


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


# ---------------------------------------------------------------------------- memory


class HeapProbe:
    """JS heap of the page and of the service worker, over the DevTools protocol:
    Runtime.getHeapUsage on both targets (the worker through Target.sendMessageToTarget
    on a browser session), plus Performance.getMetrics' JSHeapUsedSize on the page."""

    def __init__(self, chromium: Any, tab: Tab) -> None:
        self.page_cdp = tab.context.new_cdp_session(tab.page)
        self.page_cdp.send("Performance.enable")
        self.browser_cdp = chromium.new_browser_cdp_session()
        self.replies: dict[int, Any] = {}
        self.browser_cdp.on("Target.receivedMessageFromTarget", self._reply)
        self.sw_session: str | None = None
        self.next_id = 1
        self.peak_page = 0
        self.peak_sw = 0
        self.samples = 0

    def _reply(self, event: Any) -> None:
        msg = json.loads(event["message"])
        if "id" in msg:
            self.replies[msg["id"]] = msg.get("result", {})

    def _attach_worker(self) -> None:
        targets = self.browser_cdp.send("Target.getTargets")["targetInfos"]
        workers = [
            t for t in targets if t["type"] == "service_worker" and t["url"].endswith("/sw.js")
        ]
        if workers:
            self.sw_session = self.browser_cdp.send(
                "Target.attachToTarget", {"targetId": workers[0]["targetId"], "flatten": False}
            )["sessionId"]

    def _worker_heap(self, page: Any) -> int:
        if self.sw_session is None:
            self._attach_worker()
        if self.sw_session is None:
            return 0
        call = self.next_id
        self.next_id += 1
        message = json.dumps({"id": call, "method": "Runtime.getHeapUsage"})
        self.browser_cdp.send(
            "Target.sendMessageToTarget", {"sessionId": self.sw_session, "message": message}
        )
        deadline = time.monotonic() + 5
        while call not in self.replies and time.monotonic() < deadline:
            page.wait_for_timeout(20)
        return int(self.replies.pop(call, {}).get("usedSize", 0))

    def sample(self, page: Any) -> None:
        heap = self.page_cdp.send("Runtime.getHeapUsage")["usedSize"]
        metrics = self.page_cdp.send("Performance.getMetrics")["metrics"]
        used = max([heap] + [m["value"] for m in metrics if m["name"] == "JSHeapUsedSize"])
        self.peak_page = max(self.peak_page, int(used))
        self.peak_sw = max(self.peak_sw, self._worker_heap(page))
        self.samples += 1


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while piece := f.read(8 * MIB):
            digest.update(piece)
    return digest.hexdigest()


# ---------------------------------------------------------------------------- downloads


def test_mid_file_streams_through_the_worker(tab: Tab, server: Server) -> None:
    url = server.link("/mid.bin")["url"]
    tab.open(url, "file")
    with tab.page.expect_download(timeout=120_000) as info:
        tab.page.click("#file-download")
    d = info.value
    assert d.url.startswith(server.url + "/sw-dl/")
    assert d.suggested_filename == "mid.bin"
    data = Path(d.path()).read_bytes()
    assert data == (server.files / "mid.bin").read_bytes()
    assert "Its integrity was verified" in tab.wait_code("downloaded")
    assert not tab.page.is_visible("#save-link")  # nothing kept in the page
    assert tab.errors == []


def test_big_file_streams_byte_exact_with_bounded_heaps(
    chromium: Any, tab: Tab, server: Server
) -> None:
    url = server.link("/big.bin")["url"]
    tab.open(url, "file")
    probe = HeapProbe(chromium, tab)
    started = time.monotonic()
    with tab.page.expect_download(timeout=120_000) as info:
        tab.page.click("#file-download")
    d = info.value
    while tab.page.get_attribute("#status", "data-code") == "downloading":
        probe.sample(tab.page)
        tab.page.wait_for_timeout(500)
    elapsed = time.monotonic() - started
    probe.sample(tab.page)
    assert tab.page.get_attribute("#status", "data-code") == "downloaded", tab.page.text_content(
        "#status"
    )
    path = Path(d.path())
    assert path.stat().st_size == BIG_SIZE
    assert sha256_file(path) == server.big_sha256
    path.unlink()
    print(
        f"streamed {BIG_SIZE // MIB} MiB in {elapsed:.1f} s "
        f"({BIG_SIZE / MIB / elapsed:.0f} MiB/s); peak JS heap: page "
        f"{probe.peak_page / MIB:.1f} MiB, service worker {probe.peak_sw / MIB:.1f} MiB "
        f"({probe.samples} samples)"
    )
    assert probe.samples >= 2
    assert probe.peak_sw > 0  # the worker was really measured
    assert probe.peak_page <= HEAP_BOUND
    assert probe.peak_sw <= HEAP_BOUND
    assert tab.errors == []


def blob_file_of(server: Server, size: int) -> Path:
    want = sealed_size(size)
    found = [
        p
        for p in (server.data / "blobstore").rglob("*")
        if p.is_file() and p.stat().st_size == want
    ]
    assert len(found) == 1, found
    return found[0]


def test_tampered_chunk_fails_the_download(tab: Tab, server: Server) -> None:
    url = server.link("/bad.bin")["url"]
    blob = blob_file_of(server, TAMPER_SIZE)
    original = blob.read_bytes()
    at = 61 + 700 * 16400 + 5000  # inside chunk 700, ~11 MiB into the file
    with blob.open("r+b") as f:
        f.seek(at)
        f.write(bytes([original[at] ^ 1]))
    try:
        tab.open(url, "file")
        with tab.page.expect_download(timeout=120_000) as info:
            tab.page.click("#file-download")
        d = info.value
        text = tab.wait_code("tampered", timeout=120_000)
        assert text.startswith("The data failed its integrity check")
        assert d.failure() is not None  # the browser marked it failed
        with pytest.raises(Exception):  # noqa: B017, PT011 - Playwright's error type
            d.path()  # no file was saved
        assert not tab.page.is_visible("#save-link")
        assert [e for e in tab.errors if "integrity" not in e.lower()] == []
    finally:
        blob.write_bytes(original)


# ---------------------------------------------------------------------------- media


def test_video_plays_and_seeks_in_place(tab: Tab, server: Server) -> None:
    url = server.link("/clip.webm")["url"]
    tab.open(url, "file")
    tab.page.wait_for_selector("#player video#media", timeout=30_000)
    src = tab.page.get_attribute("#media", "src") or ""
    assert src.startswith("/sw-media/")
    tab.page.evaluate(
        """() => {
      const v = document.getElementById("media");
      window.__seeked = 0;
      v.addEventListener("seeked", () => { window.__seeked += 1; });
      v.muted = true;
      return v.play();
    }"""
    )
    tab.page.wait_for_function(
        "() => document.getElementById('media').currentTime > 0.5", timeout=30_000
    )
    duration = tab.page.evaluate("() => document.getElementById('media').duration")
    assert 5.5 < duration < 6.5
    tab.page.evaluate("() => { document.getElementById('media').currentTime = 4.2; }")
    tab.page.wait_for_function("() => window.__seeked >= 1", timeout=30_000)
    tab.page.wait_for_function(
        "() => document.getElementById('media').currentTime >= 4.2", timeout=30_000
    )
    media = [r for r in tab.requests if "/sw-media/" in r.url]
    ranged = [r for r in media if (r.headers.get("range") or "").startswith("bytes=")]
    assert ranged, [r.url for r in media]
    answers = {r.response().status for r in ranged if r.response() is not None}
    assert answers == {206}
    # the worker fetched only ciphertext ranges of the blob, each chunk-verified
    blob_reads = [r for r in tab.requests if "/blob/" in r.url]
    assert blob_reads
    assert all(r.headers.get("range") for r in blob_reads)
    assert tab.page.evaluate("() => document.getElementById('media').error") is None
    assert tab.errors == []


def test_without_a_service_worker_the_page_falls_back_to_a_blob(
    chromium: Any, server: Server
) -> None:
    context = chromium.new_context(accept_downloads=True, service_workers="block")
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server.link("/mid.bin")["url"])
        page.wait_for_function("() => document.getElementById('status').dataset.code === 'file'")
        with page.expect_download(timeout=120_000) as info:
            page.click("#file-download")
        d = info.value
        assert d.url.startswith("blob:")  # decrypted and verified in the page, then offered
        assert Path(d.path()).read_bytes() == (server.files / "mid.bin").read_bytes()
        assert page.is_visible("#save-link")
        assert not page.is_visible("#player")
        assert errors == []
    finally:
        context.close()


def test_tampered_video_chunk_shows_the_integrity_message(tab: Tab, server: Server) -> None:
    url = server.link("/clip.webm")["url"]
    blob = blob_file_of(server, VIDEO.stat().st_size)
    original = blob.read_bytes()
    at = 61 + 2 * 16400 + 100  # chunk 2: the player needs it to start
    with blob.open("r+b") as f:
        f.seek(at)
        f.write(bytes([original[at] ^ 1]))
    try:
        tab.open(url, "file")
        tab.page.wait_for_selector("#player video#media", timeout=30_000)
        tab.page.evaluate(
            "() => { const v = document.getElementById('media'); v.muted = true; v.play().catch(() => {}); }"
        )
        text = tab.wait_code("tampered", timeout=60_000)
        assert text.startswith("The data failed its integrity check")
        assert tab.page.evaluate("() => document.getElementById('media').currentTime") < 2
        assert [e for e in tab.errors if "integrity" not in e.lower()] == []
    finally:
        blob.write_bytes(original)
