"""A real SoftHSM2 token for the identity-certificate tests (issue 17, part 3).

SoftHSM2 comes from Debian (`scripts/system-deps` installs `softhsm2`); a missing
`softhsm2-util` or module is a failure, never a skip. Each token lives in its own
temporary SOFTHSM2_CONF."""

from __future__ import annotations

import json
import os
import secrets
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


_SIGN = """
import json, sys
from pathlib import Path
from blindvault.server import ca
a = json.loads(sys.argv[1])
config = ca.CaConfig(**json.loads(Path(a["config"]).read_text()))
if a["label"]:
    config = ca.create(config.pkcs11_lib, config.token, a["pin"], a["label"], a["policy"])
signer = ca.CaSigner(config, a["pin"])
cert = signer.certificate(a["email"], bytes.fromhex(a["bundle"]))
print(json.dumps({"descriptor": signer.descriptor.hex(), "certificate": cert.hex()}))
"""


def certify(
    token: Token, data: Path, email: str, bundle: bytes, *, new_key: str = ""
) -> tuple[bytes, bytes]:
    """(CA descriptor, certificate of `bundle` for `email`) signed by the token: with the
    server's CA key (`data/ca.json`), or with a new key `new_key` in the same token whose
    policy accepts certified changes. In a subprocess: SoftHSM2 reads its configuration
    once per process, and the tests use several tokens."""
    args = {
        "config": str(data / "ca.json"), "label": new_key, "pin": token.pin, "email": email,
        "bundle": bundle.hex(), "policy": "accept-certified-changes",
    }  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", _SIGN, json.dumps(args)], capture_output=True, text=True,
        timeout=120, check=True, env={**os.environ, **token.env},
    )  # fmt: skip
    out = json.loads(done.stdout)
    return bytes.fromhex(out["descriptor"]), bytes.fromhex(out["certificate"])


def make_token(tmp: Path, label: str = "") -> Token:
    util = shutil.which("softhsm2-util")
    module = next((m for m in MODULES if Path(m).exists()), None)
    if util is None or module is None:
        pytest.fail("SoftHSM2 is missing: run scripts/system-deps (Debian package softhsm2)")
    label = label or f"bv{secrets.token_hex(4)}"
    tokens = tmp / "tokens"
    tokens.mkdir(parents=True)
    conf = tmp / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n")
    subprocess.run(
        [util, "--init-token", "--free", "--label", label, "--pin", PIN, "--so-pin", "8765"],
        check=True, capture_output=True, env={**os.environ, "SOFTHSM2_CONF": str(conf)},
    )  # fmt: skip
    return Token(conf, module, label)
