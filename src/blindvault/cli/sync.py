"""`blindvault sync LOCAL REMOTE [--once | --watch] [--dry-run] [--json]`, `sync` (every
pair), `sync list`, `sync remove LOCAL`. The engine is `blindvault.sync`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from blindvault.cli.context import Context
from blindvault.errors import UsageError
from blindvault.sync.apply import clean_stale
from blindvault.sync.engine import Report, index_path, sync_once
from blindvault.sync.index import Index, Pair

__all__ = ["register"]


def _text(report: Report) -> str:
    acts = report.planned if report.dry_run else report.outcome.done
    lines = [f"{'would ' if report.dry_run else ''}sync {report.local} <-> {report.remote}"]
    for a in acts:
        arrow = f" -> {a.to}" if a.to else ""
        lines.append(f"  {a.kind:<14} {a.path}{arrow}")
    for c in report.outcome.conflicts:
        lines.append(f"  conflict: {c['path']} (your version kept as {c['copy']})")
    if not acts:
        lines.append("  up to date")
    return "\n".join(lines)


def _pairs(ctx: Context, index: Index) -> list[Pair]:
    paths = ctx.args.paths
    if len(paths) == 2:
        local = Path(paths[0])
        if not local.is_dir():
            raise UsageError(f"{local} is not a folder")
        return [index.pair(local, paths[1])]
    if len(paths) == 1:
        key = str(Path(paths[0]).resolve())
        found = [p for p in index.pairs() if p.local == key]
        if not found:
            raise UsageError(f"{paths[0]} is not synced yet: give its remote folder too")
        return found
    return index.pairs()


def _list(ctx: Context, index: Index) -> int:
    pairs = index.pairs()
    ctx.show(
        [{"local": p.local, "remote": p.remote} for p in pairs],
        "\n".join(f"{p.local} <-> {p.remote}" for p in pairs),
    )
    return 0


def _remove(ctx: Context, index: Index) -> int:
    if len(ctx.args.paths) != 2:
        raise UsageError("usage: blindvault sync remove LOCAL")
    local = Path(ctx.args.paths[1])
    if not index.remove(local):
        raise UsageError(f"{ctx.args.paths[1]} is not synced")
    if local.is_dir():
        clean_stale(local)  # staging folders kept to resume a transfer: no longer wanted
    return 0


def cmd_sync(ctx: Context) -> int:
    index = Index(index_path(ctx.store().home))
    try:
        first = ctx.args.paths[0] if ctx.args.paths else ""
        if first in ("list", "remove"):
            return (_list if first == "list" else _remove)(ctx, index)
        if len(ctx.args.paths) > 2:
            raise UsageError("usage: blindvault sync LOCAL REMOTE")
        pairs = _pairs(ctx, index)
        vault = ctx.open()

        def run() -> None:
            reports = [sync_once(vault, index, p, dry_run=ctx.args.dry_run) for p in pairs]
            ctx.show([r.as_json() for r in reports], "\n".join(_text(r) for r in reports))
            for r in reports:
                for w in r.outcome.warnings:
                    sys.stderr.write(f"blindvault: sync: {w}\n")
            sys.stdout.flush()

        if ctx.args.watch:
            from blindvault.sync.watch import watch

            watch([Path(p.local) for p in pairs], run, rescan=ctx.args.rescan)
        else:
            run()
        return 0
    finally:
        index.close()


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    s = add(
        "sync",
        cmd_sync,
        "two-way sync: sync LOCAL REMOTE | sync [LOCAL] | sync list | sync remove LOCAL",
    )
    s.add_argument("paths", nargs="*", metavar="PATH")
    mode = s.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="sync once and exit (the default)")
    mode.add_argument("--watch", action="store_true", help="keep syncing on changes")
    s.add_argument("--dry-run", action="store_true", help="show what would be done")
    s.add_argument("--rescan", type=float, default=60.0, help="--watch: full rescan period (s)")
