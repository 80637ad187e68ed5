"""Wycheproof vectors through blindvault.core.primitives (what the core actually calls)."""

from __future__ import annotations

from typing import Any

import pytest

from blindvault.core import primitives
from blindvault.errors import BlindvaultError, IntegrityError
from helpers.vectors import wycheproof_tests

Pair = tuple[dict[str, Any], dict[str, Any]]


def h(x: str) -> bytes:
    return bytes.fromhex(x)


def ids(pairs: list[Pair]) -> list[str]:
    return [str(t["tcId"]) for _, t in pairs]


# --- AES-GCM: we use 256-bit keys, 96-bit nonces and 128-bit tags ---------------------------

GCM = wycheproof_tests("aes_gcm_test.json")
GCM_OURS = [
    (g, t) for g, t in GCM if g["keySize"] == 256 and g["ivSize"] == 96 and g["tagSize"] == 128
]


def test_aes_gcm_counts() -> None:
    assert len(GCM) == 316
    assert len(GCM_OURS) == 66
    assert sum(t["result"] == "valid" for _, t in GCM_OURS) == 39


@pytest.mark.parametrize(("g", "t"), GCM_OURS, ids=ids(GCM_OURS))
def test_aes_gcm(g: dict[str, Any], t: dict[str, Any]) -> None:
    key, iv, aad = h(t["key"]), h(t["iv"]), h(t["aad"])
    sealed = h(t["ct"]) + h(t["tag"])
    if t["result"] == "valid":
        assert primitives.aes256gcm_seal(key, iv, h(t["msg"]), aad) == sealed
        assert primitives.aes256gcm_open(key, iv, sealed, aad) == h(t["msg"])
    else:
        with pytest.raises(IntegrityError):
            primitives.aes256gcm_open(key, iv, sealed, aad)


# --- HKDF-SHA-256 ------------------------------------------------------------------------------

HKDF = wycheproof_tests("hkdf_sha256_test.json")


def test_hkdf_counts() -> None:
    assert len(HKDF) == 86
    assert sum(t["result"] == "invalid" for _, t in HKDF) == 3


@pytest.mark.parametrize(("g", "t"), HKDF, ids=ids(HKDF))
def test_hkdf(g: dict[str, Any], t: dict[str, Any]) -> None:
    args = {"salt": h(t["salt"]), "info": h(t["info"]), "length": t["size"]}
    if t["result"] == "valid":
        assert primitives.hkdf_sha256(h(t["ikm"]), **args) == h(t["okm"])
    else:
        with pytest.raises(BlindvaultError):
            primitives.hkdf_sha256(h(t["ikm"]), **args)


# --- HMAC-SHA-256 (all tag sizes: a truncated tag is compared against our full one) ------------

HMAC = wycheproof_tests("hmac_sha256_test.json")


def test_hmac_counts() -> None:
    assert len(HMAC) == 174


@pytest.mark.parametrize(("g", "t"), HMAC, ids=ids(HMAC))
def test_hmac(g: dict[str, Any], t: dict[str, Any]) -> None:
    tag = primitives.hmac_sha256(h(t["key"]), h(t["msg"]))[: g["tagSize"] // 8]
    matches = primitives.constant_time_equal(tag, h(t["tag"]))
    assert matches == (t["result"] == "valid")


# --- X25519 --------------------------------------------------------------------------------------

X25519 = wycheproof_tests("x25519_test.json")


def test_x25519_counts() -> None:
    assert len(X25519) == 518
    assert sum(t["result"] == "acceptable" for _, t in X25519) == 254


@pytest.mark.parametrize(("g", "t"), X25519, ids=ids(X25519))
def test_x25519(g: dict[str, Any], t: dict[str, Any]) -> None:
    shared = h(t["shared"])
    if t["result"] == "valid":
        assert primitives.x25519_shared_secret(h(t["private"]), h(t["public"])) == shared
        return
    # acceptable: either the exact value, or a refusal; an all-zero secret is always refused
    if shared == bytes(32):  # a low-order point: always refused, never an all-zero key
        with pytest.raises(IntegrityError):
            primitives.x25519_shared_secret(h(t["private"]), h(t["public"]))
        return
    assert primitives.x25519_shared_secret(h(t["private"]), h(t["public"])) == shared


def test_x25519_acceptable_outcomes() -> None:
    """Of the 254 'acceptable' vectors, exactly the all-zero results are refused and every
    other one computes the listed secret (counted, so a change of either shows)."""
    refused = computed = 0
    for _, t in X25519:
        if t["result"] != "acceptable":
            continue
        try:
            got = primitives.x25519_shared_secret(h(t["private"]), h(t["public"]))
        except IntegrityError:
            refused += 1
            assert h(t["shared"]) == bytes(32)
            continue
        computed += 1
        assert got == h(t["shared"])
    zero = sum(t["result"] == "acceptable" and h(t["shared"]) == bytes(32) for _, t in X25519)
    assert (refused, computed) == (zero, 254 - zero)
    assert zero > 0


# --- Ed25519 ------------------------------------------------------------------------------------

ED = wycheproof_tests("ed25519_test.json")


def test_ed25519_counts() -> None:
    assert len(ED) == 151
    assert sum(t["result"] == "invalid" for _, t in ED) == 63


@pytest.mark.parametrize(("g", "t"), ED, ids=ids(ED))
def test_ed25519(g: dict[str, Any], t: dict[str, Any]) -> None:
    pk = h(g["publicKey"]["pk"])
    if t["result"] == "valid":
        primitives.ed25519_verify(pk, h(t["msg"]), h(t["sig"]))
    else:
        with pytest.raises(IntegrityError):
            primitives.ed25519_verify(pk, h(t["msg"]), h(t["sig"]))


# --- PBKDF2-HMAC-SHA-256 --------------------------------------------------------------------------

PBKDF2 = wycheproof_tests("pbkdf2_hmacsha256_test.json")


def test_pbkdf2_counts() -> None:
    assert len(PBKDF2) == 60


@pytest.mark.parametrize(("g", "t"), PBKDF2, ids=ids(PBKDF2))
def test_pbkdf2(g: dict[str, Any], t: dict[str, Any]) -> None:
    got = primitives.pbkdf2_sha256(
        h(t["password"]), h(t["salt"]), iterations=t["iterationCount"], length=t["dkLen"]
    )
    assert got == h(t["dk"])
