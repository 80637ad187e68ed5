"""Suite `e2e`: `blindvault put`/`get` through a real server on loopback, on SQLite + local
disk and on PostgreSQL + SeaweedFS, one big file and many small ones; side by side with the
same bytes moved unencrypted through the same server and store with the client's own
concurrency, and straight to SeaweedFS with boto3 (`rawclient`), and `cp`. Every figure is
the median of `repeats` runs, each run kept (the spread)."""

from __future__ import annotations

import contextlib
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blindvault.bench import storage, util

__all__ = ["Dataset", "dataset", "run_e2e", "stack"]


@dataclass(frozen=True)
class Dataset:
    big: Path
    big_size: int
    small: Path
    small_count: int
    small_size: int


def dataset(work: Path, *, quick: bool, big_size: int | None = None) -> Dataset:
    """One big file and a folder of small ones, shared by `e2e` and `peers`."""
    big_size = big_size or ((9 << 20) if quick else (1 << 30))  # quick: just over a part
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


def _row(ms: list[util.Measured], size: int, count: int = 1) -> dict[str, Any]:
    """The median of repeated runs, with every run's figure (the spread)."""
    secs = sorted(m.seconds for m in ms)
    mid = statistics.median(secs)
    return {
        "seconds": mid,
        "mbs": util.mbs(size, mid),
        "files_s": count / mid,
        "peak_rss_mib": max(m.peak_rss_mib for m in ms),
        "runs_mbs": [util.mbs(size, m.seconds) for m in ms],
        "runs_files_s": [count / m.seconds for m in ms],
    }


def _repeat(
    times: int, cmd: list[str], env: dict[str, str], after: Callable[[], None] | None = None
) -> list[util.Measured]:
    out = []
    for _ in range(times):
        out.append(util.run_measured(cmd, env=env))
        if after is not None:
            after()
    return out


def _clear(path: Path) -> Callable[[], None]:
    def clear() -> None:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)

    return clear


def _backend(
    srv: util.Server, work: Path, data: Dataset, reps: int, s3: str | None
) -> dict[str, Any]:
    home = work / f"home-{srv.url.rsplit(':', 1)[1]}"
    token = util.signup(srv.url, home, "e2e@example.org")
    env = util.cli_env(home)
    raw_env = {"BV_TOKEN": token}
    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    big, small, n = data.big_size, data.small_count * data.small_size, data.small_count
    res: dict[str, Any] = {"label": srv.label}
    # ours and the baselines alternate within each step, so drifts hit all of them
    put_runs, raw_runs, blob, part_size = [], [], "", 0
    for _ in range(reps):
        put_runs.append(util.run_measured(util.cli("put", str(data.big), "/big.bin"), env=env))
        m = util.run_measured(_raw("put-big", srv.url, str(data.big)), env=raw_env)
        raw_runs.append(m)
        blob, size_text = m.stdout.split()
        part_size = int(size_text)
    res["put_big"], res["raw_put_big"] = _row(put_runs, big), _row(raw_runs, big)
    get_runs, raw_runs = [], []
    for _ in range(reps):
        get_runs.append(util.run_measured(util.cli("get", "/big.bin", str(out / "b")), env=env))
        if (out / "b").stat().st_size != big:
            raise RuntimeError("blindvault get returned the wrong size")
        (out / "b").unlink()
        raw_runs += _repeat(
            1, _raw("get-big", srv.url, blob, str(out / "r")), raw_env, _clear(out / "r")
        )
    res["get_big"], res["raw_get_big"] = _row(get_runs, big), _row(raw_runs, big)
    # many small files: each put makes a new folder of the same files
    puts, raws, ids = [], [], out / "ids.txt"
    for i in range(reps):
        puts.append(util.run_measured(util.cli("put", str(data.small), f"/s{i}"), env=env))
        raws.append(
            util.run_measured(_raw("put-small", srv.url, str(data.small), str(ids)), env=raw_env)
        )
    res["put_small"], res["raw_put_small"] = _row(puts, small, n), _row(raws, small, n)
    gets, raws = [], []
    for i in range(reps):
        gets.append(util.run_measured(util.cli("get", f"/s{i}", str(out / "s")), env=env))
        got = len(list((out / "s").iterdir()))
        if got != n:
            raise RuntimeError(f"blindvault get wrote {got} files, not {n}")
        shutil.rmtree(out / "s")
        raws += _repeat(
            1, _raw("get-small", srv.url, str(ids), str(out / "r")), raw_env, _clear(out / "r")
        )
    res["get_small"], res["raw_get_small"] = _row(gets, small, n), _row(raws, small, n)
    res.update(_unlocked(env, data, reps, out))
    if s3 is not None:
        res.update(_store_client(s3, work, data, reps, part_size))
    shutil.rmtree(out)
    return res


def _unlocked(env: dict[str, str], data: Dataset, reps: int, out: Path) -> dict[str, Any]:
    """The same commands after `blindvault unlock`: each process takes the agent's key, so
    it pays neither the password's Argon2id (64 MiB, ~0.1 s) nor the login round trips —
    how a script or a shell session runs a series of commands. No password is given."""
    big, small, n = data.big_size, data.small_count * data.small_size, data.small_count
    agent_dir = Path(tempfile.mkdtemp(prefix="bva-")) / "agent"  # AF_UNIX paths are short
    aenv = {**env, "BLINDVAULT_AGENT_DIR": str(agent_dir)}
    res: dict[str, Any] = {}
    try:
        util.run_measured(util.cli("unlock", "--for", "30m"), env=aenv)
        no_pw = {**aenv, "BLINDVAULT_PASSWORD": ""}
        puts, gets = [], []
        for i in range(reps):
            puts.append(util.run_measured(util.cli("put", str(data.small), f"/u{i}"), env=no_pw))
            gets.append(util.run_measured(util.cli("get", f"/u{i}", str(out / "u")), env=no_pw))
            if len(list((out / "u").iterdir())) != n:
                raise RuntimeError("blindvault get (unlocked) wrote the wrong number of files")
            shutil.rmtree(out / "u")
        res["put_small_unlocked"] = _row(puts, small, n)
        res["get_small_unlocked"] = _row(gets, small, n)
        put = [util.run_measured(util.cli("put", str(data.big), "/ubig.bin"), env=no_pw)]
        get = [util.run_measured(util.cli("get", "/ubig.bin", str(out / "ub")), env=no_pw)]
        if (out / "ub").stat().st_size != big:
            raise RuntimeError("blindvault get (unlocked) returned the wrong size")
        (out / "ub").unlink()
        res["put_big_unlocked"], res["get_big_unlocked"] = _row(put, big), _row(get, big)
    finally:
        with contextlib.suppress(Exception):
            util.run_measured(util.cli("lock"), env=aenv)
        shutil.rmtree(agent_dir.parent, ignore_errors=True)
    return res


def _store_client(s3: str, work: Path, data: Dataset, reps: int, part: int) -> dict[str, Any]:
    """The object store's own client (boto3), same part size and concurrency."""
    env = {"AWS_ACCESS_KEY_ID": util.S3_KEY, "AWS_SECRET_ACCESS_KEY": util.S3_KEY}
    bucket, dest = "bvbaseline", work / "boto3-out"
    big, small, n = data.big_size, data.small_count * data.small_size, data.small_count
    s3_put = _raw("s3-put-big", s3, bucket, str(part), str(data.big))
    s3_get = _raw("s3-get-big", s3, bucket, str(part), str(dest))
    s3_put_small = _raw("s3-put-small", s3, bucket, str(data.small))
    s3_get_small = _raw("s3-get-small", s3, bucket, str(dest))
    return {
        "store_part_size": part,
        "boto3_put_big": _row(_repeat(reps, s3_put, env), big),
        "boto3_get_big": _row(_repeat(reps, s3_get, env, _clear(dest)), big),
        "boto3_put_small": _row(_repeat(reps, s3_put_small, env), small, n),
        "boto3_get_small": _row(_repeat(reps, s3_get_small, env, _clear(dest)), small, n),
    }


def _cp(work: Path, data: Dataset) -> dict[str, Any]:
    dest = work / "cp"
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir()
    big = [util.run_measured(["cp", str(data.big), str(dest / "big.bin")])]
    small = [util.run_measured(["cp", "-r", str(data.small), str(dest / "small")])]
    # cp uses copy_file_range (an in-kernel copy); dd goes through read()/write() like
    # every client and server here: the user-space write path, then made durable
    dd = ["dd", f"if={data.big}", "bs=8M", "status=none"]
    write = [util.run_measured([*dd, f"of={dest / 'dd.bin'}"])]
    durable = [util.run_measured([*dd, f"of={dest / 'dd2.bin'}", "conv=fdatasync"])]
    shutil.rmtree(dest)
    return {
        "big": _row(big, data.big_size),
        "small": _row(small, data.small_count * data.small_size, data.small_count),
        "dd": _row(write, data.big_size),
        "dd_fdatasync": _row(durable, data.big_size),
    }


def run_e2e(
    work: Path,
    *,
    quick: bool = False,
    s3: str | None = None,
    data: Dataset | None = None,
    repeats: int = 3,
    weed: Path | None = None,
) -> dict[str, Any]:
    data = data or dataset(work, quick=quick)
    result: dict[str, Any] = {
        "big_size": data.big_size,
        "small_count": data.small_count,
        "small_size": data.small_size,
        "repeats": repeats,
        "cp": _cp(work, data),
        "backends": {},
    }
    with contextlib.ExitStack() as stack_:
        if s3 is None:
            weed = work / "weed"
            s3 = stack_.enter_context(util.seaweedfs(weed))
        for kind in ("sqlite", "postgres"):
            with stack(kind, work, s3) as srv:
                store = s3 if kind == "postgres" else None
                result["backends"][kind] = _backend(srv, work, data, repeats, store)
        result["storage"] = storage.run_storage(work / "storage", s3, quick=quick, weed=weed)
    return result
