"""The server against a bare ASGI app, both driven by `wrk` (issue 18).

`wrk -t2 -c32` (Debian's wrk, a C load generator: scripts/system-deps) fetches the same
4 KiB body from a bare Starlette app (`bench.bare_asgi`) and, with a device's token, from
blindvault's `GET /v1/blobs/{id}` of a 4 KiB blob, on the same uvicorn settings (httptools,
uvloop) and the same number of worker processes; the two alternate, three runs each, and
the report gives the median and range. The same tool measures compare-and-swap: each
request creates a record with `expected_version` 0 (a Lua script draws a fresh id), and the
server's RSS (all its processes) is read after each run. wrk and the server share the 2
cores of this machine, as do other jobs: ratios from one run are what to compare.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import statistics
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from blindvault.testing.procs import free_port, wait_http

__all__ = [
    "CAS_LUA", "Wrk", "bare_server", "check", "median_range", "parse", "rss_mib", "run_wrk",
]  # fmt: skip

THREADS, CONNECTIONS = 2, 32
CAS_LUA = """
-- every id distinct: this run's start time, the wrk thread, and a counter per thread
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  thread:set("run", os.time() % 4294967296)
  threads = threads + 1
end
local n = 0
request = function()
  n = n + 1
  local id = string.format("%08x%02x%022x", run, tid, n)
  return wrk.format("PUT", "/v1/records/manifest/" .. id, nil,
    '{"expected_version":0,"data":"' .. string.rep("QUJD", 128) .. '"}')
end
"""
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


class Wrk(dict[str, float]):
    """req/s, p50 and p99 (ms), errors (non-2xx or socket errors)."""


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if m is None:
        raise RuntimeError(f"wrk: unreadable latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse(out: str) -> Wrk:
    """The figures of `wrk --latency` output."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    if rps is None or p50 is None or p99 is None:
        raise RuntimeError(f"wrk: unexpected output:\n{out}")
    errors = 0
    if m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out):
        errors += int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(g) for g in m.groups())
    return Wrk(rps=float(rps.group(1)), p50_ms=_ms(p50.group(1)), p99_ms=_ms(p99.group(1)),
               errors=float(errors))  # fmt: skip


def check() -> None:
    if shutil.which("wrk") is None:
        raise RuntimeError("bench server needs wrk (Debian package `wrk`): run scripts/system-deps")


def run_wrk(url: str, seconds: float, token: str | None = None, lua: Path | None = None) -> Wrk:
    cmd = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--latency"]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    if lua:
        cmd += ["-H", "Content-Type: application/json", "-s", str(lua)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True)  # noqa: S603
    return parse(out.stdout)


def _pids_of(pattern: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if pattern in cmdline:
            found.append(int(proc.name))
    return found


def _rss(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def _family(pids: list[int]) -> set[int]:
    seen: set[int] = set()
    todo = list(pids)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        with contextlib.suppress(OSError, ValueError):
            kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            todo += [int(k) for k in kids]
    return seen


def rss_mib(pattern: str) -> float:
    """RSS of every process whose command line contains `pattern` and of their children
    (uvicorn's workers), in MiB."""
    return sum(_rss(pid) for pid in _family(_pids_of(pattern)))


@contextlib.contextmanager
def bare_server(workers: int) -> Iterator[tuple[str, str]]:
    """The bare Starlette app on uvicorn, with blindvault's uvicorn settings; yields its
    base URL and a pattern matching its processes."""
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "blindvault.bench.bare_asgi:app", "--port", str(port),
           "--workers", str(workers), "--http", "httptools", "--loop", "uvloop",
           "--log-level", "warning", "--no-server-header"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/v1/health", timeout=120)
        yield url, f"--port {port} "
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def median_range(values: list[float]) -> dict[str, Any]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": values}  # fmt: skip
