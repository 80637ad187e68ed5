"""The callers of a group commit's writes, checked in its own transaction (PostgreSQL).

With PostgreSQL every request reads its token's row (no cache across hosts: see
`server.tokens`). A record write taken by the short path (`server/fastwrite.py`) does not
read it on its own: it hands its token's hash to the batch, whose transaction reads the
rows of all its writes' tokens in one statement before anything is written, and each
write is then checked exactly as `deps.authenticate_any` would check it — unknown or
revoked: 401; signed in longer ago than the token's life: 401 — and acts on its caller's
own namespace. A write the short path must not take — an app credential's (its scope is
the application's to resolve), or a device due for its `last_seen` refresh (the
application does the refresh) — is answered `NotHereError`, writes nothing, and the request
goes on to the application unchanged.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

from sqlalchemy import Connection, select

from blindvault.server.domain.cas import Cas
from blindvault.server.domain.scopes import Scope
from blindvault.server.errors import ApiError, unauthorized
from blindvault.server.storage.schema import devices
from blindvault.server.tokens import REFRESH

__all__ = ["NotHereError", "callers"]


class NotHereError(ApiError):
    """Not for the short path: the application takes this request (it wrote nothing)."""

    def __init__(self) -> None:
        super().__init__(500, "internal", "handed to the application")


def callers(conn: Connection, writes: Sequence[Cas]) -> list[Cas | ApiError]:
    """Each write with its caller's scope, or the answer that stops it (in order)."""
    digests = sorted({w.token for w in writes if w.token is not None})
    rows = {}
    if digests:
        rows = {
            r.token_hash: r
            for r in conn.execute(
                select(
                    devices.c.token_hash, devices.c.account_id, devices.c.revoked,
                    devices.c.last_seen, devices.c.created_at, devices.c.app_space,
                ).where(devices.c.token_hash.in_(digests))
            )
        }  # fmt: skip
    now = time.time()
    out: list[Cas | ApiError] = []
    for w in writes:
        if w.token is None:
            out.append(w)
            continue
        row = rows.get(w.token)
        if row is None or row.revoked:  # mutant: batchtokens.revoked
            out.append(unauthorized())
        elif now - row.created_at > w.token_ttl:  # mutant: batchtokens.expired
            out.append(unauthorized("this device's sign-in has expired; sign in again"))
        elif row.app_space is not None or now - row.last_seen > REFRESH:
            out.append(NotHereError())
        else:
            own = Scope(row.account_id, "", row.account_id, True)
            out.append(dataclasses.replace(w, scope=own, token=None))
    return out
