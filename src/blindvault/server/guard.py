"""The outer guard of every response: security headers, a request id, and no 500 with
details.

A pure ASGI middleware: it wraps `send` to add the headers to the response's first
message, and turns an exception that escaped the routes into the one JSON error shape
(an `ApiError` raised while a body streams in keeps its status; anything else is a 500
naming only the request id, logged without body or token). Starlette's
`@app.middleware("http")` did the same through `BaseHTTPMiddleware`, which runs every
request in a task group and passes its response through a memory stream: a sixth of the
server's time per small request in the profile of issue 18 (docs/bench/analysis.md).
"""

from __future__ import annotations

import json
import logging
import os

from starlette.datastructures import MutableHeaders

from blindvault.server.bodies import ASGIApp, Message, Receive, Scope, Send
from blindvault.server.errors import ApiError

__all__ = ["Guard", "fixed_headers"]

log = logging.getLogger("blindvault.server")

_FIXED = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
)
_HSTS = ("Strict-Transport-Security", "max-age=31536000")


def fixed_headers(*, tls: bool) -> tuple[tuple[str, str], ...]:
    """The headers every response carries (besides its request id)."""
    return (*_FIXED, _HSTS) if tls else _FIXED


class Guard:
    def __init__(self, app: ASGIApp, *, tls: bool) -> None:
        self.app = app
        self.fixed = fixed_headers(tls=tls)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = os.urandom(6).hex()
        started = False

        async def guarded(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers["X-Request-Id"] = request_id
                for name, value in self.fixed:
                    headers[name] = value
            await send(message)

        try:
            await self.app(scope, receive, guarded)
        except ApiError as exc:  # raised while streaming a body
            if started:
                raise
            await _json(guarded, exc.status, exc.body(), exc.headers)
        except Exception:
            log.exception("request %s failed", request_id)  # no body, no token in the log
            if started:
                raise
            message = f"internal error (request {request_id})"
            await _json(guarded, 500, {"error": {"code": "internal", "message": message}}, None)


async def _json(send: Send, status: int, body: object, extra: dict[str, str] | None) -> None:
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(raw)).encode()),
    ]
    for name, value in (extra or {}).items():
        headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": raw})
