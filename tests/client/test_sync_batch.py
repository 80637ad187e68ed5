"""Sync speed (issue 14): a folder's new files go up with ONE manifest write, and the
index keeps what was sent (node ids and versions from the written entries)."""

from __future__ import annotations

from pathlib import Path

import pytest

from blindvault.client.files import Files
from blindvault.client.state import StateStore
from blindvault.client.vault import Vault
from blindvault.sync.engine import sync_once
from blindvault.sync.index import Index
from helpers.client import Server


def test_new_files_of_a_folder_share_one_manifest_write(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    email = "batch@example.org"
    vault, _ = Vault.signup(server.url, email, "pw", store=StateStore(tmp_path / "home"))
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    for i in range(40):
        (tree / f"f{i:02d}.txt").write_text(f"top {i}")
        (tree / "sub" / f"g{i:02d}.txt").write_text(f"sub {i}")
    writes: list[list[str]] = []
    real = Files.update

    def counted(self: Files, parts: list[str], change: object, *rest: object) -> object:
        writes.append(list(parts))
        return real(self, parts, change, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(Files, "update", counted)
    with vault:
        index = Index(tmp_path / "index.sqlite")
        pair = index.pair(tree, "/T")
        report = sync_once(vault, index, pair)
        assert len(report.outcome.done) == 80
        files = [w for w in writes if w in (["T"], ["T", "sub"])]
        # one write naming the files of each folder (plus at most the mkdirs of the parents)
        assert files.count(["T", "sub"]) == 1
        assert files.count(["T"]) <= 2
        bases = index.bases(pair)
        assert len(bases) == 80
        again = sync_once(vault, index, pair)
        assert again.outcome.done == [] and again.hashed == 0
        index.close()
