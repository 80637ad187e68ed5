"""A folder downloaded as one .zip (issue 15): the page lists the verified tree, the service
worker streams the archive (stored entries, CRC-32 in data descriptors) decrypting and
verifying every file; Python's zipfile reads it back byte-exact with every CRC right. A
tampered chunk in any file fails the whole download (no complete archive is saved).
"""

from __future__ import annotations

import secrets
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from blindvault.core.content import sealed_size
from helpers.web import PASSWORD, vault_server
from helpers.web import VaultServer as Server

EMAIL = "zip@example.org"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with vault_server(tmp_path_factory.mktemp("archive"), EMAIL) as srv:
        yield srv


@pytest.fixture
def page(chromium: Any, server: Server) -> Iterator[Any]:
    context = chromium.new_context(accept_downloads=True)
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.goto(server.url + "/app/")
    p.wait_for_selector("#sign-in:not([hidden])")
    p.fill("#email", EMAIL)
    p.fill("#password", PASSWORD)
    p.click("#sign-in-submit")
    p.wait_for_selector("#status[data-state=ok]", timeout=120_000)
    try:
        yield p
    finally:
        context.close()
        assert [e for e in errors if "integrity" not in e.lower()] == [], errors


def make_tree(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)


def test_folder_as_zip_byte_exact(page: Any, server: Server) -> None:
    files = {
        "a.txt": b"hello\n",
        "empty.bin": b"",
        "sub/b.bin": secrets.token_bytes(3_000_000),
        "sub/deeper/c.bin": secrets.token_bytes(20 * 1024 * 1024 + 9),  # multi-part blob
        "sub/naïve café.txt": "café, ünïcode".encode(),
    }
    tree = server.work / "project"
    make_tree(tree, files)
    (tree / "nothing").mkdir()
    server.cli("put", str(tree), "/")
    page.click("#refresh")
    row = page.locator("#listing tr[data-name='project']")
    with page.expect_download(timeout=300_000) as info:
        row.locator("button[data-action=zip]").click()
    saved = server.work / "project.zip"
    info.value.save_as(saved)
    assert info.value.suggested_filename == "project.zip"
    done = page.locator(".transfer").first
    done.and_(page.locator("[data-state]")).wait_for(timeout=300_000)
    assert done.get_attribute("data-state") == "done", done.text_content()
    with zipfile.ZipFile(saved) as z:
        assert z.testzip() is None  # every CRC-32 matches
        names = set(z.namelist())
        assert {f"project/{k}" for k in files} <= names
        assert {"project/", "project/sub/", "project/nothing/"} <= names
        for rel, data in files.items():
            assert z.read(f"project/{rel}") == data, rel


def test_tampered_file_fails_the_archive(page: Any, server: Server) -> None:
    size = 5_000_017
    tree = server.work / "bad"
    make_tree(tree, {"ok.txt": b"fine", "x.bin": secrets.token_bytes(size)})
    server.cli("put", str(tree), "/")
    want = sealed_size(size)
    found = [p for p in (server.data / "blobstore").rglob("*") if p.is_file()]
    found = [p for p in found if p.stat().st_size == want]
    assert len(found) == 1, found
    target = found[0]
    data = bytearray(target.read_bytes())
    data[61 + 100 * 16400 + 7] ^= 1  # inside chunk 100
    target.write_bytes(bytes(data))
    page.click("#refresh")
    row = page.locator("#listing tr[data-name='bad']")
    with page.expect_download(timeout=300_000) as info:
        row.locator("button[data-action=zip]").click()
    d = info.value
    failed = page.locator(".transfer").first
    failed.and_(page.locator("[data-state]")).wait_for(timeout=300_000)
    assert failed.get_attribute("data-state") == "error", failed.text_content()
    assert "Integrity check failed" in str(failed.text_content())
    assert d.failure() is not None
