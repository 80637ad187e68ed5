"""A SeaweedFS that tests can stop and start again (shared by tests/faults and tests/load)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from support import free_port, wait_http


class Weed:
    """`weed server -s3` on loopback, restartable on the same folder and ports."""

    def __init__(self, data: Path, *, separate_s3: bool = False) -> None:
        self.data = data
        self.separate_s3 = separate_s3  # the S3 gateway as its own process (see kill_s3)
        self.s3_proc: subprocess.Popen[bytes] | None = None
        self.ports = {n: free_port() for n in ("master", "volume", "filer", "s3")}
        self.grpc = {n: free_port() for n in self.ports}
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{self.ports['s3']}"

    def start(self) -> None:
        binary = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
        p, g = self.ports, self.grpc
        cmd = [
            binary, "server", f"-dir={self.data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={p['master']}", f"-master.port.grpc={g['master']}",
            f"-volume.port={p['volume']}", f"-volume.port.grpc={g['volume']}",
            f"-filer.port={p['filer']}", f"-filer.port.grpc={g['filer']}",
            *(("-filer",) if self.separate_s3 else (
                "-s3", f"-s3.port={p['s3']}", f"-s3.port.grpc={g['s3']}",
            )),
            "-volume.max=16", "-master.volumeSizeLimitMB=64",
            # the Iceberg and Lance listeners default to fixed ports (8181, 9101): another
            # SeaweedFS on the machine would make this one die at start
            "-s3.port.iceberg=0", "-s3.port.lance=0",
        ]  # fmt: skip
        with (self.data / "weed.log").open("ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        try:
            if self.separate_s3:
                wait_http(f"http://127.0.0.1:{p['filer']}")
                self.start_s3()
            else:
                wait_http(self.url)
        except RuntimeError:
            self.stop()
            raise

    def start_s3(self) -> None:
        """The S3 gateway alone: what the blindvault server talks to."""
        binary = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
        p, g = self.ports, self.grpc
        cmd = [
            binary, "s3", f"-filer=127.0.0.1:{p['filer']}.{g['filer']}", "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1", f"-port={p['s3']}", f"-port.grpc={g['s3']}",
            "-port.iceberg=0", "-port.lance=0",
        ]  # fmt: skip
        with (self.data / "weed-s3.log").open("ab") as log:
            self.s3_proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
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
