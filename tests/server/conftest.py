"""Fixtures of the server tests: one shared server per backend for the whole run
(helpers/real_server.py `shared_real`), for the modules that need no server of their own;
`server` is that server as the accounts tests see it (helpers/accounts.py). A module with
its own flags defines its own `server` (test_accounts_admin, test_accounts_ratelimit);
`migration_db`, the database a migration test upgrades (test_migration_*)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from blindvault.testing.postgres import pg_database
from helpers import accounts
from helpers.real_server import Real, shared_real
from helpers.servers import PG_ADMIN

__all__ = ["migration_db", "server", "shared_real"]


@pytest.fixture(scope="session")
def server(shared_real: Real) -> accounts.Server:
    """Signups per address are raised for every test server (tests/conftest.py), as the
    accounts helper's own server does with --signups-per-address."""
    return accounts.Server(shared_real.url, shared_real.data, shared_real.db_url)


@pytest.fixture(params=["sqlite", "postgres"])
def migration_db(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None (SQLite in the data folder) or a PostgreSQL database of its own: a migration
    rewrites tables and may charge every account, so it must not run on the session's
    shared one."""
    if request.param == "sqlite":
        yield None
        return
    with pg_database(PG_ADMIN, prefix="bv_mig") as url:
        yield url
