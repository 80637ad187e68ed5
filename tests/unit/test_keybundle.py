from __future__ import annotations

import pytest

from blindvault.core.identity import Identity
from blindvault.core.keybundle import KeyBundle, new_account_bundle
from blindvault.core.keys import MasterKey, RecoveryKey
from blindvault.errors import FormatError, IntegrityError

OWNER, IDENT, ROOT = b"\x01" * 16, b"\x02" * 16, b"\x03" * 16


def test_create_open_and_password_change(alice: Identity) -> None:
    master, recovery = MasterKey.generate(), RecoveryKey.generate()
    opened = new_account_bundle(OWNER, "alice@example.org", master, recovery, alice, IDENT, ROOT)
    data = opened.bundle.encode()
    again = KeyBundle.decode(data).open(master, "alice@example.org")
    assert again.vault == opened.vault
    assert again.root_key == opened.root_key
    assert again.identity.bundle == alice.bundle
    by_words = KeyBundle.decode(data).open_with_recovery(recovery, "alice@example.org")
    assert by_words.vault == opened.vault

    new_master = MasterKey.generate()
    v2 = opened.bundle.rewrapped(opened.vault, new_master)
    assert v2.version == 2
    assert v2.identity_by_vault == opened.bundle.identity_by_vault  # not rewritten
    assert v2.open(new_master, "alice@example.org").vault == opened.vault
    assert v2.open_with_recovery(recovery, "alice@example.org").vault == opened.vault
    with pytest.raises(IntegrityError):
        v2.open(master, "alice@example.org")  # the old password no longer opens it
    spliced = KeyBundle.decode(v2.encode())
    spliced = KeyBundle(
        *(getattr(spliced, f) for f in spliced.__slots__[:6]),  # type: ignore[arg-type]
        opened.bundle.vault_by_master,
        *(getattr(spliced, f) for f in spliced.__slots__[7:]),
    )
    with pytest.raises(IntegrityError):
        spliced.open(master, "alice@example.org")


def test_strict_decode(alice: Identity) -> None:
    opened = new_account_bundle(
        OWNER, "alice@example.org", MasterKey.generate(), RecoveryKey.generate(), alice, IDENT, ROOT
    )
    data = opened.bundle.encode()
    with pytest.raises(FormatError):
        KeyBundle.decode(data + b"\x00")
    with pytest.raises(FormatError):
        KeyBundle.decode(data[:-1])
