"""Fixtures every folder may use: a throw-away PostgreSQL database and a SeaweedFS on
loopback (tests/helpers/servers.py)."""

from __future__ import annotations

import os

from helpers import sslcache
from helpers.servers import pg_url, weed

# Every httpx client (each in-process CLI command, each helper request) would load the CA
# bundle again; share one default TLS context instead (tests/helpers/sslcache.py).
sslcache.install()

# Test servers see every client at 127.0.0.1: many suites sign up far more accounts than
# one address may per hour. The signup limit's own tests pass --signups-per-address.
os.environ.setdefault("BLINDVAULT_SERVER_SIGNUPS_PER_ADDRESS", "100000")

__all__ = ["pg_url", "weed"]
