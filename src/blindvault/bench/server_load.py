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

from blindvault.bench import util
from blindvault.bench.e2e import stack

__all__ = ["run_server_load"]

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
            ids = asyncio.run(_seed(srv.url, token, 8 if quick else 200))
            for op in OPS:
                for clients in clients_set:
                    got = asyncio.run(_cell(srv.url, token, op, clients, duration, ids))
                    cells.append(
                        {"db": kind, "workers": workers, "op": op, "clients": clients, **got}
                    )
    return {"duration_s": duration, "payload": PAYLOAD, "cells": cells}
