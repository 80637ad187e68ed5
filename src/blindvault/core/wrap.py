"""AEAD key wrapping with typed AAD (P-BIND, P-KEYSEP).

    wrapped = "BVWK" || 0x01 || kind u8 || key_version u64 || owner[16] || object[16]
              || nonce[12] || AES-256-GCM(subkey, nonce, payload, aad = the 42 bytes before nonce)
    subkey  = HKDF-SHA-256(wrapping key, salt="", info=LABEL_WRAP || kind name, 32)

The kind selects both the AAD and the subkey, so a wrapped file key offered as a
folder key or as the vault key fails to open, and so does a wrapped key moved to
another owner, object or version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from blindvault.core import primitives
from blindvault.core.constants import (
    ED25519_SEED_SIZE,
    GCM_NONCE_SIZE,
    GCM_TAG_SIZE,
    ID_SIZE,
    KEY_SIZE,
    LABEL_WRAP,
    MAGIC_WRAPPED_KEY,
    MLKEM768_SEED_SIZE,
    WRAP_FILE_KEY,
    WRAP_FOLDER_KEY,
    WRAP_IDENTITY_BY_VAULT,
    WRAP_KIND_NAMES,
    WRAP_VAULT_BY_MASTER,
    WRAP_VAULT_BY_RECOVERY,
    X25519_KEY_SIZE,
)
from blindvault.core.encoding import Reader, Writer, check_header, header
from blindvault.core.keys import (
    FileKey,
    FolderKey,
    LinkKey,
    MasterKey,
    RecoveryKey,
    SecretKey,
    VaultKey,
)
from blindvault.errors import FormatError, IntegrityError, UsageError

__all__ = [
    "WrappedKey",
    "unwrap_file_key",
    "unwrap_folder_key",
    "unwrap_identity_secret",
    "unwrap_vault_key",
    "unwrap_vault_key_with_recovery",
    "wrap_file_key",
    "wrap_folder_key",
    "wrap_identity_secret",
    "wrap_vault_key",
    "wrap_vault_key_for_recovery",
]

_IDENTITY_SIZES = (
    ED25519_SEED_SIZE + X25519_KEY_SIZE,
    ED25519_SEED_SIZE + X25519_KEY_SIZE + MLKEM768_SEED_SIZE,
)
_PAYLOAD_SIZES: dict[int, tuple[int, ...]] = {
    WRAP_VAULT_BY_MASTER: (KEY_SIZE,),
    WRAP_VAULT_BY_RECOVERY: (KEY_SIZE,),
    WRAP_IDENTITY_BY_VAULT: _IDENTITY_SIZES,
    WRAP_FOLDER_KEY: (KEY_SIZE,),
    WRAP_FILE_KEY: (KEY_SIZE,),
}

K = TypeVar("K", bound=SecretKey)


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A decoded wrapped key: its typed header and its sealed payload."""

    kind: int
    key_version: int
    owner: bytes
    object_id: bytes
    nonce: bytes
    sealed: bytes

    def aad(self) -> bytes:
        w = Writer(header(MAGIC_WRAPPED_KEY)).u8(self.kind).u64(self.key_version)
        return w.fixed(self.owner, ID_SIZE).fixed(self.object_id, ID_SIZE).bytes()

    def encode(self) -> bytes:
        return self.aad() + self.nonce + self.sealed

    @classmethod
    def decode(cls, data: bytes) -> WrappedKey:
        r = Reader(data)
        check_header(r, MAGIC_WRAPPED_KEY)
        kind = r.u8()
        if kind not in _PAYLOAD_SIZES:
            raise FormatError("unknown wrapped-key kind")
        version = r.u64()
        owner = r.take(ID_SIZE)
        object_id = r.take(ID_SIZE)
        nonce = r.take(GCM_NONCE_SIZE)
        sealed = r.rest()
        if len(sealed) - GCM_TAG_SIZE not in _PAYLOAD_SIZES[kind]:
            raise FormatError("wrong wrapped-key length")
        return cls(kind, version, owner, object_id, nonce, sealed)


def _subkey(wrapping: SecretKey, kind: int) -> bytes:
    return primitives.hkdf_sha256(
        wrapping.material, salt=b"", info=LABEL_WRAP + WRAP_KIND_NAMES[kind], length=KEY_SIZE
    )


def _check_ids(owner: bytes, object_id: bytes, key_version: int) -> None:
    if len(owner) != ID_SIZE or len(object_id) != ID_SIZE:
        raise UsageError(f"owner and object ids must be {ID_SIZE} bytes")
    if not 0 <= key_version < 1 << 64:
        raise UsageError("key version out of range")


def _wrap_from_parts(
    wrapping: SecretKey,
    kind: int,
    payload: bytes,
    owner: bytes,
    object_id: bytes,
    key_version: int,
    nonce: bytes,
) -> bytes:
    """Deterministic inner function: the nonce is given (test vectors call this)."""
    _check_ids(owner, object_id, key_version)
    if len(payload) not in _PAYLOAD_SIZES[kind]:
        raise UsageError("wrong payload size for this kind of key")
    head = WrappedKey(kind, key_version, owner, object_id, nonce, b"")
    sealed = primitives.aes256gcm_seal(_subkey(wrapping, kind), nonce, payload, head.aad())
    return head.aad() + nonce + sealed


def _wrap(
    wrapping: SecretKey, kind: int, payload: bytes, owner: bytes, object_id: bytes, version: int
) -> bytes:
    nonce = primitives.random_bytes(GCM_NONCE_SIZE)
    return _wrap_from_parts(wrapping, kind, payload, owner, object_id, version, nonce)


def _unwrap(
    wrapping: SecretKey,
    kind: int,
    data: bytes,
    owner: bytes,
    object_id: bytes,
    key_version: int,
) -> bytes:
    """Open a wrapped key, checking that it is of `kind` for exactly this slot."""
    _check_ids(owner, object_id, key_version)
    wrapped = WrappedKey.decode(data)
    if (wrapped.kind, wrapped.owner, wrapped.object_id, wrapped.key_version) != (
        kind,
        owner,
        object_id,
        key_version,
    ):
        raise IntegrityError
    return primitives.aes256gcm_open(
        _subkey(wrapping, kind), wrapped.nonce, wrapped.sealed, wrapped.aad()
    )


def _as(cls: type[K], payload: bytes) -> K:
    return cls(payload)


# --- the slots -------------------------------------------------------------------------


def wrap_vault_key(master: MasterKey, vault: VaultKey, owner: bytes, version: int) -> bytes:
    """The vault key under the password-derived master key (re-written by a password change)."""
    return _wrap(master, WRAP_VAULT_BY_MASTER, vault.material, owner, owner, version)


def unwrap_vault_key(master: MasterKey, data: bytes, owner: bytes, version: int) -> VaultKey:
    return _as(VaultKey, _unwrap(master, WRAP_VAULT_BY_MASTER, data, owner, owner, version))


def wrap_vault_key_for_recovery(
    recovery: RecoveryKey, vault: VaultKey, owner: bytes, version: int
) -> bytes:
    """The vault key under the recovery key (the 24 words)."""
    return _wrap(recovery, WRAP_VAULT_BY_RECOVERY, vault.material, owner, owner, version)


def unwrap_vault_key_with_recovery(
    recovery: RecoveryKey, data: bytes, owner: bytes, version: int
) -> VaultKey:
    return _as(VaultKey, _unwrap(recovery, WRAP_VAULT_BY_RECOVERY, data, owner, owner, version))


def wrap_identity_secret(
    vault: VaultKey, secret: bytes, owner: bytes, identity_id: bytes, version: int
) -> bytes:
    """Identity private keys (Ed25519 seed || X25519 secret [|| ML-KEM-768 seed])."""
    return _wrap(vault, WRAP_IDENTITY_BY_VAULT, secret, owner, identity_id, version)


def unwrap_identity_secret(
    vault: VaultKey, data: bytes, owner: bytes, identity_id: bytes, version: int
) -> bytes:
    return _unwrap(vault, WRAP_IDENTITY_BY_VAULT, data, owner, identity_id, version)


def wrap_folder_key(
    wrapping: VaultKey | FolderKey | LinkKey,
    folder: FolderKey,
    owner: bytes,
    node_id: bytes,
    key_version: int,
) -> bytes:
    """A folder key under the vault key, a parent folder key or a link key."""
    return _wrap(wrapping, WRAP_FOLDER_KEY, folder.material, owner, node_id, key_version)


def unwrap_folder_key(
    wrapping: VaultKey | FolderKey | LinkKey,
    data: bytes,
    owner: bytes,
    node_id: bytes,
    key_version: int,
) -> FolderKey:
    return _as(FolderKey, _unwrap(wrapping, WRAP_FOLDER_KEY, data, owner, node_id, key_version))


def wrap_file_key(
    wrapping: VaultKey | FolderKey | LinkKey,
    file_key: FileKey,
    owner: bytes,
    node_id: bytes,
    content_version: int,
) -> bytes:
    """A file key (one content version of one file) under a folder, vault or link key."""
    return _wrap(wrapping, WRAP_FILE_KEY, file_key.material, owner, node_id, content_version)


def unwrap_file_key(
    wrapping: VaultKey | FolderKey | LinkKey,
    data: bytes,
    owner: bytes,
    node_id: bytes,
    content_version: int,
) -> FileKey:
    return _as(FileKey, _unwrap(wrapping, WRAP_FILE_KEY, data, owner, node_id, content_version))
