"""`blindvault bench folders` (issue 18): the suite runs end to end (real server, SDK and
CLI puts into folders of growing size) and its targets and table come from its numbers.
No timing is asserted."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from blindvault.bench import report
from blindvault.bench.folders import markdown, run_folders, targets


def _s(ms: float, ratio: float) -> dict[str, Any]:
    return {"s": [ms / 1000], "median_s": ms / 1000, "ratio": ratio}


def test_targets_and_table_from_numbers() -> None:
    rows = {
        "0": {"fill_s": 0.1, "paged": _s(40, 1.0), "whole": _s(40, 1.0), "cli": _s(600, 1.0)},
        "100000": {"fill_s": 9.0, "paged": _s(60, 1.5), "whole": _s(4000, 100.0),
                   "cli": _s(700, 700 / 600)},
    }  # fmt: skip
    c = {"sizes": [0, 100_000], "runs": 1, "cli_runs": 1, "rows": rows,
         "load_average": (1.0, 1.5, 2.0)}  # fmt: skip
    paged, cli = targets(c)
    assert paged[3] == 2 / 1.5 and "1.50x" in paged[2] and "60 ms" in paged[2]
    assert cli[3] == 2 / (700 / 600)
    got = {t.name: t for t in report.targets({"folders": c})}
    assert got[paged[0]].met and got[cli[0]].met
    slow = {**c, "rows": {**rows, "100000": {**rows["100000"], "paged": _s(200, 5.0)}}}
    assert not {t.name: t for t in report.targets({"folders": slow})}[paged[0]].met
    text = "\n".join(markdown(c))
    assert "| 100,000 | 60 ms (60-60), 1.50x | 4000 ms (4000-4000), 100.00x |" in text
    assert "1.00, 1.50, 2.00" in text


def test_quick_run(tmp_path: Path) -> None:
    c = run_folders(tmp_path, quick=True)
    assert c["sizes"] == [0, 300, 3_000]
    for n in c["sizes"]:
        for kind in ("paged", "whole", "cli"):
            s = c["rows"][str(n)][kind]
            assert len(s["s"]) == 1 and all(math.isfinite(v) and v > 0 for v in s["s"])
    assert c["rows"]["0"]["paged"]["ratio"] == 1.0
