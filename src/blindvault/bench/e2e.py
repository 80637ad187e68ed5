"""Suite `e2e`: `blindvault put`/`get` through a real server on loopback, on SQLite + local
disk and on PostgreSQL + SeaweedFS, one big file and many small ones; side by side with the
same bytes moved unencrypted through the same server and store (`rawclient`), and `cp`."""

from __future__ import annotations

import contextlib
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blindvault.bench import util

__all__ = ["Dataset", "dataset", "run_e2e", "stack"]


@dataclass(frozen=True)
class Dataset:
    big: Path
    big_size: int
    small: Path
    small_count: int
    small_size: int


def dataset(work: Path, *, quick: bool) -> Dataset:
    """One big file and a folder of small ones, shared by `e2e` and `peers`."""
    big_size = (9 << 20) if quick else (1 << 30)  # quick: just over one 8 MiB part
    count, size = (8, 4096) if quick else (1000, 4096)
    big = work / "data" / "big.bin"
    small = work / "data" / "small"
    if not big.exists() or big.stat().st_size != big_size:
        util.write_random(big, big_size)
    if not small.exists():
        util.write_small_files(small, count, size)
    return Dataset(big, big_size, small, count, size)


@contextlib.contextmanager
def stack(kind: str, work: Path, s3: str | None, *, workers: int = 1) -> Iterator[util.Server]:
    """`sqlite`: SQLite + local disk; `postgres`: PostgreSQL + SeaweedFS (or local disk
    when no S3 endpoint is given)."""
    data = work / f"srv-{kind}-{workers}"
    try:
        if kind == "sqlite":
            with util.server(data, workers=workers) as srv:
                yield srv
        else:
            blobs = f"s3://bvbench/{data.name}?endpoint={s3}" if s3 else None
            with (
                util.pg_database() as db,
                util.server(data, db=db, blobs=blobs, workers=workers) as srv,
            ):
                yield srv
    finally:
        shutil.rmtree(data, ignore_errors=True)


def _raw(*args: str) -> list[str]:
    return [sys.executable, "-m", "blindvault.bench.rawclient", *args]


def _row(m: util.Measured, size: int, count: int = 1) -> dict[str, float]:
    return {
        "seconds": m.seconds,
        "mbs": util.mbs(size, m.seconds),
        "files_s": count / m.seconds,
        "peak_rss_mib": m.peak_rss_mib,
    }


def _backend(srv: util.Server, work: Path, data: Dataset) -> dict[str, Any]:
    home = work / f"home-{srv.url.rsplit(':', 1)[1]}"
    token = util.signup(srv.url, home, "e2e@example.org")
    env = util.cli_env(home)
    raw_env = {"BV_TOKEN": token}
    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    big, small = data.big_size, data.small_count * data.small_size
    res: dict[str, Any] = {"label": srv.label}
    # one big file: ours and the unencrypted baseline alternate, so drifts hit both
    m = util.run_measured(util.cli("put", str(data.big), "/big.bin"), env=env)
    res["put_big"] = _row(m, big)
    m = util.run_measured(_raw("put-big", srv.url, str(data.big)), env=raw_env)
    blob = m.stdout.strip()
    res["raw_put_big"] = _row(m, big)
    m = util.run_measured(util.cli("get", "/big.bin", str(out / "big.bin")), env=env)
    res["get_big"] = _row(m, big)
    if (out / "big.bin").stat().st_size != big:
        raise RuntimeError("blindvault get returned the wrong size")
    (out / "big.bin").unlink()
    m = util.run_measured(_raw("get-big", srv.url, blob, str(out / "raw.bin")), env=raw_env)
    res["raw_get_big"] = _row(m, big)
    (out / "raw.bin").unlink()
    # many small files
    n = data.small_count
    m = util.run_measured(util.cli("put", str(data.small), "/"), env=env)
    res["put_small"] = _row(m, small, n)
    ids = out / "ids.txt"
    m = util.run_measured(_raw("put-small", srv.url, str(data.small), str(ids)), env=raw_env)
    res["raw_put_small"] = _row(m, small, n)
    m = util.run_measured(util.cli("get", "/small", str(out / "small")), env=env)
    res["get_small"] = _row(m, small, n)
    got = len(list((out / "small").iterdir()))
    if got != n:
        raise RuntimeError(f"blindvault get wrote {got} files, not {n}")
    m = util.run_measured(_raw("get-small", srv.url, str(ids), str(out / "raw")), env=raw_env)
    res["raw_get_small"] = _row(m, small, n)
    shutil.rmtree(out)
    return res


def _cp(work: Path, data: Dataset) -> dict[str, Any]:
    dest = work / "cp"
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir()
    big = util.run_measured(["cp", str(data.big), str(dest / "big.bin")])
    small = util.run_measured(["cp", "-r", str(data.small), str(dest / "small")])
    # cp uses copy_file_range (an in-kernel copy); dd goes through read()/write() like
    # every client and server here: the user-space write path, then made durable
    dd = ["dd", f"if={data.big}", "bs=8M", "status=none"]
    write = util.run_measured([*dd, f"of={dest / 'dd.bin'}"])
    durable = util.run_measured([*dd, f"of={dest / 'dd2.bin'}", "conv=fdatasync"])
    shutil.rmtree(dest)
    return {
        "big": _row(big, data.big_size),
        "small": _row(small, data.small_count * data.small_size, data.small_count),
        "dd": _row(write, data.big_size),
        "dd_fdatasync": _row(durable, data.big_size),
    }


def run_e2e(
    work: Path, *, quick: bool = False, s3: str | None = None, data: Dataset | None = None
) -> dict[str, Any]:
    data = data or dataset(work, quick=quick)
    result: dict[str, Any] = {
        "big_size": data.big_size,
        "small_count": data.small_count,
        "small_size": data.small_size,
        "cp": _cp(work, data),
        "backends": {},
    }
    with contextlib.ExitStack() as stack_:
        if s3 is None:
            s3 = stack_.enter_context(util.seaweedfs(work / "weed"))
        for kind in ("sqlite", "postgres"):
            with stack(kind, work, s3) as srv:
                result["backends"][kind] = _backend(srv, work, data)
    return result
