"""An upload cut short by a page reload resumes (issue 15): the same file picked again
(same folder, name, size and time) continues from the parts the server has, and the
result is byte-exact through `blindvault get`. A file changed meanwhile with the same size
and time starts over with a fresh key (P-NONCE), never mixing old and new parts. One
Chromium, one server; every page collects its JavaScript errors and none may be thrown.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers.web import PASSWORD, checked_page, vault_server
from helpers.web import VaultServer as Server

EMAIL = "resume@example.org"
SIZE = 96 * 1024 * 1024 + 77  # twelve-odd parts of 8 MiB


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with vault_server(tmp_path_factory.mktemp("resume"), EMAIL) as srv:
        yield srv


class Page:
    def __init__(self, browser: Any, url: str) -> None:
        self.url = url
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of finished requests
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfinished", lambda r: self.requests.append((r.method, r.url)))
        self.sign_in()

    def sign_in(self) -> None:
        if not self.page.url.endswith("/app/"):
            self.page.goto(self.url + "/app/")
        self.page.wait_for_selector("#sign-in:not([hidden])")
        self.page.fill("#email", EMAIL)
        self.page.fill("#password", PASSWORD)
        self.page.click("#sign-in-submit")
        self.page.wait_for_selector("#status[data-state=ok]", timeout=120_000)

    def parts_sent(self) -> list[str]:
        return [u for m, u in self.requests if m == "PUT" and "/parts/" in u]

    def starts(self) -> int:
        return sum(1 for m, u in self.requests if m == "POST" and u.endswith("/v1/uploads"))

    def start_then_reload(self, path: Path, after_parts: int) -> None:
        """Pick `path`, let `after_parts` parts arrive, then reload (the upload is cut)."""
        self.page.set_input_files("#upload-files", str(path))
        while len(self.parts_sent()) < after_parts:
            self.page.wait_for_timeout(20)
        self.page.reload()
        self.sign_in()

    def upload(self, path: Path) -> None:
        self.page.set_input_files("#upload-files", str(path))
        row = self.page.locator(".transfer").first
        row.and_(self.page.locator("[data-state]")).wait_for(timeout=300_000)
        assert row.get_attribute("data-state") == "done", row.text_content()


@pytest.fixture
def app(chromium: Any, server: Server) -> Iterator[Page]:
    with checked_page(Page(chromium, server.url)) as page:
        yield page


def sha(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def write_random(path: Path, size: int) -> None:
    with path.open("wb") as f:
        left = size
        while left:
            n = min(left, 8 << 20)
            f.write(secrets.token_bytes(n))
            left -= n


def fetched(server: Server, name: str) -> Path:
    out = server.work / f"out-{secrets.token_hex(4)}"
    out.mkdir()
    server.cli("get", f"/{name}", str(out))
    return out / name


def test_upload_resumes_after_reload(app: Page, server: Server) -> None:
    big = server.work / "resume.bin"
    write_random(big, SIZE)
    total_parts = SIZE // (8 << 20) + 1
    app.start_then_reload(big, after_parts=4)
    before = len(app.parts_sent())
    app.requests.clear()
    app.upload(big)
    again = app.parts_sent()
    assert app.starts() == 0  # the interrupted upload continued: no new one
    assert len(again) <= total_parts - before + 3, (before, len(again))  # a few were in flight
    print(f"resumed after {before} parts: {len(again)} of {total_parts} parts sent again")
    assert sha(fetched(server, "resume.bin")) == sha(big)


def test_changed_file_starts_over(app: Page, server: Server) -> None:
    """Same name, size and time but other bytes: the old parts are not reused."""
    big = server.work / "changed.bin"
    write_random(big, SIZE)
    app.start_then_reload(big, after_parts=3)
    st = big.stat()
    with big.open("r+b") as f:
        f.write(secrets.token_bytes(4096))  # part 1 differs now
    os.utime(big, ns=(st.st_atime_ns, st.st_mtime_ns))
    app.requests.clear()
    app.upload(big)
    assert app.starts() == 1  # a new upload, with a fresh key and salt
    assert sha(fetched(server, "changed.bin")) == sha(big)
