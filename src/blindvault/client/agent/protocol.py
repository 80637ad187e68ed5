"""The agent's wire: one JSON object per line, one request and one answer per connection.

    {"op": "put", "server": URL, "email": E, "key": b64, "seconds": N}
                                                     -> {"ok": true, "until_ms": T}
    {"op": "get", "server": URL, "email": E}         -> {"ok": true, "key": b64, "until_ms": T}
                                                       | {"ok": false, "error": "locked"}
    {"op": "status"}  -> {"ok": true, "pid": P, "entries": [{"server", "email", "until_ms"}]}
    {"op": "lock"}    -> {"ok": true, "wiped": N}     (the agent exits after answering)
    {"op": "forget", "server": URL, "email": E} -> {"ok": true, "wiped": 0 | 1}
                                                     (the agent exits if none is left)
    {"op": "run", "argv": [...], "cwd": D, "env": {...}} + stdin/stdout/stderr (SCM_RIGHTS)
                      -> {"ok": true, "code": N} | {"ok": false, "error": "fallback"}

Only the same user reaches the socket (see `paths`); the protocol itself carries no secret
but the vault key of a `put` or a `get`."""

from __future__ import annotations

import json

from blindvault.errors import FormatError

TYPE_CHECKING = False  # `typing` costs a command that forwards to the agent ~5 ms to import
if TYPE_CHECKING:
    import socket
    from typing import Any

__all__ = ["MAX_FDS", "MAX_LINE", "MAX_SECONDS", "SECRET_ENV", "read_message", "send_message"]

MAX_LINE = 256 * 1024  # a `run` carries the caller's environment
# never sent to the agent nor inherited by it: it keeps no password
SECRET_ENV = frozenset(
    {"BLINDVAULT_PASSWORD", "BLINDVAULT_NEW_PASSWORD", "BLINDVAULT_LINK_PASSWORD"}
)
MAX_FDS = 3  # a `run` passes stdin, stdout and stderr
MAX_SECONDS = 24 * 3600  # `unlock --for` at most a day


def send_message(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall(json.dumps(message, separators=(",", ":")).encode() + b"\n")


def read_message(sock: socket.socket, first: bytes = b"") -> dict[str, Any]:
    """One line, at most MAX_LINE bytes, holding a JSON object (FormatError otherwise);
    `first`: what was already received of it."""
    data = bytearray(first)
    while not data.endswith(b"\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
        if len(data) > MAX_LINE:
            raise FormatError("agent message too long")
    try:
        message = json.loads(bytes(data))
    except ValueError:
        raise FormatError("malformed agent message") from None
    finally:
        data[:] = bytes(len(data))  # the line may hold a key
    if not isinstance(message, dict):
        raise FormatError("malformed agent message")
    return message
