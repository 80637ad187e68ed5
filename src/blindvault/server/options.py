"""Server options chosen on the command line, carried to every worker process.

With `--workers N` uvicorn starts fresh processes that import `blindvault.server.asgi`, so
the options travel as JSON in the `BLINDVAULT_SERVER_OPTIONS` environment variable.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass

ENV = "BLINDVAULT_SERVER_OPTIONS"


@dataclass(frozen=True)
class ServerOptions:
    header_timeout: float = 10.0  # a request's headers must be complete within this
    body_timeout: float = 60.0  # longest wait for the next piece of a request body
    max_connections: int = 1000  # connections (and requests) served at once per process
    token_ttl: float = 365 * 24 * 3600.0  # a device token's life from its login
    tls: bool = False  # served over TLS by this process (HSTS is sent)

    def to_env(self) -> None:
        os.environ[ENV] = json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_env(cls) -> ServerOptions:
        raw = os.environ.get(ENV)
        if not raw:
            return cls()
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in json.loads(raw).items() if k in known}
        return cls(**values)
