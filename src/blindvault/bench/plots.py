"""PNG figures (matplotlib, imported only here and only when plotting), log-log like the
Cozy seed's: KDF time by iterations, time and MB/s by size, end-to-end and peer throughput,
server requests/s, peak RSS by size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["plot_all"]


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return path


def _kdf(k: dict[str, Any], out: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ours = sorted((int(i), ms) for i, ms in k["pbkdf2_ms"].items())
    seed = sorted((int(i), ms) for i, ms in k["seed_pbkdf2_ms"].items())
    ax.plot(*zip(*ours, strict=True), "o-", label="PBKDF2-SHA-256, blindvault (here)")
    ax.plot(*zip(*seed, strict=True), "s--", label="PBKDF2, Cozy seed (Firefox 70, i7-8550U)")
    for name, a in k["argon2id"].items():
        ax.axhline(a["ms"], ls=":", color="gray")
        ax.annotate(f"Argon2id {name}: {a['ms']:.0f} ms", (1000, a["ms"] * 1.08), fontsize=8)
    ax.axhline(k["login_sdk_ms"], ls="-.", color="green", label="login end to end (Argon2id)")
    ax.set(
        xscale="log", yscale="log", xlabel="iterations", ylabel="ms", title="Key derivation time"
    )
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    return _save(fig, out / "kdf.png")


_SIZE_LINES = (
    ("read", "read file"),
    ("bare_encrypt", "bare AES-256-GCM encrypt (ceiling)"),
    ("format_encrypt", "format v1 encrypt"),
    ("format_decrypt", "format v1 decrypt"),
    ("file_encrypt", "read + format encrypt (file)"),
)


def _sizes(s: dict[str, Any], out: Path) -> list[Path]:
    plt = _plt()
    sizes = [row["size"] for row in s["rows"]]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for key, label in _SIZE_LINES:
        ax.plot(sizes, [row[key + "_ms"] for row in s["rows"]], "o-", label=label, ms=4)
    seed = s["seed_1gb_s"]
    ax.plot([1e9], [seed["read"] * 1000], "kx", ms=9, label="Cozy seed: read 1 GB (Firefox)")
    ax.plot([1e9], [seed["encrypt"] * 1000], "k+", ms=11, label="Cozy seed: encrypt 1 GB")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="file size (bytes)",
        ylabel="ms",
        title="Time by file size",
    )
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    first = _save(fig, out / "sizes.png")
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for key, label in _SIZE_LINES:
        ax.plot(sizes, [row[key + "_mbs"] for row in s["rows"]], "o-", label=label, ms=4)
    ax.plot([1e9], [1e9 / seed["encrypt"] / 1e6], "k+", ms=11, label="Cozy seed: encrypt 1 GB")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="file size (bytes)",
        ylabel="MB/s",
        title="Throughput by file size",
    )
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    return [first, _save(fig, out / "sizes_mbs.png")]


def _bars(ax: Any, labels: list[str], series: dict[str, list[float]], ylabel: str) -> None:
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series.items()):
        xs = [x + i * width for x in range(len(labels))]
        ax.bar(xs, values, width, label=name)
    ax.set_xticks([x + width * (len(series) - 1) / 2 for x in range(len(labels))])
    ax.set_xticklabels(labels, fontsize=7)
    ax.set_ylabel(ylabel)
    ax.set_yscale("log")
    ax.legend(fontsize=7)
    ax.grid(True, axis="y", which="both", alpha=0.3)


def _short(label: str) -> str:
    return label.replace("SQLite + local disk", "SQLite+disk").replace(
        "PostgreSQL + SeaweedFS", "PG+SeaweedFS"
    )


def _e2e(e: dict[str, Any], out: Path) -> Path:
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 4.4))
    labels: list[str] = []
    big: dict[str, list[float]] = {"put": [], "get": []}
    small: dict[str, list[float]] = {"put": [], "get": []}
    for b in e["backends"].values():
        for prefix, name in (("", "blindvault"), ("raw_", "unencrypted")):
            labels.append(f"{name}\n{_short(b['label'])}")
            for op in ("put", "get"):
                big[op].append(b[f"{prefix}{op}_big"]["mbs"])
                small[op].append(b[f"{prefix}{op}_small"]["files_s"])
    labels.append("cp")
    for op in ("put", "get"):
        big[op].append(e["cp"]["big"]["mbs"])
        small[op].append(e["cp"]["small"]["files_s"])
    for key, label in (("dd", "dd\n(write)"), ("dd_fdatasync", "dd +\nfdatasync")):
        labels.append(label)
        for op in ("put", "get"):
            big[op].append(e["cp"][key]["mbs"])
            small[op].append(float("nan"))
    _bars(a1, labels, big, "MB/s")
    a1.set_title(f"one file of {e['big_size'] >> 20} MiB")
    _bars(a2, labels, small, "files/s")
    a2.set_title(f"{e['small_count']:,} files of {e['small_size'] // 1024} KiB")
    return _save(fig, out / "e2e.png")


def _peers(p: dict[str, Any], e: dict[str, Any] | None, out: Path) -> Path:
    plt = _plt()
    rows: list[tuple[str, dict[str, Any], str, str]] = []
    if e:
        for b in e["backends"].values():
            rows.append((f"blindvault\n{_short(b['label'])}", b, "put", "get"))
    for remote in ("local", "s3"):
        rows.append((f"rclone crypt\n{remote}", p["rclone_crypt"][remote], "put", "get"))
        rows.append((f"restic\n{remote}", p["restic"][remote], "put", "get"))
    rows.append(("age", p["age"], "encrypt", "decrypt"))
    fig, (a1, a2, a3) = plt.subplots(3, 1, figsize=(9, 11))
    labels = [r[0] for r in rows]
    _bars(
        a1,
        labels,
        {
            "encrypt": [r[1][r[2] + "_big"]["mbs"] for r in rows],
            "decrypt": [r[1][r[3] + "_big"]["mbs"] for r in rows],
        },
        "MB/s",
    )
    a1.set_title(f"one file of {p['big_size'] >> 20} MiB")
    _bars(
        a2,
        labels,
        {
            "encrypt": [r[1][r[2] + "_small"]["files_s"] for r in rows],
            "decrypt": [r[1][r[3] + "_small"]["files_s"] for r in rows],
        },
        "files/s",
    )
    a2.set_title(f"{p['small_count']:,} small files")
    _bars(
        a3,
        labels,
        {
            "encrypt": [r[1][r[2] + "_big"]["peak_rss_mib"] for r in rows],
            "decrypt": [r[1][r[3] + "_big"]["peak_rss_mib"] for r in rows],
        },
        "peak RSS MiB",
    )
    a3.set_title("peak RSS, big file")
    return _save(fig, out / "peers.png")


def _server(s: dict[str, Any], out: Path) -> Path:
    plt = _plt()
    ops = sorted({c["op"] for c in s["cells"]})
    fig, axes = plt.subplots(1, len(ops), figsize=(4.6 * len(ops), 4.2), squeeze=False)
    for ax, op in zip(axes[0], ops, strict=True):
        series: dict[tuple[str, int], list[tuple[int, float]]] = {}
        for c in s["cells"]:
            if c["op"] == op:
                series.setdefault((c["db"], c["workers"]), []).append((c["clients"], c["rps"]))
        for (db, workers), pts in sorted(series.items()):
            pts.sort()
            ax.plot(*zip(*pts, strict=True), "o-", label=f"{db}, {workers} proc")
        ax.set(xscale="log", xlabel="concurrent clients", ylabel="requests/s", title=op)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7)
        ax.grid(True, alpha=0.3)
    return _save(fig, out / "server.png")


def _memory(m: dict[str, Any], out: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    sizes = [row["size"] for row in m["rows"]]
    ax.plot(sizes, [row["put_rss_mib"] for row in m["rows"]], "o-", label="put")
    ax.plot(sizes, [row["get_rss_mib"] for row in m["rows"]], "s-", label="get")
    ax.axhline(100, color="red", ls="--", label="target 100 MiB")
    ax.axhline(m["python_cli_baseline_rss_mib"], color="gray", ls=":", label="interpreter + CLI")
    ax.set(
        xscale="log",
        xlabel="file size (bytes)",
        ylabel="peak RSS (MiB)",
        title="Peak memory by file size",
    )
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    return _save(fig, out / "memory.png")


def plot_all(r: dict[str, Any], out: Path) -> list[Path]:
    """Draw every figure whose suite ran; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    if r.get("kdf"):
        made.append(_kdf(r["kdf"], out))
    if r.get("sizes"):
        made += _sizes(r["sizes"], out)
    if r.get("e2e"):
        made.append(_e2e(r["e2e"], out))
    if r.get("peers"):
        made.append(_peers(r["peers"], r.get("e2e"), out))
    if r.get("server"):
        made.append(_server(r["server"], out))
    if r.get("memory"):
        made.append(_memory(r["memory"], out))
    return made
