"""Smoke run of the whole `blindvault bench --quick` (every suite, real server, PostgreSQL,
SeaweedFS and the peers) into a temporary folder: the report, results and plots appear and
the numbers are sane. A missing peer fails the run. No timing is asserted: benchmarks
report, tests check."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest

from blindvault.__main__ import main
from blindvault.bench import peers, report, util

PLOTS = ("kdf", "sizes", "sizes_mbs", "e2e", "peers", "server", "memory")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("bench-out")
    work = tmp_path_factory.mktemp("bench-work")
    assert main(["bench", "--quick", "--out", str(out), "--work", str(work)]) == 0
    assert list(work.iterdir()) == []  # the scratch folder is cleaned up
    return out, json.loads((out / "results.json").read_text())


def _positive(x: float) -> bool:
    return isinstance(x, float | int) and math.isfinite(x) and x > 0


def test_report_and_plots_written(quick_run: tuple[Path, dict[str, Any]]) -> None:
    out, results = quick_run
    text = (out / "report.md").read_text()
    for heading in (
        "## Targets",
        "## 1. Key derivation",
        "## Crypto core",
        "## 2. Encrypt and decrypt by size",
        "## 3. End to end",
        "## 4. Peers",
        "## 5. Server throughput",
        "## 6. Memory",
    ):
        assert heading in text
    for name in PLOTS:
        png = out / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert png.stat().st_size > 5000, name
        assert f"({name}.png)" in text
    assert results["quick"] is True
    assert results["suites"] == ["core", "kdf", "sizes", "e2e", "peers", "server", "memory"]


def test_every_target_is_reported(quick_run: tuple[Path, dict[str, Any]]) -> None:
    out, results = quick_run
    names = [t["name"] for t in results["targets"]]
    # format 2, big files 10 (per backend vs unencrypted, S3 vs boto3, get >= put; rclone 2),
    # small files 6 + 2 unlocked (after `blindvault unlock`), small-object storage 1, RSS 1
    # + 1 unlocked, login 1
    assert len(names) == 31, names  # 24, and 7 of the server suite (wrk)
    assert sum("unlocked" in n for n in names) == 3, names
    for t in results["targets"]:
        assert _positive(t["score"]), t
        assert t["met"] == (t["score"] >= 1)
    text = (out / "report.md").read_text()
    assert text.count("| yes |") + text.count("| **no** ([analysis](analysis.md)) |") == 31
    assert text.count("| pending |") == 0  # every target is measured by a suite now


def test_kdf_and_sizes_numbers(quick_run: tuple[Path, dict[str, Any]]) -> None:
    _, r = quick_run
    assert set(r["kdf"]["pbkdf2_ms"]) == {"1000", "10000"}
    assert all(_positive(v) for v in r["kdf"]["pbkdf2_ms"].values())
    assert set(r["kdf"]["argon2id"]) == {"floor", "default"}
    assert r["kdf"]["argon2id"]["default"]["memory_kib"] == 65536
    assert _positive(r["kdf"]["login_sdk_ms"])
    rows = r["sizes"]["rows"]
    assert [row["size"] for row in rows] == [10**3, 10**4, 10**5, 10**6]
    for row in rows:
        for key in ("read", "bare_encrypt", "format_encrypt", "bare_decrypt", "format_decrypt"):
            assert _positive(row[key + "_ms"])
            assert row[key + "_mbs"] == pytest.approx(row["size"] / row[key + "_ms"] / 1000)


def test_e2e_and_peers_numbers(quick_run: tuple[Path, dict[str, Any]]) -> None:
    _, r = quick_run
    e2e = r["e2e"]
    assert set(e2e["backends"]) == {"sqlite", "postgres"}
    assert e2e["backends"]["postgres"]["label"] == "PostgreSQL + SeaweedFS"
    for kind, b in e2e["backends"].items():
        prefixes = ("", "raw_", "boto3_") if kind == "postgres" else ("", "raw_")
        for op in ("put_big", "get_big", "put_small", "get_small"):
            for prefix in prefixes:
                row = b[prefix + op]
                assert _positive(row["mbs"]) and _positive(row["files_s"])
                assert 5 < row["peak_rss_mib"] < 2048
                assert len(row["runs_mbs"]) == e2e["repeats"] == 1  # quick: one run each
    assert "boto3_put_big" not in e2e["backends"]["sqlite"]
    storage = e2e["storage"]
    assert storage["local"]["count"] == 1000 and storage["local"]["ratio"] > 0.9
    assert storage["s3"]["per_object"] > 0
    for baseline in ("big", "small", "dd", "dd_fdatasync"):
        assert _positive(e2e["cp"][baseline]["mbs"])
    p = r["peers"]
    assert set(p["tools"]) == set(peers.PEERS)
    for tool in ("rclone_crypt", "restic"):
        for remote in ("local", "s3"):
            for op in ("put_big", "get_big", "put_small", "get_small"):
                assert _positive(p[tool][remote][op]["mbs"])
                assert p[tool][remote][op]["peak_rss_mib"] > 1
    assert _positive(p["age"]["decrypt_big"]["mbs"])


def test_server_and_memory_numbers(quick_run: tuple[Path, dict[str, Any]]) -> None:
    _, r = quick_run
    cells = r["server"]["cells"]
    combos = {(c["db"], c["workers"], c["op"], c["clients"]) for c in cells}
    assert len(combos) == len(cells) == 3 * 3 * 2  # quick: 3 stacks, 3 ops, 2 client counts
    assert {(c["db"], c["workers"]) for c in cells} == {
        ("sqlite", 1),
        ("sqlite", 2),
        ("postgres", 1),
    }
    for c in cells:
        assert c["errors"] == 0, c
        assert c["requests"] > 0 and _positive(c["rps"])
        assert c["p50_ms"] <= c["p99_ms"]
    rows = r["memory"]["rows"]
    assert [row["size"] for row in rows] == [9 << 20, 12 << 20, 17 << 20]
    for row in rows:
        assert r["memory"]["python_cli_baseline_rss_mib"] < row["put_rss_mib"] < 2048


def test_peak_rss_measurement_sees_an_allocation() -> None:
    """Both ways of reading a child's peak RSS see 200 MiB that the child touched (held for
    0.3 s: the /proc poller samples every 20 ms at most, as long as the child runs)."""
    code = "import time; b = bytearray(200 << 20); b[::4096] = b'x' * len(b[::4096]); "
    cmd = [sys.executable, "-c", code + "time.sleep(0.3)"]
    for gnu in (True, False):
        m = util.run_measured(cmd, use_gnu_time=gnu)
        assert 200 < m.peak_rss_mib < 400
    small = util.run_measured([sys.executable, "-c", "pass"], use_gnu_time=False)
    assert small.peak_rss_mib < 100


def test_failed_command_raises() -> None:
    with pytest.raises(RuntimeError, match="exited 3"):
        util.run_measured([sys.executable, "-c", "raise SystemExit(3)"])


def test_missing_peer_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="missing benchmark peers"):
        peers.check_peers()


def test_targets_from_numbers() -> None:
    """Ratios and verdicts come from the numbers they claim to compare; a target that must
    hold in every run is scored on the slowest run."""

    def row(mbs: float = 1.0, files_s: float = 1.0, runs: list[float] | None = None) -> Any:
        return {"seconds": 1.0, "mbs": mbs, "files_s": files_s, "peak_rss_mib": 50.0,
                "runs_mbs": runs or [mbs], "runs_files_s": [files_s]}  # fmt: skip

    b = {
        "label": "SQLite + local disk",
        "put_big": row(90.0),
        "raw_put_big": row(100.0),
        "get_big": row(160.0, runs=[120.0, 160.0, 170.0]),
        "raw_get_big": row(100.0),
        "put_small": row(files_s=300.0),
        "get_small": {**row(files_s=100.0), "peak_rss_mib": 120.0},
    }
    pg = {**b, "label": "PostgreSQL + SeaweedFS", "boto3_put_big": row(95.0),
          "boto3_get_big": row(200.0)}  # fmt: skip
    rc = {"put_big": row(30.0), "get_big": row(100.0), "put_small": row(files_s=200.0),
          "get_small": row(files_s=200.0)}  # fmt: skip
    restic = {**rc, "put_small": row(files_s=160.0), "get_small": row(files_s=40.0)}
    r: dict[str, Any] = {
        "e2e": {"big_size": 1 << 30, "small_count": 1000, "small_size": 4096,
                "backends": {"sqlite": b, "postgres": pg},
                "storage": {"blob_size": 4173, "local": {"count": 10, "bytes": 1, "ratio": 1.5}}},
        "peers": {"rclone_crypt": {"local": rc, "s3": rc}, "restic": {"local": restic}},
    }  # fmt: skip
    got = {t.name: t for t in report.targets(r)}
    same = "vs unencrypted through the same server (same concurrency)"
    put_raw = got[f"1 GiB put, SQLite + local disk, {same}"]
    assert put_raw.score == pytest.approx(0.9 / 0.8) and put_raw.met
    assert got[f"1 GiB get, SQLite + local disk, {same}"].score == pytest.approx(1.6 / 0.8)
    boto = "vs boto3 multipart straight to SeaweedFS (same part size and concurrency)"
    assert got[f"S3 path: 1 GiB put {boto}"].score == pytest.approx(90 / 95 / 0.9)
    assert not got[f"S3 path: 1 GiB get {boto}"].met  # 160 / 200 = 80%
    never = got["1 GiB get never below put, SQLite + local disk (slowest get run vs median put)"]
    assert never.score == pytest.approx(120 / 90)
    assert got["1 GiB put vs rclone crypt (local remote, same disk)"].score == pytest.approx(1.5)
    every = got["1 GiB get vs rclone crypt (local remote, same disk), in every run"]
    assert every.score == pytest.approx(120 / 100 / 1.5) and not every.met  # the slowest run
    assert got["1,000 x 4 KiB put vs rclone crypt (local folder), end to end"].met
    assert not got["1,000 x 4 KiB get vs rclone crypt (local folder), end to end"].met
    assert not got["1,000 x 4 KiB put vs restic (local repository), end to end"].met  # 1.9x
    assert got["1,000 x 4 KiB get vs restic (local repository), end to end"].met  # 2.5x
    store = got["local store: 10 x 4,173-byte blobs on disk vs their bytes"]
    assert store.score == pytest.approx(1.2 / 1.5) and not store.met
    rss = got["peak RSS of put/get, any size"]
    assert not rss.met and "120.0 MiB" in rss.measured and "get small" in rss.measured
    table = report._targets_md(report.targets(r))
    assert not [line for line in table if line.endswith("| pending |")]
