"""Suite `folders` (issue 18): what adding one file costs as the folder grows — 0, 10,000
and 100,000 entries — reported as a ratio to the empty folder (target: below 2x).

Measured two ways on one real server (SQLite + local disk):

- *SDK*: `Vault.put` of one new small file into the folder, in a warm client process whose
  page cache is emptied before each put (rounds of one put per folder size, so a busy
  machine slows every size alike) (so every put reads the folder from the server as
  a fresh device would); for paged folders (the default above 2,048 entries) and, as the
  baseline, for the same folder written whole (format §7, paging switched off in this
  process: what every write cost before issue 18);
- *CLI*: `blindvault put FILE /folder` as its own process (interpreter, imports, password
  → Argon2id, login, the put), as a user runs it (paged only: the CLI has no switch).

The folders are filled by one manifest write of synthetic file entries (their blobs are
never read); each figure is the median of `runs` puts, with the range.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from blindvault.bench import util

__all__ = ["markdown", "run_folders", "targets"]

SIZES = (0, 10_000, 100_000)
QUICK_SIZES = (0, 300, 3_000)
RUNS = 9
CLI_RUNS = 5
GOAL = 2.0


@contextmanager
def _whole_only() -> Iterator[None]:
    """Paging off in this process: every folder is written whole (the format before)."""
    from blindvault.client.tree import paged

    saved = paged.PAGE_SPLIT, paged.PAGE_MERGE
    paged.PAGE_SPLIT = paged.PAGE_MERGE = 1 << 40
    try:
        yield
    finally:
        paged.PAGE_SPLIT, paged.PAGE_MERGE = saved


def _fill(vault: Any, folder: str, n: int) -> None:
    """One manifest write of `n` synthetic file entries into `folder` (made here)."""
    from blindvault.client.tree.store import now_ms
    from blindvault.core.keys import FileKey
    from blindvault.core.manifest import FileEntry, ManifestBody

    vault.mkdir(folder)
    at = vault.spaces.locate([folder.strip("/")])
    me, when = vault.fingerprint, now_ms()
    items = tuple(
        FileEntry(f"entry-{i:07d}.dat", os.urandom(16), FileKey.generate(), 1, 1000 + i,
                  when, when, me)
        for i in range(n)
    )  # fmt: skip

    def fill(body: Any) -> Any:
        return ManifestBody(items, body.tombstones, body.trash)

    vault.session.tree.update(at.node_id, at.key, fill, at.key_version, at.space)
    vault.save()


def _sdk_put(vault: Any, folder: str, src: Path, i: int) -> float:
    from blindvault.client.tree.paged import PageCache

    f = src / f"new-{folder.strip('/')}-{i}.txt"
    f.write_text(f"one more file {i}\n")
    vault.session.tree.pages = PageCache()  # as a fresh device: nothing cached
    t0 = time.perf_counter()
    vault.put(f, folder)
    return time.perf_counter() - t0


def _sdk_rounds(vault: Any, folders: list[str], src: Path, runs: int) -> list[list[float]]:
    """`runs` rounds, each one put into every folder in turn (after a warm-up round): a
    busy machine slows every size alike, not the one measured at that moment."""
    out: list[list[float]] = [[] for _ in folders]
    for i in range(runs + 1):
        for j, folder in enumerate(folders):
            took = _sdk_put(vault, folder, src, i)
            if i:
                out[j].append(took)
    return out


def _cli_rounds(env: dict[str, str], folders: list[str], src: Path, runs: int) -> list[list[float]]:
    out: list[list[float]] = [[] for _ in folders]
    for i in range(runs):
        for j, folder in enumerate(folders):
            f = src / f"cli-{folder.strip('/')}-{i}.txt"
            f.write_text(f"one more file from the CLI {i}\n")
            out[j].append(util.run_measured(util.cli("put", str(f), folder), env=env).seconds)
    return out


def _stats(values: list[float]) -> dict[str, Any]:
    return {"s": values, "median_s": statistics.median(values)}


def run_folders(work: Path, *, quick: bool = False) -> dict[str, Any]:
    from blindvault.client.state import StateStore
    from blindvault.client.vault import Vault

    sizes = QUICK_SIZES if quick else SIZES
    runs, cli_runs = (1, 1) if quick else (RUNS, CLI_RUNS)
    src = work / "src"
    src.mkdir(parents=True, exist_ok=True)
    home = work / "home"
    rows: dict[str, dict[str, Any]] = {}
    with util.server(work / "data") as srv:
        util.signup(srv.url, home, "folders@example.org")
        vault = Vault.open(srv.url, "folders@example.org", util.PASSWORD, store=StateStore(home))
        with vault:
            for n in sizes:
                t0 = time.perf_counter()
                _fill(vault, f"/paged{n}", n)
                rows[str(n)] = {"fill_s": time.perf_counter() - t0}
                with _whole_only():
                    _fill(vault, f"/whole{n}", n)
            with _whole_only():
                whole = _sdk_rounds(vault, [f"/whole{n}" for n in sizes], src, runs)
            paged = _sdk_rounds(vault, [f"/paged{n}" for n in sizes], src, runs)
        cli = _cli_rounds(util.cli_env(home), [f"/paged{n}" for n in sizes], src, cli_runs)
        for j, n in enumerate(sizes):
            rows[str(n)] |= {
                "paged": _stats(paged[j]),
                "whole": _stats(whole[j]),
                "cli": _stats(cli[j]),
            }
    base = rows[str(sizes[0])]
    for n in sizes:
        r = rows[str(n)]
        for kind in ("paged", "whole", "cli"):
            r[kind]["ratio"] = r[kind]["median_s"] / base[kind]["median_s"]
    return {
        "sizes": list(sizes),
        "runs": runs,
        "cli_runs": cli_runs,
        "rows": rows,
        "load_average": os.getloadavg(),
    }


def targets(c: dict[str, Any]) -> list[tuple[str, str, str, float]]:
    big = c["rows"][str(c["sizes"][-1])]
    return [
        (
            f"add one file to a folder of {c['sizes'][-1]:,} entries vs an empty folder ({kind})",
            f"< {GOAL:.0f}x",
            f"{big[kind]['ratio']:.2f}x ({big[kind]['median_s'] * 1000:.0f} ms)",
            GOAL / big[kind]["ratio"],
        )
        for kind in ("paged", "cli")
    ]


def _cell(s: dict[str, Any]) -> str:
    lo, hi = min(s["s"]) * 1000, max(s["s"]) * 1000
    return f"{s['median_s'] * 1000:.0f} ms ({lo:.0f}-{hi:.0f}), {s['ratio']:.2f}x"


def markdown(c: dict[str, Any]) -> list[str]:
    load = ", ".join(f"{x:.2f}" for x in c["load_average"])
    rows = [
        "## Adding one file to a big folder (`blindvault bench folders`, issue 18)",
        "",
        f"One new small file put into a folder of N entries; median (range) of {c['runs']} "
        f"SDK puts (a fresh page cache each) and {c['cli_runs']} CLI processes, and the "
        "ratio to the empty folder. *whole*: the folder written as one manifest (§7, the "
        "format before issue 18); *paged*: §7a above 2,048 entries. SQLite + local disk; "
        f"load average (1, 5, 15 min) at the end: {load} on {os.cpu_count()} cores.",
        "",
        "| entries | SDK, paged | SDK, whole | CLI process, paged |",
        "|---:|---:|---:|---:|",
    ]
    for n in c["sizes"]:
        r = c["rows"][str(n)]
        rows.append(f"| {n:,} | {_cell(r['paged'])} | {_cell(r['whole'])} | {_cell(r['cli'])} |")
    return rows
