"""The Markdown report: every target as measured ratio vs goal, then one table per suite."""

from __future__ import annotations

import os
import platform
from typing import Any

from blindvault.bench.server_report import server_targets
from blindvault.bench.targets import Target, mb_text, spread
from blindvault.bench.targets import size_text as _size
from blindvault.bench.targets import targets as _own_targets

_mb = mb_text

__all__ = ["Target", "markdown", "targets"]


def targets(r: dict[str, Any]) -> list[Target]:
    """Every target of this run: the format, transfer, storage, memory and KDF targets
    (`bench.targets`), the server suite's (`bench.server_report`) and unlocked commands'."""
    return [*_own_targets(r), *server_targets(r), *_cli_targets(r), *_browser_targets(r)]


def _browser_targets(r: dict[str, Any]) -> list[Target]:
    if not r.get("browser"):
        return []
    from blindvault.bench.browser import targets as browser_targets

    return [Target(*t) for t in browser_targets(r["browser"])]


def _cli_targets(r: dict[str, Any]) -> list[Target]:
    from blindvault.bench.folders import targets as folder_targets
    from blindvault.bench.unlocked import targets as cli_targets

    out = [Target(*t) for t in cli_targets(r["cli"])] if r.get("cli") else []
    return out + ([Target(*t) for t in folder_targets(r["folders"])] if r.get("folders") else [])


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
        met = "yes" if t.met else "**no** ([analysis](analysis.md))"
        rows.append(f"| {name} | {t.goal} | {t.measured} | {t.score:.2f} | {met} |")
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


def _cell(row: dict[str, Any], key: str = "mbs") -> str:
    rng = spread(row, key)
    value = _mb(row[key])
    return f"{value} ({rng})" if rng else value


def _e2e_md(e: dict[str, Any]) -> list[str]:
    big, n = _size(e["big_size"]), e["small_count"]
    reps = e.get("repeats", 1)
    rows = [
        "## 3. End to end through a real server on loopback",
        "",
        f"`blindvault put`/`get` (a CLI process each, login included) of one {big} file and "
        f"of a folder of {n:,} x {_size(e['small_size'])} files, next to the same bytes sent "
        "unencrypted through the same server and store on the raw blob endpoints with the "
        "client's own pattern (`bench/rawclient.py`, also a process: the same part size with "
        "as many parts in flight, small files in the same batches and parallelism, downloads "
        "written and fsynced as they arrive), and, for the S3 path, straight to SeaweedFS "
        "with boto3 (multipart, the same part size and concurrency, downloads fsynced). "
        f"Each figure is the median of {reps} runs, the range in brackets.",
        "",
        f"| server | op | client | {big} MB/s | ratio | peak RSS MiB | {n:,} files/s | ratio |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for b in e["backends"].values():
        for op in ("put", "get"):
            ours = b[f"{op}_big"]
            rows.append(
                f"| {b['label']} | {op} | blindvault | {_cell(ours)} | | "
                f"{ours['peak_rss_mib']:.0f} | {_cell(b[f'{op}_small'], 'files_s')} | |"
            )
            for prefix, name in (("raw_", "unencrypted, same server"), ("boto3_", "boto3")):
                if f"{prefix}{op}_big" not in b:
                    continue
                big_row, small_row = b[f"{prefix}{op}_big"], b[f"{prefix}{op}_small"]
                rows.append(
                    f"| | | {name} | {_cell(big_row)} | {ours['mbs'] / big_row['mbs']:.0%} | "
                    f"{big_row['peak_rss_mib']:.0f} | {_cell(small_row, 'files_s')} | "
                    f"{b[f'{op}_small']['files_s'] / small_row['files_s']:.0%} |"
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
        *_storage_md(e.get("storage")),
        "![end-to-end throughput](e2e.png)",
    ]
    return rows


def _storage_md(st: dict[str, Any] | None) -> list[str]:
    if not st:
        return []
    loc = st["local"]
    line = (
        f"Small objects on disk ({st['blob_size']:,}-byte blobs, a 4 KiB file sealed): the "
        f"local store holds {loc['count']:,} in {loc['bytes'] / 1e6:,.1f} MB "
        f"({loc['ratio']:.2f}x their bytes; packed rows of one SQLite file)"
    )
    if "s3" in st:
        s3 = st["s3"]
        line += (
            f"; SeaweedFS's data folder grew by {s3['per_object']:,.0f} bytes per object "
            f"over {s3['count']:,} objects ({s3['ratio']:.2f}x their bytes)"
        )
    return [line + ".", ""]


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
            if "put_small_unlocked" in b:
                keys = ("put_big", "get_big", "put_small", "get_small")
                unl = {k: b[f"{k}_unlocked"] for k in keys}
                rows.append(line(f"**blindvault**, {b['label']}, unlocked (agent key)", unl))
    rows.append(line("rclone crypt, local folder", p["rclone_crypt"]["local"]))
    rows.append(line("rclone crypt, SeaweedFS S3", p["rclone_crypt"]["s3"]))
    rows.append(line("restic, local repository", p["restic"]["local"]))
    rows.append(line("restic, SeaweedFS S3", p["restic"]["s3"]))
    rows.append(
        line("age (X25519), file to file, one process per file", p["age"], "encrypt", "decrypt")
    )
    rows += ["", "![peers](peers.png)"]
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


def _provenance(r: dict[str, Any]) -> list[str]:
    out = []
    if r.get("versions"):
        out.append("Versions: " + ", ".join(f"{k} {v}" for k, v in r["versions"].items()) + ".")
    for name, date in (r.get("carried") or {}).items():
        out.append(f"Section `{name}`: carried over from the run of {date} (not re-measured).")
    return [*out, ""] if out else []


def markdown(r: dict[str, Any], *, core_md: str | None = None) -> str:
    ts = targets(r)
    suites = " ".join(r.get("suites", []))
    lines = [
        "# blindvault benchmarks",
        "",
        f"Generated by `blindvault bench{' --quick' if r.get('quick') else ''} {suites}` on "
        f"{r.get('date', '?')}: {_machine()}. Every ratio below compares figures from one "
        "run, side by side, so that the machine's noise hits every line alike; "
        "`results.json` holds them all. Analysis of the misses: [analysis.md](analysis.md).",
        "",
        *_provenance(r),
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
        from blindvault.bench.server_report import server_md

        lines += [*server_md(r["server"]), ""]
    if r.get("memory"):
        lines += [*_memory_md(r["memory"]), ""]
    if r.get("cli"):
        from blindvault.bench.unlocked import markdown as cli_md

        lines += [*cli_md(r["cli"]), ""]
    if r.get("folders"):
        from blindvault.bench.folders import markdown as folders_md

        lines += [*folders_md(r["folders"]), ""]
    if r.get("browser"):
        from blindvault.bench.browser import markdown as browser_md

        lines += ["## Browser (`blindvault bench browser`)", "", browser_md(r["browser"])]
    return "\n".join(lines)
