"""The Markdown report: every target as measured ratio vs goal, then one table per suite."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from typing import Any

__all__ = ["Target", "markdown", "targets"]


@dataclass(frozen=True)
class Target:
    name: str
    goal: str
    measured: str
    score: float  # measured / goal, oriented so that >= 1 means met
    detail: str = ""

    @property
    def met(self) -> bool:
        return self.score >= 1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "goal": self.goal,
            "measured": self.measured,
            "score": self.score,
            "met": self.met,
        }


def _mb(v: float) -> str:
    return f"{v:,.0f}" if v >= 10 else f"{v:,.2f}"


def _size(n: int) -> str:
    for unit, f in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= f and n % f == 0:
            return f"{n // f} {unit}"
    for unit, f in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if n >= f:
            return f"{n / f:g} {unit}"
    return f"{n} B"


def _format_ratio(r: dict[str, Any]) -> tuple[float, float, str] | None:
    core = r.get("core")
    if core:
        return (
            core["format_encrypt_mbs"] / core["ceiling_encrypt_mbs"],
            core["format_decrypt_mbs"] / core["ceiling_decrypt_mbs"],
            f"core suite, {_size(core['size'])} in memory",
        )
    sizes = r.get("sizes")
    if sizes:
        row = sizes["rows"][-1]
        return (
            row["bare_encrypt_ms"] / row["format_encrypt_ms"],
            row["bare_decrypt_ms"] / row["format_decrypt_ms"],
            f"sizes suite, {_size(row['size'])}",
        )
    return None


def _format_targets(r: dict[str, Any]) -> list[Target]:
    fr = _format_ratio(r)
    if not fr:
        return []
    return [
        Target(f"format {what} vs bare AES-256-GCM", "≥ 90%", f"{ratio:.1%}", ratio / 0.90, fr[2])
        for what, ratio in (("encrypt", fr[0]), ("decrypt", fr[1]))
    ]


def _rclone_targets(b: dict[str, Any], rc: dict[str, Any], size: str, n: int) -> list[Target]:
    out: list[Target] = []
    for op in ("put", "get"):
        ours, theirs = b[f"{op}_big"]["mbs"], rc[f"{op}_big"]["mbs"]
        out.append(
            Target(
                f"{size} {op} vs rclone crypt (local remote, same disk)",
                "≥ 2x",
                f"{ours / theirs:.2f}x ({_mb(ours)} vs {_mb(theirs)} MB/s)",
                ours / theirs / 2,
            )
        )
    for op in ("put", "get"):
        ours, theirs = b[f"{op}_small"]["files_s"], rc[f"{op}_small"]["files_s"]
        out.append(
            Target(
                f"{n:,} x 4 KiB {op} vs rclone crypt files/s",
                "≥ 1x",
                f"{ours / theirs:.2f}x ({ours:,.0f} vs {theirs:,.0f} files/s)",
                ours / theirs,
            )
        )
    return out


def _throughput_targets(r: dict[str, Any]) -> list[Target]:
    e2e, peers = r.get("e2e"), r.get("peers")
    if not (e2e and "sqlite" in e2e["backends"]):
        return []
    b = e2e["backends"]["sqlite"]
    size = _size(e2e["big_size"])
    out: list[Target] = []
    for op in ("put", "get"):
        ours, raw = b[f"{op}_big"]["mbs"], b[f"raw_{op}_big"]["mbs"]
        out.append(
            Target(
                f"{size} {op}, SQLite + disk, vs unencrypted through the same server",
                "≥ 80%",
                f"{ours / raw:.1%} ({_mb(ours)} vs {_mb(raw)} MB/s)",
                ours / raw / 0.80,
            )
        )
    if peers:
        out += _rclone_targets(b, peers["rclone_crypt"]["local"], size, e2e["small_count"])
    return out


def _rss_targets(r: dict[str, Any]) -> list[Target]:
    rss: list[tuple[float, str]] = []
    if r.get("memory"):
        for row in r["memory"]["rows"]:
            rss += [(row["put_rss_mib"], f"put {_size(row['size'])}")]
            rss += [(row["get_rss_mib"], f"get {_size(row['size'])}")]
    for kind, b in (r.get("e2e") or {"backends": {}})["backends"].items():
        for op in ("put_big", "get_big", "put_small", "get_small"):
            rss.append((b[op]["peak_rss_mib"], f"{op.replace('_', ' ')} ({kind})"))
    if not rss:
        return []
    peak, where = max(rss)
    return [
        Target(
            "peak RSS of put/get, any size", "≤ 100 MiB", f"{peak:.1f} MiB ({where})", 100 / peak
        )
    ]


def _kdf_targets(r: dict[str, Any]) -> list[Target]:
    kdf = r.get("kdf")
    if not kdf:
        return []
    ms = kdf["login_sdk_ms"]
    return [
        Target(
            "login with the default Argon2id (fresh device, end to end)",
            "≤ 0.5 s",
            f"{ms / 1000:.3f} s (CLI process: {kdf['login_cli_ms'] / 1000:.2f} s)",
            500 / ms,
        )
    ]


def targets(r: dict[str, Any]) -> list[Target]:
    """Each target from the numbers of this run; a target whose suite did not run is absent."""
    return [
        *_format_targets(r),
        *_throughput_targets(r),
        *_rss_targets(r),
        *_kdf_targets(r),
    ]


def _machine() -> str:
    model = "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{model}, {os.cpu_count()} cores, {mem:.0f} GiB RAM; Linux {platform.release()}; "
        f"Python {platform.python_version()}"
    )


def _targets_md(ts: list[Target]) -> list[str]:
    rows = ["| target | goal | measured | measured / goal | met |", "|---|---|---|---:|:-:|"]
    for t in ts:
        name = f"{t.name} ({t.detail})" if t.detail else t.name
        rows.append(
            f"| {name} | {t.goal} | {t.measured} | {t.score:.2f} | {'yes' if t.met else '**no**'} |"
        )
    return rows


def _kdf_md(k: dict[str, Any]) -> list[str]:
    rows = [
        "## 1. Key derivation",
        "",
        "| KDF | here (ms) | Cozy seed, Firefox 70, i7-8550U (ms) |",
    ]
    rows.append("|---|---:|---:|")
    for iters, ms in k["pbkdf2_ms"].items():
        seed = k["seed_pbkdf2_ms"].get(iters)
        shown = "—" if seed is None else f"{seed:,.0f}"
        rows.append(f"| PBKDF2-SHA-256 {int(iters):,} | {ms:,.1f} | {shown} |")
    for name, a in k["argon2id"].items():
        rows.append(
            f"| Argon2id {name} (m={a['memory_kib'] // 1024} MiB, t={a['iterations']}, "
            f"p={a['lanes']}) | {a['ms']:,.1f} | — |"
        )
    rows += [
        "",
        f"Login end to end with the default Argon2id, from a fresh device state (prelogin, "
        f"Argon2id, session, key bundle, signed root): **{k['login_sdk_ms']:,.0f} ms** in "
        f"process; {k['login_cli_ms']:,.0f} ms as `blindvault login` (a new Python process; "
        f"`blindvault --help` alone takes {k['python_startup_ms']:,.0f} ms).",
        "",
        "![PBKDF2 time by iterations](kdf.png)",
    ]
    return rows


def _sizes_md(s: dict[str, Any]) -> list[str]:
    rows = [
        "## 2. Encrypt and decrypt by size",
        "",
        "Milliseconds per operation (MB/s in brackets), one core, data in the page cache. "
        "*bare* = AES-256-GCM `encrypt_into`/`decrypt_into` over 16 KiB chunks (the ceiling); "
        "*format* = blindvault content format v1 in memory (key commitment, Padmé padding, "
        "C2SP chunking); *file → format* = read the file and encrypt it, as `put` does.",
        "",
        "| size | read file | bare encrypt | format encrypt | bare decrypt | format decrypt "
        "| file → format |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    keys = (
        "read",
        "bare_encrypt",
        "format_encrypt",
        "bare_decrypt",
        "format_decrypt",
        "file_encrypt",
    )
    for row in s["rows"]:
        cells = [f"{row[k + '_ms']:,.3g} ({_mb(row[k + '_mbs'])})" for k in keys]
        rows.append(f"| {_size(row['size'])} | " + " | ".join(cells) + " |")
    seed = s["seed_1gb_s"]
    rows += [
        "",
        f"Cozy seed, a 1 GB file in Firefox 70: read ≈ {seed['read'] * 1000:,.0f} ms, "
        f"encrypt ≈ {seed['encrypt'] * 1000:,.0f} ms.",
        "",
        "![time by size](sizes.png)",
        "",
        "![throughput by size](sizes_mbs.png)",
    ]
    return rows


def _e2e_md(e: dict[str, Any]) -> list[str]:
    big, n = _size(e["big_size"]), e["small_count"]
    rows = [
        "## 3. End to end through a real server on loopback",
        "",
        f"`blindvault put`/`get` (a CLI process each, login included) of one {big} file and "
        f"of a folder of {n:,} x {_size(e['small_size'])} files, next to the same bytes sent "
        "unencrypted through the same server and store on the raw blob endpoints "
        "(`bench/rawclient.py`, also a process, same part size, parts sent one after another, "
        "downloads fsynced like the client's), and `cp` on the same disk.",
        "",
        f"| server | op | blindvault MB/s | unencrypted MB/s | ratio | blindvault RSS MiB "
        f"| {n:,} files: blindvault files/s | unencrypted files/s | ratio |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for b in e["backends"].values():
        for op in ("put", "get"):
            ours, raw = b[f"{op}_big"], b[f"raw_{op}_big"]
            so, sr = b[f"{op}_small"], b[f"raw_{op}_small"]
            rows.append(
                f"| {b['label']} | {op} | {_mb(ours['mbs'])} | {_mb(raw['mbs'])} | "
                f"{ours['mbs'] / raw['mbs']:.0%} | {ours['peak_rss_mib']:.0f} | "
                f"{so['files_s']:,.0f} | {sr['files_s']:,.0f} | "
                f"{so['files_s'] / sr['files_s']:.0%} |"
            )
    cp = e["cp"]
    rows += [
        "",
        f"`cp` on the same disk: {big} at {_mb(cp['big']['mbs'])} MB/s; {n:,} files at "
        f"{cp['small']['files_s']:,.0f} files/s (page cache, no fsync; GNU cp copies with "
        "`copy_file_range`, inside the kernel). Through `read`/`write`, as every client and "
        f"server here writes: `dd bs=8M` {_mb(cp['dd']['mbs'])} MB/s, with `conv=fdatasync` "
        f"{_mb(cp['dd_fdatasync']['mbs'])} MB/s — the disk-side limit for a durable upload.",
        "",
        "![end-to-end throughput](e2e.png)",
    ]
    return rows


def _peers_md(p: dict[str, Any], e: dict[str, Any] | None) -> list[str]:
    big, n = _size(p["big_size"]), p["small_count"]
    rows = [
        "## 4. Peers on the same data",
        "",
        "Versions: " + "; ".join(f"`{v}`" for v in p["versions"].values()) + ". Each tool "
        "with its defaults (rclone: 4 transfers in parallel; restic: content-defined "
        "chunking, dedup, zstd compression on auto, which random data defeats). "
        "Encrypt = put/backup, decrypt = get/restore. "
        "RSS is the process peak (`/usr/bin/time -v`).",
        "",
        f"| tool | {big} encrypt MB/s | {big} decrypt MB/s | {n:,} files encrypt files/s "
        f"| decrypt files/s | peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|",
    ]

    def line(name: str, d: dict[str, Any], a: str = "put", b: str = "get") -> str:
        rss = max(d[k]["peak_rss_mib"] for k in d if isinstance(d[k], dict))
        return (
            f"| {name} | {_mb(d[a + '_big']['mbs'])} | {_mb(d[b + '_big']['mbs'])} | "
            f"{d[a + '_small']['files_s']:,.0f} | {d[b + '_small']['files_s']:,.0f} | "
            f"{rss:.0f} |"
        )

    if e:
        for b in e["backends"].values():
            ours = {k: b[k] for k in ("put_big", "get_big", "put_small", "get_small")}
            rows.append(line(f"**blindvault**, {b['label']}", ours))
    rows.append(line("rclone crypt, local folder", p["rclone_crypt"]["local"]))
    rows.append(line("rclone crypt, SeaweedFS S3", p["rclone_crypt"]["s3"]))
    rows.append(line("restic, local repository", p["restic"]["local"]))
    rows.append(line("restic, SeaweedFS S3", p["restic"]["s3"]))
    rows.append(
        line("age (X25519), file to file, one process per file", p["age"], "encrypt", "decrypt")
    )
    rows += ["", "![peers](peers.png)"]
    return rows


def _server_md(s: dict[str, Any]) -> list[str]:
    rows = [
        "## 5. Server throughput",
        "",
        f"{s['payload'] // 1024} KiB blob PUT, GET, and manifest compare-and-swap (each client "
        f"advances its own record), {s['duration_s']:g} s per cell, blobs on local disk. The "
        "load generator (asyncio + httpx, one process) shares the 2 cores with the server.",
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
    rows += ["", "![server throughput](server.png)"]
    return rows


def _memory_md(m: dict[str, Any]) -> list[str]:
    rows = [
        "## 6. Memory",
        "",
        "Peak RSS of `blindvault put` and `get`, each a CLI process, SQLite + local disk. "
        f"The interpreter with the client imported (`blindvault --help`): "
        f"{m['python_cli_baseline_rss_mib']:.0f} MiB.",
        "",
        "| file size | put peak RSS MiB | get peak RSS MiB | put MB/s | get MB/s |",
        "|---:|---:|---:|---:|---:|",
    ]
    for row in m["rows"]:
        rows.append(
            f"| {_size(row['size'])} | {row['put_rss_mib']:.1f} | {row['get_rss_mib']:.1f} | "
            f"{_mb(row['put_mbs'])} | {_mb(row['get_mbs'])} |"
        )
    rows += ["", "![memory](memory.png)"]
    return rows


def markdown(r: dict[str, Any], *, core_md: str | None = None) -> str:
    ts = targets(r)
    lines = [
        "# blindvault benchmarks",
        "",
        f"Generated by `blindvault bench{' --quick' if r.get('quick') else ''}` on "
        f"{r.get('date', '?')}: {_machine()}. Every number below comes from one run, "
        "side by side, so that the machine's noise hits every line alike; "
        "`results.json` holds them all. Analysis of the misses: [analysis.md](analysis.md).",
        "",
        "## Targets",
        "",
        *(_targets_md(ts) if ts else ["(no suite with a target ran)"]),
        "",
    ]
    if r.get("kdf"):
        lines += [*_kdf_md(r["kdf"]), ""]
    if core_md:
        lines += [
            "## Crypto core (`blindvault bench core`)",
            "",
            core_md.replace("## ", "### "),
            "",
        ]
    if r.get("sizes"):
        lines += [*_sizes_md(r["sizes"]), ""]
    if r.get("e2e"):
        lines += [*_e2e_md(r["e2e"]), ""]
    if r.get("peers"):
        lines += [*_peers_md(r["peers"], r.get("e2e")), ""]
    if r.get("server"):
        lines += [*_server_md(r["server"]), ""]
    if r.get("memory"):
        lines += [*_memory_md(r["memory"]), ""]
    if r.get("browser"):
        from blindvault.bench.browser import markdown as browser_md

        lines += ["## Browser (`blindvault bench browser`)", "", browser_md(r["browser"])]
    return "\n".join(lines)
