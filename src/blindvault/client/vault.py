"""`Vault`: the SDK — an account's encrypted file tree on one server.

    vault, words = Vault.signup("https://host", "me@example.org", "password")
    vault = Vault.open("https://host", "me@example.org", "password")
    vault.mkdir("/docs"); vault.put(Path("a.pdf"), "/docs"); vault.get("/docs/a.pdf", Path("."))

Every read is verified (signatures, AEAD, freshness); the server sees random ids and
padded ciphertext only.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from blindvault.client import transfer
from blindvault.client.account_keys import password_proof, recovery_proof, replace_keys
from blindvault.client.http import ApiClient, b64d, b64e
from blindvault.client.kdf_policy import check_login_params
from blindvault.client.local_names import local_name, local_names
from blindvault.client.sharing import Shares
from blindvault.client.state import AccountState, StateStore
from blindvault.client.tree import Folder, Space, Tree, now_ms
from blindvault.client.verify import Problem, verify_tree
from blindvault.core.content import blob_id, sealed_size
from blindvault.core.identity import Identity, IdentityBundle, safety_number
from blindvault.core.kdf import (
    AccountKeys,
    KdfParams,
    account_id,
    derive_account_keys,
    normalize_email,
    recovery_auth_key,
)
from blindvault.core.keybundle import KeyBundle, OpenedBundle, new_account_bundle
from blindvault.core.keys import FileKey, FolderKey, RecoveryKey
from blindvault.core.manifest import FileEntry, FolderEntry, ManifestBody, Tombstone, check_name
from blindvault.core.recovery import recovery_key_from_words, recovery_words
from blindvault.errors import (
    ConflictError,
    IntegrityError,
    LocalError,
    NotFoundError,
    PolicyError,
    RollbackError,
    UsageError,
)

__all__ = ["Entry", "Problem", "Vault"]

Progress = Callable[[int], None]
PARALLEL = 4  # small files (or batches of them) in flight at once
BATCH_ITEM = 1 << 20  # files whose blob is at most this travel in batches
BATCH_BYTES = 4 << 20  # per batch request (the server takes up to 8 MiB)
BATCH_COUNT = 500


@dataclass(frozen=True)
class Entry:
    """One listed item, with authenticated metadata only (P-META)."""

    path: str
    name: str
    kind: str  # "file" or "folder"
    size: int
    mtime_ms: int


def _parts(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p not in ("", ".")]
    for p in parts:
        check_name(p)
    return parts


def _entry(body: ManifestBody, name: str) -> FileEntry | FolderEntry | None:
    return body.find(name)


class Vault:
    def __init__(
        self,
        api: ApiClient,
        state: AccountState,
        store: StateStore,
        opened: OpenedBundle,
        *,
        new: bool = False,
    ) -> None:
        self.api = api
        self.state = state
        self.store = store
        self.opened = opened
        self.proof: dict[str, str] = {}  # proof of the current secret, in memory only
        self.owner = opened.bundle.owner
        self.tree = Tree(api, state, opened.identity, self.owner, new_account=new)
        self.tree.load_root()
        self.shares = Shares(self)

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
    ) -> tuple[Vault, list[str]]:
        """Create an account; returns the open vault and the 24 recovery words (show once).

        `post_quantum`: the account's identity uses the hybrid ML-KEM-768+X25519 suite, so
        folder keys shared with it are sealed post-quantum (spec §9)."""
        store = store or StateStore()
        email = normalize_email(email)
        params = params or KdfParams.argon2id()
        keys = derive_account_keys(password, email, params)
        recovery = RecoveryKey.generate()
        identity = Identity.generate(email, now_ms(), post_quantum=post_quantum)
        owner = account_id(email)
        opened = new_account_bundle(
            owner, email, keys.master, recovery, identity, os.urandom(16), os.urandom(16)
        )
        api = ApiClient(server, insecure=insecure)
        api.post_json(
            "/v1/accounts",
            {
                "email": email,
                "kdf": params.to_json(),
                "auth_key": b64e(keys.auth.material),
                "recovery_auth_key": b64e(recovery_auth_key(recovery).material),
                "key_bundle": b64e(opened.bundle.encode()),
                "identity_bundle": b64e(identity.bundle.encode()),
            },
        )
        state = AccountState(server=api.base_url, email=email)
        session = api.post_json(
            "/v1/sessions",
            {"email": email, "auth_key": b64e(keys.auth.material), "device_name": device_name},
        )
        api.token = state.token = session["token"]
        state.device_id = session["device_id"]
        state.kdf_pin = params.to_json()
        state.own_fingerprint = identity.bundle.fingerprint.hex()
        state.bundle_version = opened.bundle.version
        vault = cls(api, state, store, opened, new=True)
        vault.proof = password_proof(keys.auth)
        vault.tree.update(opened.bundle.root_node, opened.root_key, lambda b: b, create=True)
        vault.save()
        return vault, recovery_words(recovery)

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
    ) -> Vault:
        """Log in (or reuse this device's session) and open the vault with the password.

        `derived` are keys already derived from the password with some parameters; they
        are used only if the server's parameters are exactly those. Without a pin, the
        server's parameters must be at least `min_kdf` (default: Argon2id m=64 MiB t=3
        p=4; an SDK-only override for tests)."""
        store = store or StateStore()
        email = normalize_email(email)
        api = ApiClient(server, insecure=insecure)
        state = store.load(api.base_url, email)
        params = KdfParams.from_json(api.post_json("/v1/prelogin", {"email": email})["kdf"])
        pinned = KdfParams.from_json(state.kdf_pin) if state.kdf_pin else None
        check_login_params(params, pinned, min_kdf)  # P-KDFFLOOR: before anything is derived
        if derived is not None and derived[0] == params:
            keys = derived[1]
        else:
            keys = derive_account_keys(password, email, params, pinned)  # P-KDFFLOOR: first
        if not state.token:
            body: dict[str, object] = {
                "email": email,
                "auth_key": b64e(keys.auth.material),
                "device_name": device_name,
            }
            if totp:
                body["totp"] = totp
            session = api.post_json("/v1/sessions", body)
            state.token, state.device_id = session["token"], session["device_id"]
            api.token = state.token
        else:  # an existing device session: the server still checks the password
            api.token = state.token
            api.request("POST", "/v1/sessions/check", json={"auth_key": b64e(keys.auth.material)})
        account = api.get_json("/v1/account")
        bundle = KeyBundle.decode(b64d(account["key_bundle"]))
        opened = cls._check_bundle(
            bundle, account, state, email, lambda b: b.open(keys.master, email)
        )
        state.kdf_pin = params.to_json()
        vault = cls(api, state, store, opened)
        vault.proof = password_proof(keys.auth)
        vault.save()
        return vault

    @staticmethod
    def _check_bundle(
        bundle: KeyBundle,
        account: dict[str, object],
        state: AccountState,
        email: str,
        opener: Callable[[KeyBundle], OpenedBundle],
    ) -> OpenedBundle:
        # mutant: vault.bundle-owner
        if bundle.owner != account_id(email) or bundle.version != account["key_bundle_version"]:
            raise IntegrityError("the key bundle does not belong to this account")
        if bundle.version < state.bundle_version:  # mutant: vault.bundle-rollback
            raise RollbackError("the server returned an older key bundle")
        opened = opener(bundle)
        fingerprint = opened.identity.bundle.fingerprint.hex()
        # mutant: vault.own-identity-pin
        if state.own_fingerprint and fingerprint != state.own_fingerprint:
            raise PolicyError("this account's identity key changed since this device pinned it")
        served = IdentityBundle.decode(b64d(str(account["identity_bundle"])))
        # mutant: vault.p-ownkey
        if served.fingerprint != opened.identity.bundle.fingerprint:  # P-OWNKEY
            raise PolicyError("the server publishes an identity key that is not this account's")
        state.own_fingerprint = fingerprint
        state.bundle_version = bundle.version
        return opened

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
    ) -> Vault:
        """Forgotten password: the 24 words open the vault key; set a new password."""
        store = store or StateStore()
        email = normalize_email(email)
        recovery = recovery_key_from_words(words)
        api = ApiClient(server, insecure=insecure)
        state = store.load(api.base_url, email)
        session = api.post_json(
            "/v1/recovery/sessions",
            {
                "email": email,
                "recovery_auth_key": b64e(recovery_auth_key(recovery).material),
                "device_name": "recovery",
            },
        )
        api.token = state.token = session["token"]
        state.device_id = session["device_id"]
        account = api.get_json("/v1/account")
        bundle = KeyBundle.decode(b64d(account["key_bundle"]))
        opened = cls._check_bundle(
            bundle, account, state, email, lambda b: b.open_with_recovery(recovery, email)
        )
        vault = cls(api, state, store, opened)
        vault.proof = recovery_proof(recovery)
        vault.change_password(new_password, totp=totp)
        return vault

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
        return replace_keys(self, new_password, params=params, new_recovery=new_recovery, totp=totp)

    def close(self) -> None:
        """Close the HTTP session (the vault key is only ever in memory)."""
        self.api.close()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def save(self) -> None:
        self.store.save(self.state)
        self.store.set_current(self.state.server, self.state.email)

    def logout(self) -> None:
        try:
            self.api.request("DELETE", "/v1/sessions/current")
        finally:
            self.state.token = ""
            self.save()
            self.store.clear_current()

    def devices(self) -> list[dict[str, object]]:
        return list(self.api.get_json("/v1/devices")["devices"])

    def revoke_device(self, device_id: str) -> None:
        self.api.request("DELETE", f"/v1/devices/{device_id}")

    @property
    def fingerprint(self) -> bytes:
        return self.opened.identity.bundle.fingerprint

    # --- peers: trust comes from pins, never from the server (P-PEERKEY) -------------------

    def peer(self, email: str) -> tuple[IdentityBundle, bool]:
        """A peer's verified bundle and whether it matches this device's pin.

        Raises `PolicyError` if the peer is pinned and the server now serves another key:
        sharing with them stays blocked until `trust` is run again after an out-of-band check.
        """
        email = normalize_email(email)
        served = self.api.get_json(f"/v1/identities/{email}")
        bundle = IdentityBundle.decode(b64d(served["identity_bundle"]))  # self-signature checked
        if bundle.email != email:
            raise IntegrityError("the server returned another user's identity")
        pinned = self.state.peers.get(email)
        if pinned is not None and pinned != bundle.fingerprint.hex():
            raise PolicyError(
                f"the key of {email} changed since you verified it; compare safety numbers "
                "out of band, then run `blindvault trust` again"
            )
        return bundle, pinned is not None

    def trust(
        self, email: str, fingerprint: str | None = None, *, replace: bool = False
    ) -> IdentityBundle:
        """Pin a peer's key after comparing `fingerprint` (hex or safety number) out of band."""
        email = normalize_email(email)
        if replace:
            self.state.peers.pop(email, None)
        bundle, _ = self.peer(email)
        if fingerprint is not None:
            given = fingerprint.replace(" ", "").lower()
            expected = {
                bundle.fingerprint.hex(),
                safety_number(bundle.fingerprint).replace(" ", ""),
            }
            if given not in expected:
                raise PolicyError(f"{email}'s key does not match the fingerprint you gave")
        self.state.peers[email] = bundle.fingerprint.hex()
        self.save()
        return bundle

    # --- paths ------------------------------------------------------------------------------------

    def _root(self) -> tuple[bytes, FolderKey]:
        return self.opened.bundle.root_node, self.opened.root_key

    def _locate(self, parts: list[str]) -> tuple[bytes, FolderKey, int, Space | None]:
        """Node, key, key version and space of the folder at `parts`, without reading it.

        A first component `@name` is an accepted incoming share; a folder of one's own that
        is shared switches to its shared space for everything below it."""
        space: Space | None = None
        if parts and parts[0].startswith("@"):
            mount = self.shares.mount(parts[0][1:])
            node, key, kv, space = mount.node_id, mount.key, mount.key_version, mount.space
            skip = 1
        else:
            (node, key), kv, skip = self._root(), 1, 0
        for i in range(skip, len(parts)):
            folder, _ = self.tree.read(node, key, kv, space)
            entry = _entry(folder.body, parts[i])
            if not isinstance(entry, FolderEntry):
                raise NotFoundError(404, "not_found", f"no folder /{'/'.join(parts[: i + 1])}")
            node, key, kv = entry.node_id, entry.folder_key, entry.key_version
            space = space or self.shares.own_space(node)
        return node, key, kv, space

    def _folder(self, parts: list[str]) -> Folder:
        node, key, kv, space = self._locate(parts)
        folder, _ = self.tree.read(node, key, kv, space)
        return folder

    def _space(self, parts: list[str]) -> Space | None:
        return self._locate(parts)[3]

    def _api(self, space: Space | None) -> ApiClient:
        return space.api if space else self.api

    def stat(self, path: str) -> FileEntry | FolderEntry | None:
        """The entry at `path` (None for the root)."""
        parts = _parts(path)
        if not parts:
            return None
        if len(parts) == 1 and parts[0].startswith("@"):
            mount = self.shares.mount(parts[0][1:])
            return FolderEntry(parts[0], mount.node_id, mount.key, mount.key_version, 0)
        entry = _entry(self._folder(parts[:-1]).body, parts[-1])
        if entry is None:
            raise NotFoundError(404, "not_found", f"no such file or folder: {path}")
        return entry

    def exists(self, path: str) -> bool:
        try:
            self.stat(path)
        except NotFoundError:
            return False
        return True

    def is_folder(self, path: str) -> bool:
        try:
            return not isinstance(self.stat(path), FileEntry)
        except NotFoundError:
            return False

    # --- listing ------------------------------------------------------------------------------

    def ls(self, path: str = "/") -> list[Entry]:
        parts = _parts(path)
        entry = self.stat(path)
        if isinstance(entry, FileEntry):
            return [self._describe("/" + "/".join(parts), entry)]
        folder = self._folder(parts)
        base = "/" + "/".join(parts)
        shares = [Entry(f"/@{n}", f"@{n}", "folder", 0, 0) for n in sorted(self.shares.mounts())]
        own = [self._describe(f"{base.rstrip('/')}/{e.name}", e) for e in folder.body.entries]
        return own if parts else own + shares

    def _describe(self, path: str, e: FileEntry | FolderEntry) -> Entry:
        if isinstance(e, FileEntry):
            return Entry(path, e.name, "file", e.size, e.mtime_ms)
        return Entry(path, e.name, "folder", 0, e.mtime_ms)

    def subtree(
        self, node: bytes, key: FolderKey, key_version: int = 1, space: Space | None = None
    ) -> Iterator[bytes | FileEntry]:
        """Every folder (as its node id) and file entry under a folder, the folder first."""
        folder, _ = self.tree.read(node, key, key_version, space)
        yield node
        for e in folder.body.entries:
            if isinstance(e, FolderEntry):
                yield from self.subtree(e.node_id, e.folder_key, e.key_version, space)
            else:
                yield e

    def walk(self, path: str = "/") -> Iterator[Entry]:
        for e in self.ls(path):
            yield e
            if e.kind == "folder":
                yield from self.walk(e.path)

    # --- writing --------------------------------------------------------------------------------

    def _update(self, parts: list[str], change: Callable[[ManifestBody], ManifestBody]) -> None:
        node, key, kv, space = self._locate(parts)
        self.tree.update(node, key, change, kv, space)
        self.save()  # the new high-water marks, so a server cannot fork this write away

    def mkdir(self, path: str, *, parents: bool = False) -> None:
        parts = _parts(path)
        if not parts:
            raise UsageError("the root folder exists already")
        for i in range(0 if parents else len(parts) - 1, len(parts)):
            self._mkdir_one(parts[: i + 1], exist_ok=parents)

    def _mkdir_one(self, parts: list[str], *, exist_ok: bool) -> None:
        _no_mount_name(parts)
        node, key = os.urandom(16), FolderKey.generate()
        existed = False

        def add(body: ManifestBody) -> ManifestBody:
            nonlocal existed
            current = _entry(body, parts[-1])
            if current is not None:
                if isinstance(current, FolderEntry) and exist_ok:
                    existed = True
                    return body
                raise UsageError(f"/{'/'.join(parts)} exists already")
            entry = FolderEntry(parts[-1], node, key, 1, now_ms())
            return ManifestBody((*body.entries, entry), body.tombstones)

        space = self._space(parts[:-1])
        self.tree.update(node, key, lambda b: b, 1, space, create=True)  # before it is named
        self._update(parts[:-1], add)
        if existed:
            self.tree.drop(node, space)

    def put(self, local: Path, remote: str, *, progress: Progress | None = None) -> list[str]:
        """Upload a file or a folder (recursively) with `cp -r` semantics; returns paths made."""
        if not local.exists():
            raise LocalError(f"no such local file or folder: {local}")
        target = _parts(remote)
        if self.is_folder(remote) or not target:
            target = [*target, local.name]
        made: list[str] = []
        if local.is_dir():
            self._put_tree(local, target, made, progress)
        else:
            self._put_file(local, target, progress)
            made.append("/" + "/".join(target))
        return made

    def _put_tree(
        self, local: Path, target: list[str], made: list[str], progress: Progress | None
    ) -> None:
        self.mkdir("/" + "/".join(target), parents=True)
        made.append("/" + "/".join(target))
        children = [c for c in sorted(local.iterdir()) if not c.is_symlink()]
        small: list[tuple[Path, int]] = []  # with the size of their blob
        large: list[Path] = []
        for child in children:
            if child.is_file():
                blob = sealed_size(child.stat().st_size)
                if blob <= transfer.SMALL_BLOB:
                    small.append((child, blob))
                else:
                    large.append(child)
        if small:
            self._put_files(small, target, progress)
        for child in large:  # one by one, each resumable
            self._put_file(child, [*target, child.name], progress)
        made += ["/" + "/".join([*target, c.name]) for c in [f for f, _ in small] + large]
        for child in children:
            if child.is_dir():
                self._put_tree(child, [*target, child.name], made, progress)

    def _put_files(
        self, files: list[tuple[Path, int]], target: list[str], progress: Progress | None
    ) -> None:
        """Small files (with their blob sizes) into one folder: the tiniest in batches, the
        rest in parallel, then one manifest write."""
        parent = self._folder(target)
        api = self._api(parent.space)
        tiny: list[tuple[tuple[Path, bytes, int, FileKey], int]] = []
        rest: list[tuple[Path, bytes, int, FileKey]] = []
        for f, blob_size in files:
            check_name(f.name)
            found = _entry(parent.body, f.name)
            if isinstance(found, FolderEntry):
                raise UsageError(f"/{'/'.join([*target, f.name])} is a folder")
            node = found.node_id if found else os.urandom(16)
            version = found.content_version + 1 if found else 1
            job = (f, node, version, FileKey.generate())
            if blob_size <= BATCH_ITEM:
                tiny.append((job, blob_size))
            else:
                rest.append(job)
        resume_dir = self.store.home / "uploads" / self.owner.hex()

        def send(job: tuple[Path, bytes, int, FileKey]) -> FileEntry:
            f, node, version, key = job
            size = transfer.upload(
                api, f, key=key, node_id=node, version=version, vault=self.opened.vault,
                owner=self.owner, resume_dir=resume_dir, progress=progress or (lambda n: None),
            )  # fmt: skip
            mtime = int(f.stat().st_mtime * 1000)
            return FileEntry(f.name, node, key, version, size, mtime)

        def send_group(group: list[tuple[Path, bytes, int, FileKey]]) -> list[FileEntry]:
            sealed, made = [], []
            for f, node, version, key in group:
                blob, size = transfer.seal_small(f, key=key, node_id=node, version=version)
                sealed.append((blob_id(node, version), blob))
                mtime = int(f.stat().st_mtime * 1000)
                made.append(FileEntry(f.name, node, key, version, size, mtime))
            transfer.send_batch(api, sealed)
            if progress:
                progress(sum(len(b) for _, b in sealed))
            return made

        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            entries = [e for made in pool.map(send_group, _groups(tiny)) for e in made]
            entries += pool.map(send, rest)
        replaced: list[FileEntry] = []

        def add(body: ManifestBody) -> ManifestBody:
            replaced.clear()
            for new in entries:
                current = _entry(body, new.name)
                if isinstance(current, FolderEntry):
                    raise UsageError(f"/{'/'.join([*target, new.name])} is a folder")
                if isinstance(current, FileEntry):
                    if (
                        current.node_id == new.node_id
                        and current.content_version >= new.content_version
                    ):
                        raise _newer_meanwhile()
                    replaced.append(current)
            names = {e.name for e in entries}
            others = tuple(e for e in body.entries if e.name not in names)
            return ManifestBody((*others, *entries), body.tombstones)

        try:
            self._update(target, add)
        except ConflictError as exc:
            if exc.code == NEWER:  # nothing names what we sent: do not leave it behind
                for e in entries:
                    self._delete_blob(e, parent.space)
            raise
        for old in replaced:
            self._delete_blob(old, parent.space)

    def _put_file(self, local: Path, target: list[str], progress: Progress | None) -> None:
        check_name(target[-1])
        _no_mount_name(target)
        vault, owner = self.opened.vault, self.owner
        parent = self._folder(target[:-1])
        api = self._api(parent.space)
        resume_dir = self.store.home / "uploads" / self.owner.hex()
        done = None
        for rec in transfer.pending_upload(resume_dir, local):
            done = transfer.resume_upload(
                api,
                rec,
                local,
                vault=vault,
                owner=owner,
                progress=progress or (lambda n: None),
            )
            if done is not None:
                break
        if done is None:
            found = _entry(parent.body, target[-1])
            existing = found if isinstance(found, FileEntry) else None
            node = existing.node_id if existing else os.urandom(16)
            version = existing.content_version + 1 if existing else 1
            key = FileKey.generate()  # a fresh key for every file version (P-NONCE)
            size = transfer.upload(
                api,
                local,
                key=key,
                node_id=node,
                version=version,
                vault=vault,
                owner=owner,
                resume_dir=resume_dir,
                progress=progress or (lambda n: None),
            )
        else:
            node, key, version, size = done
        mtime = int(local.stat().st_mtime * 1000)
        entry = FileEntry(target[-1], node, key, version, size, mtime)
        replaced: list[FileEntry] = []

        def add(body: ManifestBody) -> ManifestBody:
            current = _entry(body, target[-1])
            if isinstance(current, FolderEntry):
                raise UsageError(f"/{'/'.join(target)} is a folder")
            if (
                isinstance(current, FileEntry)
                and current.node_id == node
                and current.content_version >= version
            ):
                raise _newer_meanwhile()
            others = tuple(e for e in body.entries if e.name != target[-1])
            if isinstance(current, FileEntry):
                replaced.append(current)
            return ManifestBody((*others, entry), body.tombstones)

        try:
            self._update(target[:-1], add)
        except ConflictError as exc:
            if exc.code == NEWER:  # nothing names what we sent: do not leave it behind
                self._delete_blob(entry, parent.space)
            raise
        for old in replaced:
            self._delete_blob(old, parent.space)

    def _delete_blob(self, entry: FileEntry, space: Space | None) -> None:
        with contextlib.suppress(NotFoundError):
            self._api(space).request(
                "DELETE", f"/v1/blobs/{blob_id(entry.node_id, entry.content_version).hex()}"
            )

    def get(
        self,
        remote: str,
        local: Path,
        *,
        progress: Progress | None = None,
        escape_names: bool = False,
    ) -> list[Path]:
        """Download a file or folder with `cp -r` semantics; returns the local paths written.

        A name unsafe on some OS is refused unless `escape_names` (see `local_names`)."""
        entry = self.stat(remote)
        name = entry.name if entry is not None else "vault"
        if local.is_dir():
            name = local_name(name, escape=escape_names, path=remote)
        dest = local / name if local.is_dir() else local
        written: list[Path] = []
        if isinstance(entry, FileEntry):
            transfer.download(
                self._api(self._space(_parts(remote)[:-1])),
                dest,
                key=entry.file_key,
                node_id=entry.node_id,
                version=entry.content_version,
                size=entry.size,
                progress=progress or (lambda n: None),
            )
            written.append(dest)
            return written
        self._get_folder(self._folder(_parts(remote)), dest, written, progress, escape_names)
        return written

    def _get_folder(
        self,
        folder: Folder,
        dest: Path,
        written: list[Path],
        progress: Progress | None,
        escape: bool = False,
    ) -> None:
        """A folder's files in parallel, then its subfolders, from the verified manifest."""
        here = local_names([e.name for e in folder.body.entries], escape=escape, base=str(dest))
        dest.mkdir(parents=True, exist_ok=True)
        api = self._api(folder.space)
        files = [e for e in folder.body.entries if isinstance(e, FileEntry)]

        def fetch(e: FileEntry) -> Path:
            transfer.download(
                api, dest / here[e.name], key=e.file_key, node_id=e.node_id,
                version=e.content_version, size=e.size, progress=progress or (lambda n: None),
            )  # fmt: skip
            return dest / here[e.name]

        def fetch_group(group: list[FileEntry]) -> list[Path]:
            got = transfer.fetch_batch(api, [blob_id(e.node_id, e.content_version) for e in group])
            blobs = []
            for e in group:  # the signed listing names each one: all there before any is written
                blob = got.get(blob_id(e.node_id, e.content_version))
                if blob is None:  # mutant: vault.batch-missing
                    raise IntegrityError(f"the server left the content of {e.name} out")
                blobs.append((e, blob))
            for e, blob in blobs:
                transfer.write_verified(
                    blob, dest / here[e.name], key=e.file_key, node_id=e.node_id,
                    version=e.content_version, size=e.size,
                )  # fmt: skip
                if progress:
                    progress(len(blob))
            return [dest / here[e.name] for e in group]

        tiny = [(e, sealed_size(e.size)) for e in files if sealed_size(e.size) <= BATCH_ITEM]
        rest = [e for e in files if sealed_size(e.size) > BATCH_ITEM]
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            written += [p for done in pool.map(fetch_group, _groups(tiny)) for p in done]
            written += pool.map(fetch, rest)
        for e in folder.body.entries:
            if isinstance(e, FolderEntry):
                space = folder.space or self.shares.own_space(e.node_id)
                sub, _ = self.tree.read(e.node_id, e.folder_key, e.key_version, space)
                self._get_folder(sub, dest / here[e.name], written, progress, escape)

    def mv(self, src: str, dst: str) -> None:
        s, d = _parts(src), _parts(dst)
        if not s:
            raise UsageError("cannot move the root folder")
        entry = self.stat(src)
        if entry is None:
            raise UsageError("cannot move the root folder")
        if self.is_folder(dst) or not d:
            d = [*d, s[-1]]
        if d[: len(s)] == s:
            raise UsageError("cannot move a folder into itself")
        _no_mount_name(d)
        from_space, to_space = self._space(s[:-1]), self._space(d[:-1])
        if (from_space and from_space.node_id) != (to_space and to_space.node_id):
            raise UsageError("moving into or out of a shared folder: copy it (get, put) instead")
        moved = _renamed(entry, d[-1])

        def add(body: ManifestBody) -> ManifestBody:
            if _entry(body, d[-1]) is not None:
                raise UsageError(f"/{'/'.join(d)} exists already")
            return ManifestBody((*body.entries, moved), body.tombstones)

        def remove(body: ManifestBody) -> ManifestBody:
            return ManifestBody(
                tuple(e for e in body.entries if e.node_id != entry.node_id or e.name != s[-1]),
                body.tombstones,
            )

        if s[:-1] == d[:-1]:
            self._update(s[:-1], lambda b: add(remove(b)))
        else:  # add first, then remove: a crash in between leaves a copy, never a loss
            self._update(d[:-1], add)
            self._update(s[:-1], remove)

    def rm(self, path: str, *, recursive: bool = False) -> None:
        parts = _parts(path)
        entry = self.stat(path)
        if entry is None:
            raise UsageError("cannot remove the root folder")
        if isinstance(entry, FolderEntry):
            children = self.ls(path)
            if children and not recursive:
                raise UsageError(f"{path} is a folder that is not empty (use -r)")
            for child in children:
                self.rm(child.path, recursive=True)
        tomb = Tombstone(entry.node_id, now_ms())

        def remove(body: ManifestBody) -> ManifestBody:
            rest = tuple(e for e in body.entries if e.name != parts[-1])
            tombs = tuple(t for t in body.tombstones if t.node_id != entry.node_id)
            return ManifestBody(rest, (*tombs, tomb))

        self._update(parts[:-1], remove)
        space = self._space(parts[:-1])
        if isinstance(entry, FileEntry):
            self._delete_blob(entry, space)
        else:
            self.tree.drop(entry.node_id, space)
            self.shares.forget(entry.node_id)
            self.save()

    # --- verification ----------------------------------------------------------------------------

    def verify(self, path: str = "/") -> tuple[int, int, list[Problem]]:
        """Download and authenticate every manifest and blob; returns (folders, files, problems)."""
        result = verify_tree(self, _parts(path))
        self.save()
        return result


NEWER = "newer_version"

T = TypeVar("T")


def _groups(items: list[tuple[T, int]]) -> list[list[T]]:
    """(item, blob size) pairs cut into batches of at most BATCH_COUNT items and about
    BATCH_BYTES of blobs."""
    out: list[list[T]] = []
    group: list[T] = []
    size = 0
    for item, n in items:
        if group and (size + n > BATCH_BYTES or len(group) >= BATCH_COUNT):
            out.append(group)
            group, size = [], 0
        group.append(item)
        size += n
    if group:
        out.append(group)
    return out


def _newer_meanwhile() -> ConflictError:
    """Another device wrote a newer version of the file while this one uploaded."""
    return ConflictError(409, NEWER, "a newer version was written meanwhile; run put again")


def _no_mount_name(parts: list[str]) -> None:
    if len(parts) == 1 and parts[0].startswith("@"):
        raise UsageError("names starting with @ are kept for shares at the top level")


def _renamed(entry: FileEntry | FolderEntry, name: str) -> FileEntry | FolderEntry:
    if isinstance(entry, FileEntry):
        return FileEntry(
            name,
            entry.node_id,
            entry.file_key,
            entry.content_version,
            entry.size,
            entry.mtime_ms,
        )
    return FolderEntry(name, entry.node_id, entry.folder_key, entry.key_version, entry.mtime_ms)
