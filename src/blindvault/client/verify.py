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
from blindvault.client.tree import Folder, Space
from blindvault.core.manifest import FileEntry, FolderEntry
from blindvault.errors import BlindvaultError

__all__ = ["Problem", "verify_tree"]


@dataclass(frozen=True)
class Problem:
    path: str
    message: str


def verify_tree(
    folder_at: Callable[[list[str]], Folder],
    parts: list[str],
    current: Callable[[FileEntry, Space], FileEntry] | None = None,
) -> tuple[int, int, list[Problem]]:
    """(folders, files, problems) under the folder at `parts` (`folder_at` reads and
    verifies the folder at a path; `current` gives a shared file's holder version)."""
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
            f = e
            if current is not None and e not in trashed:
                try:
                    f = current(e, folder.space)  # a shared file of one's own: its holder's
                except BlindvaultError as exc:
                    problems.append(Problem(path, f"shared file fails verification: {exc}"))
                    continue
            if e in trashed:
                path += " (in the trash)"
            else:
                counts[1] += 1  # live files (trashed ones are checked, not counted)
            for v in (f.as_version(), *f.history):  # every version the manifest keeps
                try:
                    transfer.verify_blob(
                        folder.space.api,
                        key=v.file_key,
                        node_id=e.node_id,
                        version=v.content_version,
                        size=v.size,
                    )
                except BlindvaultError as exc:
                    live = v.content_version == f.content_version
                    at = path if live else f"{path} (kept version {v.content_version})"
                    problems.append(Problem(at, f"content fails verification: {exc}"))

    visit(parts)
    return counts[0], counts[1], problems
