"""Where accepted shares appear: `@name` bound once, on this device, to (owner, node id).

The name comes from the owner-signed roster when a share is first accepted (or first seen
accepted on this device) and is stored in the local state with the share's owner and node
id; after that the server's listing order cannot swap `@team` and `@team-2`. Shares seen for
the first time together are bound in (owner email, node id) order, which the server cannot
influence either.
"""

from __future__ import annotations

__all__ = ["bind_name", "bound_name"]

Bindings = dict[str, list[str]]  # mount name -> [owner email, node id hex]


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
    while unique in bindings:
        unique, n = f"{name}-{n}", n + 1
    bindings[unique] = [owner_email, node_hex]
    return unique
