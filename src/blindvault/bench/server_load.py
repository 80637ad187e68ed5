"""Suite `server`: server throughput under concurrent clients — small-object PUT and GET
(4 KiB blobs) and manifest compare-and-swap (each client advances its own record) with 1, 8
and 32 clients, one and two server processes, SQLite and PostgreSQL (blobs on local disk
for both, so the database is what differs). The load generator is one asyncio process on
the same 2-core machine: at high request rates it competes with the server for the CPU."""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import statistics
import time
from pathlib import Path
from typing import Any

import httpx

from blindvault.bench import util, wrk
from blindvault.bench.e2e import stack

__all__ = ["run_server_load", "run_wrk_suite"]

OPS = ("put", "get", "cas")
CLIENTS = (1, 8, 32)
WORKERS = (1, 2)
PAYLOAD = 4096


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _cell(
    url: str, token: str, op: str, clients: int, duration: float, ids: list[str]
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients + 4, max_keepalive_connections=clients + 4)
    payload = os.urandom(PAYLOAD)
    record = base64.b64encode(os.urandom(512)).decode()
    latencies: list[float] = []
    errors = 0
    async with httpx.AsyncClient(
        base_url=url, headers=headers, limits=limits, timeout=60.0
    ) as http:
        records = [secrets.token_hex(16) for _ in range(clients)]
        versions = [0] * clients

        async def one(i: int, k: int) -> httpx.Response:
            if op == "put":
                return await http.put(f"/v1/blobs/{secrets.token_hex(16)}", content=payload)
            if op == "get":
                return await http.get(f"/v1/blobs/{ids[(i * 7919 + k) % len(ids)]}")
            r = await http.put(
                f"/v1/records/manifest/{records[i]}",
                json={"expected_version": versions[i], "data": record},
            )
            if r.status_code < 400:
                versions[i] = int(r.json()["version"])
            return r

        await asyncio.gather(*(one(i, 0) for i in range(clients)))  # warm: connections, rows
        stop_at = time.perf_counter() + duration

        async def client(i: int) -> None:
            nonlocal errors
            k = 1
            while time.perf_counter() < stop_at:
                t0 = time.perf_counter()
                r = await one(i, k)
                latencies.append(time.perf_counter() - t0)
                errors += r.status_code >= 400
                k += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(client(i) for i in range(clients)))
        elapsed = time.perf_counter() - t0
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50_ms": _pct(latencies, 0.50) * 1000,
        "p99_ms": _pct(latencies, 0.99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else float("nan"),
    }


async def _seed(url: str, token: str, count: int) -> list[str]:
    ids = [secrets.token_hex(16) for _ in range(count)]
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60.0
    ) as http:
        for blob in ids:
            r = await http.put(f"/v1/blobs/{blob}", content=os.urandom(PAYLOAD))
            r.raise_for_status()
    return ids


def run_server_load(work: Path, *, quick: bool = False) -> dict[str, Any]:
    duration = 0.1 if quick else 3.0
    clients_set = CLIENTS[:2] if quick else CLIENTS
    cells: list[dict[str, Any]] = []
    combos = [(kind, workers) for kind in ("sqlite", "postgres") for workers in WORKERS]
    if quick:  # a smoke run: every code path, fewer server start-ups
        combos = combos[:3]
    for kind, workers in combos:
        with stack(kind, work, None, workers=workers) as srv:
            home = work / f"home-load-{kind}-{workers}"
            token = util.signup(srv.url, home, "load@example.org")
            ids = util.run_async(_seed(srv.url, token, 8 if quick else 200))
            for op in OPS:
                for clients in clients_set:
                    got = util.run_async(_cell(srv.url, token, op, clients, duration, ids))
                    cells.append(
                        {"db": kind, "workers": workers, "op": op, "clients": clients, **got}
                    )
    return {
        "duration_s": duration,
        "payload": PAYLOAD,
        "cells": cells,
        "wrk": run_wrk_suite(work / "wrk", quick=quick),
    }


def _seed_one(url: str, work: Path, name: str) -> tuple[str, str]:
    token = util.signup(url, work / f"home-wrk-{name}", f"wrk-{name}@example.org")
    ids = util.run_async(_seed(url, token, 1))
    return token, ids[0]


def _get_runs(
    bare_url: str, bare_pat: str, url: str, pat: str, token: str, blob: str, runs: int, secs: float
) -> dict[str, Any]:
    """Bare and blindvault alternate, so that the machine's drift hits both alike."""
    bare: list[wrk.Wrk] = []
    ours: list[wrk.Wrk] = []
    bare_rss: list[float] = []
    ours_rss: list[float] = []
    for _ in range(runs):
        bare.append(wrk.run_wrk(f"{bare_url}/v1/blobs/{blob}", secs))
        bare_rss.append(wrk.rss_mib(bare_pat))
        ours.append(wrk.run_wrk(f"{url}/v1/blobs/{blob}", secs, token))
        ours_rss.append(wrk.rss_mib(pat))
    ratios = [o["rps"] / b["rps"] for o, b in zip(ours, bare, strict=True)]
    return {
        "bare_rps": wrk.median_range([b["rps"] for b in bare]),
        "rps": wrk.median_range([o["rps"] for o in ours]),
        "ratio": wrk.median_range(ratios),
        "p50_ms": wrk.median_range([o["p50_ms"] for o in ours]),
        "p99_ms": wrk.median_range([o["p99_ms"] for o in ours]),
        "bare_p99_ms": wrk.median_range([b["p99_ms"] for b in bare]),
        "errors": sum(o["errors"] for o in ours),
        "rss_mib": wrk.median_range(ours_rss),
        "bare_rss_mib": wrk.median_range(bare_rss),
    }


def _cas_runs(url: str, pat: str, token: str, lua: Path, runs: int, secs: float) -> dict[str, Any]:
    got = [wrk.run_wrk(f"{url}/", secs, token, lua) for _ in range(runs)]
    return {
        "rps": wrk.median_range([g["rps"] for g in got]),
        "p99_ms": wrk.median_range([g["p99_ms"] for g in got]),
        "errors": sum(g["errors"] for g in got),
        "rss_mib": wrk.rss_mib(pat),
    }


def run_wrk_suite(work: Path, *, quick: bool = False) -> dict[str, Any]:
    """`wrk -t2 -c32`: authenticated 4 KiB GET beside a bare Starlette app on the same
    worker count, and compare-and-swap (new records), on SQLite and PostgreSQL."""
    wrk.check()
    secs, runs = (1.0, 1) if quick else (5.0, 3)
    lua = work / "cas.lua"
    work.mkdir(parents=True, exist_ok=True)
    lua.write_text(wrk.CAS_LUA)
    get_rows: list[dict[str, Any]] = []
    cas_rows: list[dict[str, Any]] = []
    combos = [(kind, workers) for kind in ("sqlite", "postgres") for workers in WORKERS]
    if quick:  # a smoke run: every code path, fewer server start-ups
        combos = combos[:3]
    for kind, workers in combos:
        with stack(kind, work, None, workers=workers) as srv:
            pat = f"--data {srv.data} "
            token, blob = _seed_one(srv.url, work, f"{kind}-{workers}")
            with wrk.bare_server(workers) as (bare_url, bare_pat):
                got = _get_runs(bare_url, bare_pat, srv.url, pat, token, blob, runs, secs)
            get_rows.append({"db": kind, "workers": workers, **got})
            cas = _cas_runs(srv.url, pat, token, lua, runs, secs)
            cas_rows.append({"db": kind, "workers": workers, **cas})
    return {
        "tool": f"wrk -t{wrk.THREADS} -c{wrk.CONNECTIONS} -d{secs:g}s",
        "runs": runs,
        "payload": PAYLOAD,
        "get": get_rows,
        "cas": cas_rows,
    }
