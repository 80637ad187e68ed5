"""Upload-only links' objects sealed for the tests (core/drops.py): the target of a link
into the owner's /inbox, and a drop sealed into it as an anonymous uploader seals one."""

from __future__ import annotations

from blindvault.core.drops import DropTarget, OwnerDropKeys, seal_drop

__all__ = ["inbox", "sealed_drop"]


def inbox(keys: OwnerDropKeys, max_size: int = 1 << 20) -> DropTarget:
    """A link's target: its owner's /inbox, files of at most `max_size` bytes."""
    return DropTarget(keys.recipient_public, max_size, "inbox")


def sealed_drop(
    keys: OwnerDropKeys, link_id: bytes, name: str, data: bytes, *, mtime_ms: int
) -> bytes:
    """The file `name` holding `data`, dropped through the link `link_id` into `inbox(keys)`."""
    return seal_drop(inbox(keys), keys.secret, link_id, name, data, mtime_ms=mtime_ms)
