"""One record compare-and-swap as the group commit takes it (`recordwrite`), and as the
batch's token check reads it (`batchtokens`)."""

from __future__ import annotations

from dataclasses import dataclass

from blindvault.server.domain.scopes import Scope

__all__ = ["Cas"]


@dataclass(frozen=True)
class Cas:
    """One compare-and-swap: `expected` 0 creates, n > 0 replaces version n. With `token`
    (a bearer token's hash) the caller is checked in the batch (`batchtokens`) and
    `scope` is its own namespace; the token's life is `token_ttl` seconds."""

    scope: Scope | None
    kind: str
    record_id: str
    expected: int
    data: bytes
    token: str | None = None
    token_ttl: float = 0.0
