"""Whose objects a request acts on: the caller's own, or a shared space of another account.

Every record and blob route takes optional `owner` and `space` query parameters. With
neither (or `owner` = the caller) the request acts on the caller's own namespace. With
another `owner`, it must name a `space` the caller holds a grant for; the caller then
sees only that owner's objects *in that space*, and may write them only with a
read-write grant. Anything else answers exactly like a missing object (404), so a
non-member learns nothing about what exists (no existence oracle).

An app credential's token (issue 16) is *confined*: it acts on its own account's objects
of one space only (its app container, or a container another app granted it), never on
the private tree or another app's container; anything else is the same 404.

The dependency that resolves a request's scope is `deps.resolve_scope` (`deps.InScope`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from blindvault.server.errors import ApiError, not_found

ROLE_READ = "read"
ROLE_WRITE = "write"
OWNER_ONLY_KINDS = frozenset({"roster", "root"})
RESHARE_KIND = "reshares"  # a space's member-signed additions (core/reshare.py)


@dataclass(frozen=True)
class Scope:
    owner: str
    space: str
    caller: str
    can_write: bool
    confined: bool = False  # an app credential: one space of its own account only
    reshare: bool = False  # a member the owner lets re-share (a hint: clients check rosters)

    @property
    def own(self) -> bool:
        """Unrestricted access to the owner's whole namespace (never for an app)."""
        return self.owner == self.caller and not self.confined

    def sees(self, row_space: str) -> bool:
        """Whether a stored object in `row_space` is visible through this scope."""
        return self.own or row_space == self.space

    def check_write(self) -> None:
        if not self.can_write:
            raise ApiError(403, "forbidden", "this share is read-only for you")

    def check_write_kind(self, kind: str) -> None:
        """Rosters (and the signed root) are the owner's alone: a read-write member may
        write a space's folders, never its member list (P-ROSTERFRESH). A member allowed to
        re-share, even read-only, may write the space's re-share list (P-RESHARE)."""
        if kind == RESHARE_KIND and self.reshare:  # mutant: server.reshare-list-write [accept]
            return
        self.check_write()
        if kind in OWNER_ONLY_KINDS and not self.own:
            raise ApiError(403, "forbidden", f"only the owner may write a {kind} record")

    def space_for_new(self) -> str:
        return self.space


def visible(scope: Scope, row: Any, what: str) -> Any:
    """`row` if it exists and this scope may see it, else the same 404 either way."""
    if row is None or not scope.sees(row.space):
        raise not_found(what if scope.own else "object")  # members: one answer for all
    return row


def app_scope(caller: str, container: str, space: str | None, granted: dict[str, str]) -> Scope:
    """The scope of an app token on `space` (its own `container` by default); 404 for
    anything else: the private tree, another app's container (unless granted), any space."""
    wanted = space or container
    if wanted == container:
        return Scope(caller, container, caller, True, confined=True)
    role = granted.get(wanted)
    if role is None:  # mutant: apps.scope-confined
        raise not_found("object")
    return Scope(caller, wanted, caller, role == ROLE_WRITE, confined=True)
