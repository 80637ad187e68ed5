from __future__ import annotations

import pytest

from blindvault.core import wrap
from blindvault.core.keys import FileKey, FolderKey, MasterKey, RecoveryKey, VaultKey
from blindvault.errors import FormatError, IntegrityError

OWNER = b"o" * 16
OTHER = b"p" * 16
NODE = b"n" * 16
NODE2 = b"m" * 16


def test_vault_key_round_trips_under_master_and_recovery() -> None:
    master, recovery, vault = MasterKey.generate(), RecoveryKey.generate(), VaultKey.generate()
    blob = wrap.wrap_vault_key(master, vault, OWNER, 1)
    assert wrap.unwrap_vault_key(master, blob, OWNER, 1) == vault
    rblob = wrap.wrap_vault_key_for_recovery(recovery, vault, OWNER, 1)
    assert wrap.unwrap_vault_key_with_recovery(recovery, rblob, OWNER, 1) == vault


def test_fresh_nonce_every_wrap() -> None:
    master, vault = MasterKey.generate(), VaultKey.generate()
    assert wrap.wrap_vault_key(master, vault, OWNER, 1) != wrap.wrap_vault_key(
        master, vault, OWNER, 1
    )


def test_wrong_key_fails() -> None:
    blob = wrap.wrap_vault_key(MasterKey.generate(), VaultKey.generate(), OWNER, 1)
    with pytest.raises(IntegrityError):
        wrap.unwrap_vault_key(MasterKey.generate(), blob, OWNER, 1)


def test_moved_to_another_slot_fails() -> None:
    parent, child = FolderKey.generate(), FileKey.generate()
    blob = wrap.wrap_file_key(parent, child, OWNER, NODE, 3)
    assert wrap.unwrap_file_key(parent, blob, OWNER, NODE, 3) == child
    for owner, node, version in ((OTHER, NODE, 3), (OWNER, NODE2, 3), (OWNER, NODE, 4)):
        with pytest.raises(IntegrityError):
            wrap.unwrap_file_key(parent, blob, owner, node, version)


def test_a_key_of_one_type_never_unwraps_as_another() -> None:
    """P-KEYSEP: same wrapping key bytes, same slot; only the kind differs."""
    raw = b"k" * 32
    file_blob = wrap.wrap_file_key(FolderKey(raw), FileKey.generate(), OWNER, NODE, 1)
    with pytest.raises(IntegrityError):
        wrap.unwrap_folder_key(FolderKey(raw), file_blob, OWNER, NODE, 1)
    # rewrite the kind byte: the header check passes, the subkey and AAD differ
    forged = file_blob[:5] + bytes([4]) + file_blob[6:]
    with pytest.raises(IntegrityError):
        wrap.unwrap_folder_key(FolderKey(raw), forged, OWNER, NODE, 1)
    vault_blob = wrap.wrap_vault_key(MasterKey(raw), VaultKey.generate(), OWNER, 1)
    with pytest.raises(IntegrityError):
        wrap.unwrap_vault_key_with_recovery(RecoveryKey(raw), vault_blob, OWNER, 1)


def test_identity_secret_sizes() -> None:
    vault = VaultKey.generate()
    for size in (64, 128):
        secret = bytes(range(size))
        blob = wrap.wrap_identity_secret(vault, secret, OWNER, NODE, 1)
        assert wrap.unwrap_identity_secret(vault, blob, OWNER, NODE, 1) == secret


@pytest.mark.parametrize(
    "mangle",
    [
        lambda b: b[:-1],
        lambda b: b + b"\x00",
        lambda b: b"XXXX" + b[4:],
        lambda b: b[:4] + b"\x02" + b[5:],
        lambda b: b[:5] + b"\x09" + b[6:],
        lambda b: b"",
    ],
)
def test_malformed_is_format_error(mangle: object) -> None:
    blob = wrap.wrap_file_key(FolderKey.generate(), FileKey.generate(), OWNER, NODE, 1)
    with pytest.raises(FormatError):
        wrap.WrappedKey.decode(mangle(blob))  # type: ignore[operator]
