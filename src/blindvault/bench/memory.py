"""Suite `memory`: peak RSS of `blindvault put` and `get` (each its own process) by file
size, through a real server on SQLite + local disk: streaming must keep it flat."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from blindvault.bench import util
from blindvault.bench.e2e import stack

__all__ = ["run_memory"]

FULL_SIZES = (100 << 20, 1 << 30, 4 << 30)
QUICK_SIZES = (9 << 20, 12 << 20, 17 << 20)  # above the 8 MiB single-request limit


def run_memory(work: Path, *, quick: bool = False) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    with stack("sqlite", work, None) as srv:
        home = work / "home-memory"
        util.signup(srv.url, home, "memory@example.org")
        env = util.cli_env(home)
        for size in QUICK_SIZES if quick else FULL_SIZES:
            src = util.write_random(work / "memory" / f"m{size}.bin", size)
            dest = work / "memory" / f"back{size}.bin"
            put = util.run_measured(util.cli("put", str(src), f"/m{size}.bin"), env=env)
            src.unlink()
            get = util.run_measured(util.cli("get", f"/m{size}.bin", str(dest)), env=env)
            if dest.stat().st_size != size:
                raise RuntimeError("get returned the wrong size")
            dest.unlink()
            rows.append(
                {
                    "size": size,
                    "put_rss_mib": put.peak_rss_mib,
                    "get_rss_mib": get.peak_rss_mib,
                    "put_mbs": util.mbs(size, put.seconds),
                    "get_mbs": util.mbs(size, get.seconds),
                }
            )
    shutil.rmtree(work / "memory", ignore_errors=True)
    baseline = util.run_measured(util.cli("--help"))
    return {"rows": rows, "python_cli_baseline_rss_mib": baseline.peak_rss_mib}
