"""The remote side of a pair: a complete, verified listing of the remote folder.

Cheap when nothing changed (issue 14): the index keeps the last raw listing with the
change-feed position and the folder versions of the signed root it came from
(`Snapshot`). The next sync asks the feed (`Vault.changes`, ONE request when nothing is
new), which returns the folders the VERIFIED signed root names as newer than that base
— the feed's own entries only add candidates, so a feed that hides, drops or replays
entries hides nothing. Only those folders (and the folders on the way down to them, to
get their keys) are read again, each through the verified path; every other folder's
part of the listing is reused because its signed head did not move. A compacted feed,
a pair in a shared space (`@team`, or below a shared folder: its feed is another
space's) or no snapshot yet: a full walk of the signed manifests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from blindvault.client.feed import FeedResult
from blindvault.client.local.names import unsafe_reason
from blindvault.client.spaces import Location
from blindvault.client.tree.paths import split
from blindvault.client.vault import Vault
from blindvault.core.manifest import FileEntry, FolderEntry
from blindvault.errors import PathNotFoundError, UsageError
from blindvault.sync.plan import Remote

__all__ = ["Listing", "Snapshot", "join", "listing"]


def join(root: str, rel: str) -> str:
    return f"{root.rstrip('/')}/{rel}" if rel else root


def _parent(rel: str) -> str:
    return rel.rpartition("/")[0]


@dataclass
class Listing:
    files: dict[str, Remote] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    reads: int = 0  # folders read (and verified) for this listing


@dataclass
class Snapshot:
    """The raw remote listing of a pair and where in the feed it was taken."""

    seq: int
    heads: dict[bytes, int]  # every folder head of the signed root the listing is based on
    folders: dict[str, bytes]  # folder path under the pair ("" = the pair's root) → node id
    files: dict[str, Remote]

    def dumps(self) -> str:
        return json.dumps(
            {
                "seq": self.seq,
                "heads": {n.hex(): v for n, v in self.heads.items()},
                "folders": {p: n.hex() for p, n in self.folders.items()},
                "files": {p: [r.node.hex(), r.version, r.size] for p, r in self.files.items()},
            }
        )

    @classmethod
    def loads(cls, text: str) -> Snapshot:
        d = json.loads(text)
        return cls(
            int(d["seq"]),
            {bytes.fromhex(n): int(v) for n, v in d["heads"].items()},
            {p: bytes.fromhex(n) for p, n in d["folders"].items()},
            {p: Remote(bytes.fromhex(n), int(v), int(s)) for p, (n, v, s) in d["files"].items()},
        )


class _SharedError(Exception):
    """A folder of the pair lives in a shared space: the private feed does not cover it."""


@dataclass
class _Walk:
    vault: Vault
    prev: Snapshot | None  # None: read everything
    changed: frozenset[bytes]
    cross: bool = False  # may walk into shared spaces (then no snapshot is kept)
    folders: dict[str, bytes] = field(default_factory=dict)
    files: dict[str, Remote] = field(default_factory=dict)
    reads: int = 0
    above: set[str] = field(default_factory=set)  # the ancestors of changed folders

    def __post_init__(self) -> None:
        for path, node in (self.prev.folders if self.prev else {}).items():
            if node in self.changed:
                up = path
                while up:
                    up = _parent(up)
                    self.above.add(up)

    def folder(self, rel: str, at: Location) -> None:
        self.folders[rel] = at.node_id
        prev = self.prev
        if (
            prev is not None
            and prev.folders.get(rel) == at.node_id
            and at.node_id not in self.changed
            and rel not in self.above
        ):
            self._reuse(prev, rel)
            return
        folder, _ = self.vault.tree.read(at.node_id, at.key, at.key_version, at.space)
        self.reads += 1
        for e in folder.body.entries:
            path = f"{rel}/{e.name}" if rel else e.name
            if isinstance(e, FileEntry):
                self.files[path] = Remote(e.node_id, e.content_version, e.size)
            elif isinstance(e, FolderEntry):
                space = self.vault.spaces.below(at.space, e.node_id)
                if space.shared and not self.cross:
                    raise _SharedError
                self.folder(path, Location(e.node_id, e.folder_key, e.key_version, space))

    def _reuse(self, prev: Snapshot, rel: str) -> None:
        """An unchanged folder (same node at the same path, same signed head, nothing
        changed below): its part of the listing from the snapshot."""
        below = rel + "/" if rel else ""
        for p, r in prev.files.items():
            if p.startswith(below):
                self.files[p] = r
        for p, n in prev.folders.items():
            if p.startswith(below):
                self.folders[p] = n


def _safe(raw: dict[str, Remote], root: str) -> Listing:
    """Leave out names not safe on this OS, and names that differ only by case."""
    out = Listing()
    folded: dict[str, str] = {}
    for rel in sorted(raw):
        shown = join(root, rel)
        bad = next((r for part in rel.split("/") if (r := unsafe_reason(part))), None)
        if bad is not None:
            out.warnings.append(f"skipped {shown}: the name {bad}, not safe on this OS")
            continue
        other = folded.setdefault(rel.casefold(), rel)
        if other != rel:
            out.warnings.append(f"skipped {shown}: differs only by case from {other}")
            out.files.pop(other, None)
            continue
        out.files[rel] = raw[rel]
    return out


def listing(
    vault: Vault, root: str, prev: Snapshot | None = None
) -> tuple[Listing, Snapshot | None]:
    """Every file under `root` (relative POSIX paths) with its node and content version,
    and the snapshot to keep for the next sync (None: the feed cannot cover this pair).

    With `prev`, only the folders the verified feed answer names as changed are read."""
    parts = split(root)
    if parts and parts[0].startswith("@"):  # an incoming share: its feed is its owner's
        return _walked(vault, root, None, None)
    result = vault.changes(prev.seq, prev.heads) if prev is not None else None
    if prev is not None and result is not None and not result.reset:
        if not result.changed:  # mutant: sync.feed-changed-reread [accept]
            return _safe(prev.files, root), prev
        return _walked(vault, root, prev, result)
    # no snapshot, or the feed was compacted: the position and heads BEFORE a full walk
    fresh = vault.changes(result.seq if result is not None else 0, {})
    return _walked(vault, root, None, None if fresh.reset else fresh)


def _walked(
    vault: Vault, root: str, prev: Snapshot | None, feed: FeedResult | None
) -> tuple[Listing, Snapshot | None]:
    try:
        at = vault.spaces.locate(split(root))
    except PathNotFoundError:
        if vault.exists(root):  # a file where the pair's folder should be
            raise UsageError(f"{root} is not a folder") from None
        return Listing(), None
    if at.space.shared:
        feed = None  # a shared folder of one's own: its feed is its space's
    if feed is None or (prev is not None and prev.folders.get("") != at.node_id):
        prev = None  # no snapshot to keep, or the pair's folder itself was replaced
    changed = feed.changed if feed is not None else frozenset()
    walk = _Walk(vault, prev, changed, cross=feed is None)
    try:
        walk.folder("", at)
    except _SharedError:  # found below the pair's folder: walk it all, keep no snapshot
        return _walked(vault, root, None, None)
    out = _safe(walk.files, root)
    out.reads = walk.reads
    if feed is None:
        return out, None
    return out, Snapshot(feed.seq, dict(feed.heads), walk.folders, walk.files)
