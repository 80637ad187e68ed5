"""The server app in this process, behind a synchronous httpx transport: client unit tests
talk to the real routes, database and blob store without starting a server process.

    def test_x(inprocess: InProcess, tmp_path: Path) -> None:
        vault, _ = Vault.signup(inprocess.url, email, pw, store=..., transport=inprocess.transport)

The app is `blindvault.server.app.build` on a temporary SQLite database and local blob
folder. Its lifespan (the maintenance loop) does not run: sweeps are the server tests'
business. Bodies are buffered whole in both directions, so this is for small objects;
transfer limits, streaming and real sockets stay with the real-process tests (tests/client).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

from blindvault.server.app import build
from blindvault.server.context import Limits

__all__ = ["InProcess", "InProcessTransport", "inprocess"]

CLIENT_ADDRESS = ("127.0.0.1", 40000)


class InProcessTransport(httpx.BaseTransport):
    """A sync transport over `httpx.ASGITransport`, run on one event loop in a helper thread
    (thread-safe: the client's parallel part uploads share it). `close()` is a no-op, so
    several clients (two devices) can share one; `shutdown()` stops the loop."""

    def __init__(self, app: Any) -> None:
        self._asgi = httpx.ASGITransport(app=app, client=CLIENT_ADDRESS)
        self._stack = contextlib.ExitStack()
        self._portal: BlockingPortal = self._stack.enter_context(start_blocking_portal())
        self.requests: list[tuple[str, str]] = []  # (method, path), in order

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        self.requests.append((request.method, request.url.path))
        inner = httpx.Request(request.method, request.url, headers=request.headers, content=body)
        answer = self._portal.call(self._asgi.handle_async_request, inner)
        content = self._portal.call(answer.aread)
        return httpx.Response(answer.status_code, headers=answer.headers, content=content)

    def close(self) -> None:
        """Shared by every client of the test: stopped by `shutdown` only."""

    def shutdown(self) -> None:
        self._stack.close()


@dataclass
class InProcess:
    url: str  # a loopback URL: the client's rules for plain HTTP apply as for a real server
    data: Path  # the server's data folder (blindvault.sqlite3, blobs/)
    transport: InProcessTransport


@pytest.fixture
def inprocess(tmp_path: Path) -> Iterator[InProcess]:
    """A fresh server app (temporary SQLite + local blobs) behind an in-process transport."""
    data = tmp_path / "server-data"
    app = build(data, None, None, Limits(signups_per_address=100_000))
    transport = InProcessTransport(app)
    try:
        yield InProcess("http://127.0.0.1:8080", data, transport)
    finally:
        transport.shutdown()
