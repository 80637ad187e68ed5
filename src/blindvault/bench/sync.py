"""`blindvault bench sync`: folder sync (issue 14) against a real server (SQLite + disk).

- rescan: a real sync of an unchanged, synced tree of N files (default 2,000: the first
  upload of each file costs a manifest and a signed-root write, too slow to set up 100k
  here), and the local half of a 100k-file rescan (`scan_files`): the index scan (stat
  only, no hashing) against a filled index, the merge, and the change feed (one
  request); each side by side with a second `restic backup` of the same unchanged tree;
- changed: a sync uploading M new small files (default 1,000), files per second;
- big: a sync uploading one file of B bytes (default 1 GiB), MB/s;
- the client's peak RSS over the whole run (the server is another process).

The N-file rescan tree is synced once first (its upload is not measured: it is the
setup). Smaller sizes: `--quick`, or `--sync-files/--sync-changed/--sync-big`.
"""

from __future__ import annotations

import os
import resource
import secrets
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from blindvault.bench.util import PASSWORD, server

FULL = {"files": 2_000, "scan_files": 100_000, "changed": 1_000, "big": 1 << 30}
QUICK = {"files": 200, "scan_files": 5_000, "changed": 50, "big": 8 << 20}
PER_FOLDER = 1_000


def _tree(root: Path, count: int) -> None:
    for i in range(count):
        folder = root / f"d{i // PER_FOLDER:04d}"
        if i % PER_FOLDER == 0:
            folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i:06d}.txt").write_bytes(f"file {i}\n".encode())


def _restic(tree: Path, work: Path) -> float | None:
    """Seconds of a second `restic backup` of the unchanged tree (None: no restic)."""
    exe = shutil.which("restic")
    if exe is None:
        return None
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "RESTIC_PASSWORD": PASSWORD, "RESTIC_REPOSITORY": str(work / "restic")}
    run = [exe, "--quiet", "--no-cache"]
    subprocess.run([*run, "init"], env=env, check=True, capture_output=True)  # noqa: S603
    subprocess.run([*run, "backup", str(tree)], env=env, check=True, capture_output=True)  # noqa: S603
    t0 = time.perf_counter()
    subprocess.run([*run, "backup", str(tree)], env=env, check=True, capture_output=True)  # noqa: S603
    return time.perf_counter() - t0


def _scan_only(vault: Any, work: Path, count: int) -> dict[str, Any]:
    """The local half of a rescan of `count` unchanged files (the index filled from a first
    scan, with placeholder remote nodes), plus one feed request and the merge."""
    from blindvault.sync.index import Index
    from blindvault.sync.plan import Remote, plan
    from blindvault.sync.scan import scan

    tree = work / "scan-tree"
    _tree(tree, count)
    index = Index(work / "scan-index.sqlite")
    pair = index.pair(tree, "/ScanOnly")
    first = scan(tree, {})
    node = bytes(16)
    for rel, stat in first.stats.items():
        index.record(pair, rel, stat, node, 1)
    remote = {rel: Remote(node, 1, st.size) for rel, st in first.stats.items()}
    feed = vault.changes(0)
    t0 = time.perf_counter()
    again = vault.changes(feed.seq, feed.heads)
    local = scan(tree, index.stats(pair))
    actions = plan(index.bases(pair), local.files, remote)
    seconds = time.perf_counter() - t0
    index.close()
    restic = _restic(tree, work / "scan")
    return {
        "files": count,
        "seconds": round(seconds, 2),
        "hashed": local.hashed,
        "actions": len(actions),
        "feed_requests": again.requests,
        "restic_second_backup_s": None if restic is None else round(restic, 2),
    }


def _timed_sync(sync: Any, *args: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    report = sync(*args)
    return time.perf_counter() - t0, report


def run_sync(
    work: Path, *, quick: bool = False, sizes: dict[str, int | None] | None = None
) -> dict[str, Any]:
    from blindvault.client.state import StateStore
    from blindvault.client.vault import Vault
    from blindvault.sync.engine import sync_once
    from blindvault.sync.index import Index

    n = {**(QUICK if quick else FULL), **{k: v for k, v in (sizes or {}).items() if v}}
    email = f"sync{secrets.token_hex(4)}@example.org"
    out: dict[str, Any] = {"sizes": n}
    with server(work / "srv") as srv:
        vault, _ = Vault.signup(srv.url, email, PASSWORD, store=StateStore(work / "home"))
        with vault:
            index = Index(work / "index.sqlite")
            tree = work / "tree"
            _tree(tree, n["files"])
            pair = index.pair(tree, "/Tree")
            t0 = time.perf_counter()
            sync_once(vault, index, pair)  # setup: the first upload of the tree
            out["first_sync_s"] = round(time.perf_counter() - t0, 1)
            sync_once(vault, index, pair)  # our own writes, read back once through the feed
            seconds, report = _timed_sync(sync_once, vault, index, pair)
            restic = _restic(tree, work)
            out["rescan"] = {
                "files": n["files"],
                "seconds": round(seconds, 2),
                "hashed": report.hashed,
                "read_folders": report.read_folders,
                "actions": len(report.outcome.done),
                "restic_second_backup_s": None if restic is None else round(restic, 2),
            }
            out["rescan_local"] = _scan_only(vault, work, n["scan_files"])
            changed = work / "changed"
            _tree(changed, n["changed"])
            seconds, report = _timed_sync(sync_once, vault, index, index.pair(changed, "/Changed"))
            out["changed"] = {
                "files": n["changed"],
                "seconds": round(seconds, 2),
                "files_per_s": round(n["changed"] / seconds, 1),
            }
            big = work / "big"
            big.mkdir()
            with (big / "one.bin").open("wb") as f:
                for _ in range(0, n["big"], 1 << 20):
                    f.write(os.urandom(1 << 20))
            seconds, report = _timed_sync(sync_once, vault, index, index.pair(big, "/Big"))
            out["big"] = {
                "bytes": n["big"],
                "seconds": round(seconds, 2),
                "mb_per_s": round(n["big"] / seconds / 1e6, 1),
            }
            index.close()
    out["client_peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out
