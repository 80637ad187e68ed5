"""`Vault`: the SDK — an account's encrypted file tree on one server.

    vault, words = Vault.signup("https://host", "me@example.org", "password")
    vault = Vault.open("https://host", "me@example.org", "password")
    vault.mkdir("/docs"); vault.put(Path("a.pdf"), "/docs"); vault.get("/docs/a.pdf", Path("."))
    vault.shares.share("/docs", "bob@example.org")       # sharing with people
    url = vault.links.create("/docs/a.pdf")               # share links

Every read is verified (signatures, AEAD, freshness); the server sees random ids and
padded ciphertext only. This class is a façade and the stable entry point: the work is
done by `Session` (account, state, pins), `Spaces` (where a path lives), `Files`,
`Uploads`, `Downloads`, `Shares` and `Links`, none of which knows about `Vault`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import httpx

from blindvault.client import account, feed, pairing, peers
from blindvault.client.account_keys import replace_keys, totp_disable, totp_enable
from blindvault.client.apps import (
    AppCredential,
    Apps,
    ContainerSpaces,
    granted_container,
    open_app_session,
    own_container,
)
from blindvault.client.downloads import Downloads
from blindvault.client.drops import Drops
from blindvault.client.feed import FeedResult
from blindvault.client.files import Entry, Files
from blindvault.client.groups import Groups
from blindvault.client.history import History
from blindvault.client.invitations import Invitations
from blindvault.client.links import Links
from blindvault.client.local.state import AccountState, StateStore
from blindvault.client.moves import Moves
from blindvault.client.net.http import ApiClient
from blindvault.client.prune import Pruner, PruneResult
from blindvault.client.retention import Policy, Retention
from blindvault.client.session import Session
from blindvault.client.shares import Shares
from blindvault.client.spaces import Spaces
from blindvault.client.trash import Trash, TrashEntry
from blindvault.client.tree import Space, Tree
from blindvault.client.uploads import Uploads
from blindvault.client.verify import Problem
from blindvault.core.identity import IdentityBundle
from blindvault.core.kdf import AccountKeys, KdfParams
from blindvault.core.keybundle import OpenedBundle
from blindvault.core.keys import FolderKey, VaultKey
from blindvault.core.manifest import FileEntry, FolderEntry

__all__ = ["Entry", "Problem", "Vault"]

Progress = Callable[[int], None]


class Vault:
    def __init__(
        self,
        session: Session,
        spaces: Spaces | None = None,
        credential: AppCredential | None = None,
    ) -> None:
        """`spaces` other than the account's own: an app container (see `app`)."""
        self.session = session
        self.credential = credential  # an app process's credential (issue 16), else None
        self.spaces = spaces or Spaces(session)
        self.files = Files(session, self.spaces)
        self.uploads = Uploads(self.files)
        self.downloads = Downloads(self.files)
        self.history = History(self.files, self.uploads)  # versions and restore (issue 14)
        self.trash_bin = Trash(self.files)  # the trash (issue 14)
        self.shares = Shares(self.files, self.uploads, self.downloads)
        self.groups = Groups(self.shares)  # issue 19
        self.shares.after_rotate = self.groups.reseal
        self.links = Links(self.files)
        self.drops = Drops(self.files, self.uploads)  # upload-only links (issue 19)
        self.invitations = Invitations(self.files, self.shares)  # issue 19
        self.moves = Moves(self.files, self.uploads, self.downloads)  # across spaces (issue 19)

    # --- account life cycle ----------------------------------------------------------------

    @classmethod
    def signup(
        cls,
        server: str,
        email: str,
        password: str,
        *,
        store: StateStore | None = None,
        insecure: bool = False,
        params: KdfParams | None = None,
        device_name: str = "cli",
        post_quantum: bool = False,
        transport: httpx.BaseTransport | None = None,
    ) -> tuple[Vault, list[str]]:
        """Create an account; returns the open vault and the 24 recovery words (show once).

        `post_quantum`: the account's identity uses the hybrid ML-KEM-768+X25519 suite, so
        folder keys shared with it are sealed post-quantum (spec §9). `transport` replaces
        the network (e.g. an in-process server in tests)."""
        session, words = account.sign_up(
            server, email, password, store=store or StateStore(), insecure=insecure,
            params=params or KdfParams.argon2id(), device_name=device_name,
            post_quantum=post_quantum, transport=transport,
        )  # fmt: skip
        return cls(session), words

    @classmethod
    def open(
        cls,
        server: str,
        email: str,
        password: str,
        *,
        store: StateStore | None = None,
        insecure: bool = False,
        device_name: str = "cli",
        totp: str | None = None,
        derived: tuple[KdfParams, AccountKeys] | None = None,
        min_kdf: KdfParams | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> Vault:
        """Log in (or reuse this device's session) and open the vault with the password.

        `derived` are keys already derived from the password with some parameters; they
        are used only if the server's parameters are exactly those. Without a pin, the
        server's parameters must be at least `min_kdf` (default: Argon2id m=64 MiB t=3
        p=4; an SDK-only override for tests)."""
        session = account.log_in(
            server, email, password, store=store or StateStore(), insecure=insecure,
            device_name=device_name, totp=totp, derived=derived, min_kdf=min_kdf,
            transport=transport,
        )  # fmt: skip
        return cls(session)

    @classmethod
    def open_unlocked(
        cls,
        server: str,
        email: str,
        vault_key: VaultKey,
        *,
        store: StateStore | None = None,
        insecure: bool = False,
        transport: httpx.BaseTransport | None = None,
    ) -> Vault:
        """Open this device's session with the vault key an unlocked agent holds (issue 18):
        no password and no KDF; `proof` stays empty, so key changes need `open`."""
        session = account.open_unlocked(
            server, email, vault_key, store=store or StateStore(), insecure=insecure,
            transport=transport,
        )  # fmt: skip
        return cls(session)

    @classmethod
    def recover(
        cls,
        server: str,
        email: str,
        words: str,
        new_password: str,
        *,
        store: StateStore | None = None,
        insecure: bool = False,
        totp: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> Vault:
        """Forgotten password: the 24 words open the vault key; set a new password."""
        session = account.recover(
            server, email, words, store=store or StateStore(), insecure=insecure,
            transport=transport,
        )  # fmt: skip
        vault = cls(session)
        vault.change_password(new_password, totp=totp)
        return vault

    @classmethod
    def pair(
        cls,
        server: str,
        code: str,
        *,
        store: StateStore | None = None,
        insecure: bool = False,
        device_name: str = "cli",
        show: Callable[[str], None] = lambda _: None,
        poll: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> Vault:
        """Log a new device in with the code a signed-in device shows (`add_device`):
        the account arrives over SPAKE2 through the server's relay; `show` gets the
        confirmation string both devices display."""
        session = pairing.join(
            server, code, store=store or StateStore(), insecure=insecure,
            device_name=device_name, show=show, poll=poll, transport=transport,
        )  # fmt: skip
        return cls(session)

    def add_device(
        self,
        *,
        show: Callable[[str, float], None],
        confirm: Callable[[str, str], bool],
        poll: float = 0.5,
    ) -> pairing.PairedDevice:
        """Pair a new device: `show(code, expires_at)`, then `confirm(confirmation,
        device_name)` before the account is sent (see `client.pairing`)."""
        return pairing.add_device(self.session, show=show, confirm=confirm, poll=poll)

    def change_password(
        self,
        new_password: str,
        params: KdfParams | None = None,
        *,
        new_recovery: bool = False,
        totp: str | None = None,
    ) -> list[str] | None:
        """Re-wrap the vault key only (one object written), with proof of the current
        secret; with `new_recovery`, also new recovery words (returned; show them once)."""
        return replace_keys(
            self.session, new_password, params=params, new_recovery=new_recovery, totp=totp
        )

    def totp_enable(self, secret: str, code: str, *, current: str | None = None) -> None:
        """Turn TOTP on (needs this session's proof of the password, and `code` of `secret`)."""
        totp_enable(self.session, secret, code, current=current)

    def totp_disable(self, code: str) -> None:
        totp_disable(self.session, code)

    # --- app containers (issue 16) -----------------------------------------------------------

    @classmethod
    def open_app(
        cls,
        credential: AppCredential | Path,
        *,
        store: StateStore | None = None,
        insecure: bool = False,
        transport: httpx.BaseTransport | None = None,
    ) -> Vault:
        """Run as an app: the app's own container, with the same file API ("/" is the
        container's root). The credential never opens the account's own tree."""
        cred = (
            credential if isinstance(credential, AppCredential) else AppCredential.load(credential)
        )
        session = open_app_session(cred, store=store, insecure=insecure, transport=transport)
        return cls(session, ContainerSpaces(session, own_container(session, cred)), cred)

    def app(self, app_id: str) -> Vault:
        """App `app_id`'s container with the same file API: for the account, any authorized
        app's; for an app, its own or one granted to it (checked against the account's
        signed envelope: a grant the server made up is `IntegrityError`)."""
        if self.credential is not None:
            c = granted_container(self.session, self.credential, app_id)
        else:
            c = Apps(self.session).container(app_id)
        return Vault(self.session, ContainerSpaces(self.session, c), self.credential)

    @property
    def apps(self) -> Apps:
        """Authorize, list, revoke apps; grant and ungrant (the account's side)."""
        return Apps(self.session)

    def close(self) -> None:
        """Close the HTTP session (the vault key is only ever in memory)."""
        self.session.api.close()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def save(self) -> None:
        self.session.save()

    def logout(self) -> None:
        account.log_out(self.session)

    def devices(self) -> list[dict[str, object]]:
        return account.devices(self.session)

    def revoke_device(self, device_id: str) -> None:
        account.revoke_device(self.session, device_id)

    # --- what the session holds ------------------------------------------------------------

    @property
    def api(self) -> ApiClient:
        return self.session.api

    @property
    def state(self) -> AccountState:
        return self.session.state

    @property
    def store(self) -> StateStore:
        return self.session.store

    @property
    def tree(self) -> Tree:
        return self.session.tree

    @property
    def opened(self) -> OpenedBundle:
        return self.session.keys()

    @property
    def proof(self) -> dict[str, str]:
        return self.session.proof

    @property
    def owner(self) -> bytes:
        return self.session.owner

    @property
    def fingerprint(self) -> bytes:
        return self.session.fingerprint

    # --- peers: trust comes from pins, never from the server (P-PEERKEY) -------------------

    def peer(self, email: str) -> tuple[IdentityBundle, bool]:
        """A peer's verified bundle and whether it matches this device's pin."""
        return peers.peer(self.session, email)

    def peer_view(self, email: str) -> peers.PeerView:
        """The peer's key, pinned or not, and whether the pinned server CA certifies it
        (an extra signal, issue 17; a certified change is refused unless the CA's pinned
        policy accepts it)."""
        return peers.view(self.session, email)

    def trust(
        self, email: str, fingerprint: str | None = None, *, replace: bool = False
    ) -> IdentityBundle:
        """Pin a peer's key after comparing `fingerprint` (hex or safety number) out of band."""
        return peers.trust(self.session, email, fingerprint, replace=replace)

    # --- files -------------------------------------------------------------------------------

    def stat(self, path: str) -> FileEntry | FolderEntry | None:
        """The entry at `path` (None for the root)."""
        return self.files.stat(path)

    def exists(self, path: str) -> bool:
        return self.files.exists(path)

    def is_folder(self, path: str) -> bool:
        return self.files.is_folder(path)

    def ls(self, path: str = "/") -> list[Entry]:
        return self.files.ls(path)

    def walk(self, path: str = "/") -> Iterator[Entry]:
        return self.files.walk(path)

    def subtree(
        self, node: bytes, key: FolderKey, key_version: int = 1, space: Space | None = None
    ) -> Iterator[bytes | FileEntry]:
        """Every folder (as its node id) and file entry under a folder, the folder first."""
        return self.files.subtree(node, key, key_version, space or self.spaces.private)

    def mkdir(self, path: str, *, parents: bool = False) -> None:
        self.files.mkdir(path, parents=parents)

    def put(self, local: Path, remote: str, *, progress: Progress | None = None) -> list[str]:
        """Upload a file or a folder (recursively) with `cp -r` semantics; returns paths made."""
        return self.uploads.put(local, remote, progress=progress)

    def put_many(self, local: list[Path], folder: str) -> list[FileEntry]:
        """Files into the existing `folder` under their local names, small ones with one
        manifest write; returns the entries written (node ids and versions)."""
        return self.uploads.put_many(local, folder)

    def get(
        self,
        remote: str,
        local: Path,
        *,
        progress: Progress | None = None,
        escape_names: bool = False,
    ) -> list[Path]:
        """Download a file or folder with `cp -r` semantics; returns the local paths written."""
        return self.downloads.get(remote, local, progress=progress, escape_names=escape_names)

    def mv(self, src: str, dst: str) -> None:
        """Rename or move; into or out of a shared folder, what moves is re-keyed."""
        self.moves.mv(src, dst)

    def rm(self, path: str, *, recursive: bool = False, permanent: bool = False) -> None:
        """Move `path` into the trash; with `permanent`, remove it for good at once."""
        if permanent:
            self.files.rm(path, recursive=recursive)
        else:
            self.trash_bin.remove(path, recursive=recursive)

    def trash(self) -> list[TrashEntry]:
        """Everything in the trash (every folder's, shared folders' included), newest first."""
        return self.trash_bin.listing()

    def trash_restore(self, path: str, *, to: str | None = None) -> str:
        """Put a trashed entry (by original path or id) back, or at `to`; where it went."""
        return self.trash_bin.restore(path, to=to)

    def trash_empty(self, *, older_than_ms: int | None = None) -> list[TrashEntry]:
        """Delete for good what was trashed `older_than_ms` ago or earlier (all without it)."""
        return self.trash_bin.empty(older_than_ms=older_than_ms)

    def forget(
        self, policy: Policy | None = None, *, dry_run: bool = False
    ) -> dict[str, list[dict[str, object]]]:
        """Drop earlier versions and trash items `policy` does not keep (restic's forget)."""
        return Retention(self.trash_bin).forget(policy or Policy(), dry_run=dry_run)

    def prune(self, *, dry_run: bool = False) -> PruneResult:
        """Delete the blobs nothing signed references, under the account's prune lease."""
        return Pruner(self.trash_bin).run(dry_run=dry_run)

    def verify(self, path: str = "/") -> tuple[int, int, list[Problem]]:
        """Download and authenticate every manifest and blob; returns (folders, files, problems)."""
        return self.files.verify(path)

    def changes(self, since: int, base: Mapping[bytes, int] | None = None) -> FeedResult:
        """Folders to re-read since feed position `since` (`base`: node id → the version the
        local index last synced); a hint checked against the signed root (client/feed.py)."""
        return feed.changes(self.tree, self.api, since, base or {})
