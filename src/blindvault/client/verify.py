"""`verify`: download and authenticate every manifest and blob under a folder.

Every problem is reported with its path instead of stopping at the first: a folder that
fails (tampered, rolled back, or missing although its signed parent names it: P-EXISTS)
and a blob (of the live version or of any earlier version the manifest keeps, or of a
file in the folder's trash, issue 14) that fails its chunked AEAD or is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from blindvault.client.net import transfer
from blindvault.client.tree import Folder
from blindvault.core.manifest import FileEntry, FolderEntry
from blindvault.errors import BlindvaultError

__all__ = ["Problem", "verify_tree"]


@dataclass(frozen=True)
class Problem:
    path: str
    message: str


def verify_tree(
    folder_at: Callable[[list[str]], Folder], parts: list[str]
) -> tuple[int, int, list[Problem]]:
    """(folders, files, problems) under the folder at `parts` (`folder_at` reads and
    verifies the folder at a path)."""
    problems: list[Problem] = []
    counts = [0, 0]

    def visit(parts: list[str]) -> None:
        here = "/" + "/".join(parts)
        try:
            folder = folder_at(parts)
        except BlindvaultError as exc:
            problems.append(Problem(here, f"folder fails verification: {exc}"))
            return
        counts[0] += 1
        trashed = [t.entry for t in folder.body.trash if isinstance(t.entry, FileEntry)]
        for e in (*folder.body.entries, *trashed):
            if isinstance(e, FolderEntry):
                visit([*parts, e.name])
                continue
            path = f"{here.rstrip('/')}/{e.name}"
            if e in trashed:
                path += " (in the trash)"
            else:
                counts[1] += 1  # live files (trashed ones are checked, not counted)
            for v in (e.as_version(), *e.history):  # every version the manifest keeps
                try:
                    transfer.verify_blob(
                        folder.space.api,
                        key=v.file_key,
                        node_id=e.node_id,
                        version=v.content_version,
                        size=v.size,
                    )
                except BlindvaultError as exc:
                    live = v.content_version == e.content_version
                    at = path if live else f"{path} (kept version {v.content_version})"
                    problems.append(Problem(at, f"content fails verification: {exc}"))

    visit(parts)
    return counts[0], counts[1], problems
