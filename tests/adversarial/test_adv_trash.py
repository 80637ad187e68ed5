"""Issue 14, the trash under a lying server: a trash item lives in the folder's signed,
hash-chained manifest, so a server that drops it (serving the older manifest, from before
the delete) is caught (exit 10) by every device that saw the delete, and a server that
loses a trashed file's blob is caught by `verify`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.adversarial import Upstream, attack, fetch, new_account, runner_for
from helpers.proxy import Proxy, missing, on_json


def test_a_dropped_trash_item_or_tombstone_is_a_rollback(
    proxy: Proxy,
    upstream: Upstream,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    acc = new_account(
        proxy, tmp_path / "acc", "trash", {"/doc.txt": b"keep me", "/other.txt": b"x"}
    )
    root = f"/v1/records/manifest/{acc.nodes['/']}"
    before = json.loads(fetch(upstream, acc, root))  # signed, valid: doc.txt live, no trash
    proxy.reset()
    bv = runner_for(acc, tmp_path, monkeypatch, capsys)
    code, _, err = bv("rm", "/doc.txt")
    assert code == 0, err
    code, out, err = bv("trash", "--json")
    assert code == 0, err
    assert [t["path"] for t in json.loads(out)] == ["/doc.txt"]

    # the server drops the trash item (and the tombstone with it): the only way is to serve
    # the manifest from before the delete, which this device refuses (its high-water mark)
    proxy.add(on_json("GET", root, lambda _: before))
    attack(bv, proxy, ["trash"], 10)
    attack(bv, proxy, ["trash", "restore", "/doc.txt"], 10)
    attack(bv, proxy, ["ls", "/"], 10)
    attack(bv, proxy, ["prune", "--dry-run"], 10)  # prune never runs on state it cannot trust

    # the server lost the trashed file's blob: `verify` reports it, in the trash and after
    # the restore
    proxy.reset()
    proxy.add(missing("GET", f"/v1/blobs/{acc.blobs['/doc.txt']}"))
    attack(bv, proxy, ["verify"], 10)
    assert "/doc.txt (in the trash)" in bv("verify")[1]
    proxy.reset()
    assert bv("trash", "restore", "/doc.txt")[0] == 0
    proxy.add(missing("GET", f"/v1/blobs/{acc.blobs['/doc.txt']}"))
    attack(bv, proxy, ["verify"], 10)
    proxy.reset()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    assert bv("get", "/doc.txt", str(out_dir / "doc.txt"))[0] == 0
    assert (out_dir / "doc.txt").read_bytes() == b"keep me"
