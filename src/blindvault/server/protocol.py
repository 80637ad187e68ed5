"""uvicorn's HTTP/1.1 protocols with TCP_NODELAY on every connection, a header timeout
and a hard cap on open connections.

Header timeout: a connection must complete each request's headers within
`--header-timeout` seconds of its first byte (or of connecting), else it is closed, so
half-sent requests cannot hold sockets. Connections past `--max-connections` (plus a
small margin for uvicorn's own polite 503) are closed at once, before they cost anything.

With `--workers N`, uvicorn binds the listening socket itself as `socket.socket(family)`,
whose `proto` is 0; asyncio sets TCP_NODELAY only on sockets whose `proto` is
IPPROTO_TCP, so every accepted connection kept Nagle's algorithm on and each small
response waited for the client's delayed ACK: ~44 ms per request on keep-alive
connections with two processes, against ~4 ms with one (measured by `blindvault bench
server`). Setting the option per connection fixes both cases alike.

The server uses httptools' parser (C, llhttp; a dependency) and uvloop's event loop: h11
parses in pure Python and cost a fifth of the time of a small
request (issue 18, docs/bench/analysis.md). Both classes share the same guards.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from blindvault.server.options import ServerOptions

_OPTIONS = ServerOptions.from_env()
_MARGIN = 16

__all__ = ["NoDelayH11Protocol", "NoDelayHttpToolsProtocol"]


class _Guarded:
    """TCP_NODELAY, the connection cap and the header timeout over either protocol."""

    _header_timer: asyncio.TimerHandle | None = None
    connections: Any
    cycle: Any
    transport: Any
    loop: asyncio.AbstractEventLoop

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if len(self.connections) >= _OPTIONS.max_connections + _MARGIN:
            self.transport = transport
            transport.abort()  # type: ignore[attr-defined]  # over the cap: dropped before it holds anything
            return
        super().connection_made(transport)  # type: ignore[misc]
        self._arm()

    def _between_requests(self) -> bool:
        cycle: Any = self.cycle
        return cycle is None or bool(cycle.response_complete)

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(_OPTIONS.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expired(self) -> None:
        self._header_timer = None
        if self._between_requests() and not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self._between_requests():
            self._arm()  # headers of a new request are arriving: they get the timeout
        super().data_received(data)  # type: ignore[misc]
        if not self._between_requests():
            self._disarm()  # headers complete: the body timeout applies from here

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]


class NoDelayH11Protocol(_Guarded, H11Protocol):
    pass


class NoDelayHttpToolsProtocol(_Guarded, HttpToolsProtocol):
    """What `blindvault server` runs (httptools is a dependency)."""
