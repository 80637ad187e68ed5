"""Suite `peers`: what a user would pick instead, on the same bytes in the same run —
rclone crypt (a local folder and the same SeaweedFS), restic (a local and an S3
repository) and age (single-file encryption). Each with its defaults. A missing peer is an
error: `scripts/system-deps` installs them."""

from __future__ import annotations

import contextlib
import shutil
from functools import partial
from pathlib import Path
from typing import Any

from blindvault.bench import util
from blindvault.bench.e2e import Dataset, dataset
from blindvault.bench.e2e import _row as e2e_row

__all__ = ["PEERS", "check_peers", "run_peers"]

PEERS = ("rclone", "restic", "age", "age-keygen")
# a CA bundle for real AWS makes rclone refuse its plain-HTTP loopback transport
_DROP = ("AWS_CA_BUNDLE",)
_PASS = "bench-peer-password"  # noqa: S105 (throw-away repositories)


def check_peers() -> dict[str, str]:
    found = {p: shutil.which(p) for p in PEERS}
    missing = [p for p, where in found.items() if where is None]
    if missing:
        raise RuntimeError(f"missing benchmark peers {missing}: run scripts/system-deps")
    return {p: str(where) for p, where in found.items()}


def _version(cmd: list[str]) -> str:
    return util.run_measured(cmd).stdout.strip().splitlines()[0]


def _row(m: util.Measured | list[util.Measured], size: int, count: int = 1) -> dict[str, Any]:
    return e2e_row(m if isinstance(m, list) else [m], size, count)


def _run(runs: dict[str, list[util.Measured]], env: dict[str, str], op: str, *cmd: str) -> None:
    runs.setdefault(op, []).append(util.run_measured(list(cmd), env=env, drop=_DROP))


def _fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def _rclone(work: Path, data: Dataset, s3: str, reps: int) -> dict[str, Any]:
    conf = work / "rclone.conf"
    conf.write_text("")
    obscured = util.run_measured(["rclone", "obscure", _PASS]).stdout.strip()
    env = {
        "RCLONE_CONFIG": str(conf),
        "RCLONE_CONFIG_LOCALCRYPT_TYPE": "crypt",
        "RCLONE_CONFIG_LOCALCRYPT_REMOTE": str(_fresh(work / "rclone-local")),
        "RCLONE_CONFIG_LOCALCRYPT_PASSWORD": obscured,
        "RCLONE_CONFIG_S3_TYPE": "s3",
        "RCLONE_CONFIG_S3_PROVIDER": "Other",
        "RCLONE_CONFIG_S3_ENDPOINT": s3,
        "RCLONE_CONFIG_S3_ACCESS_KEY_ID": util.S3_KEY,
        "RCLONE_CONFIG_S3_SECRET_ACCESS_KEY": util.S3_KEY,
        "RCLONE_CONFIG_S3_REGION": "us-east-1",
        "RCLONE_CONFIG_S3CRYPT_TYPE": "crypt",
        "RCLONE_CONFIG_S3CRYPT_REMOTE": "s3:rclonebench/crypt",
        "RCLONE_CONFIG_S3CRYPT_PASSWORD": obscured,
    }
    out: dict[str, Any] = {}
    small = data.small_count * data.small_size
    for name, remote in (("local", "localcrypt:"), ("s3", "s3crypt:")):
        runs: dict[str, list[util.Measured]] = {}
        for i in range(reps):  # a fresh path each time: rclone skips what is there already
            dest = _fresh(work / "rclone-out")
            at = f"{remote}r{i}/"
            run = partial(_run, runs, env)

            run("put_big", "rclone", "copyto", str(data.big), at + "big.bin")
            run("get_big", "rclone", "copyto", at + "big.bin", str(dest / "b"))
            run("put_small", "rclone", "copy", str(data.small), at + "small")
            run("get_small", "rclone", "copy", at + "small", str(dest / "s"))
            if len(list((dest / "s").iterdir())) != data.small_count:
                raise RuntimeError("rclone restored the wrong number of files")
            shutil.rmtree(dest)
        out[name] = {
            op: _row(ms, data.big_size if op.endswith("big") else small,
                     1 if op.endswith("big") else data.small_count)
            for op, ms in runs.items()
        }  # fmt: skip
    shutil.rmtree(work / "rclone-local", ignore_errors=True)
    return out


def _restic(work: Path, data: Dataset, s3: str, reps: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    small = data.small_count * data.small_size
    for name in ("local", "s3"):
        runs: dict[str, list[util.Measured]] = {}
        for i in range(reps):  # a fresh repository each time: restic would dedup
            local = _fresh(work / "restic-local")
            repo = str(local) if name == "local" else f"s3:{s3}/resticbench/repo{i}"
            env = {
                "RESTIC_REPOSITORY": repo,
                "RESTIC_PASSWORD": _PASS,
                "RESTIC_CACHE_DIR": str(work / "restic-cache"),
                "AWS_ACCESS_KEY_ID": util.S3_KEY,
                "AWS_SECRET_ACCESS_KEY": util.S3_KEY,
            }
            util.run_measured(["restic", "init"], env=env, drop=_DROP)
            dest = _fresh(work / "restic-out")
            run = partial(_run, runs, env)

            backup = ("restic", "backup", "--quiet", "--tag")
            restore = ("restic", "restore", "latest", "--target")
            run("put_big", *backup, "big", str(data.big))
            run("get_big", *restore, str(dest / "b"), "--tag", "big")
            run("put_small", *backup, "small", str(data.small))
            run("get_small", *restore, str(dest / "s"), "--tag", "small")
            restored = [p for p in (dest / "s").rglob("*") if p.is_file()]
            if len(restored) != data.small_count:
                raise RuntimeError(f"restic restored {len(restored)} files, not {data.small_count}")
            shutil.rmtree(dest)
            shutil.rmtree(work / "restic-cache", ignore_errors=True)
        out[name] = {
            op: _row(ms, data.big_size if op.endswith("big") else small,
                     1 if op.endswith("big") else data.small_count)
            for op, ms in runs.items()
        }  # fmt: skip
    shutil.rmtree(work / "restic-local", ignore_errors=True)
    return out


def _age(work: Path, data: Dataset) -> dict[str, Any]:
    folder = _fresh(work / "age")
    key = folder / "key.txt"
    util.run_measured(["age-keygen", "-o", str(key)])
    public = next(
        line.split(":", 1)[1].strip()
        for line in key.read_text().splitlines()
        if line.startswith("# public key:")
    )
    small = data.small_count * data.small_size
    r: dict[str, Any] = {}
    sealed = folder / "big.age"
    m = util.run_measured(["age", "-r", public, "-o", str(sealed), str(data.big)])
    r["encrypt_big"] = _row(m, data.big_size)
    m = util.run_measured(["age", "-d", "-i", str(key), "-o", str(folder / "big"), str(sealed)])
    r["decrypt_big"] = _row(m, data.big_size)
    if (folder / "big").stat().st_size != data.big_size:
        raise RuntimeError("age decrypted the wrong size")
    (folder / "enc").mkdir()
    (folder / "dec").mkdir()
    enc = f'for f in "$1"/*; do age -r {public} -o "$2/${{f##*/}}.age" "$f" || exit 1; done'
    m = util.run_measured(["sh", "-c", enc, "sh", str(data.small), str(folder / "enc")])
    r["encrypt_small"] = _row(m, small, data.small_count)
    dec = f'for f in "$1"/*; do age -d -i {key} -o "$2/${{f##*/}}" "$f" || exit 1; done'
    m = util.run_measured(["sh", "-c", dec, "sh", str(folder / "enc"), str(folder / "dec")])
    r["decrypt_small"] = _row(m, small, data.small_count)
    shutil.rmtree(folder)
    return r


def run_peers(
    work: Path,
    *,
    quick: bool = False,
    s3: str | None = None,
    data: Dataset | None = None,
    repeats: int = 3,
) -> dict[str, Any]:
    tools = check_peers()
    data = data or dataset(work, quick=quick)
    versions = {
        "rclone": _version(["rclone", "version"]),
        "restic": _version(["restic", "version"]),
        "age": "age " + _version(["age", "--version"]),
    }
    with contextlib.ExitStack() as stack:
        if s3 is None:
            s3 = stack.enter_context(util.seaweedfs(work / "weed"))
        return {
            "tools": tools,
            "versions": versions,
            "big_size": data.big_size,
            "small_count": data.small_count,
            "small_size": data.small_size,
            "repeats": repeats,
            "rclone_crypt": _rclone(work, data, s3, repeats),
            "restic": _restic(work, data, s3, repeats),
            "age": _age(work, data),
        }
