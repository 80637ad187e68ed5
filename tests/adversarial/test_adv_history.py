"""Issue 14, versions under a lying server: a file's earlier versions live in the signed
folder manifest, so a server that serves an older manifest (one without the newest
version) or loses a kept version's blob is caught (exit 10), and nothing is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from blindvault.core.content import blob_id
from helpers.adversarial import Upstream, attack, fetch, new_account, runner_for
from helpers.proxy import Proxy, missing, on_json


def test_versions_of_a_replayed_manifest_and_a_lost_version(
    proxy: Proxy,
    upstream: Upstream,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    acc = new_account(proxy, tmp_path / "acc", "hist", {"/doc.txt": b"one"})
    root = f"/v1/records/manifest/{acc.nodes['/']}"
    before = json.loads(fetch(upstream, acc, root))  # signed, valid: doc.txt at version 1
    with acc.vault(proxy.url) as vault:
        local = tmp_path / "doc.txt"
        for text in (b"two", b"three"):
            local.write_bytes(text)
            vault.put(local, "/")
        entry = vault.stat("/doc.txt")
    assert entry is not None
    proxy.reset()
    bv = runner_for(acc, tmp_path, monkeypatch, capsys)
    code, out, err = bv("versions", "/doc.txt", "--json")
    assert code == 0, err
    assert [v["version"] for v in json.loads(out)] == [3, 2, 1]

    # the server hides the newer versions: an older, validly signed manifest is a rollback
    proxy.add(on_json("GET", root, lambda _: before))
    attack(bv, proxy, ["versions", "/doc.txt"], 10)
    attack(bv, proxy, ["restore", "/doc.txt", "--version", "1"], 10)

    # the server lost (or dropped) a version the signed manifest keeps
    for version in (1, 2):
        proxy.reset()
        proxy.add(missing("GET", f"/v1/blobs/{blob_id(entry.node_id, version).hex()}"))
        out_dir = tmp_path / f"out{version}"
        out_dir.mkdir()
        args = ["restore", "/doc.txt", "--version", str(version), "--to", str(out_dir / "x")]
        attack(bv, proxy, args, 10, out_dir=out_dir)
        attack(bv, proxy, ["restore", "/doc.txt", "--version", str(version)], 10)
        attack(bv, proxy, ["verify"], 10)  # verify checks every kept version too
        assert f"/doc.txt (kept version {version})" in bv("verify")[1]
    proxy.reset()
    assert bv("restore", "/doc.txt", "--version", "1")[0] == 0  # honest again: it works
    code, out, _ = bv("versions", "/doc.txt", "--json")
    assert [v["version"] for v in json.loads(out)] == [4, 3, 2, 1]
