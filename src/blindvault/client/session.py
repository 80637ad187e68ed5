"""`Session`: one open account on one server — the HTTP client, this device's state and
pins, the opened key bundle (identity, vault and root keys, in memory only) and the
verified folder tree. Every feature (files, shares, links) works on a session."""

from __future__ import annotations

from dataclasses import dataclass, field

from blindvault.client.local.state import AccountState, StateStore
from blindvault.client.net.http import ApiClient
from blindvault.client.tree import Tree
from blindvault.core.identity import Identity
from blindvault.core.keybundle import OpenedBundle

__all__ = ["Session"]


@dataclass
class Session:
    api: ApiClient
    state: AccountState
    store: StateStore
    opened: OpenedBundle
    tree: Tree
    proof: dict[str, str] = field(default_factory=dict)  # of the current secret; memory only

    @classmethod
    def start(
        cls,
        api: ApiClient,
        state: AccountState,
        store: StateStore,
        opened: OpenedBundle,
        *,
        new: bool = False,
    ) -> Session:
        """A session on a verified bundle; reads (and checks) the signed root first."""
        tree = Tree(api, state, opened.identity, opened.bundle.owner, new_account=new)
        tree.load_root()
        return cls(api, state, store, opened, tree)

    @property
    def owner(self) -> bytes:
        return self.opened.bundle.owner

    @property
    def identity(self) -> Identity:
        return self.opened.identity

    @property
    def fingerprint(self) -> bytes:
        return self.opened.identity.bundle.fingerprint

    def save(self) -> None:
        """Keep this device's state (pins, high-water marks) and make it the current one."""
        self.store.save(self.state)
        self.store.set_current(self.state.server, self.state.email)
