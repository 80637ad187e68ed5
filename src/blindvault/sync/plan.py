"""The three-way merge, PURE: local, remote and the last synced base in, actions out.

Rules (issue 14): a delete is only a tombstone — an entry that was synced (in the base)
and is now gone on one side; a remote entry is "gone" only in a complete, verified
listing (the caller never plans from a partial one). An edit beats a delete. Concurrent
edits keep both: the remote version keeps the name, the local one becomes a conflict
copy. A file that vanished at one path while a new one with the same inode or content
(locally) or the same node id (remotely) appeared at another is a move.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from posixpath import splitext

__all__ = ["Action", "Base", "Kind", "Local", "Remote", "conflict_name", "plan"]


@dataclass(frozen=True, slots=True)
class Local:
    """A regular file found by the scan."""

    hash: bytes
    size: int
    inode: int


@dataclass(frozen=True, slots=True)
class Remote:
    """A file in the verified remote listing: its node and content version."""

    node: bytes
    version: int
    size: int


@dataclass(frozen=True, slots=True)
class Base:
    """What both sides held at the last sync of this path."""

    hash: bytes
    inode: int
    node: bytes
    version: int


class Kind(StrEnum):
    UPLOAD = "upload"
    DOWNLOAD = "download"
    DELETE_LOCAL = "delete-local"
    DELETE_REMOTE = "delete-remote"
    MOVE_LOCAL = "move-local"
    MOVE_REMOTE = "move-remote"
    CONFLICT = "conflict"  # both changed: resolved in apply (identical content = no conflict)
    FORGET = "forget"  # gone on both sides: drop the base


@dataclass(frozen=True, slots=True)
class Action:
    kind: Kind
    path: str
    to: str = ""  # the move target, or the conflict copy's name


def conflict_name(path: str, device: str, when: datetime) -> str:
    """`name (conflict DEVICE YYYY-MM-DD HHMM).ext`, in the same folder."""
    folder, _, name = path.rpartition("/")
    stem, ext = splitext(name)
    if not stem:  # ".bashrc"
        stem, ext = name, ""
    stamp = when.astimezone(UTC).strftime("%Y-%m-%d %H%M")
    made = f"{stem} (conflict {device} {stamp}){ext}"
    return f"{folder}/{made}" if folder else made


def _local_changed(base: Base, local: Local) -> bool:
    return local.hash != base.hash


def _remote_changed(base: Base, remote: Remote) -> bool:
    return (remote.node, remote.version) != (base.node, base.version)


def _one(path: str, b: Base | None, lo: Local | None, r: Remote | None) -> Action | None:
    if b is None:
        if lo is not None and r is not None:
            return Action(Kind.CONFLICT, path)
        if lo is not None:
            return Action(Kind.UPLOAD, path)
        return Action(Kind.DOWNLOAD, path) if r is not None else None
    if lo is None and r is not None:  # deleted here; an edit there beats the delete
        return Action(Kind.DOWNLOAD if _remote_changed(b, r) else Kind.DELETE_REMOTE, path)
    if r is None and lo is not None:  # deleted there; an edit here beats the delete
        return Action(Kind.UPLOAD if _local_changed(b, lo) else Kind.DELETE_LOCAL, path)
    if lo is None or r is None:
        return Action(Kind.FORGET, path)
    mine, theirs = _local_changed(b, lo), _remote_changed(b, r)
    if mine and theirs:
        return Action(Kind.CONFLICT, path)
    if mine:
        return Action(Kind.UPLOAD, path)
    return Action(Kind.DOWNLOAD, path) if theirs else None


def _moves(
    actions: dict[str, Action],
    base: dict[str, Base],
    local: dict[str, Local],
    remote: dict[str, Remote],
) -> None:
    """Pair a delete with a new file of the same identity into a move (in place)."""
    gone_local = [p for p, a in actions.items() if a.kind is Kind.DELETE_REMOTE]
    new_local = [p for p, a in actions.items() if a.kind is Kind.UPLOAD and p not in base]
    for src in gone_local:
        b = base[src]
        for dst in new_local:
            lo = local[dst]
            if lo.inode == b.inode or lo.hash == b.hash:
                actions[src] = Action(Kind.MOVE_REMOTE, src, dst)
                del actions[dst]
                new_local.remove(dst)
                break
    gone_remote = [p for p, a in actions.items() if a.kind is Kind.DELETE_LOCAL]
    new_remote = [p for p, a in actions.items() if a.kind is Kind.DOWNLOAD and p not in base]
    for src in gone_remote:
        b = base[src]
        for dst in new_remote:
            if remote[dst].node == b.node and remote[dst].version == b.version:
                actions[src] = Action(Kind.MOVE_LOCAL, src, dst)
                del actions[dst]
                new_remote.remove(dst)
                break


def plan(base: dict[str, Base], local: dict[str, Local], remote: dict[str, Remote]) -> list[Action]:
    """The actions that bring both sides to the merge of the three states, sorted by path.

    Paths are relative POSIX paths ("a/b.txt"). `remote` MUST be a complete, verified
    listing: an absent remote entry is read as a delete."""
    actions: dict[str, Action] = {}
    for path in sorted(set(base) | set(local) | set(remote)):
        act = _one(path, base.get(path), local.get(path), remote.get(path))
        if act is not None:
            actions[path] = act
    _moves(actions, base, local, remote)
    return [actions[p] for p in sorted(actions)]
