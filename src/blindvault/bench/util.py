"""What every suite needs: timed child processes with their peak RSS, test files, and the
real services (a blindvault server, PostgreSQL, SeaweedFS) started on loopback (the same
code as the test suite's, from `blindvault.testing`)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from blindvault.testing.postgres import pg_database as testing_pg_database
from blindvault.testing.procs import start_server, stop
from blindvault.testing.seaweed import seaweedfs as testing_seaweedfs

__all__ = [
    "GNU_TIME",
    "Measured",
    "Server",
    "mbs",
    "pg_database",
    "run_measured",
    "seaweedfs",
    "server",
    "signup",
    "write_random",
    "write_small_files",
]

GNU_TIME = "/usr/bin/time"
PG_ADMIN = os.environ.get("BLINDVAULT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
S3_KEY = "bench"  # SeaweedFS identity for the S3 gateway (signed requests need one)
PASSWORD = "correct horse battery staple bench"  # noqa: S105 (a throw-away bench account)


@dataclass(frozen=True)
class Server:
    url: str
    data: Path
    label: str


@dataclass(frozen=True)
class Measured:
    """One child process: wall-clock seconds and peak resident memory."""

    seconds: float
    peak_rss_mib: float
    stdout: str


T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a fresh event loop in its own thread, so that the
    bench also works where the calling thread already runs a loop (Playwright's sync API
    keeps one running in the test process)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def mbs(size: int, seconds: float) -> float:
    """Throughput in MB/s (10^6 bytes, as the seed and the peers count)."""
    return size / seconds / 1e6 if seconds > 0 else float("inf")


def _parse_time_v(text: str) -> float:
    for line in text.splitlines():
        if "Maximum resident set size" in line:
            return int(line.rsplit(":", 1)[1]) / 1024
    raise RuntimeError(f"no peak RSS in /usr/bin/time -v output: {text[-300:]!r}")


def _vm_hwm_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def _wait_polling_hwm(pid: int, *, poll: bool) -> tuple[int, float]:
    """Wait for the child; without GNU time, poll its VmHWM (the high-water mark of its own
    address space), every 20 ms at most: a peak shorter than that can be missed. The
    rusage of a waited child is no use here: its ru_maxrss starts at the RSS of the
    process that forked it (a large benchmark process)."""
    hwm = 0.0
    delay = 0.001
    while True:
        if poll:
            hwm = max(hwm, _vm_hwm_mib(pid))
        done, status = os.waitpid(pid, os.WNOHANG if poll else 0)
        if done:
            return status, hwm
        time.sleep(delay)
        delay = min(delay * 2, 0.02)


def run_measured(
    cmd: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    use_gnu_time: bool | None = None,
    drop: tuple[str, ...] = (),
) -> Measured:
    """Run `cmd`, timing it and reading its peak RSS: from `/usr/bin/time -v` when that
    exists, else by polling the child's VmHWM in /proc. Variables in
    `drop` are removed from the child's environment."""
    if use_gnu_time is None:
        use_gnu_time = os.access(GNU_TIME, os.X_OK)
    full_env = {k: v for k, v in {**os.environ, **(env or {})}.items() if k not in drop}
    with tempfile.TemporaryDirectory(prefix="bv-run-") as tmp:
        out_path, err_path, time_path = (Path(tmp) / n for n in ("out", "err", "time"))
        full = [GNU_TIME, "-v", "-o", str(time_path), *cmd] if use_gnu_time else cmd
        with out_path.open("wb") as out, err_path.open("wb") as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen(  # noqa: S603 (fixed benchmark commands)
                full, env=full_env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err
            )
            status, hwm = _wait_polling_hwm(proc.pid, poll=not use_gnu_time)
            seconds = time.perf_counter() - t0
            proc.returncode = os.waitstatus_to_exitcode(status)
        stdout = out_path.read_text(errors="replace")
        if proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(cmd[:4])}… exited {proc.returncode}: "
                f"{err_path.read_text(errors='replace')[-2000:]}"
            )
        rss = _parse_time_v(time_path.read_text()) if use_gnu_time else hwm
    return Measured(seconds, rss, stdout)


def versions() -> dict[str, str]:
    """The versions every figure depends on (the peers' are in their own suite)."""
    import platform
    import sqlite3
    from importlib.metadata import PackageNotFoundError, version

    from blindvault.testing.seaweed import weed_binary

    out = {"python": platform.python_version(), "linux": platform.release(),
           "sqlite": sqlite3.sqlite_version}  # fmt: skip
    for pkg in ("blindvault", "cryptography", "httpx", "uvicorn", "starlette", "boto3"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "?"
    for name, cmd in (("seaweedfs", [weed_binary(), "version"]), ("postgres", ["psql", "-V"])):
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)  # noqa: S603
            out[name] = (done.stdout.strip().splitlines() or ["?"])[0]
        except (OSError, subprocess.TimeoutExpired):
            out[name] = "?"
    return out


def write_random(path: Path, size: int) -> Path:
    """A file of `size` random bytes (incompressible, no two blocks alike: nothing dedups)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    block = 4 << 20
    with path.open("wb") as f:
        left = size
        while left > 0:
            f.write(os.urandom(min(block, left)))
            left -= block
    return path


def write_small_files(folder: Path, count: int, size: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / f"f{i:05d}.bin").write_bytes(os.urandom(size))
    return folder


@contextlib.contextmanager
def server(
    data: Path, *, db: str | None = None, blobs: str | None = None, workers: int = 1
) -> Iterator[Server]:
    """A real `blindvault server` process on loopback."""
    extra = [*(["--db", db] if db else []), *(["--blobs", blobs] if blobs else [])]
    env = {"AWS_ACCESS_KEY_ID": S3_KEY, "AWS_SECRET_ACCESS_KEY": S3_KEY}
    proc, url = start_server(data, "--workers", str(workers), *extra, env=env, log_dir=data)
    try:
        label = f"{'PostgreSQL' if db else 'SQLite'} + {'SeaweedFS' if blobs else 'local disk'}"
        yield Server(url, data, label)
    finally:
        stop(proc, timeout=15)


def pg_database() -> contextlib.AbstractContextManager[str]:
    """A throw-away PostgreSQL database, dropped afterwards."""
    return testing_pg_database(PG_ADMIN, prefix="bv_bench")


def seaweedfs(data: Path) -> contextlib.AbstractContextManager[str]:
    """SeaweedFS (master, volume, filer, S3 gateway) on loopback; yields the S3 endpoint."""
    return testing_seaweedfs(data, volume_max=64, volume_size_mb=1024, s3_key=S3_KEY)


def signup(url: str, home: Path, email: str) -> str:
    """Create an account with the default KDF; the CLI with BLINDVAULT_HOME=home uses it.
    Returns the session token (for the unencrypted baseline on the raw blob endpoints)."""
    from blindvault.client.state import StateStore
    from blindvault.client.vault import Vault

    vault, _ = Vault.signup(url, email, PASSWORD, store=StateStore(home))
    token = vault.api.token
    vault.close()
    return token


def cli_env(home: Path) -> dict[str, str]:
    return {"BLINDVAULT_HOME": str(home), "BLINDVAULT_PASSWORD": PASSWORD}


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "blindvault", *args]
