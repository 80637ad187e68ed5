"""`blindvault bench cli` (issue 18): the suite runs end to end (real server, real agent,
real CLI processes) and its targets and table come from its numbers. No timing is asserted."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from blindvault.bench import report
from blindvault.bench.unlocked import markdown, run_cli, targets


def _series(ms: float, mib: float) -> dict[str, Any]:
    return {"ms": [ms], "cpu_ms": [ms / 2], "rss_mib": [mib], "median_ms": ms,
            "median_rss_mib": mib}  # fmt: skip


def test_targets_and_table_from_numbers() -> None:
    c = {
        "runs": 1,
        "entries": 10,
        "locked": _series(900.0, 120.0),
        "unlocked": _series(45.0, 12.5),
        "unlocked_in_process": _series(500.0, 60.0),
        "ratio": 20.0,
        "load_average": 1.0,
        "agent_rss_mib": 70.0,
        "agent_peak_rss_mib": 72.0,
    }
    wall, rss = targets(c)
    assert wall[3] == 60 / 45 and "45 ms" in wall[2] and "20.0x" in wall[2]
    assert rss[3] == 40 / 12.5 and "locked 120.0 MiB" in rss[2]
    got = {t.name: t for t in report.targets({"cli": c})}
    assert got[wall[0]].met and got[rss[0]].met
    slow = {**c, "unlocked": _series(90.0, 50.0)}
    assert not any(t.met for t in report.targets({"cli": slow}))
    text = "\n".join(markdown(c))
    assert "| unlocked | 45 ms (45-45) | 22 ms (22-22) | 12.5 MiB (12.5-12.5) |" in text
    assert "**20.0x**" in text


def test_quick_run(tmp_path: Path) -> None:
    c = run_cli(tmp_path, quick=True)
    for key in ("locked", "unlocked", "unlocked_in_process"):
        s = c[key]
        assert len(s["ms"]) == 1 and all(math.isfinite(v) and v > 0 for v in s["ms"])
        assert s["median_rss_mib"] > 5
    # the unlocked command does not load the client: a fraction of the locked one's memory
    assert c["unlocked"]["median_rss_mib"] < c["locked"]["median_rss_mib"] / 2
    assert c["agent_rss_mib"] > c["unlocked"]["median_rss_mib"]
    assert c["ratio"] > 0
