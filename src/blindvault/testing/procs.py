"""Child processes on loopback: free ports, waiting for an HTTP answer, stopping, and a
real `blindvault server` process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

__all__ = ["free_port", "start_server", "stop", "wait_http"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 60.0) -> None:
    """Return once `url` answers anything over HTTP; RuntimeError after `timeout` seconds.
    Polls every 50 ms: a server that is up is used at once (tests start many)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=2.0)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def stop(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if the process is still there after `timeout` seconds."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def start_server(
    data: Path,
    *extra: str,
    env: Mapping[str, str] | None = None,
    log_dir: Path | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """A `blindvault server --data DATA EXTRA...` on a free loopback port, answering on
    /v1/health; its stderr goes to `server-PORT.log` in `log_dir` (default: next to
    `data`). Returns the process and its base URL; the caller stops it with `stop`."""
    port = free_port()
    data.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    cmd = [sys.executable, "-m", "blindvault", "server", "--data", str(data)]
    cmd += ["--port", str(port), "--log-level", "warning", *extra]
    with ((log_dir or data.parent) / f"server-{port}.log").open("wb") as log:
        proc = subprocess.Popen(  # noqa: S603 (our own server, fixed arguments)
            cmd, env=full_env, stdout=subprocess.DEVNULL, stderr=log
        )
    url = f"http://127.0.0.1:{port}"
    try:
        # a bounded wait that returns as soon as the server answers: generous, because on a
        # busy 2-core machine (two test workers, other jobs) its imports alone took > 60 s
        wait_http(url + "/v1/health", timeout=180)
    except RuntimeError:
        stop(proc)
        raise
    return proc, url
