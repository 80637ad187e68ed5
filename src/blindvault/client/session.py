"""`Session`: one open account on one server — the HTTP client, this device's state and
pins, the opened key bundle (identity, vault and root keys, in memory only) and the
verified folder tree. Every feature (files, shares, links) works on a session.

An app credential's session (issue 16, `client.apps`) has no key bundle at all (`opened`
is None): its identity is the app's own key pair, and it reaches its container only."""

from __future__ import annotations

from dataclasses import dataclass, field

from blindvault.client.local.state import AccountState, StateStore
from blindvault.client.net.http import ApiClient
from blindvault.client.tree import Tree
from blindvault.core.identity import Identity
from blindvault.core.keybundle import OpenedBundle
from blindvault.core.keys import VaultKey
from blindvault.errors import UsageError

__all__ = ["AppKeys", "Session"]


@dataclass(frozen=True)
class AppKeys:
    """What an app process holds instead of a key bundle: the app credential's identity,
    the account it works for, and a key for its local resume records."""

    identity: Identity
    owner: bytes
    local: VaultKey
    app_id: str


@dataclass
class Session:
    api: ApiClient
    state: AccountState
    store: StateStore
    opened: OpenedBundle | None
    tree: Tree
    proof: dict[str, str] = field(default_factory=dict)  # of the current secret; memory only
    app: AppKeys | None = None

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

    def keys(self) -> OpenedBundle:
        """The opened key bundle; an app credential has none (UsageError)."""
        if self.opened is None:
            raise UsageError("an app credential cannot do this: it reaches its container only")
        return self.opened

    @property
    def owner(self) -> bytes:
        return self.app.owner if self.app else self.keys().bundle.owner

    @property
    def identity(self) -> Identity:
        return self.app.identity if self.app else self.keys().identity

    @property
    def local_key(self) -> VaultKey:
        """The key of this device's local resume records."""
        return self.app.local if self.app else self.keys().vault

    @property
    def fingerprint(self) -> bytes:
        return self.identity.bundle.fingerprint

    def save(self) -> None:
        """Keep this device's state (pins, high-water marks) and make it the current one."""
        self.store.save(self.state)
        if self.app is None:  # an app's state never becomes the logged-in account
            self.store.set_current(self.state.server, self.state.email)
