"""The remote side of a pair: a complete, verified listing of the remote folder.

Cheap when nothing changed (issue 14): the index keeps the last raw listing with the
change-feed position and the folder versions of the signed root it came from
(`Snapshot`). The next sync asks the feed (`Vault.changes`, ONE request when nothing is
new), which returns the folders the VERIFIED signed root names as newer than that base
— the feed's own entries only add candidates, so a feed that hides, drops or replays
entries hides nothing. Only those folders (and the folders on the way down to them, to
get their keys) are read again, each through the verified path; every other folder's
part of the listing is reused because its signed head did not move.

Folders one shares (a pair rooted in one, or with one below it) are covered too: the
owner's feed lists the writes of all its spaces, members' writes included, and each entry
names a folder to re-read (members do not sign the owner's root, so for a member's write
the feed entry is the only hint — hiding it leaves this device where a full walk served
the same older, verified manifest would: the fork-consistency limit of the threat model).
A single file one shares is a space of its own (its holder, named by the file's node id):
a feed entry naming a file of the snapshot re-reads the folder that lists it, so a
member's new version of the file is taken although no folder head moved (issue 19).
A pair on an incoming share (`@team/…`) follows that space's feed (`feed.space_changes`:
the member's view, without the owner's signed root; the same limit). A compacted feed or
no snapshot yet: a full walk of the signed manifests; so is every sync of a pair whose
folders span a nested share (issue 19), which one space's feed cannot cover.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from blindvault.client.feed import FeedResult, space_changes
from blindvault.client.local.names import unsafe_reason
from blindvault.client.net.http import ApiClient
from blindvault.client.spaces import Location
from blindvault.client.tree import Space
from blindvault.client.tree.paths import split
from blindvault.client.vault import Vault
from blindvault.core.manifest import FileEntry, FolderEntry
from blindvault.errors import ForbiddenError, NotFoundError, PathNotFoundError, UsageError
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
    scope: tuple[str, str] | None = None  # an incoming share's (owner, space): its feed

    def dumps(self) -> str:
        return json.dumps(
            {
                "seq": self.seq,
                "heads": {n.hex(): v for n, v in self.heads.items()},
                "folders": {p: n.hex() for p, n in self.folders.items()},
                "files": {p: [r.node.hex(), r.version, r.size] for p, r in self.files.items()},
                "scope": list(self.scope) if self.scope else None,
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
            (str(d["scope"][0]), str(d["scope"][1])) if d.get("scope") else None,
        )


@dataclass
class _Walk:
    vault: Vault
    prev: Snapshot | None  # None: read everything
    changed: frozenset[bytes]
    folders: dict[str, bytes] = field(default_factory=dict)
    files: dict[str, Remote] = field(default_factory=dict)
    reads: int = 0
    above: set[str] = field(default_factory=set)  # the ancestors of changed folders
    spaces: set[bytes | None] = field(default_factory=set)  # the spaces of the folders read

    def __post_init__(self) -> None:
        for path, node in (self.prev.folders if self.prev else {}).items():
            if node in self.changed:
                self._reread_above(path)
        # a shared file of one's own is its own space (its holder, named by the file's node
        # id): a member's write moves no folder head, so the folder naming it is read again
        for path, remote in (self.prev.files if self.prev else {}).items():
            if remote.node in self.changed:  # mutant: sync.holder-write-reread
                self.above.add(_parent(path))
                self._reread_above(_parent(path))

    def _reread_above(self, path: str) -> None:
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
        self.spaces.add(at.space.node_id)
        for e in folder.body.entries:
            path = f"{rel}/{e.name}" if rel else e.name
            if isinstance(e, FileEntry):
                f = self.vault.spaces.current(e, at.space)  # a shared file: its holder's
                self.files[path] = Remote(f.node_id, f.content_version, f.size)
            elif isinstance(e, FolderEntry):
                space = self.vault.spaces.below(at.space, e.node_id)  # one's own, if shared
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
    if parts and parts[0].startswith("@"):  # an incoming share: that space's feed
        return _member(vault, root, prev)
    result = vault.changes(prev.seq, prev.heads) if prev is not None else None
    if prev is not None and result is not None and not result.reset:
        if not result.changed:  # mutant: sync.feed-changed-reread [accept]
            return _safe(prev.files, root), prev
        return _walked(vault, root, prev, result)
    # no snapshot, or the feed was compacted: the position and heads BEFORE a full walk
    fresh = vault.changes(result.seq if result is not None else 0, {})
    return _walked(vault, root, None, None if fresh.reset else fresh)


def _scope(space: Space) -> tuple[str, str] | None:
    """The (owner, space) an incoming share's requests are scoped to."""
    params = space.api.params
    return (str(params["owner"]), str(params["space"])) if "owner" in params else None


def _space_feed(api: ApiClient, since: int) -> FeedResult | None:
    try:
        result = space_changes(api, since)
    except (ForbiddenError, NotFoundError):  # the grant ended: the walk tells what is true
        return None
    return None if result.reset else result


def _member(vault: Vault, root: str, prev: Snapshot | None) -> tuple[Listing, Snapshot | None]:
    """A pair on an incoming share: the space's feed, else a full walk from its position."""
    if prev is not None and prev.scope is not None:
        result = _space_feed(vault.session.api.scoped(*prev.scope), prev.seq)
        if result is not None:
            if not result.changed:  # mutant: sync.space-feed-changed-reread [accept]
                return _safe(prev.files, root), prev
            return _walked(vault, root, prev, result)
    at = _locate(vault, root)
    scope = _scope(at.space) if at is not None else None
    fresh = _space_feed(at.space.api, 0) if at is not None and scope else None
    return _walked(vault, root, None, fresh)


def _locate(vault: Vault, root: str) -> Location | None:
    try:
        return vault.spaces.locate(split(root))
    except PathNotFoundError:
        if vault.exists(root):  # a file where the pair's folder should be
            raise UsageError(f"{root} is not a folder") from None
        return None


def _walked(
    vault: Vault, root: str, prev: Snapshot | None, feed: FeedResult | None
) -> tuple[Listing, Snapshot | None]:
    at = _locate(vault, root)
    if at is None:
        return Listing(), None
    if feed is None or (prev is not None and prev.folders.get("") != at.node_id):
        prev = None  # no snapshot to keep, or the pair's folder itself was replaced
    changed = feed.changed if feed is not None else frozenset()
    walk = _Walk(vault, prev, changed)
    walk.folder("", at)
    out = _safe(walk.files, root)
    out.reads = walk.reads
    if feed is None:
        return out, None
    parts = split(root)
    scope = _scope(at.space) if parts and parts[0].startswith("@") else None
    if scope is not None and len(walk.spaces) > 1:  # mutant: sync.nested-full-walk
        return out, None  # a nested share inside (issue 19): one space's feed cannot cover it
    return out, Snapshot(feed.seq, dict(feed.heads), walk.folders, walk.files, scope)
