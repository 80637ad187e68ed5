"""Where accepted shares appear: `@name` bound once, on this device, to (owner, node id).

The name comes from the owner-signed roster when a share is first accepted (or first seen
accepted on this device) and is stored in the local state with the share's owner and node
id; after that the server's listing order cannot swap `@team` and `@team-2`. Shares seen for
the first time together are bound in (owner email, node id) order, which the server cannot
influence either.

Single files shared with this account appear as `@shared/NAME` (issue 19): they are bound
as `shared/NAME` (no folder share's name contains a `/`, and a folder share is never bound
as `shared`), and a second file of the same name becomes `NAME-2.ext`, `NAME-3.ext`...
Whether an (owner, node) is a file or a folder is decided once, when it is first bound.
"""

from __future__ import annotations

__all__ = ["FILES", "bind_file_name", "bind_name", "bound_name"]

Bindings = dict[str, list[str]]  # mount name -> [owner email, node id hex]

FILES = "shared"  # `@shared/NAME`: the single files shared with this account


def bound_name(bindings: Bindings, owner_email: str, node_hex: str) -> str | None:
    for name, (owner, node) in bindings.items():
        if owner == owner_email and node == node_hex:
            return name
    return None


def bind_name(bindings: Bindings, name: str, owner_email: str, node_hex: str) -> str:
    """The mount name of (owner, node): the one bound before, else `name` made unique."""
    found = bound_name(bindings, owner_email, node_hex)
    if found is not None:
        return found
    unique, n = name, 2
    while unique in bindings or unique == FILES:
        unique, n = f"{name}-{n}", n + 1
    bindings[unique] = [owner_email, node_hex]
    return unique


def bind_file_name(bindings: Bindings, name: str, owner_email: str, node_hex: str) -> str:
    """The `@shared/` name of a shared file (as `shared/NAME`): the one bound before, else
    `name`, or `stem-N.ext` for the first N >= 2 that is free."""
    found = bound_name(bindings, owner_email, node_hex)
    if found is not None:
        return found
    stem, dot, ext = name.rpartition(".")
    if not stem:  # no extension (or a dot file): the suffix goes at the end
        stem, dot, ext = name, "", ""
    unique, n = name, 2
    while f"{FILES}/{unique}" in bindings:
        unique, n = f"{stem}-{n}{dot}{ext}", n + 1
    bindings[f"{FILES}/{unique}"] = [owner_email, node_hex]
    return f"{FILES}/{unique}"
