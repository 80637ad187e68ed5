"""A short path for the hottest request: a device reading one of its own small blobs.

`GET /v1/blobs/{id}` with no query and no `Range`, from a bearer token this process has
checked since the last revocation (`server.tokens`), for a blob of the caller's own
namespace of at most `streaming.INLINE` bytes, with SQLite and the local blob store
(`ServerContext.inline_reads`): answered here, by the application object itself before
any of FastAPI's or Starlette's layers (`app.BlindvaultApp.__call__`): its routing,
dependency resolution and middlewares cost ~0.3 ms of CPU per request in the profile of
issue 18 (docs/bench/analysis.md).

It only ever *answers the success case*. Anything else — another owner or a space in the
query, an app credential, a token not in the cache (unknown, revoked, expired, or not seen
yet), a missing or invisible blob, a range, a body, any error — goes on to the full
application unchanged, which checks everything again and gives the one canonical answer.
The checks made here are the same functions: the token cache, `scopes.visible`, and the
same response headers as `guard.Guard`. The row is read through a read-only SQLite
connection of this path's own, with one fixed statement (SQLAlchemy's statement building
and execution were most of what was left).
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import Engine

from blindvault.server.api.streaming import INLINE
from blindvault.server.bodies import Scope, Send
from blindvault.server.context import ServerContext
from blindvault.server.domain.credentials import token_hash
from blindvault.server.domain.scopes import Scope as Namespace
from blindvault.server.domain.scopes import visible
from blindvault.server.errors import ApiError
from blindvault.server.guard import fixed_headers

__all__ = ["FastBlobGet"]

_PATH = re.compile(r"^/v1/blobs/([0-9a-f]{32})$")
_NOT_HERE = (b"range", b"content-length", b"transfer-encoding")
_ROW = "SELECT size, storage_key, space FROM blobs WHERE owner = ? AND id = ?"


class FastBlobGet:
    """`answer` sends the response and returns True, or sends nothing and returns False."""

    def __init__(self, *, ctx: ServerContext, tls: bool) -> None:
        self.ctx = ctx
        self.fixed = [(k.lower().encode(), v.encode()) for k, v in fixed_headers(tls=tls)]
        self._db: sqlite3.Connection | None = None

    async def answer(self, scope: Scope, send: Send) -> bool:
        if not (
            self.ctx.inline_reads
            and scope["type"] == "http"
            and scope["method"] == "GET"
            and not scope.get("query_string")
        ):
            return False
        match = _PATH.match(scope["path"])
        body = self._own_blob(scope, match.group(1)) if match else None
        if body is None:
            return False
        headers = [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/octet-stream"),
            (b"accept-ranges", b"bytes"),
            (b"x-request-id", os.urandom(6).hex().encode()),
            *self.fixed,
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return True

    def _own_blob(self, scope: Scope, blob_id: str) -> bytes | None:
        """The blob's bytes if every check passes here; None: let the application answer."""
        tokens = self.ctx.tokens
        if tokens is None:
            return None
        authorization = b""
        for name, value in scope["headers"]:
            if name in _NOT_HERE:
                return None
            if name == b"authorization":
                authorization = value
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        who = tokens.get(token_hash(token.strip()))
        if who is None:
            return None
        if who.app_space is not None:  # mutant: fastpath.app-token
            return None  # an app credential's scope is resolved by the application
        try:
            return self._read(Namespace(who.account_id, "", who.account_id, True), blob_id)
        except (ApiError, OSError, sqlite3.Error):
            return None  # the application answers (404, 503, ...) as it always does

    def _read(self, own: Namespace, blob_id: str) -> bytes | None:
        if self._db is None:
            self._db = _read_only(self.ctx.engine)
        found = self._db.execute(_ROW, (own.owner, blob_id)).fetchone()
        row = visible(own, _Row(*found) if found else None, "blob")
        if row.size > INLINE:
            return None
        body = b"".join(self.ctx.store.read(row.storage_key, 0, row.size))
        return body if len(body) == row.size else None


class _Row(NamedTuple):
    size: int
    storage_key: str
    space: str


def _read_only(engine: Engine) -> sqlite3.Connection:
    """This process's own read-only connection to the SQLite file (used from the event
    loop's thread only): it cannot write, and each SELECT reads the latest commit (WAL)."""
    path = Path(engine.url.database or "").resolve()
    return sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, isolation_level=None)
