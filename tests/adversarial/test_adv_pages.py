"""Paged folders (issue 18) under a lying server: the pages are blobs no signature covers
by themselves, so the server may drop one from its answer, serve the previous version of
a page, another page under its id, or the previous root. Each is exit 10 (integrity),
nothing is shown and nothing of the device's state moves."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from blindvault.client.tree import paged
from blindvault.client.tree.paged import Loaded
from blindvault.core import pages
from blindvault.core.pages import RootBody, page_blob_id
from helpers.adversarial import Account, Runner, attack, new_account, runner_for
from helpers.proxy import Exchange, Proxy, Rule

BATCH_GET = "/v1/blobs/batch-get"


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """A handful of files makes a paged folder (the format is the same at any size)."""
    monkeypatch.setattr(paged, "PAGE_SPLIT", 8)
    monkeypatch.setattr(paged, "PAGE_MERGE", 4)
    monkeypatch.setattr(paged, "PAGE_MAX", 6)
    monkeypatch.setattr(pages, "PAGE_TARGET", 2)


def _frames(body: bytes) -> list[tuple[str, bytes]]:
    out, pos = [], 0
    while pos < len(body):
        bid = body[pos : pos + 32].decode()
        size = int.from_bytes(body[pos + 32 : pos + 36], "big")
        out.append((bid, body[pos + 36 : pos + 36 + size]))
        pos += 36 + size
    return out


def _framed(items: list[tuple[str, bytes]]) -> bytes:
    return b"".join(bid.encode() + len(b).to_bytes(4, "big") + b for bid, b in items)


def on_pages(change: dict[str, bytes | None]) -> Rule:
    """Rewrite batch-get answers: a page id mapped to None is left out, to bytes replaced."""

    def rule(ex: Exchange) -> None:
        if ex.method != "POST" or ex.path != BATCH_GET or ex.status != 200:
            return
        items = []
        for bid, data in _frames(ex.body):
            if bid not in change:
                items.append((bid, data))
            elif (new := change[bid]) is not None:
                items.append((bid, new))
            ex.mutated = ex.mutated or bid in change
        ex.body = _framed(items)

    return rule


def _paged_state(acc: Account, url: str, home: Path) -> tuple[bytes, RootBody, bytes, Loaded]:
    """/big's node id, its signed root's page list, the sealed root and its pages' entries
    (as a device that reads it all sees them)."""
    from blindvault.client.net.http import b64d
    from blindvault.wire.records import Record

    with acc.vault(url, home) as vault:
        folder = vault.spaces.folder(["big"])
        assert folder.manifest is not None and folder.manifest.paged is not None
        rec = vault.api.get_as(Record, f"/v1/records/manifest/{folder.node_id.hex()}")
        assert folder.pages is not None
        return folder.node_id, folder.manifest.paged, b64d(rec.data), folder.pages


@pytest.fixture
def owner(proxy: Proxy, tmp_path: Path, small_pages: None) -> Account:
    files = {f"/big/f{i:02d}.txt": f"file {i}".encode() for i in range(10)}
    return new_account(proxy, tmp_path, "pages", files)


def _runner(acc: Account, tmp: Path, mp: pytest.MonkeyPatch, cap: pytest.CaptureFixture[str]):
    return runner_for(acc, tmp / "run", mp, cap)


def test_a_dropped_page_is_an_integrity_error(
    proxy: Proxy,
    owner: Account,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "run").mkdir()
    bv: Runner = _runner(owner, tmp_path, monkeypatch, capsys)
    node, root, _, loaded = _paged_state(owner, proxy.url, tmp_path / "peek")
    full = [b for b, r in enumerate(root.refs) if r.count]
    for b in (full[0], full[-1]):
        proxy.reset()
        proxy.add(on_pages({page_blob_id(node, root.refs[b].hash).hex(): None}))
        attack(bv, proxy, ["ls", "/big"], 10)
        name = loaded.pages[b][0].name  # `get` reads only the page its name is in
        out = tmp_path / "out"
        out.mkdir(exist_ok=True)
        attack(bv, proxy, ["get", f"/big/{name}", str(out)], 10, out_dir=out)
    proxy.reset()
    code, out, err = bv("ls", "/big")
    assert code == 0, err
    assert "f09.txt" in out


def test_an_old_or_swapped_page_is_an_integrity_error(
    proxy: Proxy,
    owner: Account,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    node, before, old_sealed, _ = _paged_state(owner, proxy.url, tmp_path / "peek")
    old_pages = {page_blob_id(node, r.hash).hex(): i for i, r in enumerate(before.refs) if r.count}
    honest: dict[str, bytes] = {}

    def keep(ex: Exchange) -> None:
        if ex.method == "POST" and ex.path == BATCH_GET and ex.status == 200:
            honest.update(_frames(ex.body))

    proxy.add(keep)
    _paged_state(owner, proxy.url, tmp_path / "peek2")  # a fresh device reads every page
    proxy.reset()
    assert set(old_pages) <= set(honest)
    # the owner edits /big: one page and the root change
    src = tmp_path / "edit.txt"
    src.write_text("a change")
    with owner.vault(proxy.url) as vault:
        vault.put(src, "/big")
    node, after, _, _ = _paged_state(owner, proxy.url, tmp_path / "peek3")
    changed = [i for i, (a, b) in enumerate(zip(before.refs, after.refs, strict=True)) if a != b]
    assert len(changed) == 1
    (tmp_path / "run").mkdir()
    bv = _runner(owner, tmp_path, monkeypatch, capsys)
    b = changed[0]
    new_id = page_blob_id(node, after.refs[b].hash).hex()
    lies: dict[str, dict[str, bytes | None]] = {}
    if before.refs[b].count:  # the previous version of that very page
        lies["old-page"] = {new_id: honest[page_blob_id(node, before.refs[b].hash).hex()]}
    other = next(
        page_blob_id(node, r.hash).hex() for i, r in enumerate(after.refs) if r.count and i != b
    )
    lies["swapped"] = {new_id: honest[other]}  # another bucket's (unchanged) page
    for lie in lies.values():
        proxy.reset()
        proxy.add(on_pages(lie))
        attack(bv, proxy, ["ls", "/big"], 10)
    # and the previous root (its record version too), whose pages the proxy still has:
    # a rollback, refused before any page is asked for
    path = f"/v1/records/manifest/{node.hex()}"

    def old_root(ex: Exchange) -> None:
        if ex.method == "GET" and ex.path == path and ex.status == 200:
            doc = ex.json()
            doc["version"] -= 1
            doc["data"] = base64.b64encode(old_sealed).decode()
            ex.set_json(doc)
            ex.mutated = True

    proxy.reset()
    proxy.add(old_root)
    sent = attack(bv, proxy, ["ls", "/big"], 10)
    assert not [r for r in sent if r[1] == BATCH_GET]
