"""Real services for the integration tests: `blindvault server` processes, SeaweedFS and
PostgreSQL on loopback (from `blindvault.testing`, which the benchmark uses too), and their
session fixtures. Missing PostgreSQL or `weed` is a failure, never a skip."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

from blindvault.testing.postgres import DEFAULT_ADMIN, pg_database
from blindvault.testing.procs import free_port, start_server, stop, wait_http
from blindvault.testing.seaweed import Weed

__all__ = [
    "PG_ADMIN",
    "Weed",
    "free_port",
    "pg_url",
    "s3_spec",
    "start_server",
    "stop",
    "wait_http",
    "weed",
]

PG_ADMIN = os.environ.get("BLINDVAULT_TEST_PG", DEFAULT_ADMIN)


def s3_spec(endpoint: str) -> str:
    """One bucket per run (each SeaweedFS bucket takes its own volumes), a fresh prefix each."""
    return f"s3://bvtests/{secrets.token_hex(4)}?endpoint={endpoint}"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh database for this run, dropped afterwards."""
    with pg_database(PG_ADMIN, prefix="bv_test") as url:
        yield url


@pytest.fixture(scope="session")
def weed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A SeaweedFS master + volume + filer + S3 gateway on loopback; yields the S3 URL."""
    w = Weed(tmp_path_factory.mktemp("weed"), volume_max=64, volume_size_mb=128)
    w.start()
    try:
        yield w.url
    finally:
        w.stop()
