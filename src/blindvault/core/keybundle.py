"""The account key bundle: everything a device needs to open an account, sealed.

    bundle = "BVKB" || 0x01 || owner[16] || version u64 || recovery_version u64
             || identity_id[16]
             || identity_created_ms u64 || root_node[16]
             || var16(Kvault under Km)            (wrapped key, kind 1, version = version)
             || var16(Kvault under recovery key)  (kind 2, version = recovery_version)
             || var16(identity secret under Kvault) (kind 3)
             || var16(root folder key under Kvault) (kind 4, object = root_node)

Each part is authenticated by its own wrap (typed AAD naming the owner and the bundle
version); the clear fields are authenticated because they are in those AADs or because
the identity rebuilt from the secret must match the pinned fingerprint. A client also
refuses a bundle whose version is lower than the one it has seen (a server replaying a
bundle from before a password change would otherwise revive the old password).
"""

from __future__ import annotations

from dataclasses import dataclass

from blindvault.core import wrap
from blindvault.core.constants import ID_SIZE, MAGIC_KEY_BUNDLE
from blindvault.core.encoding import Reader, Writer, check_header, header
from blindvault.core.identity import Identity
from blindvault.core.keys import FolderKey, MasterKey, RecoveryKey, VaultKey

__all__ = ["KeyBundle", "OpenedBundle", "new_account_bundle"]

_MAX_PART = 4096


@dataclass(frozen=True, slots=True)
class KeyBundle:
    owner: bytes
    version: int
    recovery_version: int
    identity_id: bytes
    identity_created_ms: int
    root_node: bytes
    vault_by_master: bytes
    vault_by_recovery: bytes
    identity_by_vault: bytes
    root_key_by_vault: bytes

    def encode(self) -> bytes:
        w = Writer(header(MAGIC_KEY_BUNDLE)).fixed(self.owner, ID_SIZE).u64(self.version)
        w.u64(self.recovery_version)
        w.fixed(self.identity_id, ID_SIZE).u64(self.identity_created_ms)
        w.fixed(self.root_node, ID_SIZE)
        for part in (
            self.vault_by_master,
            self.vault_by_recovery,
            self.identity_by_vault,
            self.root_key_by_vault,
        ):
            w.var16(part)
        return w.bytes()

    @classmethod
    def decode(cls, data: bytes) -> KeyBundle:
        r = Reader(data)
        check_header(r, MAGIC_KEY_BUNDLE)
        owner, version, recovery_version = r.take(ID_SIZE), r.u64(), r.u64()
        identity_id, created = r.take(ID_SIZE), r.u64()
        root_node = r.take(ID_SIZE)
        parts = [r.var16(max_size=_MAX_PART) for _ in range(4)]
        r.finish()
        return cls(owner, version, recovery_version, identity_id, created, root_node, *parts)

    def open(self, master: MasterKey, email: str) -> OpenedBundle:
        """Unwrap with the password-derived master key."""
        vault = wrap.unwrap_vault_key(master, self.vault_by_master, self.owner, self.version)
        return self._open_with_vault(vault, email)

    def open_with_recovery(self, recovery: RecoveryKey, email: str) -> OpenedBundle:
        """Unwrap with the recovery key (forgotten password, new device)."""
        vault = wrap.unwrap_vault_key_with_recovery(
            recovery, self.vault_by_recovery, self.owner, self.recovery_version
        )
        return self._open_with_vault(vault, email)

    def open_with_vault(self, vault: VaultKey, email: str) -> OpenedBundle:
        """Unwrap with the vault key itself (received from a paired device)."""
        return self._open_with_vault(vault, email)

    def _open_with_vault(self, vault: VaultKey, email: str) -> OpenedBundle:
        secret = wrap.unwrap_identity_secret(
            vault, self.identity_by_vault, self.owner, self.identity_id, 1
        )
        identity = Identity(secret, email, self.identity_created_ms)
        root_key = wrap.unwrap_folder_key(
            vault, self.root_key_by_vault, self.owner, self.root_node, 1
        )
        return OpenedBundle(self, vault, identity, root_key)

    def rewrapped(
        self, vault: VaultKey, master: MasterKey, recovery: RecoveryKey | None = None
    ) -> KeyBundle:
        """The next version after a password change (and, with `recovery`, new words).

        Only Kvault's wraps change; the identity and root key wraps are carried over,
        so the work does not depend on how many files exist.
        """
        version = self.version + 1
        by_recovery, recovery_version = self.vault_by_recovery, self.recovery_version
        if recovery is not None:
            recovery_version = version
            by_recovery = wrap.wrap_vault_key_for_recovery(recovery, vault, self.owner, version)
        return KeyBundle(
            self.owner,
            version,
            recovery_version,
            self.identity_id,
            self.identity_created_ms,
            self.root_node,
            wrap.wrap_vault_key(master, vault, self.owner, version),
            by_recovery,
            self.identity_by_vault,
            self.root_key_by_vault,
        )

    def with_new_recovery(self, vault: VaultKey, recovery: RecoveryKey) -> KeyBundle:
        """The next version with only a new recovery wrap (organisation recovery: the
        password is unknown). The master-key wrap is carried over and no longer opens (its
        AAD names the old version): the new recovery words, then a new password, follow."""
        version = self.version + 1
        return KeyBundle(
            self.owner,
            version,
            version,
            self.identity_id,
            self.identity_created_ms,
            self.root_node,
            self.vault_by_master,
            wrap.wrap_vault_key_for_recovery(recovery, vault, self.owner, version),
            self.identity_by_vault,
            self.root_key_by_vault,
        )


@dataclass(frozen=True, slots=True)
class OpenedBundle:
    bundle: KeyBundle
    vault: VaultKey
    identity: Identity
    root_key: FolderKey


def new_account_bundle(
    owner: bytes,
    email: str,
    master: MasterKey,
    recovery: RecoveryKey,
    identity: Identity,
    identity_id: bytes,
    root_node: bytes,
) -> OpenedBundle:
    """Fresh vault and root folder keys for a new account, wrapped as version 1."""
    vault, root_key = VaultKey.generate(), FolderKey.generate()
    bundle = KeyBundle(
        owner,
        1,
        1,
        identity_id,
        identity.bundle.created_ms,
        root_node,
        wrap.wrap_vault_key(master, vault, owner, 1),
        wrap.wrap_vault_key_for_recovery(recovery, vault, owner, 1),
        wrap.wrap_identity_secret(vault, identity.secret, owner, identity_id, 1),
        wrap.wrap_folder_key(vault, root_key, owner, root_node, 1),
    )
    return OpenedBundle(bundle, vault, identity, root_key)
