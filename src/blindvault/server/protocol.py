"""uvicorn's HTTP/1.1 protocol with TCP_NODELAY on every connection.

With `--workers N`, uvicorn binds the listening socket itself as `socket.socket(family)`,
whose `proto` is 0; asyncio sets TCP_NODELAY only on sockets whose `proto` is
IPPROTO_TCP, so every accepted connection kept Nagle's algorithm on and each small
response waited for the client's delayed ACK: ~44 ms per request on keep-alive
connections with two processes, against ~4 ms with one (measured by `blindvault bench
server`). Setting the option per connection fixes both cases alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["NoDelayH11Protocol"]


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)  # type: ignore[arg-type]
