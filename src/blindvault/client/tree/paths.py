"""Vault paths: `/a/b/c` as checked name lists."""

from __future__ import annotations

from blindvault.core.manifest import check_name
from blindvault.errors import UsageError

__all__ = ["display", "no_mount_name", "split"]


def split(path: str) -> list[str]:
    """The names of `path`, each checked (`.` and empty parts are dropped)."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    for p in parts:
        check_name(p)
    return parts


def display(parts: list[str]) -> str:
    return "/" + "/".join(parts)


def no_mount_name(parts: list[str]) -> None:
    """`@name` at the top level is where accepted shares appear."""
    if len(parts) == 1 and parts[0].startswith("@"):
        raise UsageError("names starting with @ are kept for shares at the top level")
