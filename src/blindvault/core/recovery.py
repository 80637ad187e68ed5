"""Recovery key encodings: 24 BIP39 English words, and SLIP-39 k-of-n shares.

The recovery key is 32 random bytes; BIP39 writes 256 bits of entropy plus an 8-bit
SHA-256 checksum as 24 words of 11 bits from the English list (library `mnemonic`).
Social recovery splits the same key with SLIP-39 (library `shamir-mnemonic`): one group,
threshold k of n ≤ 16 shares, empty passphrase, iteration exponent 1; each share is a
33-word mnemonic with its own RS1024 checksum.

Errors: text that is not a valid phrase or share (unknown word, wrong count, bad
checksum) is a `FormatError` naming the position, never the words; well-formed shares
that do not fit together (too few, from different splits) are an `IntegrityError`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import shamir_mnemonic
from mnemonic import Mnemonic

from blindvault.core.constants import (
    KEY_SIZE,
    RECOVERY_WORDS,
    SLIP39_ITERATION_EXPONENT,
    SLIP39_MAX_SHARES,
)
from blindvault.core.keys import RecoveryKey
from blindvault.errors import FormatError, IntegrityError, UsageError

__all__ = [
    "combine_recovery_shares",
    "recovery_key_from_words",
    "recovery_words",
    "share_info",
    "split_recovery_key",
]


@lru_cache(maxsize=1)
def _bip39() -> Mnemonic:
    return Mnemonic("english")


def _normalize(text: str | Sequence[str]) -> list[str]:
    joined = text if isinstance(text, str) else " ".join(text)
    if not isinstance(joined, str):
        raise FormatError("recovery words must be text")
    return unicodedata.normalize("NFKD", joined).lower().split()


def recovery_words(key: RecoveryKey) -> list[str]:
    """The recovery key as 24 BIP39 English words."""
    return str(_bip39().to_mnemonic(key.material)).split(" ")


def recovery_key_from_words(text: str | Sequence[str]) -> RecoveryKey:
    """Parse 24 words (any case and spacing); `FormatError` on anything else."""
    words = _normalize(text)
    if len(words) != RECOVERY_WORDS:
        raise FormatError(f"expected {RECOVERY_WORDS} recovery words, got {len(words)}")
    known = set(_bip39().wordlist)
    for i, word in enumerate(words, 1):
        if word not in known:
            raise FormatError(f"word {i} is not in the BIP39 English list")
    phrase = " ".join(words)
    if not _bip39().check(phrase):
        raise FormatError("the recovery words' checksum does not match (a word is wrong)")
    entropy = bytes(_bip39().to_entropy(phrase))
    if len(entropy) != KEY_SIZE:
        raise FormatError("recovery words of the wrong length")
    return RecoveryKey(entropy)


def split_recovery_key(key: RecoveryKey, threshold: int, shares: int) -> list[str]:
    """SLIP-39 shares of the recovery key: any `threshold` of `shares` recover it."""
    if not 1 <= threshold <= shares <= SLIP39_MAX_SHARES:
        raise UsageError(f"need 1 <= threshold <= shares <= {SLIP39_MAX_SHARES}")
    if threshold == 1 and shares != 1:
        raise UsageError("SLIP-39 allows a threshold of 1 only with a single share")
    groups = shamir_mnemonic.generate_mnemonics(
        group_threshold=1,
        groups=[(threshold, shares)],
        master_secret=key.material,
        passphrase=b"",
        iteration_exponent=SLIP39_ITERATION_EXPONENT,
    )
    return [str(share) for share in groups[0]]


def share_info(share: str) -> tuple[int, int, int]:
    """(split identifier, member index, member threshold) of one SLIP-39 share."""
    try:
        parsed = shamir_mnemonic.Share.from_mnemonic(" ".join(_normalize(share)))
    except (shamir_mnemonic.MnemonicError, ValueError, IndexError, KeyError):
        raise FormatError("not a valid SLIP-39 share") from None
    return parsed.identifier, parsed.index, parsed.member_threshold


def combine_recovery_shares(shares: Sequence[str]) -> RecoveryKey:
    """Recover the key from SLIP-39 shares."""
    if isinstance(shares, str) or not shares:
        raise FormatError("give the shares as a list of mnemonics")
    parsed = []
    for i, share in enumerate(shares, 1):
        try:
            parsed.append(shamir_mnemonic.Share.from_mnemonic(" ".join(_normalize(share))))
        except (shamir_mnemonic.MnemonicError, ValueError, IndexError, KeyError):
            raise FormatError(f"share {i} is not a valid SLIP-39 mnemonic") from None
    try:
        secret = shamir_mnemonic.combine_mnemonics([p.mnemonic() for p in parsed], b"")
    except (shamir_mnemonic.MnemonicError, ValueError, IndexError, KeyError):
        raise IntegrityError(
            "the shares do not combine (too few, or from different splits)"
        ) from None
    if len(secret) != KEY_SIZE:
        raise FormatError("the shares hold a secret of the wrong length")
    return RecoveryKey(bytes(secret))
