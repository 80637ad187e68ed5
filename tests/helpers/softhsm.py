"""A real SoftHSM2 token for the identity-certificate tests (issue 17, part 3).

SoftHSM2 comes from Debian (`scripts/system-deps` installs `softhsm2`); a missing
`softhsm2-util` or module is a failure, never a skip. Each token lives in its own
temporary SOFTHSM2_CONF."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

MODULES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
)
PIN = "4321"


@dataclass
class Token:
    conf: Path
    module: str
    label: str
    pin: str = PIN

    @property
    def env(self) -> dict[str, str]:
        return {"SOFTHSM2_CONF": str(self.conf), "BLINDVAULT_CA_PIN": self.pin}

    def create_ca(self, data: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        """`blindvault admin --data DATA ca create` on this token."""
        cmd = [sys.executable, "-m", "blindvault", "admin", "--data", str(data), "ca", "create"]
        cmd += ["--pkcs11-lib", self.module, "--token", self.label, *extra]
        return subprocess.run(
            cmd, capture_output=True, text=True, timeout=120, check=False,
            env={**os.environ, **self.env},
        )  # fmt: skip


def make_token(tmp: Path, label: str = "bvtest") -> Token:
    util = shutil.which("softhsm2-util")
    module = next((m for m in MODULES if Path(m).exists()), None)
    if util is None or module is None:
        pytest.fail("SoftHSM2 is missing: run scripts/system-deps (Debian package softhsm2)")
    tokens = tmp / "tokens"
    tokens.mkdir(parents=True)
    conf = tmp / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n")
    subprocess.run(
        [util, "--init-token", "--free", "--label", label, "--pin", PIN, "--so-pin", "8765"],
        check=True, capture_output=True, env={**os.environ, "SOFTHSM2_CONF": str(conf)},
    )  # fmt: skip
    return Token(conf, module, label)
