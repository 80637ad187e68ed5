"""Paged folders through the SDK and the real server app in process (issue 18): a folder
crosses the threshold, is edited page by page, read by a second device, pruned, shrunk
back to a whole manifest; a page the server loses or replaces is an integrity error.

The thresholds are lowered (8 entries split, 4 merge, about 2 per page) so a handful of
files exercises every path; tests/client/test_paged_folders.py crosses the real 2,048."""

from __future__ import annotations

from pathlib import Path

import pytest

from blindvault.client import prune
from blindvault.client.net.http import b64d
from blindvault.client.state import StateStore
from blindvault.client.tree import paged
from blindvault.client.vault import Vault
from blindvault.core import pages
from blindvault.core.kdf import KdfParams
from blindvault.core.pages import RootBody, page_blob_id
from blindvault.errors import IntegrityError
from blindvault.wire.records import Record
from helpers.inprocess import InProcess, inprocess

__all__ = ["inprocess"]

FAST = KdfParams.argon2id(19456, 2, 1)


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paged, "PAGE_SPLIT", 8)
    monkeypatch.setattr(paged, "PAGE_MERGE", 4)
    monkeypatch.setattr(paged, "PAGE_MAX", 6)
    monkeypatch.setattr(pages, "PAGE_TARGET", 2)


def _signup(server: InProcess, home: Path, email: str) -> Vault:
    vault, _ = Vault.signup(server.url, email, "pw", store=StateStore(home), params=FAST,
                            transport=server.transport)  # fmt: skip
    return vault


def _files(tmp: Path, names: list[str]) -> list[Path]:
    tmp.mkdir(parents=True, exist_ok=True)
    out = []
    for n in names:
        (tmp / n).write_text(f"content of {n}")
        out.append(tmp / n)
    return out


def _record(vault: Vault, path: str) -> bytes:
    node = vault.stat(path).node_id  # type: ignore[union-attr]
    return b64d(vault.api.get_as(Record, f"/v1/records/manifest/{node.hex()}").data)


def _root(vault: Vault, path: str) -> RootBody:
    folder = vault.spaces.folder([path.strip("/")])
    assert folder.manifest is not None and folder.manifest.paged is not None
    return folder.manifest.paged


def _blob_ids(vault: Vault) -> set[str]:
    return {b["id"] for b in vault.api.get_json("/v1/blobs")["blobs"]}


def test_a_folder_crosses_the_threshold_is_edited_and_shrinks(
    inprocess: InProcess, tmp_path: Path
) -> None:
    vault = _signup(inprocess, tmp_path / "home", "paged@example.org")
    with vault:
        vault.mkdir("/big")
        names = [f"f{i:02d}.txt" for i in range(12)]
        vault.put_many(_files(tmp_path / "src", names), "/big")
        assert _record(vault, "/big")[4] == 2  # a paged root (BVMF version 2)
        root = _root(vault, "/big")
        assert root.total == 12 and root.bits >= 2
        assert sorted(e.name for e in vault.ls("/big")) == names
        page_ids = {page_blob_id(vault.stat("/big").node_id, r.hash).hex()  # type: ignore[union-attr]
                    for r in root.refs if r.count}  # fmt: skip
        assert page_ids <= _blob_ids(vault)

        # one more file: one page and the root are rewritten, the replaced page deleted
        sent = len(inprocess.transport.requests)
        vault.put(_files(tmp_path / "one", ["new.txt"])[0], "/big")
        after = _root(vault, "/big")
        changed = [i for i, (a, b) in enumerate(zip(root.refs, after.refs, strict=True)) if a != b]
        assert len(changed) == 1
        batches = [
            r for r in inprocess.transport.requests[sent:] if r == ("POST", "/v1/blobs/batch")
        ]
        assert len(batches) == 1  # the one page (the file's blob is a PUT of its own)
        assert page_ids - _blob_ids(vault) == (
            {page_blob_id(vault.stat("/big").node_id, root.refs[changed[0]].hash).hex()}  # type: ignore[union-attr]
            if root.refs[changed[0]].count
            else set()
        )

        # a second device reads it all, verifies it, and gets a file back
        phone = Vault.open(inprocess.url, "paged@example.org", "pw",
                           store=StateStore(tmp_path / "phone"), min_kdf=FAST,
                           transport=inprocess.transport)  # fmt: skip
        with phone:
            assert sorted(e.name for e in phone.ls("/big")) == sorted([*names, "new.txt"])
            assert phone.verify()[2] == []
            phone.get("/big/f03.txt", tmp_path / "out.txt")
            assert (tmp_path / "out.txt").read_text() == "content of f03.txt"
            phone.mv("/big/f04.txt", "/big/renamed.txt")  # another bucket, maybe
        assert vault.stat("/big/renamed.txt") is not None

        # prune keeps the pages the signed root names
        prune_grace = prune.GRACE_SECONDS
        prune.GRACE_SECONDS = -3600
        try:
            vault.prune()
        finally:
            prune.GRACE_SECONDS = prune_grace
        vault.session.tree.pages = paged.PageCache()  # read them from the server again
        assert len(vault.ls("/big")) == 13
        assert vault.verify()[2] == []

        # shrink: at 4 entries it is whole again and its pages are gone
        last = _root(vault, "/big")
        for e in vault.ls("/big")[4:]:
            vault.rm(e.path, permanent=True)
        assert _record(vault, "/big")[4] == 1
        node = vault.stat("/big").node_id  # type: ignore[union-attr]
        gone = {page_blob_id(node, r.hash).hex() for r in last.refs if r.count}
        assert not gone & _blob_ids(vault)
        assert len(vault.ls("/big")) == 4


def test_a_lost_or_replaced_page_is_an_integrity_error(
    inprocess: InProcess, tmp_path: Path
) -> None:
    vault = _signup(inprocess, tmp_path / "home", "lostpage@example.org")
    with vault:
        vault.mkdir("/big")
        vault.put_many(_files(tmp_path / "src", [f"g{i:02d}" for i in range(10)]), "/big")
        node = vault.stat("/big").node_id  # type: ignore[union-attr]
        vault.put(_files(tmp_path / "more", ["h"])[0], "/big")
        vault.put(_files(tmp_path / "more2", ["h2"])[0], "/big")
    # a fresh device (no page cache): the server deletes one page
    phone = Vault.open(inprocess.url, "lostpage@example.org", "pw",
                       store=StateStore(tmp_path / "phone"), min_kdf=FAST,
                       transport=inprocess.transport)  # fmt: skip
    with phone:
        now = _root(phone, "/big")
        b = next(i for i, r in enumerate(now.refs) if r.count)
        pid = page_blob_id(node, now.refs[b].hash).hex()
        content = phone.api.request("GET", f"/v1/blobs/{pid}").content
        phone.api.request("DELETE", f"/v1/blobs/{pid}")
        phone.session.tree.pages = paged.PageCache()
        with pytest.raises(IntegrityError):
            phone.ls("/big")
        # another bucket's page under its id
        other = next(i for i, r in enumerate(now.refs) if r.count and i != b)
        swap = phone.api.request(
            "GET", f"/v1/blobs/{page_blob_id(node, now.refs[other].hash).hex()}"
        ).content
        phone.api.request("PUT", f"/v1/blobs/{pid}", content=swap)
        with pytest.raises(IntegrityError):
            phone.ls("/big")
        phone.api.request("DELETE", f"/v1/blobs/{pid}")
        phone.api.request("PUT", f"/v1/blobs/{pid}", content=content)
        assert len(phone.ls("/big")) == 12
