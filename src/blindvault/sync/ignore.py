"""`.blindvaultignore`: gitignore syntax (the `pathspec` library), one per synced folder,
read at its top. The index folder names below are always ignored."""

from __future__ import annotations

from pathlib import Path

import pathspec

__all__ = ["IGNORE_FILE", "Ignore"]

IGNORE_FILE = ".blindvaultignore"
ALWAYS_PREFIX = ".blindvault-tmp-"
ALWAYS = [ALWAYS_PREFIX + "*"]  # our own staging folders (sync.apply.TMP)


class Ignore:
    def __init__(self, root: Path) -> None:
        lines = list(ALWAYS)
        rules = root / IGNORE_FILE
        if rules.is_file():
            lines += rules.read_text(encoding="utf-8").splitlines()
        self.spec = pathspec.GitIgnoreSpec.from_lines(lines)
        self.only_ours = len(lines) == len(ALWAYS)  # no rules file: a cheap name test

    def __call__(self, rel: str, *, folder: bool = False) -> bool:
        """Whether the relative POSIX path `rel` is ignored."""
        if self.only_ours:  # ALWAYS matches at any depth; parents were tested on the way
            return rel.rpartition("/")[2].startswith(ALWAYS_PREFIX)
        return self.spec.match_file(rel + "/" if folder else rel)
