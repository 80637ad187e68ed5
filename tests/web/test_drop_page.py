"""Upload-only links (issue 19) in a real Chromium against a real server: the link page
shows a drop form and nothing of the folder, seals each chosen file in the browser
(web/dropcore.js: HPKE to the link's owner key) and sends it; the owner's CLI imports the
drops as normal files, byte for byte; the fragment secret is in no request."""

from __future__ import annotations

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


@dataclass
class Owner:
    url: str
    home: Path

    def cli(self, *args: str) -> str:
        env = {**os.environ, "BLINDVAULT_HOME": str(self.home), "BLINDVAULT_PASSWORD": "pw-1",
               "BLINDVAULT_NEW_PASSWORD": "pw-1"}  # fmt: skip
        r = subprocess.run([sys.executable, "-m", "blindvault", *args], env=env,
                           capture_output=True, text=True, timeout=600, check=False,
                           stdin=subprocess.DEVNULL)  # fmt: skip
        assert r.returncode == 0, (args, r.stdout, r.stderr)
        return r.stdout


@pytest.fixture(scope="module")
def owner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Owner]:
    base = tmp_path_factory.mktemp("droppage")
    proc, url = start_server(base / "data")
    try:
        o = Owner(url, base / "home")
        o.home.mkdir()
        o.cli("signup", "--accept-weak-password", "--server", url,
              "--email", f"d{secrets.token_hex(4)}@example.org",
              "--recovery-file", str(base / "words.txt"))  # fmt: skip
        o.cli("mkdir", "/inbox")
        yield o
    finally:
        stop(proc)


def _wait(page: Any, code: str) -> str:
    page.wait_for_function(
        "(code) => document.getElementById('status').dataset.code === code",
        arg=code,
        timeout=120_000,
    )
    return page.text_content("#status") or ""


def _send(chromium: Any, url: str, files: list[Path], code: str) -> str:
    """Open the drop page at `url` in a fresh context, send `files`, and wait for the
    status `code`; its text."""
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.goto(url)
        _wait(page, "drop")
        page.set_input_files("#drop-files", [str(f) for f in files])
        page.click("#drop-send")
        return _wait(page, code)
    finally:
        context.close()


def test_files_dropped_in_chromium_reach_only_the_owner(
    chromium: Any, owner: Owner, tmp_path: Path
) -> None:
    made = json.loads(owner.cli("link", "/inbox", "--upload-only", "--max-uploads", "5", "--json"))
    url, secret = made["url"], made["url"].split("#", 1)[1].removeprefix("v1.")
    files = {"scan.pdf": os.urandom(70_000), "notes.txt": b"dropped from a browser\n"}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)

    context = chromium.new_context()
    page = context.new_page()
    sent: list[Any] = []
    page.on("request", lambda r: sent.append(r))  # noqa: PLW0108
    page.goto(url)
    assert "cannot see what is stored" in _wait(page, "drop")
    assert page.text_content("#drop-title") == "Send files to “inbox”"
    assert "5 more files accepted" in (page.text_content("#drop-meta") or "")
    assert not page.is_visible("#folder-view") and not page.is_visible("#file-view")
    page.set_input_files("#drop-files", [str(tmp_path / n) for n in files])
    page.click("#drop-send")
    assert "Sent 2 files" in _wait(page, "dropped")
    done = page.eval_on_selector_all("#drop-done li", "items => items.map(i => i.dataset.name)")
    assert done == list(files)
    assert page.evaluate("document.getElementById('drop-progress').value") == 1

    # the secret travelled in no request: URL, headers or body
    posts = [r for r in sent if r.method == "POST"]
    assert len(posts) == 2 and all(r.url.endswith("/drops") for r in posts)
    for r in sent:
        body = r.post_data_buffer or b""
        assert secret not in r.url and secret not in json.dumps(r.all_headers())
        assert secret.encode() not in body
        assert not any(data[:64] in body for data in files.values())  # sealed, not plain
    context.close()

    report = json.loads(owner.cli("drops", "--json"))
    assert sorted(report["imported"]) == ["/inbox/notes.txt", "/inbox/scan.pdf"]
    assert report["quarantined"] == []
    got = tmp_path / "got"
    got.mkdir()
    for name, data in files.items():
        owner.cli("get", f"/inbox/{name}", str(got))
        assert (got / name).read_bytes() == data


def test_a_file_past_the_old_64_mib_cap_is_dropped_from_chromium(
    chromium: Any, owner: Owner, tmp_path: Path
) -> None:
    """The page reads and seals a chosen file a MiB at a time into a Blob (never whole in
    the page's memory) and the owner imports it byte for byte."""
    made = json.loads(owner.cli("link", "/inbox", "--upload-only", "--json"))
    big = tmp_path / "video.bin"
    with big.open("wb") as f:
        for _ in range(80):
            f.write(os.urandom(1 << 20))
    assert "Sent 1 file" in _send(chromium, made["url"], [big], "dropped")
    report = json.loads(owner.cli("drops", "--json"))
    assert report["imported"] == ["/inbox/video.bin"] and report["quarantined"] == []
    got = tmp_path / "got"
    got.mkdir()
    owner.cli("get", "/inbox/video.bin", str(got))
    assert (got / "video.bin").read_bytes() == big.read_bytes()


def test_a_drop_past_the_owners_quota_is_refused_with_its_own_message(
    chromium: Any, owner: Owner, tmp_path: Path
) -> None:
    import sqlite3
    from contextlib import closing

    made = json.loads(owner.cli("link", "/inbox", "--upload-only", "--json"))
    big = tmp_path / "too-big.bin"
    big.write_bytes(os.urandom(3 << 20))
    database = owner.home.parent / "data" / "blindvault.sqlite3"

    def set_quota(sql: str) -> None:
        with closing(sqlite3.connect(database)) as db, db:
            db.execute(sql)

    set_quota("update accounts set quota_bytes = used_bytes + 1048576")  # 1 MiB of room
    try:
        refused = _send(chromium, made["url"], [big], "upload-no-room")
        assert "does not fit in the storage left" in refused
    finally:
        set_quota(f"update accounts set quota_bytes = {100 << 30}")
    assert json.loads(owner.cli("drops", "--json"))["imported"] == []
