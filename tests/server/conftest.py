"""Fixtures of the server tests: one shared server per backend for the whole run
(helpers/real_server.py `shared_real`), for the modules that need no server of their own;
`server` is that server as the accounts tests see it (helpers/accounts.py). A module with
its own flags defines its own `server` (test_accounts_admin, test_accounts_ratelimit)."""

from __future__ import annotations

import pytest

from helpers import accounts
from helpers.real_server import Real, shared_real

__all__ = ["server", "shared_real"]


@pytest.fixture(scope="session")
def server(shared_real: Real) -> accounts.Server:
    """Signups per address are raised for every test server (tests/conftest.py), as the
    accounts helper's own server does with --signups-per-address."""
    return accounts.Server(shared_real.url, shared_real.data, shared_real.db_url)
