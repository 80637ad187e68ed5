"""Every target as a ratio measured in one run (never a timed assert in a test).

A figure measured several times is the median, and the range is shown; a target that must
hold "in every run" is scored on the worst run. A suite that did not run gives no row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Target", "mb_text", "size_text", "spread", "targets"]


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


def mb_text(v: float) -> str:
    return f"{v:,.0f}" if v >= 10 else f"{v:,.2f}"


_mb = mb_text


def size_text(n: int) -> str:
    for unit, f in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= f and n % f == 0:
            return f"{n // f} {unit}"
    for unit, f in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if n >= f:
            return f"{n / f:g} {unit}"
    return f"{n} B"


def spread(row: dict[str, Any], key: str = "mbs") -> str:
    """'low-high' (an en dash) over the runs of a figure, or '' for a single run."""
    runs = row.get(f"runs_{key}") or []
    if len(runs) < 2:
        return ""
    return f"{_mb(min(runs))}\u2013{_mb(max(runs))}"


def _worst(row: dict[str, Any], key: str = "mbs") -> float:
    runs = row.get(f"runs_{key}") or [row[key]]
    return float(min(runs))


def _format_ratio(r: dict[str, Any]) -> tuple[float, float, str] | None:
    core = r.get("core")
    if core:
        return (
            core["format_encrypt_mbs"] / core["ceiling_encrypt_mbs"],
            core["format_decrypt_mbs"] / core["ceiling_decrypt_mbs"],
            f"core suite, {size_text(core['size'])} in memory",
        )
    sizes = r.get("sizes")
    if sizes:
        row = sizes["rows"][-1]
        return (
            row["bare_encrypt_ms"] / row["format_encrypt_ms"],
            row["bare_decrypt_ms"] / row["format_decrypt_ms"],
            f"sizes suite, {size_text(row['size'])}",
        )
    return None


def _format_targets(r: dict[str, Any]) -> list[Target]:
    fr = _format_ratio(r)
    if not fr:
        return []
    return [
        Target(f"format {what} vs bare AES-256-GCM", "≥ 88%", f"{ratio:.1%}", ratio / 0.88, fr[2])
        for what, ratio in (("encrypt", fr[0]), ("decrypt", fr[1]))
    ]


def _vs(ours: dict[str, Any], theirs: dict[str, Any], key: str, unit: str) -> str:
    o, t = ours[key], theirs[key]
    a, b = spread(ours, key), spread(theirs, key)
    ranges = f"; runs {a} vs {b}" if a and b else ""
    return f"{o / t:.2f}x ({_mb(o)} vs {_mb(t)} {unit}{ranges})"


def _ratio(
    name: str, goal: float, ours: dict[str, Any], theirs: dict[str, Any], key: str
) -> Target:
    unit = "MB/s" if key == "mbs" else "files/s"
    shown = f"≥ {goal:.0%}" if goal < 1 else f"≥ {goal:g}x"
    return Target(name, shown, _vs(ours, theirs, key, unit), ours[key] / theirs[key] / goal)


def _big_targets(e2e: dict[str, Any], peers: dict[str, Any] | None) -> list[Target]:
    size = size_text(e2e["big_size"])
    out: list[Target] = []
    for kind, b in e2e["backends"].items():
        where = b["label"]
        for op in ("put", "get"):
            out.append(
                _ratio(
                    f"{size} {op}, {where}, vs unencrypted through the same server "
                    "(same concurrency)", 0.80, b[f"{op}_big"], b[f"raw_{op}_big"], "mbs",
                )
            )  # fmt: skip
            if kind == "postgres" and f"boto3_{op}_big" in b:
                out.append(
                    _ratio(
                        f"S3 path: {size} {op} vs boto3 multipart straight to SeaweedFS "
                        "(same part size and concurrency)", 0.90, b[f"{op}_big"],
                        b[f"boto3_{op}_big"], "mbs",
                    )
                )  # fmt: skip
        get, put = b["get_big"], b["put_big"]
        worst = _worst(get)
        out.append(
            Target(
                f"{size} get never below put, {where} (slowest get run vs median put)",
                "≥ 1x",
                f"{worst / put['mbs']:.2f}x ({_mb(worst)} vs {_mb(put['mbs'])} MB/s)",
                worst / put["mbs"],
            )
        )
    if peers and "sqlite" in e2e["backends"]:
        b, rc = e2e["backends"]["sqlite"], peers["rclone_crypt"]["local"]
        out.append(_ratio(f"{size} put vs rclone crypt (local remote, same disk)", 2,
                          b["put_big"], rc["put_big"], "mbs"))  # fmt: skip
        worst = _worst(b["get_big"])
        theirs = rc["get_big"]["mbs"]
        out.append(
            Target(
                f"{size} get vs rclone crypt (local remote, same disk), in every run",
                "≥ 1.5x",
                f"{worst / theirs:.2f}x (slowest run {_mb(worst)} vs {_mb(theirs)} MB/s)",
                worst / theirs / 1.5,
            )
        )
    return out


def _small_targets(e2e: dict[str, Any], peers: dict[str, Any] | None) -> list[Target]:
    if not peers:
        return []
    n = f"{e2e['small_count']:,} x {size_text(e2e['small_size'])}"
    backends = e2e["backends"]
    out: list[Target] = []
    for op in ("put", "get"):
        key = f"{op}_small"
        if "sqlite" in backends:
            ours = backends["sqlite"][key]
            out.append(_ratio(f"{n} {op} vs rclone crypt (local folder), end to end",
                              1, ours, peers["rclone_crypt"]["local"][key], "files_s"))  # fmt: skip
            out.append(_ratio(f"{n} {op} vs restic (local repository), end to end",
                              2, ours, peers["restic"]["local"][key], "files_s"))  # fmt: skip
            unlocked = backends["sqlite"].get(f"{key}_unlocked")
            if unlocked:
                out.append(_ratio(f"{n} {op} vs rclone crypt (local folder), unlocked (agent "
                                  "key, no KDF per command)", 1, unlocked,
                                  peers["rclone_crypt"]["local"][key], "files_s"))  # fmt: skip
        if "postgres" in backends:
            out.append(_ratio(f"{n} {op}, PostgreSQL + SeaweedFS, vs rclone crypt to the "
                              "same SeaweedFS", 1, backends["postgres"][key],
                              peers["rclone_crypt"]["s3"][key], "files_s"))  # fmt: skip
    return out


def _storage_targets(e2e: dict[str, Any]) -> list[Target]:
    st = e2e.get("storage")
    if not st:
        return []
    loc = st["local"]
    return [
        Target(
            f"local store: {loc['count']:,} x {st['blob_size']:,}-byte blobs on disk vs "
            "their bytes",
            "≤ 1.2x",
            f"{loc['ratio']:.2f}x ({loc['bytes'] / 1e6:,.1f} MB)",
            1.2 / loc["ratio"],
        )
    ]


def _rss_targets(r: dict[str, Any]) -> list[Target]:
    rss: list[tuple[float, str]] = []
    if r.get("memory"):
        for row in r["memory"]["rows"]:
            rss += [(row["put_rss_mib"], f"put {size_text(row['size'])}")]
            rss += [(row["get_rss_mib"], f"get {size_text(row['size'])}")]
    for kind, b in (r.get("e2e") or {"backends": {}})["backends"].items():
        for op in ("put_big", "get_big", "put_small", "get_small"):
            rss.append((b[op]["peak_rss_mib"], f"{op.replace('_', ' ')} ({kind})"))
    if not rss:
        return []
    peak, where = max(rss)
    out = [
        Target(
            "peak RSS of put/get, any size", "≤ 100 MiB", f"{peak:.1f} MiB ({where})", 100 / peak
        )
    ]
    unlocked = [
        (b[f"{op}_unlocked"]["peak_rss_mib"], f"{op.replace('_', ' ')} ({kind})")
        for kind, b in (r.get("e2e") or {"backends": {}})["backends"].items()
        for op in ("put_big", "get_big", "put_small", "get_small")
        if f"{op}_unlocked" in b
    ]
    if unlocked:
        peak, where = max(unlocked)
        out.append(
            Target(
                "peak RSS of put/get, unlocked (no Argon2id in the process), any size",
                "≤ 100 MiB",
                f"{peak:.1f} MiB ({where})",
                100 / peak,
            )
        )
    return out


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
    e2e, peers = r.get("e2e"), r.get("peers")
    ts = [*_format_targets(r)]
    if e2e:
        ts += [*_big_targets(e2e, peers), *_small_targets(e2e, peers), *_storage_targets(e2e)]
    return [*ts, *_rss_targets(r), *_kdf_targets(r)]
