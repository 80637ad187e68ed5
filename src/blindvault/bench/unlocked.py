"""Suite `cli` (issue 18): what one short command costs as a whole process — `blindvault ls`
locked (password → Argon2id → login) against unlocked (the agent's key; the command runs
in a fork of the warm agent), and unlocked without forwarding (the agent's key, but the
interpreter and every import paid in the command's own process). Each figure is 3 runs
(after one warm-up; --quick: one run): median and range of wall time, CPU time and peak RSS
(the child's rusage, as `/usr/bin/time -v` reads it). The agent's own memory (it holds
the imported client that each forwarded command forks from) is reported beside it."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from blindvault.bench import util

__all__ = ["markdown", "run_cli", "targets"]

RUNS = 3
ENTRIES = 10
GOAL_MS = 60.0
GOAL_MIB = 40.0


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """One process under `/usr/bin/time`: wall ms (measured here), CPU ms (user + system,
    10 ms resolution) and peak RSS MiB. A small parent matters: the rusage of a child of
    this (large) process counts the parent's pages it was forked or spawned from."""
    full = {**os.environ, **env}
    with tempfile.TemporaryDirectory(prefix="bv-cli-") as tmp:
        out = Path(tmp) / "time"
        t0 = time.perf_counter()
        done = subprocess.run(  # noqa: S603 (fixed benchmark commands)
            [util.GNU_TIME, "-f", "%U %S %M", "-o", str(out), *cmd],
            env=full, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, check=False,
        )  # fmt: skip
        wall = (time.perf_counter() - t0) * 1000
        if done.returncode != 0:
            err = done.stderr.decode(errors="replace")[-2000:]
            raise RuntimeError(f"{' '.join(cmd[-3:])} exited {done.returncode}: {err}")
        user, system, kib = out.read_text().split()[-3:]
    return wall, (float(user) + float(system)) * 1000, int(kib) / 1024


def _series(cmd: list[str], env: dict[str, str], runs: int) -> dict[str, Any]:
    if runs > 1:
        _run(cmd, env)  # warm-up: page cache, the agent's first fork
    got = [_run(cmd, env) for _ in range(runs)]
    ms, cpu, mib = ([g[i] for g in got] for i in range(3))
    return {
        "ms": ms,
        "cpu_ms": cpu,
        "rss_mib": mib,
        "median_ms": statistics.median(ms),
        "median_rss_mib": statistics.median(mib),
    }


def _agent_memory(pidfile: Path) -> tuple[float, float]:
    """The agent's resident and peak memory (MiB), from /proc."""
    pid = int(pidfile.read_text().strip())
    values = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def run_cli(work: Path, *, quick: bool = False) -> dict[str, Any]:
    runs = 1 if quick else RUNS
    home = work / "home-cli"
    # a short socket path (AF_UNIX paths are limited to ~107 bytes)
    agent_dir = Path(tempfile.mkdtemp(prefix="bva-")) / "agent"
    try:
        with util.server(work / "data") as srv:
            util.signup(srv.url, home, "cli@example.org")
            env = {**util.cli_env(home), "BLINDVAULT_AGENT_DIR": str(agent_dir)}
            for i in range(2 if quick else ENTRIES):
                util.run_measured(util.cli("mkdir", f"/folder{i}"), env=env)
            ls = util.cli("ls", "/")
            locked = _series(ls, env, runs)
            util.run_measured(util.cli("unlock", "--for", "10m"), env=env)
            try:
                no_pw = {**env, "BLINDVAULT_PASSWORD": ""}  # unlocked: no password given at all
                unlocked = _series(ls, no_pw, runs)
                agent = _agent_memory(agent_dir / "agent.pid")
                in_process = _series(ls, {**no_pw, "BLINDVAULT_AGENT_FORWARD": "0"}, runs)
            finally:
                util.run_measured(util.cli("lock"), env=env)
    finally:
        shutil.rmtree(agent_dir.parent, ignore_errors=True)
    return {
        "runs": runs,
        "entries": 2 if quick else ENTRIES,
        "locked": locked,
        "unlocked": unlocked,
        "unlocked_in_process": in_process,
        "load_average": os.getloadavg()[0],
        "agent_rss_mib": agent[0],
        "agent_peak_rss_mib": agent[1],
        "ratio": locked["median_ms"] / unlocked["median_ms"],
    }


def targets(c: dict[str, Any]) -> list[tuple[str, str, str, float]]:
    """(name, goal, measured, score) of the unlocked-command targets."""
    u = c["unlocked"]
    return [
        (
            "unlocked `blindvault ls`, whole process, wall",
            f"≤ {GOAL_MS:.0f} ms",
            f"{u['median_ms']:.0f} ms (locked {c['locked']['median_ms']:.0f} ms, "
            f"{c['ratio']:.1f}x faster)",
            GOAL_MS / u["median_ms"],
        ),
        (
            "unlocked `blindvault ls`, whole process, peak RSS",
            f"≤ {GOAL_MIB:.0f} MiB",
            f"{u['median_rss_mib']:.1f} MiB (locked {c['locked']['median_rss_mib']:.1f} MiB)",
            GOAL_MIB / u["median_rss_mib"],
        ),
    ]


def _cell(s: dict[str, Any], key: str, unit: str, fmt: str) -> str:
    values = s[key]
    return f"{statistics.median(values):{fmt}} {unit} ({min(values):{fmt}}-{max(values):{fmt}})"


def markdown(c: dict[str, Any]) -> list[str]:
    rows = [
        "## Unlocked commands (`blindvault bench cli`)",
        "",
        f"`blindvault ls /` of a folder of {c['entries']} entries, each run its own process "
        f"(interpreter start and imports included), SQLite + local disk; median (range) of "
        f"{c['runs']} runs after a warm-up. *unlocked* runs in a fork of the agent; "
        "*in process* takes the agent's key but loads the client itself "
        "(`BLINDVAULT_AGENT_FORWARD=0`).",
        "",
        "| `ls` | wall | CPU (user + sys) | peak RSS |",
        "|---|---:|---:|---:|",
    ]
    for name, key in (
        ("locked (password, Argon2id)", "locked"),
        ("unlocked", "unlocked"),
        ("unlocked, in process", "unlocked_in_process"),
    ):
        s = c[key]
        rows.append(
            f"| {name} | {_cell(s, 'ms', 'ms', '.0f')} | {_cell(s, 'cpu_ms', 'ms', '.0f')} "
            f"| {_cell(s, 'rss_mib', 'MiB', '.1f')} |"
        )
    rows += [
        "",
        f"Locked / unlocked wall time: **{c['ratio']:.1f}x**. The agent process itself "
        f"(the imported client each forwarded command forks from, copy-on-write): "
        f"{c['agent_rss_mib']:.0f} MiB resident, {c['agent_peak_rss_mib']:.0f} MiB at peak. "
        f"Load average during the run: {c['load_average']:.1f} on {os.cpu_count()} cores.",
    ]
    return rows
