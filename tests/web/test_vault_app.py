"""The browser vault app at /app/ in a real Chromium, against a real `blindvault server`.

An account made with the CLI signs in in the browser; the browser uploads a 200 MiB file
and a folder of 500 small files, which `blindvault get` reads back byte-exact; a file the
CLI put downloads byte-exact in the browser; folders are made, renamed, moved and deleted
and the CLI sees it. Refusals: a lowered KDF (nothing derived sent), a replayed manifest,
a tampered chunk (no file saved), a wrong password, quota, offline. Every page collects
its JavaScript errors and none may be thrown.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers.web import PASSWORD, checked_page, close_page, vault_server
from helpers.web import VaultServer as AppServer

EMAIL = "web@example.org"
BIG = 200 * 1024 * 1024
LARGE = (2048 if os.environ.get("BLINDVAULT_LONG_TESTS") == "1" else 96) * 1024 * 1024


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    with vault_server(tmp_path_factory.mktemp("vaultapp"), EMAIL) as srv:
        yield srv


class Page:
    """A page of the app with its JavaScript errors and requests recorded."""

    def __init__(self, browser: Any, url: str) -> None:
        self.context = browser.new_context(accept_downloads=True)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[tuple[str, str, bytes | None]] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", self._request)
        self.page.on("dialog", self._dialog)
        self.answers: list[str] = []
        self.page.goto(url + "/app/")
        self.page.wait_for_selector("#sign-in:not([hidden])")

    def _request(self, request: Any) -> None:
        json_body = "json" in (request.headers.get("content-type") or "")
        self.requests.append(
            (request.method, request.url, request.post_data_buffer if json_body else None)
        )

    def _dialog(self, dialog: Any) -> None:
        dialog.accept(self.answers.pop(0) if self.answers else None)

    def sign_in(self, password: str = PASSWORD, *, ok: bool = True) -> str:
        self.page.fill("#email", EMAIL)
        self.page.fill("#password", password)
        self.page.click("#sign-in-submit")
        self.page.wait_for_selector(
            "#status[data-state=ok], #status[data-state=error]", timeout=60_000
        )
        assert self.page.get_attribute("#status", "data-state") == ("ok" if ok else "error"), (
            self.status()
        )
        return self.status()

    def status(self) -> str:
        return str(self.page.text_content("#status"))

    def row(self, name: str) -> Any:
        return self.page.locator(f"#listing tr[data-name='{name}']")

    def act(self, name: str, action: str, *answers: str) -> str:
        self.answers = list(answers)
        self.row(name).locator(f"button[data-action={action}]").click()
        self.page.wait_for_selector("#status[data-state=ok], #status[data-state=error]")
        self.page.wait_for_function("!document.getElementById('status').textContent.endsWith('…')")
        return self.status()

    def open(self, name: str) -> None:
        self.row(name).locator("a.folder").click()
        self.page.wait_for_selector(f"#breadcrumb strong:text-is('{name}')")

    def wait_transfer(self, timeout: float = 300_000) -> Any:
        row = self.page.locator(".transfer").first
        row.and_(self.page.locator("[data-state]")).wait_for(timeout=timeout)
        return row

    def close(self) -> None:
        close_page(self)


@pytest.fixture
def app(chromium: Any, app_server: AppServer) -> Iterator[Page]:
    with checked_page(Page(chromium, app_server.url)) as page:
        yield page


HERE = Path(__file__).parent
APP_TYPES = (
    "identity-bundle", "key-bundle", "wrapped-key", "kdf", "root", "manifest", "envelope", "roster",
)  # fmt: skip
RUN_APP_VECTORS = """async (files) => {
  const m = {
    core: await import("/s/assets/linkcore.js"),
    formats: await import("/app/formats.js"),
    sharing: await import("/app/sharing.js"),
    manifest: await import("/app/manifest.js"),
    kdf: await import("/app/kdf.js"),
    crypto: await import("/app/crypto.js"),
  };
  const { verifiedWorker } = await import("/app/loader.js");
  const argon2 = m.kdf.workerArgon2(() =>
    verifiedWorker(["/app/vendor/hash-wasm-argon2.umd.min.js", "/app/kdf-worker.js"]));
  const { runApp } = await import("/t/app_vectors.mjs");
  const { passed, failed } = await runApp(m, files, argon2);
  return { passed, failed };
}"""


def test_vectors_in_chromium(app: Page) -> None:
    """The shared vectors through the app's modules as served (SRI-pinned), Argon2id in
    the verified worker."""
    files = {}
    for type_ in APP_TYPES:
        for p in sorted((HERE.parent / "vectors" / "v1" / type_).glob("*.json")):
            files[f"v1/{type_}/{p.name}"] = json.loads(p.read_text(encoding="utf-8"))
    body = (HERE / "app_vectors.mjs").read_bytes()
    app.page.route(
        "**/t/app_vectors.mjs",
        lambda route: route.fulfill(body=body, content_type="text/javascript"),
    )
    result = app.page.evaluate(RUN_APP_VECTORS, files)
    assert result["failed"] == []
    assert result["passed"] == len(files) >= 50


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sign_in_and_browse(app: Page, app_server: AppServer) -> None:
    (app_server.work / "hello.txt").write_text("hello\n", encoding="utf-8")
    app_server.cli("put", str(app_server.work / "hello.txt"), "/")
    status = app.sign_in()
    assert "Signed in" in status
    assert not app.page.is_visible("#sign-in") and app.page.is_visible("#vault")
    assert app.row("hello.txt").count() == 1
    # the password and the derived master key never travel; only the auth key does
    sent = b"".join(body or b"" for _, _, body in app.requests)
    assert PASSWORD.encode() not in sent
    assert app.page.text_content("#app-release")


def test_sign_up_in_the_browser(app: Page, app_server: AppServer) -> None:
    """A new account made in the browser opens with the CLI (password and recovery
    words), and what the CLI writes shows in the browser."""
    email = "new-in-browser@example.org"
    app.page.click("#show-sign-up")
    app.page.fill("#su-email", email)
    app.page.fill("#su-password", PASSWORD)
    app.page.fill("#su-password2", PASSWORD)
    app.page.click("#sign-up-submit")
    app.page.wait_for_selector("#words:not([hidden])", timeout=60_000)
    words = [str(w) for w in app.page.locator("#word-list li").all_text_contents()]
    assert len(words) == 24
    app.page.click("#words-done")
    app.page.wait_for_selector("#vault:not([hidden])")
    home = app_server.work / "home-new"
    env = {**os.environ, "BLINDVAULT_HOME": str(home), "BLINDVAULT_PASSWORD": PASSWORD}

    def cli(*args: str, stdin: str = "") -> str:
        result = subprocess.run(
            [sys.executable, "-m", "blindvault", *args],
            env={**env, "BLINDVAULT_NEW_PASSWORD": PASSWORD + "!"},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout

    cli("login", "--server", app_server.url, "--email", email)
    (app_server.work / "from-cli-new.txt").write_text("made by the CLI\n", encoding="utf-8")
    cli("put", str(app_server.work / "from-cli-new.txt"), "/")
    app.page.click("#refresh")
    app.row("from-cli-new.txt").wait_for()
    # the words are this account's recovery key: they set a new password
    cli("recover", "--server", app_server.url, "--email", email, stdin=" ".join(words) + "\n")


def test_upload_big_file_and_folder(app: Page, app_server: AppServer) -> None:
    big = app_server.work / "big.bin"
    with big.open("wb") as f:
        for _ in range(BIG // (8 << 20)):
            f.write(secrets.token_bytes(8 << 20))
    folder = app_server.work / "many"
    folder.mkdir()
    for i in range(500):
        (folder / f"f{i:03}.txt").write_bytes(secrets.token_bytes(i * 37 % 3000))
    app.sign_in()
    started = time.monotonic()
    app.page.set_input_files("#upload-files", str(big))
    row = app.wait_transfer()
    seconds = time.monotonic() - started
    assert row.get_attribute("data-state") == "done", row.text_content()
    app_server.measured["upload_200MiB_MBps"] = BIG / seconds / 1e6
    print(f"browser upload of 200 MiB: {seconds:.1f} s, {BIG / seconds / 1e6:.0f} MB/s")
    app.page.set_input_files("#upload-folder", str(folder))
    row = app.wait_transfer()
    assert row.get_attribute("data-state") == "done", row.text_content()
    out = app_server.work / "out"
    out.mkdir()
    app_server.cli("get", "/big.bin", "/many", str(out))
    assert sha(out / "big.bin") == sha(big)
    got = sorted(p.name for p in (out / "many").iterdir())
    assert got == sorted(p.name for p in folder.iterdir())
    for p in folder.iterdir():
        assert (out / "many" / p.name).read_bytes() == p.read_bytes()


def test_download_byte_exact(app: Page, app_server: AppServer) -> None:
    """A file up to 16 MiB: decrypted in the page, handed over as a Blob once verified."""
    src = app_server.work / "from-cli.bin"
    src.write_bytes(secrets.token_bytes(6 * 1024 * 1024 + 123))
    app_server.cli("put", str(src), "/")
    app.sign_in()
    with app.page.expect_download(timeout=120_000) as info:
        app.row("from-cli.bin").locator("button[data-action=download]").click()
    saved = app_server.work / "saved.bin"
    info.value.save_as(saved)
    assert info.value.suggested_filename == "from-cli.bin"
    assert sha(saved) == sha(src)


def test_streamed_download_byte_exact(app: Page, app_server: AppServer) -> None:
    """A large file (96 MiB; 2 GiB with BLINDVAULT_LONG_TESTS=1) put by the CLI streams
    through the service worker (h-webstream's /sw.js) to disk, byte-exact."""
    src = app_server.work / "large.bin"
    digest = hashlib.sha256()
    with src.open("wb") as f:
        for _ in range(LARGE // (8 << 20)):
            block = secrets.token_bytes(8 << 20)
            digest.update(block)
            f.write(block)
    app_server.cli("put", str(src), "/")
    src.unlink()  # only its hash is needed now
    app.sign_in()
    started = time.monotonic()
    with app.page.expect_download(timeout=1_200_000) as info:
        app.row("large.bin").locator("button[data-action=download]").click()
    saved = app_server.work / "large-saved.bin"
    info.value.save_as(saved)
    row = app.wait_transfer(timeout=1_200_000)
    assert row.get_attribute("data-state") == "done", row.text_content()
    seconds = time.monotonic() - started
    print(f"browser streamed download of {LARGE >> 20} MiB: {seconds:.1f} s")
    got = hashlib.sha256()
    with saved.open("rb") as f:
        while block := f.read(8 << 20):
            got.update(block)
    saved.unlink()
    assert got.hexdigest() == digest.hexdigest()


def test_folders_rename_move_delete(app: Page, app_server: AppServer) -> None:
    app.sign_in()
    app.answers = ["docs"]
    app.page.click("#new-folder")
    app.row("docs").wait_for()
    app.answers = ["inner"]
    app.open("docs")
    app.page.click("#new-folder")
    app.row("inner").wait_for()
    app.page.locator("#breadcrumb a").first.click()
    app.row("hello.txt").wait_for()
    assert "done" in app.act("hello.txt", "rename", "greeting.txt")
    assert "done" in app.act("greeting.txt", "move", "/docs/inner")
    assert app_server.names("/docs/inner") == {"greeting.txt"}
    assert "hello.txt" not in app_server.names("/")
    app_server.cli("get", "/docs/inner/greeting.txt", str(app_server.work / "greeting.txt"))
    assert (app_server.work / "greeting.txt").read_text(encoding="utf-8") == "hello\n"
    # a folder cannot go into itself
    assert "itself" in app.act("docs", "move", "/docs/inner")
    assert "moved to the trash" in app.act("docs", "delete")
    assert "docs" not in app_server.names("/")


def _trash(app_server: AppServer) -> dict[str, dict[str, Any]]:
    return {t["path"]: t for t in json.loads(app_server.cli("trash", "--json"))}


def test_browser_upload_keeps_the_cli_trash(app: Page, app_server: AppServer) -> None:
    """A folder body 4 with a trash opens in the browser; rewriting it carries the trash."""
    src = app_server.work / "old.txt"
    src.write_bytes(secrets.token_bytes(5_000))
    app_server.cli("mkdir", "/tw")
    app_server.cli("put", str(src), "/tw/old.txt")
    app_server.cli("rm", "/tw/old.txt")
    assert "/tw/old.txt" in _trash(app_server)
    app.sign_in()
    app.open("tw")
    new = app_server.work / "new.txt"
    new.write_bytes(b"new\n")
    app.page.set_input_files("#upload-files", str(new))
    row = app.wait_transfer()
    assert row.get_attribute("data-state") == "done", row.text_content()
    assert app_server.names("/tw") == {"new.txt"}
    assert "/tw/old.txt" in _trash(app_server)
    app_server.cli("trash", "restore", "/tw/old.txt")
    assert app_server.names("/tw") == {"new.txt", "old.txt"}
    got = app_server.work / "old-restored.txt"
    app_server.cli("get", "/tw/old.txt", str(got))
    assert got.read_bytes() == src.read_bytes()


def test_browser_delete_moves_to_the_trash(app: Page, app_server: AppServer) -> None:
    src = app_server.work / "binned.bin"
    src.write_bytes(secrets.token_bytes(90_001))
    app_server.cli("mkdir", "/bin")
    app_server.cli("put", str(src), "/bin/binned.bin")
    app.sign_in()
    app.open("bin")
    assert "moved to the trash" in app.act("binned.bin", "delete")
    assert "binned.bin" not in app_server.names("/bin")
    item = _trash(app_server)["/bin/binned.bin"]
    assert item["kind"] == "file"
    assert item["size"] == src.stat().st_size
    app_server.cli("trash", "restore", "/bin/binned.bin")
    got = app_server.work / "binned-restored.bin"
    app_server.cli("get", "/bin/binned.bin", str(got))
    assert got.read_bytes() == src.read_bytes()


def test_file_link_made_in_the_browser(app: Page, app_server: AppServer) -> None:
    src = app_server.work / "shared.bin"
    src.write_bytes(secrets.token_bytes(70_001))
    app_server.cli("put", str(src), "/")
    app.sign_in()
    assert "done" in app.act("shared.bin", "link", "")
    url = str(app.page.input_value("#link-url"))
    assert url.startswith(f"{app_server.url}/s/") and "#v1." in url
    secret = url.split("#", 1)[1]
    assert not [u for _, u, _ in app.requests if secret in u]  # the fragment never travels
    dest = app_server.work / "via-link"
    dest.mkdir()
    app_server.cli("open-link", url, str(dest))
    assert (dest / "shared.bin").read_bytes() == src.read_bytes()
    app.page.click("#tabs button[data-tab=links]")
    link_id = url.split("/s/", 1)[1].split("#", 1)[0]
    row = app.page.locator(f"#links tr[data-id='{link_id}']")
    row.locator("button").click()
    row.get_by_text("revoked").wait_for()
    assert json.loads(app_server.cli("links", "--json"))[-1]["revoked"] is True


def test_cancel_upload(app: Page, app_server: AppServer) -> None:
    src = app_server.work / "cancelled.bin"
    src.write_bytes(secrets.token_bytes(48 * 1024 * 1024))
    app.sign_in()
    app.page.set_input_files("#upload-files", str(src))
    app.page.locator(".transfer button").first.click()
    row = app.wait_transfer()
    assert row.get_attribute("data-state") == "error"
    assert "Cancelled" in str(row.text_content())
    assert "cancelled.bin" not in app_server.names("/")
    with sqlite3.connect(app_server.data / "blindvault.sqlite3") as db:
        # the cancelled upload was deleted again (its quota released), not left behind
        assert db.execute("SELECT COUNT(*) FROM uploads WHERE state = 'open'").fetchone()[0] == 0


def test_tampered_chunk_saves_nothing(app: Page, app_server: AppServer) -> None:
    src = app_server.work / "tamper.bin"
    src.write_bytes(secrets.token_bytes(300_000))
    app_server.cli("put", str(src), "/")
    app.sign_in()

    def flip(route: Any) -> None:
        response = route.fetch()
        body = bytearray(response.body())
        body[5 + 56 + 16400 * 3 + 7] ^= 1  # inside the fourth chunk
        route.fulfill(response=response, body=bytes(body))

    app.page.route("**/v1/blobs/*", flip)
    downloads: list[Any] = []

    def saw(download: Any) -> None:  # a bound builtin cannot be a Playwright handler
        downloads.append(download)

    app.page.on("download", saw)
    app.row("tamper.bin").locator("button[data-action=download]").click()
    row = app.wait_transfer()
    assert row.get_attribute("data-state") == "error"
    assert "Integrity check failed" in str(row.text_content())
    app.page.wait_for_timeout(300)
    assert downloads == []


def test_lowered_kdf_refused_before_sending(app: Page) -> None:
    weak = {"kdf": {"alg": "argon2id", "m": 19456, "t": 2, "p": 1}}
    app.page.route("**/v1/prelogin", lambda route: route.fulfill(json=weak))
    status = app.sign_in(ok=False)
    assert "lowered the password hashing cost" in status
    assert "Nothing derived from your password was sent" in status
    assert not [u for _, u, _ in app.requests if "/v1/sessions" in u or "/v1/account" in u]


def test_wrong_password(app: Page) -> None:
    assert "Wrong email or password" in app.sign_in("not the password", ok=False)


def test_replayed_manifest_refused(app: Page, app_server: AppServer) -> None:
    first: dict[str, tuple[int, bytes]] = {}

    def keep_first(route: Any) -> None:
        response = route.fetch()
        first.setdefault(route.request.url, (response.status, response.body()))
        status, body = first[route.request.url] if replay else (response.status, response.body())
        route.fulfill(response=response, status=status, body=body)

    replay = False
    app.page.route("**/v1/records/manifest/*", keep_first)
    app.sign_in()
    app.answers = ["newer"]
    app.page.click("#new-folder")
    app.row("newer").wait_for()
    replay = True  # the server now answers the root folder as it was before the mkdir
    app.page.click("#refresh")
    app.page.wait_for_selector("#status[data-state=error]")
    assert "Refused" in app.status()
    assert app.row("newer").count() == 1  # the listing shown stays the verified one


def test_replayed_manifest_refused_on_a_new_browser(app: Page, app_server: AppServer) -> None:
    """A browser that never saw the folder still refuses an old version: the signed root
    names the newer one (the server replays the root folder from before a change)."""
    root_folder: dict[str, bytes] = {}
    (app_server.work / "extra.txt").write_text("x", encoding="utf-8")

    def old(route: Any) -> None:
        response = route.fetch()
        first = root_folder.setdefault(route.request.url, response.body())
        route.fulfill(response=response, body=first)

    app.page.route("**/v1/records/manifest/*", old)
    app.sign_in()  # its listing remembers the root folder as it is now
    assert root_folder
    app_server.cli("put", str(app_server.work / "extra.txt"), "/")  # the CLI advances it
    fresh = Page(app.page.context.browser, app_server.url)
    try:
        fresh.page.route("**/v1/records/manifest/*", old)
        assert "Refused" in fresh.sign_in(ok=False) or "Refused" in fresh.status()
    finally:
        fresh.close()


def test_replayed_root_refused(app: Page) -> None:
    roots: list[bytes] = []

    def keep(route: Any) -> None:
        response = route.fetch()
        if not roots and route.request.method == "GET" and response.status == 200:
            roots.append(response.body())
        body = roots[0] if replay and roots else response.body()
        route.fulfill(response=response, body=body)

    replay = False
    app.page.route("**/v1/records/root/*", keep)
    app.sign_in()
    app.answers = ["after-root"]
    app.page.click("#new-folder")
    app.row("after-root").wait_for()
    replay = True  # the server now answers the signed root from before the mkdir
    app.answers = ["again"]
    app.page.click("#new-folder")
    app.page.wait_for_selector("#status[data-state=error]")
    assert "Refused" in app.status()


def test_served_account_must_match(app: Page, app_server: AppServer) -> None:
    alice = json.loads(
        (HERE.parent / "vectors" / "v1" / "identity-bundle" / "x25519.json").read_text()
    )
    other_identity = base64.b64encode(bytes.fromhex(alice["data"])).decode()

    def serve(change: dict[str, Any]) -> Any:
        def handler(route: Any) -> None:
            response = route.fetch()
            route.fulfill(response=response, json={**response.json(), **change(response.json())})

        return handler

    app.page.route(
        "**/v1/account", serve(lambda a: {"key_bundle_version": a["key_bundle_version"] + 1})
    )
    assert "Integrity check failed" in app.sign_in(ok=False)
    app.page.unroute("**/v1/account")
    app.page.route("**/v1/account", serve(lambda a: {"identity_bundle": other_identity}))
    assert "identity key that is not this account's" in app.sign_in(ok=False)


def test_tampered_worker_refused(app: Page) -> None:
    """The Argon2id worker runs only the bytes the page pins, even if they still work."""

    def tamper(route: Any) -> None:
        response = route.fetch()
        route.fulfill(response=response, body=response.body() + b"\n// changed\n")

    app.page.route("**/app/kdf-worker.js", tamper)
    assert "Integrity check failed" in app.sign_in(ok=False)


def test_webapp_hashes_match_the_server(app: Page, app_server: AppServer) -> None:
    out = json.loads(app_server.cli("webapp-hashes", "--json", "--check", app_server.url))
    assert set(out["check"].values()) == {"ok"}
    assert app.page.text_content("#app-release") == out["release"]
    assert "/app/" in out["files"] and "/s/assets/linkcore.js" in out["files"]


def test_offline_and_quota_messages(app: Page, app_server: AppServer) -> None:
    app.sign_in()
    app.context.set_offline(True)
    app.page.click("#refresh")
    app.page.wait_for_selector("#status[data-state=error]")
    assert "cannot be reached" in app.status()
    app.context.set_offline(False)
    db = app_server.data / "blindvault.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE accounts SET quota_bytes = used_bytes + 1000")
    try:
        src = app_server.work / "over.bin"
        src.write_bytes(secrets.token_bytes(100_000))
        app.page.set_input_files("#upload-files", str(src))
        row = app.wait_transfer()
        assert row.get_attribute("data-state") == "error"
        assert "quota is full" in str(row.text_content())
    finally:
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE accounts SET quota_bytes = 10 * 1024 * 1024 * 1024")
    assert "over.bin" not in app_server.names("/")


def test_older_key_bundle_refused(app: Page, app_server: AppServer) -> None:
    """After a password change, a server that serves the bundle from before it (which the
    old password opens) is refused by a browser that saw the newer one. Runs last: it
    changes the account's password."""
    old: list[Any] = []

    def keep(route: Any) -> None:
        response = route.fetch()
        old.append(response.json())
        route.fulfill(response=response)

    app.page.route("**/v1/account", keep)
    app.sign_in()
    app.page.unroute("**/v1/account")
    env_password = "a new password for the web test"
    app_server.cli_env = {"BLINDVAULT_NEW_PASSWORD": env_password}
    app_server.cli("passwd")
    app.page.reload()
    app.page.wait_for_selector("#sign-in:not([hidden])")
    app.sign_in(env_password)  # this browser now pins bundle version 2
    app.page.reload()
    app.page.wait_for_selector("#sign-in:not([hidden])")
    app.page.route("**/v1/account", lambda route: route.fulfill(json=old[0]))
    assert "older key bundle" in app.sign_in(env_password, ok=False)
