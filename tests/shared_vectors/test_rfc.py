"""RFC test values through blindvault.core.primitives: Argon2id, HKDF-SHA-256, PBKDF2-SHA-256."""

from __future__ import annotations

from typing import Any

import pytest

from blindvault.core import primitives
from helpers.vectors import load

ARGON2 = [t for t in load("rfc/rfc9106_argon2.json")["tests"] if t["type"] == "Argon2id"]
HKDF = load("rfc/rfc5869_hkdf_sha256.json")["tests"]
PBKDF2 = [t for t in load("rfc/rfc7914_rfc6070_pbkdf2.json")["tests"] if t["hash"] == "SHA-256"]


def h(x: str) -> bytes:
    return bytes.fromhex(x)


def test_counts() -> None:
    assert (len(ARGON2), len(HKDF), len(PBKDF2)) == (1, 3, 2)


@pytest.mark.parametrize("t", ARGON2, ids=lambda t: t["id"])
def test_rfc9106_argon2id(t: dict[str, Any]) -> None:
    got = primitives.argon2id(
        h(t["password"]),
        h(t["salt"]),
        memory_kib=t["memoryKiB"],
        iterations=t["passes"],
        lanes=t["parallelism"],
        length=t["tagLength"],
        secret=h(t["secret"]),
        ad=h(t["ad"]),
    )
    assert got == h(t["tag"])


@pytest.mark.parametrize("t", HKDF, ids=lambda t: t["id"])
def test_rfc5869_hkdf(t: dict[str, Any]) -> None:
    got = primitives.hkdf_sha256(h(t["ikm"]), salt=h(t["salt"]), info=h(t["info"]), length=t["L"])
    assert got == h(t["okm"])


@pytest.mark.parametrize("t", PBKDF2, ids=lambda t: t["id"])
def test_rfc7914_pbkdf2_sha256(t: dict[str, Any]) -> None:
    got = primitives.pbkdf2_sha256(
        h(t["passwordHex"]), h(t["saltHex"]), iterations=t["iterations"], length=t["dkLen"]
    )
    assert got == h(t["dk"])
