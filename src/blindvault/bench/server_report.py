"""The server suite's targets (issue 18) and its section of the report."""

from __future__ import annotations

from typing import Any

from blindvault.bench.targets import Target

__all__ = ["server_md", "server_targets"]


def _span(m: dict[str, Any], fmt: str = "{:,.0f}") -> str:
    return f"{fmt.format(m['median'])} ({fmt.format(m['min'])}-{fmt.format(m['max'])})"


def _get_targets(w: dict[str, Any]) -> list[Target]:
    out: list[Target] = []
    for row in w["get"]:
        if row["db"] != "sqlite":
            continue
        ratio = row["ratio"]
        out.append(
            Target(
                f"authenticated 4 KiB GET vs bare Starlette, {row['workers']} process(es), "
                "SQLite + disk",
                "≥ 50%",
                f"{ratio['median']:.0%} (runs {ratio['min']:.0%}-{ratio['max']:.0%}; "
                f"{row['rps']['median']:,.0f} vs {row['bare_rps']['median']:,.0f} req/s)",
                ratio["median"] / 0.50,
                w["tool"],
            )
        )
        p99 = row["p99_ms"]["median"]
        out.append(
            Target(
                f"p99 of that GET at 32 connections, {row['workers']} process(es)",
                "≤ 50 ms",
                f"{p99:.1f} ms (bare: {row['bare_p99_ms']['median']:.1f} ms)",
                50 / max(p99, 1e-9),
            )
        )
    by = {(r["db"], r["workers"]): r for r in w["get"]}
    if ("sqlite", 1) in by and ("sqlite", 2) in by:
        one, two = by[("sqlite", 1)]["rps"]["median"], by[("sqlite", 2)]["rps"]["median"]
        out.append(
            Target(
                "GET, 2 server processes vs 1 (SQLite + disk)",
                "≥ 1.5x",
                f"{two / one:.2f}x ({two:,.0f} vs {one:,.0f} req/s)",
                two / one / 1.5,
            )
        )
    return out


def _cas_targets(w: dict[str, Any]) -> list[Target]:
    best: dict[str, dict[str, Any]] = {}
    for row in w["cas"]:
        if row["db"] not in best or row["rps"]["median"] > best[row["db"]]["rps"]["median"]:
            best[row["db"]] = row
    return [
        Target(
            f"record compare-and-swap, {'SQLite' if db == 'sqlite' else 'PostgreSQL'}",
            "≥ 1,000/s",
            f"{row['rps']['median']:,.0f}/s ({row['workers']} process(es); "
            f"runs {row['rps']['min']:,.0f}-{row['rps']['max']:,.0f})",
            row["rps"]["median"] / 1000,
            w["tool"],
        )
        for db, row in sorted(best.items(), key=lambda kv: kv[0] != "sqlite")
    ]


def server_targets(r: dict[str, Any]) -> list[Target]:
    w = (r.get("server") or {}).get("wrk")
    if not w:
        return []
    return [*_get_targets(w), *_cas_targets(w)]


def _wrk_md(w: dict[str, Any]) -> list[str]:
    rows = [
        "",
        f"`{w['tool']}` (Debian's wrk, C), {w['runs']} run(s) per figure, median (range); "
        "blindvault and a bare Starlette app serving the same 4 KiB body alternate, on the "
        "same uvicorn settings (httptools, uvloop) and worker count. RSS: all the server's "
        "processes after the run. Other jobs shared the 2 cores: compare the ratios.",
        "",
        "| database | processes | blindvault GET req/s | bare req/s | ratio | p50 ms | p99 ms "
        "| RSS MiB (bare) | CAS/s | CAS p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    cas = {(c["db"], c["workers"]): c for c in w["cas"]}
    for g in w["get"]:
        c = cas.get((g["db"], g["workers"]))
        rows.append(
            f"| {g['db']} | {g['workers']} | {_span(g['rps'])} | {_span(g['bare_rps'])} | "
            f"{_span(g['ratio'], '{:.0%}')} | {_span(g['p50_ms'], '{:.1f}')} | "
            f"{_span(g['p99_ms'], '{:.1f}')} | {g['rss_mib']['median']:.0f} "
            f"({g['bare_rss_mib']['median']:.0f}) | "
            f"{_span(c['rps']) if c else '—'} | {_span(c['p99_ms'], '{:.1f}') if c else '—'} | "
            f"{g['errors'] + (c['errors'] if c else 0):.0f} |"
        )
    return rows


def server_md(s: dict[str, Any]) -> list[str]:
    rows = [
        "## 5. Server throughput",
        "",
        f"{s['payload'] // 1024} KiB blob PUT, GET, and manifest compare-and-swap (each client "
        f"advances its own record), {s['duration_s']:g} s per cell, blobs on local disk. The "
        "load generator (asyncio + httpx, one process) shares the 2 cores with the server "
        "and is itself the limit past ~1,000 requests/s; the `wrk` table below is not.",
        "",
        "| database | server processes | operation | clients | requests/s | p50 ms | p99 ms "
        "| errors |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for c in s["cells"]:
        rows.append(
            f"| {c['db']} | {c['workers']} | {c['op']} | {c['clients']} | {c['rps']:,.0f} | "
            f"{c['p50_ms']:.1f} | {c['p99_ms']:.1f} | {c['errors']} |"
        )
    if s.get("wrk"):
        rows += _wrk_md(s["wrk"])
    rows += ["", "![server throughput](server.png)"]
    return rows
