"""Roster freshness on every device, before anything is sealed from a roster (P-ROSTERFRESH).

Each roster names the hash of its predecessor (core/roster.py). A device remembers, per
shared folder, the (version, hash) of the newest roster it has verified; the owner's
devices also find the newest roster's (version, hash) in the owner's signed root. A roster
older than either, or at the same version with another hash, or one version up without
naming the remembered one as its predecessor, is a rollback or fork: `RollbackError`
(CLI exit 10), raised before the caller opens, seals or writes anything from it.
"""

from __future__ import annotations

from blindvault.client.local.state import AccountState
from blindvault.core.manifest import ManifestHead
from blindvault.core.root import SignedRoot
from blindvault.core.roster import Roster, check_roster_fresh
from blindvault.errors import IntegrityError

__all__ = ["check_roster", "missing_roster", "remember_roster", "seen_roster"]


def seen_roster(state: AccountState, node: bytes) -> ManifestHead | None:
    raw = state.roster_heads.get(node.hex())
    if raw is None:
        return None
    return ManifestHead(node, int(raw[0]), bytes.fromhex(str(raw[1])))


def check_roster(state: AccountState, roster: Roster, root: SignedRoot | None) -> None:
    """Refuse a roster older than, or forked from, what this device or the root knows."""
    # mutant: sharing.roster-fresh
    check_roster_fresh(seen_roster(state, roster.node_id), roster)
    bound = root.roster_of(roster.node_id) if root is not None else None
    if bound is not None:
        check_roster_fresh(bound, roster)


def remember_roster(state: AccountState, roster: Roster) -> None:
    """Advance this device's high-water mark for the folder's roster (never backwards)."""
    # mutant: sharing.roster-fresh
    check_roster_fresh(seen_roster(state, roster.node_id), roster)
    state.roster_heads[roster.node_id.hex()] = [roster.version, roster.hash.hex()]
    state.rosters[roster.node_id.hex()] = roster.version


def missing_roster(state: AccountState, node: bytes, root: SignedRoot | None) -> None:
    """A 404 for a roster this device saw, or that the owner's root names: integrity error."""
    bound = root.roster_of(node) if root is not None else None
    # mutant: sharing.roster-disappeared
    if node.hex() in state.rosters or node.hex() in state.roster_heads or bound is not None:
        raise IntegrityError("a share's member list disappeared")
