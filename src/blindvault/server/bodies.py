"""Request bodies with bounded memory and bounded time.

* `BodyLimit` (ASGI middleware): every route except the few binary uploads takes JSON of at
  most `Limits.json_body` bytes (records, link creation and adopt have larger caps of their
  own). A larger declared `Content-Length` is refused with 413 before anything is read; a
  body sent without one (chunked) is counted as it arrives and refused at the first byte
  past the limit, so no route ever parses more than its limit.
* `spool_body`: binary uploads are written to a temporary file as they arrive (memory stays
  one network chunk per request, however slowly the client sends) and refused past their
  limit. `exact_body` hands a body of a known size on as it arrives (an upload's part to
  S3), refused past that size or short of it.
* Both give up with 408 when the client sends nothing for `body_timeout` seconds.
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request

from blindvault.server.errors import ApiError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# routes whose body is binary and checked (and spooled) by the route itself
_BINARY = re.compile(
    r"^/v1/(blobs/[0-9a-f]{32}|uploads/[0-9a-f]{32}/parts/\d{1,6}|blobs/batch"
    r"|l/[A-Za-z0-9_-]{22}/drops)$"
)
SPOOL_IN_MEMORY = 64 << 10  # a spooled body beyond this lives on disk
PASS_ON = 1 << 20  # bytes `exact_body` gathers before handing them on
RECORD_JSON = 4 * (((16 << 20) + 2) // 3) + (64 << 10)  # a 16 MiB record, base64, in JSON
# JSON routes that carry more than `Limits.json_body` by design (every other one gets it)
_LARGER = [
    ("PUT", re.compile(r"^/v1/records/[a-z][a-z0-9-]{0,31}/[0-9a-f]{32}$"), RECORD_JSON),
    ("POST", re.compile(r"^/v1/links$"), 64 << 20),  # a folder snapshot (<= 44 MiB) and ids
    ("POST", re.compile(r"^/v1/spaces/[0-9a-f]{32}/adopt$"), 16 << 20),
    ("PUT", re.compile(r"^/v1/pairings/[0-9]{4,8}/payload$"), 3 << 20),  # 2 MiB sealed
]


def json_limit(method: str, path: str, default: int) -> int:
    for verb, pattern, limit in _LARGER:
        if method == verb and pattern.match(path):
            return limit
    return default


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "too_large", f"body larger than {limit} bytes")


def _timed_out() -> ApiError:
    return ApiError(408, "timeout", "the request body did not arrive in time")


def declared_length(headers: Any, limit: int) -> int | None:
    """The declared Content-Length, 413 if over `limit`, 400 if not a number."""
    declared = headers.get("content-length")
    if declared is None:
        return None
    if not declared.isdigit() or len(declared) > 19:
        raise ApiError(400, "invalid_request", "bad Content-Length")
    if int(declared) > limit:
        raise _too_large(limit)
    return int(declared)


class BodyLimit:
    def __init__(self, app: ASGIApp, json_limit: int, body_timeout: float) -> None:
        self.app = app
        self.limit = json_limit
        self.timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _BINARY.match(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        try:
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            limit = self.limit
            if headers.get("authorization", "").lower().startswith("bearer "):
                # the larger caps only for requests that at least claim a session (the
                # token itself is checked by the route; anonymous ones get the default)
                limit = json_limit(scope.get("method", ""), scope.get("path", ""), self.limit)
            declared = declared_length(headers, limit)
            # no length and not chunked: no body at all (HTTP/1.1 framing, RFC 9112 6.3),
            # nothing to count or wait for; the route reads the empty body directly
            bodyless = declared is None and "transfer-encoding" not in headers
            messages = [] if bodyless else await self._read(receive, limit)
        except ApiError as exc:
            await _answer(send, exc)
            return
        replay = iter(messages)

        async def again() -> Message:
            try:
                return next(replay)
            except StopIteration:
                return await receive()  # after the body: disconnect notices

        await self.app(scope, again, send)

    async def _read(self, receive: Receive, limit: int) -> list[Message]:
        messages: list[Message] = []
        total = 0
        while True:
            try:
                message = await asyncio.wait_for(receive(), self.timeout)
            except TimeoutError:
                raise _timed_out() from None
            messages.append(message)
            if message["type"] != "http.request":
                return messages
            total += len(message.get("body", b""))
            if total > limit:
                raise _too_large(limit)
            if not message.get("more_body", False):
                return messages


async def _answer(send: Send, exc: ApiError) -> None:
    body = json.dumps(exc.body()).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class SpooledBody:
    """A received body in a temporary file (in memory while small)."""

    def __init__(self) -> None:
        self.file = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
        self.size = 0

    def read_all(self) -> bytes:
        self.file.seek(0)
        return self.file.read()

    def __enter__(self) -> SpooledBody:
        return self

    def __exit__(self, *_: object) -> None:
        self.file.close()


async def spool_body(request: Request, limit: int) -> SpooledBody:
    """The body, spooled to disk as it arrives; 413 past `limit`, 408 if it stalls."""
    declared_length(request.headers, limit)
    timeout: float = getattr(request.app.state, "body_timeout", 60.0)
    body = SpooledBody()
    try:
        stream = request.stream().__aiter__()
        while True:
            try:
                chunk = await asyncio.wait_for(stream.__anext__(), timeout)
            except StopAsyncIteration:
                break
            except TimeoutError:
                raise _timed_out() from None
            body.size += len(chunk)
            if body.size > limit:
                raise _too_large(limit)
            body.file.write(chunk)
    except BaseException:
        body.file.close()
        raise
    return body


def exact_body(request: Request, size: int, short: ApiError) -> AsyncIterator[bytes]:
    """The body as it arrives, for a route that passes it straight on (an S3 part): 413
    past `size` bytes (before the first byte too many is handed on), 408 if it stalls,
    and `short` if it ends before `size` bytes. Nothing is held but the current chunk. A
    declared length other than `size` is refused here, before anything is sent on."""
    declared = declared_length(request.headers, size)
    if declared is not None and declared != size:
        raise short
    return _exact_chunks(request, size, short)


async def _exact_chunks(request: Request, size: int, short: ApiError) -> AsyncIterator[bytes]:
    """Pieces of up to `PASS_ON` bytes: each network chunk handed on alone cost more CPU
    in the relay (per-chunk task and write) than the copy that joins them."""
    timeout: float = getattr(request.app.state, "body_timeout", 60.0)
    loop = asyncio.get_running_loop()
    stream = request.stream().__aiter__()
    got = 0
    held: list[bytes] = []
    held_size = 0
    try:
        async with asyncio.timeout(None) as deadline:  # one timer, moved on at every chunk
            while True:
                deadline.reschedule(loop.time() + timeout)
                try:
                    chunk = await stream.__anext__()
                except StopAsyncIteration:
                    break
                got += len(chunk)
                if got > size:  # mutant: bodies.exact-too-long
                    raise _too_large(size)
                held.append(chunk)
                held_size += len(chunk)
                if held_size >= PASS_ON:
                    deadline.reschedule(None)  # the store's pace is not the client's stall
                    yield b"".join(held)
                    held, held_size = [], 0
            deadline.reschedule(None)
    except TimeoutError:
        raise _timed_out() from None
    if got != size:  # mutant: bodies.exact-too-short
        raise short
    if held:
        yield b"".join(held)


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    buf = bytearray()
    async for chunk in request.stream():
        buf += chunk
        if len(buf) > limit:
            raise _too_large(limit)
    return bytes(buf)
