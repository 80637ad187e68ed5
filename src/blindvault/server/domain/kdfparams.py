"""The KDF parameters the server stores for each account and hands out in prelogin."""

from __future__ import annotations

import json
from typing import Any

from blindvault.server.errors import invalid

DEFAULT_KDF: dict[str, Any] = {"alg": "argon2id", "m": 65536, "t": 3, "p": 4}
# the order (and int type) of each KDF's fields in every answer: stored and default
# parameters serialise byte for byte alike, so prelogin shows nothing about existence
_KDF_FIELDS = {"argon2id": ("alg", "m", "t", "p"), "pbkdf2-sha256": ("alg", "i")}


def kdf_answer(stored: str) -> dict[str, Any]:
    kdf = json.loads(stored)
    return {name: kdf[name] for name in _KDF_FIELDS[kdf["alg"]]}


def check_kdf(kdf: dict[str, int | str]) -> str:
    allowed = {"argon2id": {"alg", "m", "t", "p"}, "pbkdf2-sha256": {"alg", "i"}}
    alg = kdf.get("alg")
    if not isinstance(alg, str) or alg not in allowed or set(kdf) != allowed[alg]:
        raise invalid("kdf must be {alg: argon2id, m, t, p} or {alg: pbkdf2-sha256, i}")
    if not all(
        isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**32
        for k, v in kdf.items()
        if k != "alg"
    ):
        raise invalid("kdf parameters must be integers from 1 to 2^32 - 1")
    return json.dumps(kdf, sort_keys=True)
