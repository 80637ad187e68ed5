from __future__ import annotations

import pytest

from blindvault.core.kdf import (
    KdfParams,
    account_id,
    check_kdf_params,
    derive_account_keys,
    kdf_salt,
    normalize_email,
)
from blindvault.errors import FormatError, KdfPolicyError, UsageError

CHEAP = KdfParams.argon2id(memory_kib=19456, iterations=2, lanes=1)


def test_defaults_are_rfc9106_second_recommendation() -> None:
    p = KdfParams.argon2id()
    assert (p.memory_kib, p.iterations, p.lanes) == (65536, 3, 4)
    assert KdfParams.pbkdf2().iterations == 600_000
    check_kdf_params(p)
    check_kdf_params(KdfParams.pbkdf2())


@pytest.mark.parametrize(
    "weak",
    [
        KdfParams.argon2id(memory_kib=8, iterations=1, lanes=1),
        KdfParams.argon2id(memory_kib=19455, iterations=3, lanes=1),
        KdfParams.argon2id(memory_kib=65536, iterations=1, lanes=4),
        KdfParams.pbkdf2(iterations=599_999),
        KdfParams.pbkdf2(iterations=100),
    ],
)
def test_floor_refuses_before_the_password_is_used(weak: KdfParams) -> None:
    with pytest.raises(KdfPolicyError):
        check_kdf_params(weak)
    with pytest.raises(KdfPolicyError):
        derive_account_keys("correct horse", "a@b.c", weak)


def test_ceiling_refuses_dos_parameters() -> None:
    with pytest.raises(KdfPolicyError):
        check_kdf_params(KdfParams.argon2id(memory_kib=1 << 30))
    with pytest.raises(KdfPolicyError):
        check_kdf_params(KdfParams.pbkdf2(iterations=10**9))


def test_pin_refuses_weaker_and_other_algorithm() -> None:
    pinned = KdfParams.argon2id()
    with pytest.raises(KdfPolicyError):
        check_kdf_params(KdfParams.argon2id(memory_kib=32768), pinned)
    with pytest.raises(KdfPolicyError):
        check_kdf_params(KdfParams.argon2id(iterations=2), pinned)
    with pytest.raises(KdfPolicyError):
        check_kdf_params(KdfParams.pbkdf2(iterations=5_000_000), pinned)
    check_kdf_params(KdfParams.argon2id(memory_kib=131072), pinned)


def test_keys_are_separate_and_deterministic() -> None:
    k1 = derive_account_keys("pw", "Alice@Example.org ", CHEAP)
    k2 = derive_account_keys("pw", "alice@example.org", CHEAP)
    assert k1.master == k2.master
    assert k1.auth == k2.auth
    assert k1.master.material != k1.auth.material
    assert derive_account_keys("pw2", "alice@example.org", CHEAP).master != k1.master
    assert derive_account_keys("pw", "bob@example.org", CHEAP).master != k1.master


def test_pbkdf2_option_gives_different_keys() -> None:
    a = derive_account_keys("pw", "a@b.c", CHEAP)
    b = derive_account_keys("pw", "a@b.c", KdfParams.pbkdf2())
    assert a.master.material != b.master.material


def test_salt_and_account_id_come_from_the_email() -> None:
    assert kdf_salt("A@B.C") == kdf_salt(" a@b.c")
    assert len(kdf_salt("a@b.c")) == 32
    assert len(account_id("a@b.c")) == 16
    assert account_id("a@b.c") != kdf_salt("a@b.c")[:16]


@pytest.mark.parametrize("bad", ["", "nobody", "@x", "a@", "a b@c.d", "a@b@c"])
def test_bad_emails(bad: str) -> None:
    with pytest.raises(UsageError):
        normalize_email(bad)


def test_encodings_round_trip_and_are_strict() -> None:
    for p in (KdfParams.argon2id(), KdfParams.pbkdf2()):
        assert KdfParams.decode(p.encode()) == p
        assert KdfParams.from_json(p.to_json()) == p
    with pytest.raises(FormatError):
        KdfParams.decode(KdfParams.argon2id().encode() + b"\x00")
    for bad in (
        None,
        [],
        {"alg": "argon2id", "m": 65536, "t": 3},
        {"alg": "argon2id", "m": 65536, "t": 3, "p": 4, "x": 1},
        {"alg": "argon2id", "m": 65536.0, "t": 3, "p": 4},
        {"alg": "argon2id", "m": True, "t": 3, "p": 4},
        {"alg": "scrypt", "n": 1},
    ):
        with pytest.raises(FormatError):
            KdfParams.from_json(bad)
