"""The vault app's newer parts in a real Chromium against a real `blindvault server`:
uploads sealed in the worker (seal-worker.js), password strength in the forms, the trash
and versions views. One Chromium and one server for the module; every page collects its
JavaScript errors and none may be thrown.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from helpers.servers import start_server, stop
from helpers.web import checked_page

PASSWORD = "correct horse battery staple"
EMAIL = "views@example.org"


@dataclass
class Server:
    url: str
    home: Path
    work: Path

    def cli(
        self, *args: str, ok: bool = True, home: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "BLINDVAULT_HOME": str(home or self.home),
            "BLINDVAULT_PASSWORD": PASSWORD,
            "BLINDVAULT_NEW_PASSWORD": PASSWORD,
        }
        result = subprocess.run(
            [sys.executable, "-m", "blindvault", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        assert (result.returncode == 0) == ok, (args, result.stdout, result.stderr)
        return result

    def names(self, remote: str) -> set[str]:
        return {e["name"] for e in json.loads(self.cli("ls", remote, "--json").stdout)}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("views")
    proc, url = start_server(base / "data")
    try:
        srv = Server(url, base / "home", base / "work")
        srv.work.mkdir()
        srv.cli("signup", "--server", url, "--email", EMAIL)
        yield srv
    finally:
        stop(proc)


# Counts the plaintext bytes the page's main thread hands to AES-GCM (manifests, keys):
# workers are not touched by an init script, so the seal worker's bytes are not counted.
COUNT_MAIN_THREAD_ENCRYPT = """(() => {
  const subtle = crypto.subtle;
  const encrypt = subtle.encrypt.bind(subtle);
  window.__mainEncrypted = 0;
  subtle.encrypt = (alg, key, data) => {
    window.__mainEncrypted += data.byteLength;
    return encrypt(alg, key, data);
  };
})();"""


class Page:
    def __init__(self, browser: Any, url: str) -> None:
        self.context = browser.new_context(accept_downloads=True)
        self.context.add_init_script(COUNT_MAIN_THREAD_ENCRYPT)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.answers: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: d.accept(self.answers.pop(0) if self.answers else None))
        self.page.goto(url + "/app/")
        self.page.wait_for_selector("#sign-in:not([hidden])")

    def settled(self, timeout: float = 60_000) -> str:
        self.page.wait_for_selector(
            "#status[data-state=ok], #status[data-state=error]", timeout=timeout
        )
        self.page.wait_for_function("!document.getElementById('status').textContent.endsWith('…')")
        return str(self.page.text_content("#status"))

    def sign_in(self, email: str = EMAIL) -> None:
        self.page.fill("#email", email)
        self.page.fill("#password", PASSWORD)
        self.page.click("#sign-in-submit")
        assert "Signed in" in self.settled()

    def row(self, name: str) -> Any:
        return self.page.locator(f"#listing tr[data-name='{name}']")

    def wait_transfer(self) -> Any:
        row = self.page.locator(".transfer").first
        row.and_(self.page.locator("[data-state]")).wait_for(timeout=300_000)
        return row


@pytest.fixture
def app(chromium: Any, server: Server) -> Iterator[Page]:
    with checked_page(Page(chromium, server.url)) as page:
        yield page


ROOT = Path(__file__).resolve().parents[2]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_upload_is_sealed_in_the_worker(app: Page, server: Server) -> None:
    """A 20 MiB file (three resumable parts) and a small one go up byte-exact, and the
    page's main thread encrypts none of their bytes (only manifests and keys)."""
    big = server.work / "sealed-in-worker.bin"
    big.write_bytes(secrets.token_bytes(20 * 1024 * 1024 + 5))
    small = server.work / "small.txt"
    small.write_bytes(b"small\n")
    app.sign_in()
    app.page.set_input_files("#upload-files", [str(big), str(small)])
    row = app.wait_transfer()
    assert row.get_attribute("data-state") == "done", row.text_content()
    main_thread = int(app.page.evaluate("window.__mainEncrypted"))
    assert main_thread < 64 * 1024, main_thread
    out = server.work / "out-worker"
    out.mkdir()
    server.cli("get", f"/{big.name}", f"/{small.name}", str(out))
    assert sha(out / big.name) == sha(big)
    assert (out / small.name).read_bytes() == b"small\n"


def test_sign_up_refuses_a_weak_password(app: Page, server: Server) -> None:
    """The browser's sign-up applies the CLI's rule: a weak password is refused with the
    estimate's feedback before anything is sent; "use it anyway" (the CLI's
    --accept-weak-password) creates the account, which the CLI then opens."""
    email = "weak-in-browser@example.org"
    sent: list[str] = []
    app.page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    app.page.click("#show-sign-up")
    app.page.fill("#su-email", email)
    for field_id in ("#su-password", "#su-password2"):
        app.page.fill(field_id, "password123")
    app.page.click("#sign-up-submit")
    status = app.settled()
    assert app.page.get_attribute("#status", "data-state") == "error"
    assert "too weak (strength 0 of 4; at least 3" in status, status
    assert "commonly used password" in status
    assert not [u for u in sent if "/v1/" in u]  # nothing was sent
    app.page.check("#su-accept-weak")
    app.page.click("#sign-up-submit")
    app.page.wait_for_selector("#words:not([hidden])", timeout=120_000)
    assert any(u.endswith("/v1/accounts") for u in sent)
    app.page.click("#words-done")
    app.page.wait_for_selector("#vault:not([hidden])")
    home = server.work / "home-weak"
    env = {**os.environ, "BLINDVAULT_HOME": str(home), "BLINDVAULT_PASSWORD": "password123"}
    result = subprocess.run(
        [sys.executable, "-m", "blindvault", "login", "--server", server.url, "--email", email],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr


def _trash(server: Server) -> list[dict[str, Any]]:
    return list(json.loads(server.cli("trash", "--json").stdout))


def test_versions_view_restores_a_version(app: Page, server: Server) -> None:
    """Versions of a file the CLI wrote twice; restoring version 1 in the browser writes
    it as version 3, which the CLI reads back (the CLI's `restore --version 1`)."""
    src = server.work / "doc.txt"
    server.cli("mkdir", "/hist")
    src.write_bytes(b"first version\n")
    server.cli("put", str(src), "/hist/doc.txt")
    src.write_bytes(b"second version, longer\n")
    server.cli("put", str(src), "/hist/doc.txt")
    app.sign_in()
    app.row("hist").locator("a.folder").click()
    app.page.wait_for_selector("#breadcrumb strong:text-is('hist')")
    app.row("doc.txt").locator("button[data-action=versions]").click()
    rows = app.page.locator("#versions-table tbody tr")
    rows.first.wait_for()
    assert [r.get_attribute("data-version") for r in rows.all()] == ["2", "1"]
    assert "(current)" in str(rows.first.text_content())
    # the current one has nothing to restore
    assert rows.first.locator("button[data-action=restore-version]").count() == 0
    with app.page.expect_download(timeout=120_000) as info:
        app.page.locator(
            "#versions-table tr[data-version='1'] button[data-action=download-version]"
        ).click()
    old = server.work / "doc-v1.txt"
    info.value.save_as(old)
    assert old.read_bytes() == b"first version\n"
    app.page.locator(
        "#versions-table tr[data-version='1'] button[data-action=restore-version]"
    ).click()
    assert "restored as a new version" in app.settled(120_000)
    versions = json.loads(server.cli("versions", "/hist/doc.txt", "--json").stdout)
    assert [v["version"] for v in versions] == [3, 2, 1]
    out = server.work / "doc-restored.txt"
    server.cli("get", "/hist/doc.txt", str(out))
    assert out.read_bytes() == b"first version\n"


def test_trash_view_lists_restores_and_empties(app: Page, server: Server) -> None:
    """The Trash tab shows what the CLI's `trash` shows (from the signed manifests);
    restore puts an item back where it was; empty deletes the rest for good."""
    server.cli("mkdir", "/tr")
    keep = server.work / "keep.txt"
    keep.write_bytes(secrets.token_bytes(3_000))
    server.cli("put", str(keep), "/tr/keep.txt")
    server.cli("mkdir", "/tr/sub")
    server.cli("put", str(keep), "/tr/sub/inner.txt")
    server.cli("rm", "/tr/keep.txt")
    server.cli("rm", "-r", "/tr/sub")
    cli_paths = {t["path"] for t in _trash(server)}
    assert {"/tr/keep.txt", "/tr/sub"} <= cli_paths
    app.sign_in()
    app.page.click("#tabs button[data-tab=trash]")
    app.page.locator("#trash tr[data-path='/tr/keep.txt']").wait_for()
    shown = {r.get_attribute("data-path") for r in app.page.locator("#trash tbody tr").all()}
    assert shown == cli_paths
    assert app.page.get_attribute("#trash tr[data-path='/tr/sub']", "data-kind") == "folder"
    app.page.locator("#trash tr[data-path='/tr/keep.txt'] button[data-action=restore]").click()
    assert "restored" in app.settled()
    assert "keep.txt" in server.names("/tr")
    out = server.work / "keep-back.txt"
    server.cli("get", "/tr/keep.txt", str(out))
    assert out.read_bytes() == keep.read_bytes()
    assert "/tr/keep.txt" not in {t["path"] for t in _trash(server)}
    app.answers = [""]
    app.page.click("#empty-trash")
    app.page.wait_for_selector("#trash[data-emptied]")
    assert app.page.get_attribute("#status", "data-state") == "ok", app.settled()
    assert _trash(server) == []
    assert app.page.is_visible("#trash-empty")
    # the folder's own contents went with it: nothing left to restore anywhere
    server.cli("trash", "restore", "/tr/sub", ok=False)


def test_app_screenshot_scene(app: Page, server: Server) -> None:
    """A vault as a user has it (folders, files, one with two versions, a video uploaded in
    the browser), the Versions panel of a file open; `BLINDVAULT_SCREENSHOT=1` writes it
    to docs/webapp.png (the README's and guide's picture)."""
    email, home = "alice@example.org", server.work / "home-alice"
    server.cli("signup", "--server", server.url, "--email", email, home=home)
    for folder in ("Contracts", "Photos 2026", "Research"):
        server.cli("mkdir", f"/{folder}", home=home)
    for name, size in (("budget.xlsx", 88_300), ("passport-scan.pdf", 1_900_000)):
        (server.work / name).write_bytes(secrets.token_bytes(size))
        server.cli("put", str(server.work / name), "/", home=home)
    notes = server.work / "notes.md"
    for text in ("# Notes\n", "# Notes\n\n- call the notary\n- renew the passport\n"):
        notes.write_text(text, encoding="utf-8")
        server.cli("put", str(notes), "/", home=home)
    video = server.work / "holiday.mp4"
    video.write_bytes(secrets.token_bytes(24 * 1024 * 1024))
    app.sign_in(email)
    app.page.set_input_files("#upload-files", str(video))
    row = app.wait_transfer()
    assert row.get_attribute("data-state") == "done", row.text_content()
    app.row("holiday.mp4").wait_for()
    app.row("notes.md").locator("button[data-action=versions]").click()
    app.page.wait_for_selector("#versions:not([hidden])")
    assert app.page.text_content("#versions-of") == "notes.md"
    assert app.page.locator("#versions-table tbody tr").count() == 2
    if os.environ.get("BLINDVAULT_SCREENSHOT") == "1":
        app.page.set_viewport_size({"width": 1100, "height": 860})
        app.page.screenshot(path=str(ROOT / "docs" / "webapp.png"), full_page=True)
    app.page.click("#versions-close")
    assert app.page.is_hidden("#versions")


def test_password_change_in_the_browser(app: Page, server: Server) -> None:
    """The Devices tab's password change: a weak new password is refused first (nothing
    derived, nothing sent), a wrong current one is refused, then the new password opens
    the account in the CLI and the old one no longer does."""
    email, home = "passwd@example.org", server.work / "home-passwd"
    server.cli("signup", "--server", server.url, "--email", email, home=home)
    new = "quiet-lantern-meadow-orbit-71"
    app.sign_in(email)
    app.page.click("#tabs button[data-tab=devices]")
    puts: list[str] = []
    app.page.on("request", lambda r: puts.append(r.url) if r.method == "PUT" else None)

    def submit(current: str, password: str) -> str:
        app.page.fill("#pw-current", current)
        app.page.fill("#pw-new", password)
        app.page.fill("#pw-new2", password)
        app.page.click("#passwd-submit")
        return app.settled(120_000)

    assert "too weak" in submit(PASSWORD, "password123")
    assert puts == []
    assert "current password is wrong" in submit("not the password", new)
    assert puts == []
    assert "Password changed" in submit(PASSWORD, new)
    assert any(u.endswith("/v1/account/keys") for u in puts)
    env = {**os.environ, "BLINDVAULT_HOME": str(server.work / "home-passwd-2")}

    def login(password: str) -> int:
        return subprocess.run(
            [sys.executable, "-m", "blindvault", "login", "--server", server.url, "--email", email],
            env={**env, "BLINDVAULT_PASSWORD": password},
            capture_output=True,
            timeout=300,
            check=False,
            stdin=subprocess.DEVNULL,
        ).returncode

    assert login(PASSWORD) != 0
    assert login(new) == 0
