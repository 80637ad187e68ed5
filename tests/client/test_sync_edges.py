"""`blindvault sync` (issue 14) at the edges: remote names this OS cannot hold (or that
differ only by case) are skipped with a clear message, and a local file replaced while it
is read for upload never produces a version with mixed content."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from blindvault.sync import apply
from helpers.client import Cli
from helpers.sync import Device


@pytest.fixture
def laptop(cli: Cli, tmp_path: Path) -> Device:
    return Device(cli, Path(cli.monkeypatch_home), "laptop", tmp_path / "laptop")


def _put(dev: Device, tmp: Path, name: str, content: bytes) -> None:
    src = tmp / "src" / name
    src.parent.mkdir(exist_ok=True)
    src.write_bytes(content)
    code, _, err = dev("put", str(src), "/Sync/")
    assert code == 0, err


def test_names_unsafe_here_or_differing_only_by_case_are_skipped_with_a_message(
    laptop: Device, tmp_path: Path
) -> None:
    code, _, err = laptop("mkdir", "/Sync")
    assert code == 0, err
    for name in ["ok.txt", "a:b.txt", "CON.txt", "trailing.", "Case.txt", "case.txt"]:
        _put(laptop, tmp_path, name, name.encode())
    report = laptop.sync()
    assert laptop.files() == {"ok.txt": b"ok.txt"}
    warnings = "\n".join(report["warnings"])  # type: ignore[arg-type]
    assert "a:b.txt: the name contains ':'" in warnings
    assert "CON.txt: the name is a reserved device name" in warnings
    assert "trailing.: the name ends with a dot" in warnings
    assert "differs only by case from Case.txt" in warnings
    # nothing changes on a second run, and the skipped files stay on the server untouched
    again = laptop.sync()
    assert again["actions"] == []
    code, out, _ = laptop("ls", "/Sync")
    assert code == 0 and "a:b.txt" in out and "case.txt" in out


def test_a_file_replaced_while_read_for_upload_is_skipped_never_mixed(
    laptop: Device, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = b"A" * 300_000, b"B" * 300_000
    (laptop.folder / "big.bin").write_bytes(first)

    def rewrite_midway(src: Any, dst: Any, **_: Any) -> None:
        """Read half, then the file is rewritten in place, then read the rest."""
        with Path(src).open("rb") as fsrc, Path(dst).open("wb") as fdst:
            fdst.write(fsrc.read(len(first) // 2))
            (laptop.folder / "big.bin").write_bytes(second)
            shutil.copyfileobj(fsrc, fdst)

    monkeypatch.setattr(apply.shutil, "copy2", rewrite_midway)
    report = laptop.sync()
    monkeypatch.undo()
    assert "skipped, changed while read: big.bin" in report["warnings"]  # type: ignore[operator]
    code, out, _ = laptop("ls", "/Sync")
    assert "big.bin" not in out  # no version at all, so none with mixed content
    laptop.sync()  # the new content, whole
    dest = laptop.folder.parent / "check"
    code, _, err = laptop("get", "/Sync/big.bin", str(dest))
    assert code == 0, err
    assert dest.read_bytes() == second
