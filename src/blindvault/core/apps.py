"""Per-app containers (issue 16; docs/spec/apps.md): where a container lives, its keys,
and the account's signature that makes an app credential's key one the user authorized.

    node_id(app)     = HKDF-SHA-256(Kvault, salt="", info=LABEL_APP_NODE || 0x00 || app, 16)
    key(app, v)      = HKDF-SHA-256(Kvault, salt="", info=LABEL_APP_KEY || 0x00 || app
                                    || 0x00 || u64 v, 32)                (v = key version)
    attestation      = Ed25519(account seed, LABEL_APP_ATTEST || 0x00 || owner[16]
                               || text16(app) || app identity bundle)
    local(app seed)  = HKDF-SHA-256(app identity secret, info=LABEL_APP_LOCAL, 32)
    envelope_id(app) = SHA-256(LABEL_APP_ENVELOPE || 0x00 || app)[:16]

An app's container key reaches an app in a share envelope (spec §envelopes) whose share id
is `envelope_id(container's app)`, node id the container root, signed by the account and
sealed to the receiving app's key: the envelope itself says *which* app's container it
opens, so a server that files one grant's envelope under another app's name is caught.

The container's space id is its root node id (hex). Both derive from the vault key, so
every device of the account finds the container without asking the server, the server
cannot link a space id to an app id by itself (it learns the pair at authorization), and
nothing about a container is lost with a device. An app credential's identity is a fresh
key pair whose bundle names `<app id>@app.invalid`; the account identity signs it
(`attest`) so the account's other devices accept the app's manifests (`check_attestation`).
"""

from __future__ import annotations

from blindvault.core import primitives
from blindvault.core.constants import (
    APP_EMAIL_DOMAIN,
    ID_SIZE,
    KEY_SIZE,
    LABEL_APP_ATTEST,
    LABEL_APP_ENVELOPE,
    LABEL_APP_KEY,
    LABEL_APP_LOCAL,
    LABEL_APP_NODE,
    MAGIC_MANIFEST,
)
from blindvault.core.encoding import Reader, Writer
from blindvault.core.identity import Identity, IdentityBundle
from blindvault.core.keys import FolderKey, VaultKey
from blindvault.errors import FormatError, IntegrityError

__all__ = [
    "app_email",
    "attest",
    "check_attestation",
    "container_key",
    "container_node",
    "envelope_id",
    "local_key",
    "manifest_key_version",
]


def app_email(app_id: str) -> str:
    """The name in an app credential's identity bundle."""
    return f"{app_id}@{APP_EMAIL_DOMAIN}"


def container_node(vault: VaultKey, app_id: str) -> bytes:
    info = LABEL_APP_NODE + b"\x00" + app_id.encode("ascii")
    return primitives.hkdf_sha256(vault.material, salt=b"", info=info, length=ID_SIZE)


def container_key(vault: VaultKey, app_id: str, key_version: int) -> FolderKey:
    info = Writer(LABEL_APP_KEY + b"\x00" + app_id.encode("ascii") + b"\x00").u64(key_version)
    raw = primitives.hkdf_sha256(vault.material, salt=b"", info=info.bytes(), length=KEY_SIZE)
    return FolderKey(raw)


def envelope_id(app_id: str) -> bytes:
    """The share id of every envelope carrying app `app_id`'s container key."""
    return primitives.sha256(LABEL_APP_ENVELOPE + b"\x00" + app_id.encode("ascii"))[:ID_SIZE]


def local_key(app: Identity) -> VaultKey:
    raw = primitives.hkdf_sha256(app.secret, salt=b"", info=LABEL_APP_LOCAL, length=KEY_SIZE)
    return VaultKey(raw)


def _attested(owner: bytes, app_id: str, bundle: IdentityBundle) -> bytes:
    w = Writer(LABEL_APP_ATTEST + b"\x00").fixed(owner, ID_SIZE).text16(app_id)
    return w.raw(bundle.encode()).bytes()


def attest(account: Identity, owner: bytes, app_id: str, bundle: IdentityBundle) -> bytes:
    """The account identity's signature: `bundle` is app `app_id`'s credential key."""
    return account.sign(_attested(owner, app_id, bundle))


def check_attestation(
    account: IdentityBundle, owner: bytes, app_id: str, bundle: IdentityBundle, signature: bytes
) -> None:
    """IntegrityError unless the account signed `bundle` as app `app_id`'s key."""
    if bundle.email != app_email(app_id):  # mutant: core.app-attestation-name
        raise IntegrityError
    # mutant: core.app-attestation
    account.verify(_attested(owner, app_id, bundle), signature)


def manifest_key_version(sealed: bytes) -> int:
    """The key version a sealed manifest names in its head (spec manifest: "BVMF" 0x01
    node_id version key_version …), read *before* opening it to pick the key to derive.
    It is a hint until `open_manifest` verifies the signature over the head and the AEAD
    under the key derived for it; a wrong value only makes the open fail."""
    r = Reader(sealed)
    if r.take(len(MAGIC_MANIFEST)) != MAGIC_MANIFEST or r.u8() not in (1, 2):  # whole or paged
        raise FormatError("not a sealed manifest")
    r.take(ID_SIZE)
    r.u64()
    return r.u64()
