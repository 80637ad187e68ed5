"""`blindvault bench [SUITE]` (also `python -m blindvault.bench`): measure, side by side in
one run, and write a Markdown report, `results.json` and PNG plots.

Suites: core (format vs bare AES-GCM, in memory), kdf, sizes, e2e, peers, server, memory,
and, only when named, cli (`ls` locked vs unlocked, bench/unlocked.py), feed (the change
feed of a 100k-record account), sync (folder sync: a rescan of 100k unchanged files beside
restic, 1,000 changed files, one 1 GiB file)
and browser (headless Chromium: upload and streamed download beside the CLI, bench/browser.py),
folders (one file added to folders of 0, 10,000 and 100,000 entries, bench/folders.py);
`all` (the default) runs every one and writes to `--out` (default docs/bench). Named
suites (one or more) print their report and write files only when `--out` is given; the
suites they did not run are then carried over from the results already in `--out`,
marked with the date of their run. `--quick` uses tiny sizes and short durations (a
smoke run of seconds, as in CI); the full run is manual. `--repeats N` runs every
end-to-end and peer figure N times (median and range; 3 by default), `--big-size`
changes the big file (1 GiB), `--render FILE` measures nothing and writes the report and
plots again from a results.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from blindvault.bench.core import run_core

SUITES = ("core", "kdf", "sizes", "e2e", "peers", "server", "memory")
EXTRA = ("feed", "sync", "browser", "cli", "folders")  # run only when named (not part of `all`)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="blindvault bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "suite", nargs="*", default="all", choices=("all", *SUITES, *EXTRA), help="one or more"
    )
    p.add_argument("--quick", action="store_true", help="tiny sizes, seconds (smoke run)")
    p.add_argument("--out", type=Path, default=None, help="report folder (all: docs/bench)")
    p.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    p.add_argument(
        "--work",
        type=Path,
        default=None,
        help="scratch folder, created if missing (default: a temp dir)",
    )
    p.add_argument(
        "--size", type=int, default=None, help="core: bytes to encrypt (default 1 GiB; quick 8 MiB)"
    )
    p.add_argument(
        "--repeats", type=int, default=None, help="e2e, peers: runs of each figure (3; quick 1)"
    )
    p.add_argument(
        "--big-size", type=int, default=None, help="e2e, peers: bytes of the big file (1 GiB)"
    )
    p.add_argument(
        "--render",
        type=Path,
        default=None,
        help="measure nothing: write the report and plots again from this results.json",
    )
    p.add_argument("--sync-files", type=int, default=None, help="sync: files in the rescan tree")
    p.add_argument("--sync-scan-files", type=int, default=None, help="sync: files, local rescan")
    p.add_argument("--sync-changed", type=int, default=None, help="sync: changed small files")
    p.add_argument("--sync-big", type=int, default=None, help="sync: bytes of the big file")
    return p


def _core(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    size = args.size or ((8 << 20) if args.quick else (1 << 30))
    iters = (1_000, 10_000) if args.quick else (1_000, 10_000, 100_000, 600_000, 1_000_000)
    report = run_core(size, pbkdf2_iterations=iters)
    return report.to_json(), report.markdown()


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str | None]:
    """Run the chosen suites in one process; returns the results and the core's Markdown."""
    from blindvault.bench import (
        browser,
        e2e,
        feed,
        folders,
        kdf,
        memory,
        peers,
        server_load,
        sizes,
        unlocked,
        util,
    )
    from blindvault.bench import sync as sync_bench

    chosen = SUITES if "all" in args.suite else tuple(dict.fromkeys(args.suite))
    reps = args.repeats or (1 if args.quick else 3)
    if "peers" in chosen:
        peers.check_peers()  # fail before an hour of measuring, not after
    results: dict[str, Any] = {
        "quick": args.quick,
        "versions": util.versions(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "suites": list(chosen),
        "seconds": {},
    }
    core_md: str | None = None
    if args.work is not None:
        args.work.mkdir(parents=True, exist_ok=True)  # a new scratch folder is fine
    scratch = Path(tempfile.mkdtemp(prefix="bv-bench-", dir=args.work))
    try:
        with contextlib.ExitStack() as stack:
            s3: str | None = None
            data = None
            weed = scratch / "weed"
            if {"e2e", "peers"} & set(chosen):
                s3 = stack.enter_context(util.seaweedfs(weed))
                data = e2e.dataset(scratch, quick=args.quick, big_size=args.big_size)
            q = args.quick
            suites: dict[str, Callable[[], dict[str, Any]]] = {
                "kdf": lambda: kdf.run_kdf(scratch / "kdf", quick=q),
                "sizes": lambda: sizes.run_sizes(scratch / "sizes", quick=q),
                "e2e": lambda: e2e.run_e2e(
                    scratch / "e2e", quick=q, s3=s3, data=data, repeats=reps, weed=weed
                ),
                "peers": lambda: peers.run_peers(
                    scratch / "peers", quick=q, s3=s3, data=data, repeats=reps
                ),
                "server": lambda: server_load.run_server_load(scratch / "server", quick=q),
                "memory": lambda: memory.run_memory(scratch / "memory", quick=q),
                "cli": lambda: unlocked.run_cli(scratch / "cli", quick=q),
                "folders": lambda: folders.run_folders(scratch / "folders", quick=q),
                "feed": lambda: feed.run_feed(scratch / "feed", quick=q),
                "sync": lambda: sync_bench.run_sync(
                    scratch / "sync",
                    quick=q,
                    sizes={
                        "files": args.sync_files,
                        "scan_files": args.sync_scan_files,
                        "changed": args.sync_changed,
                        "big": args.sync_big,
                    },
                ),
                "browser": lambda: browser.run_browser(scratch / "browser", quick=q),
            }
            for name in chosen:
                sys.stderr.write(f"bench: {name}…\n")
                t0 = time.perf_counter()
                if name == "core":
                    results["core"], core_md = _core(args)
                else:
                    (scratch / name).mkdir(parents=True, exist_ok=True)
                    results[name] = suites[name]()
                results["seconds"][name] = round(time.perf_counter() - t0, 1)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return results, core_md


def _core_markdown(core: dict[str, Any] | None) -> str | None:
    if not core:
        return None
    from blindvault.bench.core import CoreReport

    fields = {k: v for k, v in core.items() if not k.endswith("_ratio")}
    fields["pbkdf2_ms"] = {int(k): v for k, v in fields["pbkdf2_ms"].items()}
    return CoreReport(**fields).markdown()


def _carry_over(results: dict[str, Any], previous: Path) -> None:
    """Suites this run did not measure keep their figures from the report being replaced,
    marked with the date of the run that measured them."""
    try:
        old = json.loads(previous.read_text())
    except (OSError, ValueError):
        return
    carried = dict(old.get("carried", {}))
    for name in (*SUITES, *EXTRA):
        if name not in results and name in old:
            results[name] = old[name]
            carried[name] = carried.get(name, old.get("date", "?"))
    for name in results["suites"]:
        carried.pop(name, None)
    results["carried"] = carried


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    if isinstance(args.suite, str):  # none named: the default, "all"
        args.suite = [args.suite]
    from blindvault.bench import report

    whole = "all" in args.suite
    out = args.out or (Path("docs/bench") if whole else None)
    if args.render is not None:  # no measuring: the report again from a results file
        results = json.loads(args.render.read_text())
        core_md = _core_markdown(results.get("core"))
    else:
        results, core_md = run(args)
        if out is not None and not whole:
            _carry_over(results, out / "results.json")
    results["targets"] = [t.to_json() for t in report.targets(results)]
    text = report.markdown(results, core_md=core_md)
    if out is not None:
        from blindvault.bench import plots

        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
        (out / "report.md").write_text(text)
        plots.plot_all(results, out)
        sys.stderr.write(f"bench: wrote {out}/report.md, results.json and plots\n")
    if args.json:
        only_core = args.suite == ["core"]
        print(json.dumps(results["core"] if only_core else results, indent=1))
    else:
        print(text if args.suite != ["core"] or core_md is None else core_md, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
