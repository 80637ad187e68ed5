"""BIP39 English and SLIP-39 vectors, through the libraries as blindvault.core.recovery uses
them and through our own API where the case fits it (32-byte keys, empty passphrase)."""

from __future__ import annotations

from typing import Any

import pytest
import shamir_mnemonic
from mnemonic import Mnemonic

from blindvault.core.keys import RecoveryKey
from blindvault.core.recovery import (
    combine_recovery_shares,
    recovery_key_from_words,
    recovery_words,
)
from blindvault.errors import BlindvaultError
from helpers.vectors import load

BIP39 = load("bip39/vectors.json")["english"]
SLIP39 = load("slip39/vectors.json")
M = Mnemonic("english")


def test_counts() -> None:
    assert len(BIP39) == 24
    assert sum(len(c[0]) == 64 for c in BIP39) == 8
    assert len(SLIP39) == 45
    assert sum(c[2] == "" for c in SLIP39) == 30


@pytest.mark.parametrize("case", BIP39, ids=[c[0][:8] for c in BIP39])
def test_bip39_english(case: list[str]) -> None:
    entropy, words, seed = bytes.fromhex(case[0]), case[1], bytes.fromhex(case[2])
    assert M.to_mnemonic(entropy) == words
    assert M.check(words)
    assert bytes(M.to_entropy(words)) == entropy
    assert M.to_seed(words, passphrase="TREZOR") == seed
    if len(entropy) == 32:  # our recovery key size: through our API too
        assert " ".join(recovery_words(RecoveryKey(entropy))) == words
        assert recovery_key_from_words(words.upper()).material == entropy


@pytest.mark.parametrize("case", SLIP39, ids=[c[0][:40] for c in SLIP39])
def test_slip39(case: list[Any]) -> None:
    description, shares, secret_hex = case[0], case[1], case[2]
    if secret_hex:
        got = shamir_mnemonic.combine_mnemonics(shares, b"TREZOR")
        assert got == bytes.fromhex(secret_hex), description
    else:
        with pytest.raises((shamir_mnemonic.MnemonicError, ValueError)):
            shamir_mnemonic.combine_mnemonics(shares, b"TREZOR")
        # our API never lets another exception out
        with pytest.raises(BlindvaultError):
            combine_recovery_shares(shares)
