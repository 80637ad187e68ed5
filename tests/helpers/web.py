"""The browser tests' server and CLI (tests/web): one `blindvault server` process whose whole
output (stderr and the access log on stdout) goes to one file, and the `blindvault` CLI run
as a subprocess with its own BLINDVAULT_HOME, as a user would run it beside the browser."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from helpers.servers import free_port, stop, wait_http

__all__ = ["WebServer", "run_cli", "web_server"]


@dataclass
class WebServer:
    url: str
    data: Path
    log: Path  # stdout and stderr of the server process


@contextmanager
def web_server(base: Path, *extra: str) -> Iterator[WebServer]:
    """A server on `base/data` and a free loopback port, logging to `base/server.log`."""
    port = free_port()
    data, log = base / "data", base / "server.log"
    cmd = [sys.executable, "-m", "blindvault", "server", "--data", str(data)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*cmd, "--port", str(port), *extra],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/v1/health", timeout=180)  # returns as soon as it answers
        yield WebServer(url, data, log)
    finally:
        stop(proc)


def run_cli(
    home: Path, *args: str, env: Mapping[str, str | None] | None = None, timeout: float = 600
) -> str:
    """`blindvault ARGS` in a process of its own; exit 0 or the test fails; its stdout.
    `env` adds variables to this process's environment (None removes one)."""
    full = {**os.environ, "BLINDVAULT_HOME": str(home)}
    for name, value in (env or {}).items():
        if value is None:
            full.pop(name, None)
        else:
            full[name] = value
    result = subprocess.run(
        [sys.executable, "-m", "blindvault", *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout
