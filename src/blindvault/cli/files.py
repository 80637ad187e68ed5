"""File commands: ls, tree, mkdir, put, get, mv, rm, verify."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from blindvault.cli.context import Context
from blindvault.cli.prompts import when
from blindvault.errors import LocalError, UsageError

__all__ = ["register"]

BAR_FROM = 4 << 20  # a progress bar for transfers from this size, on a terminal


@contextmanager
def progress_bar(total: int, label: str) -> Iterator[Callable[[int], None]]:
    if not sys.stderr.isatty() or total < BAR_FROM:
        yield lambda n: None
        return
    from tqdm import tqdm

    with tqdm(
        total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=label, leave=False
    ) as bar:

        def advance(n: int) -> None:
            bar.update(n)

        yield advance


def _local_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _two_ends(ctx: Context) -> None:
    if len(ctx.args.paths) < 2:
        raise UsageError("needs a source and a destination")


def cmd_ls(ctx: Context) -> int:
    vault, remote = ctx.at(ctx.args.remote)
    entries = vault.ls(remote)
    if ctx.args.long:
        text = "\n".join(
            f"{'d' if e.kind == 'folder' else '-'} {e.size:>12} {when(e.mtime_ms / 1000)} {e.name}"
            for e in entries
        )
    else:
        text = "\n".join(e.name + ("/" if e.kind == "folder" else "") for e in entries)
    ctx.show([asdict(e) for e in entries], text)
    return 0


def cmd_tree(ctx: Context) -> int:
    vault, remote = ctx.at(ctx.args.remote)
    entries = list(vault.walk(remote))
    lines = []
    for e in entries:
        depth = e.path.count("/") - 1
        lines.append("  " * depth + e.name + ("/" if e.kind == "folder" else f"  ({e.size} B)"))
    ctx.show([asdict(e) for e in entries], "\n".join(lines))
    return 0


def cmd_mkdir(ctx: Context) -> int:
    vault, remote = ctx.at(ctx.args.remote)
    vault.mkdir(remote, parents=ctx.args.parents)
    return 0


def cmd_put(ctx: Context) -> int:
    _two_ends(ctx)
    vault, remote = ctx.at(ctx.args.paths[-1])
    locals_ = [Path(p) for p in ctx.args.paths[:-1]]
    if len(locals_) > 1 and not vault.is_folder(remote):
        raise UsageError(f"{remote} must be an existing folder when putting several items")
    made: list[str] = []
    for local in locals_:
        with progress_bar(_local_size(local) if local.exists() else 0, local.name) as bar:
            made += vault.put(local, remote, progress=bar)
    ctx.show(made, "")
    return 0


@contextmanager
def _destination(local: Path) -> Iterator[None]:
    """A local write failure names the destination the user gave, not an internal partial."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise LocalError(f"cannot write to {local}: {reason}") from None


def cmd_get(ctx: Context) -> int:
    _two_ends(ctx)
    remotes, local = ctx.args.paths[:-1], Path(ctx.args.paths[-1])
    if len(remotes) > 1 and not local.is_dir():
        raise UsageError(f"{local} must be an existing folder when getting several items")
    written: list[str] = []
    for named in remotes:
        vault, remote = ctx.at(named)
        total = (
            sum(e.size for e in vault.walk(remote))
            if vault.is_folder(remote)
            else vault.ls(remote)[0].size
        )
        with progress_bar(total, remote) as bar, _destination(local):
            got = vault.get(remote, local, progress=bar, escape_names=ctx.args.escape_names)
            written += [str(p) for p in got]
    ctx.show(written, "")
    return 0


def cmd_mv(ctx: Context) -> int:
    def container(path: str) -> str:
        return path.partition("/")[0] if path.startswith("app:") else ""

    if container(ctx.args.src) != container(ctx.args.dst):
        raise UsageError("moving between containers: copy it (get, put) instead")
    vault, src = ctx.at(ctx.args.src)
    _, dst = ctx.at(ctx.args.dst)
    vault.mv(src, dst)
    return 0


def cmd_rm(ctx: Context) -> int:
    """Like rm(1): a folder needs -r, except an empty one, removed like rmdir (and said so);
    a non-empty folder without -r is refused with exit 7 and nothing is removed."""
    from blindvault.core.manifest import FolderEntry

    for named in ctx.args.remote:
        vault, remote = ctx.at(named)
        entry = None if ctx.args.recursive else vault.stat(remote)
        if isinstance(entry, FolderEntry):
            if vault.ls(remote):
                raise LocalError(f"rm: cannot remove {named}: it is a folder that is not empty "
                                 "(use rm -r to remove it and everything in it)")  # fmt: skip
            sys.stderr.write(f"rm: {named} is an empty folder; removed it (like rmdir)\n")
        vault.rm(remote, recursive=ctx.args.recursive, permanent=ctx.args.permanent)
    return 0


def cmd_verify(ctx: Context) -> int:
    vault, remote = ctx.at(ctx.args.remote)
    folders, files, problems = vault.verify(remote)
    text = "\n".join(f"PROBLEM {p.path}: {p.message}" for p in problems)
    text += f"\nverified {folders} folders and {files} files: {len(problems)} problem(s)"
    ctx.show(
        {"folders": folders, "files": files, "problems": [asdict(p) for p in problems]},
        text.strip(),
    )
    return 10 if problems else 0


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    s = add("ls", cmd_ls, "list a folder")
    s.add_argument("remote", nargs="?", default="/")
    s.add_argument("-l", "--long", action="store_true")
    s = add("tree", cmd_tree, "list a folder recursively")
    s.add_argument("remote", nargs="?", default="/")
    s = add("mkdir", cmd_mkdir, "create a folder")
    s.add_argument("remote")
    s.add_argument("-p", "--parents", action="store_true")
    s = add("put", cmd_put, "upload files or folders: put LOCAL... REMOTE")
    s.add_argument("paths", nargs="+", metavar="PATH")
    s = add("get", cmd_get, "download files or folders: get REMOTE... LOCAL")
    s.add_argument("paths", nargs="+", metavar="PATH")
    s.add_argument("--escape-names", action="store_true", help="write unsafe names as %%XX")
    s = add("mv", cmd_mv, "move or rename")
    s.add_argument("src")
    s.add_argument("dst")
    s = add("rm", cmd_rm, "move files (and folders with -r) to the trash")
    s.add_argument("remote", nargs="+")
    s.add_argument("-r", "--recursive", action="store_true")
    s.add_argument("--permanent", action="store_true", help="remove for good, not to the trash")
    s = add("verify", cmd_verify, "download and authenticate every manifest and blob")
    s.add_argument("remote", nargs="?", default="/")
