"""The server suite's wrk figures and targets (issue 18), from numbers."""

from __future__ import annotations

from typing import Any

import pytest

from blindvault.bench import report, wrk

WRK_OUT = """Running 5s test @ http://127.0.0.1:1/v1/blobs/x
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     6.12ms    3.04ms  40.11ms   80.00%
  Latency Distribution
     50%  850.00us
     75%    7.01ms
     90%    9.00ms
     99%    1.20s
  24000 requests in 5.00s, 100.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   4800.50
Transfer/sec:     20.00MB
"""


def test_wrk_output_is_read_with_its_units() -> None:
    got = wrk.parse(WRK_OUT)
    assert got["rps"] == pytest.approx(4800.5)
    assert got["p50_ms"] == pytest.approx(0.85)
    assert got["p99_ms"] == pytest.approx(1200.0)
    assert got["errors"] == 7
    with pytest.raises(RuntimeError):
        wrk.parse("wrk: connection refused")


def _m(x: float) -> dict[str, Any]:
    return {"median": x, "min": x * 0.9, "max": x * 1.1, "runs": [x]}


def _get(workers: int, rps: float, bare: float, p99: float) -> dict[str, Any]:
    return {"db": "sqlite", "workers": workers, "rps": _m(rps), "bare_rps": _m(bare),
            "ratio": _m(rps / bare), "p50_ms": _m(1.0), "p99_ms": _m(p99),
            "bare_p99_ms": _m(5.0), "errors": 0, "rss_mib": _m(100), "bare_rss_mib": _m(40)}  # fmt: skip


def test_server_targets_from_numbers() -> None:
    r = {
        "server": {
            "wrk": {
                "tool": "wrk -t2 -c32 -d5s",
                "runs": 3,
                "get": [_get(1, 3000, 5000, 40), _get(2, 4000, 9000, 80)],
                "cas": [
                    {
                        "db": "sqlite",
                        "workers": 1,
                        "rps": _m(1200),
                        "p99_ms": _m(30.0),
                        "errors": 0,
                        "rss_mib": 90,
                    },
                    {
                        "db": "sqlite",
                        "workers": 2,
                        "rps": _m(900),
                        "p99_ms": _m(60.0),
                        "errors": 0,
                        "rss_mib": 150,
                    },
                    {
                        "db": "postgres",
                        "workers": 1,
                        "rps": _m(400),
                        "p99_ms": _m(90.0),
                        "errors": 0,
                        "rss_mib": 100,
                    },
                ],
            }
        }
    }
    got = {t.name: t for t in report.targets(r)}
    one = got["authenticated 4 KiB GET vs bare Starlette, 1 process(es), SQLite + disk"]
    assert one.score == pytest.approx(0.6 / 0.5) and one.met
    two = got["authenticated 4 KiB GET vs bare Starlette, 2 process(es), SQLite + disk"]
    assert two.score == pytest.approx((4000 / 9000) / 0.5) and not two.met
    assert got["p99 of that GET at 32 connections, 1 process(es)"].met
    assert not got["p99 of that GET at 32 connections, 2 process(es)"].met
    scale = got["GET, 2 server processes vs 1 (SQLite + disk)"]
    assert scale.score == pytest.approx(4000 / 3000 / 1.5) and not scale.met
    assert got["record compare-and-swap, SQLite"].score == pytest.approx(1.2)  # the best
    assert not got["record compare-and-swap, PostgreSQL"].met
    text = report.markdown(
        {**r, "server": {**r["server"], "payload": 4096, "duration_s": 3.0, "cells": []}}
    )
    assert "| sqlite | 2 | 4,000 (3,600-4,400) | 9,000 (8,100-9,900) |" in text
