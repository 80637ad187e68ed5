"""The ASGI entry point uvicorn's workers import; configured by `blindvault server`."""

from __future__ import annotations

import os
from pathlib import Path

from blindvault.server.app import build
from blindvault.server.domain.invites import limits_from_env
from blindvault.server.logfilter import quiet_accept_errors
from blindvault.server.options import ServerOptions

quiet_accept_errors()

app = build(
    Path(os.environ["BLINDVAULT_SERVER_DATA"]),
    os.environ.get("BLINDVAULT_SERVER_DB"),
    os.environ.get("BLINDVAULT_SERVER_BLOBS"),
    limits_from_env(),
    options=ServerOptions.from_env(),
)
