"""`blindvault admin ca create|show`: the certificate authority of identity certificates.

    blindvault admin [--data DIR] ca create --pkcs11-lib LIB --token LABEL [--pin PIN]
        [--key-label blindvault-ca] [--policy re-verify|accept-certified-changes] [--replace]
    blindvault admin [--data DIR] ca create --software [--policy …] [--replace]
    blindvault admin [--data DIR] ca show

`create` generates an Ed25519 key inside the PKCS#11 token (it never leaves it), signs the
CA descriptor (public key + the organisation's policy) with it and writes `ca.json` in the
data folder; the server signs certificates with it from its next start, given the PIN in
`BLINDVAULT_CA_PIN`. `--software` is for small deployments without an HSM: a SoftHSM2
token made under the data folder (`ca-softhsm/`), its random PIN in a file there (mode
600) — the key then sits on the server's disk like the database.
Exit codes: 0 done, 2 usage, 5 a CA exists already, 1 token error.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from blindvault.server.ca import (
    CONFIG_NAME,
    PIN_ENV,
    POLICIES,
    SOFTHSM_MODULES,
    CaConfig,
    CaError,
    create,
    load,
)

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    ca = sub.add_parser("ca", help="the certificate authority of identity certificates")
    cmds = ca.add_subparsers(dest="ca_command", required=True)
    c = cmds.add_parser("create", help="generate the CA key in a PKCS#11 token (an HSM)")
    c.add_argument("--pkcs11-lib", help="the token's PKCS#11 module (.so)")
    c.add_argument("--token", help="the token's label")
    c.add_argument(
        "--software",
        action="store_true",
        help="no HSM: keep the key in a SoftHSM2 token under --data (small deployments)",
    )
    c.add_argument("--pin", default=None, help=f"the user PIN (default ${PIN_ENV})")
    c.add_argument("--key-label", default="blindvault-ca", help="default blindvault-ca")
    c.add_argument(
        "--policy",
        choices=sorted(POLICIES),
        default="re-verify",
        help="a certified key change of a pinned peer: still re-verified by the user "
        "(re-verify, the default) or accepted (accept-certified-changes)",
    )
    c.add_argument("--replace", action="store_true", help="replace an existing ca.json")
    cmds.add_parser("show", help="print the CA's public key, policy and pin")


def _describe(config: Any) -> str:
    pin = hashlib.sha256(bytes.fromhex(config.descriptor)).hexdigest()
    return (
        f"token {config.token!r} key {config.key_label!r} ({config.pkcs11_lib})\n"
        f"public key {config.public_key}\npolicy {config.policy}\n"
        f"descriptor pin {pin} (clients pin this at first contact)\n"
    )


def _software(data: Path, key_label: str, policy: str) -> CaConfig:
    """A fresh SoftHSM2 token under `data/ca-softhsm`, and the CA key made in it."""
    util = shutil.which("softhsm2-util")
    module = next((m for m in SOFTHSM_MODULES if Path(m).exists()), None)
    if util is None or module is None:
        raise CaError("--software keeps the key in SoftHSM2: install it (Debian: softhsm2)")
    home = data / "ca-softhsm"
    if home.exists():
        shutil.rmtree(home)
    (home / "tokens").mkdir(parents=True, mode=0o700)
    conf = home / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {home / 'tokens'}\nobjectstore.backend = file\n")
    pin, so_pin = secrets.token_hex(16), secrets.token_hex(16)
    pin_file = home / "pin"
    fd = os.open(pin_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(pin + "\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)  # before the module is loaded in this process
    init = [util, "--init-token", "--free", "--label", "blindvault-ca"]
    made = subprocess.run(  # noqa: S603 (softhsm2-util from PATH, fixed arguments)
        [*init, "--pin", pin, "--so-pin", so_pin], capture_output=True, check=False
    )
    if made.returncode != 0:
        raise CaError("softhsm2-util could not create the token")
    config = create(module, "blindvault-ca", pin, key_label, policy)
    return replace(config, softhsm2_conf=str(conf), pin_file=str(pin_file))


def run(args: argparse.Namespace, data: Path) -> int:
    path = data / CONFIG_NAME
    try:
        if args.ca_command == "show":
            config = load(path)
            if config is None:
                sys.stderr.write(f"blindvault admin: no CA configured ({path})\n")
                return 4
            sys.stdout.write(_describe(config))
            return 0
        if path.exists() and not args.replace:
            sys.stderr.write(f"blindvault admin: {path} exists (give --replace to replace it)\n")
            return 5
        if args.software:
            config = _software(data, args.key_label, args.policy)
        else:
            if not args.pkcs11_lib or not args.token:
                sys.stderr.write("blindvault admin: give --pkcs11-lib and --token, or --software\n")
                return 2
            pin = args.pin or os.environ.get(PIN_ENV, "")
            if not pin:
                sys.stderr.write(f"blindvault admin: give --pin or set {PIN_ENV}\n")
                return 2
            config = create(args.pkcs11_lib, args.token, pin, args.key_label, args.policy)
        config.save(path)
    except CaError as exc:
        sys.stderr.write(f"blindvault admin: {exc}\n")
        return 1
    sys.stdout.write(f"CA created; {path} written.\n" + _describe(config))
    return 0
