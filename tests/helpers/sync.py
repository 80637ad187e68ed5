"""A device of the sync tests (issue 14): its own state dir, name and synced folder."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.client import Cli

__all__ = ["Device"]


class Device:
    """One device: its BLINDVAULT_HOME, its name in conflict copies, its synced folder."""

    def __init__(self, cli: Cli, home: Path, name: str, folder: Path) -> None:
        self.cli, self.home, self.name, self.folder = cli, home, name, folder
        folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.cli.monkeypatch.setenv("BLINDVAULT_HOME", str(self.home))
        self.cli.monkeypatch.setenv("BLINDVAULT_DEVICE_NAME", self.name)
        return self.cli(*args)

    def sync(self, *extra: str) -> dict[str, object]:
        code, out, err = self("sync", str(self.folder), "/Sync", "--json", *extra)
        assert code == 0, err
        (report,) = json.loads(out)
        return report  # type: ignore[no-any-return]

    def files(self) -> dict[str, bytes]:
        root = self.folder
        return {
            p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != ".blindvaultignore"
        }
