"""A short path for the hottest write: a device's compare-and-swap of one of its own
records (`PUT /v1/records/{kind}/{id}`), the request a sync or a folder write makes most.

Like `fastpath.FastBlobGet` it runs before any of FastAPI's or Starlette's layers
(`app.BlindvaultApp.__call__`), whose routing, dependencies, body model and response
model cost more CPU than the write itself (issue 18, docs/bench/analysis.md). It takes
the request only in the plain case: no query, a device's bearer token — one this process
checked since the last revocation (`server.tokens`, SQLite), else checked from its row in
the write's own transaction (PostgreSQL, `domain.batchtokens`) — that is not an app
credential, a declared
JSON body of at most `SMALL` bytes, exactly `{"expected_version": int, "data": str}`.
Anything else — and any body it cannot read whole or parse — goes on to the full
application unchanged, with the bytes read so far handed on first, which checks and
answers it as always.

Once taken, the write is the route's own: the same checks (`codec.b64decode`, the
caller's own scope, `Scope.check_write_kind`), the same group commit
(`api.records.writer`, `domain.recordwrite`), and every answer — success, a refusal
(`ApiError`: 409, 413, ...), a failure (the no-details 500) — has the status, body and
headers the application would give (`guard.Guard`'s headers and request id).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from typing import Any

from starlette.concurrency import run_in_threadpool

from blindvault.server.bodies import Message, Receive, Scope, Send
from blindvault.server.codec import b64decode
from blindvault.server.context import ServerContext
from blindvault.server.domain.batchtokens import NotHereError
from blindvault.server.domain.credentials import token_hash
from blindvault.server.domain.recordwrite import Cas
from blindvault.server.domain.scopes import Scope as Namespace
from blindvault.server.errors import ApiError
from blindvault.server.guard import fixed_headers
from blindvault.server.storage.groupcommit import GroupCommit
from blindvault.wire.common import MAX_VERSION
from blindvault.wire.records import MAX_RECORD

__all__ = ["SMALL", "FastRecordPut"]

log = logging.getLogger("blindvault.server")
_PATH = re.compile(r"^/v1/records/([a-z][a-z0-9-]{0,31})/([0-9a-f]{32})$")
SMALL = 64 << 10  # bytes of JSON taken here; a larger record goes the full way


class FastRecordPut:
    """`answer` answers the request and returns True, or sends nothing and returns False
    (with `receive` replaced by one that hands on what was read)."""

    def __init__(
        self, *, ctx: ServerContext, tls: bool, writer: GroupCommit[Cas], body_timeout: float
    ) -> None:
        self.ctx = ctx
        self.body_timeout = body_timeout
        self.fixed = [(k.lower().encode(), v.encode()) for k, v in fixed_headers(tls=tls)]
        self.writer = writer

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> tuple[bool, Receive]:
        if not (
            scope["type"] == "http" and scope["method"] == "PUT" and not scope.get("query_string")
        ):
            return False, receive
        match = _PATH.match(scope["path"])
        digest = self._digest(scope) if match else None
        if match is None or digest is None:
            return False, receive
        who = None
        if self.ctx.tokens is not None:  # SQLite: the checked tokens, else the application
            who = self._cached(digest)
            if who is None:
                return False, receive
        body, messages = await self._body(receive)
        write = _parse(body) if body is not None else None
        if write is None:
            return False, _replay(messages, receive)
        kind, record_id = match.group(1), match.group(2)
        try:
            data = b64decode(write[1], "data", max_size=MAX_RECORD)
        except ApiError:  # the application answers it, after the token's check as always
            return False, _replay(messages, receive)
        if who is not None:
            own = Namespace(who, "", who, True)
            own.check_write_kind(kind)  # the caller's own namespace: always allowed
            cas = Cas(own, kind, record_id, write[0], data)
        else:  # PostgreSQL: the batch reads the token's row (`domain.batchtokens`)
            cas = Cas(None, kind, record_id, write[0], data, digest, self.ctx.limits.token_ttl)
        try:
            await run_in_threadpool(self.writer.run, cas)
        except NotHereError:
            return False, _replay(messages, receive)
        except ApiError as exc:
            await self._json(send, exc.status, exc.body(), exc.headers)
            return True, receive
        except Exception:
            request_id = os.urandom(6).hex()
            log.exception("request %s failed", request_id)  # no body, no token in the log
            message = f"internal error (request {request_id})"
            failed = {"error": {"code": "internal", "message": message}}
            await self._json(send, 500, failed, None, request_id)
            return True, receive
        done = {"kind": kind, "id": record_id, "version": write[0] + 1}
        await self._json(send, 200, done, None)
        return True, receive

    def _digest(self, scope: Scope) -> str | None:
        """The bearer token's hash, if the request has a small declared JSON body."""
        authorization = b""
        length = -1
        json_type = False
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"content-length":
                length = int(value) if value.isdigit() and len(value) < 10 else -1
            elif name == b"content-type":
                json_type = value.split(b";")[0].strip().lower() == b"application/json"
            elif name == b"transfer-encoding":
                return None
        if not json_type or not 0 < length <= SMALL:
            return None
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return token_hash(token.strip())

    def _cached(self, digest: str) -> str | None:
        """The device's account, from the tokens this process checked (SQLite); None for
        a token not checked yet, and for an app credential."""
        who = self.ctx.tokens.get(digest) if self.ctx.tokens is not None else None
        if who is None or who.app_space is not None:  # mutant: fastwrite.app-token
            return None  # an app credential's scope is resolved by the application
        return who.account_id

    async def _body(self, receive: Receive) -> tuple[bytes | None, list[Message]]:
        """The whole body if it arrives in full and at most its declared length."""
        messages: list[Message] = []
        parts: list[bytes] = []
        size = 0
        timeout: float = self.body_timeout
        while True:
            try:
                message = await asyncio.wait_for(receive(), timeout)
            except TimeoutError:  # the application waits on, and answers 408
                return None, messages
            messages.append(message)
            if message["type"] != "http.request":
                return None, messages
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > SMALL:
                return None, messages
            parts.append(chunk)
            if not message.get("more_body", False):
                return b"".join(parts), messages

    async def _json(
        self, send: Send, status: int, body: Any, extra: dict[str, str] | None,
        request_id: str | None = None,
    ) -> None:  # fmt: skip
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        headers = [
            (b"content-length", str(len(raw)).encode()),
            (b"content-type", b"application/json"),
            *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (extra or {}).items()),
            (b"x-request-id", (request_id or os.urandom(6).hex()).encode()),
            *self.fixed,
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": raw})


def _parse(body: bytes) -> tuple[int, str] | None:
    """(expected_version, data) of the one plain shape; None: let the application parse."""
    try:
        value = json.loads(body)
    except ValueError:
        return None
    if not isinstance(value, dict) or set(value) != {"expected_version", "data"}:
        return None
    expected, data = value["expected_version"], value["data"]
    if type(expected) is not int or not 0 <= expected < MAX_VERSION or type(data) is not str:
        return None
    return expected, data


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = iter(messages)

    async def again() -> Message:
        for message in pending:
            return message
        return await receive()

    return again
