"""`blindvault admin ca create|show`: the certificate authority of identity certificates.

    blindvault admin [--data DIR] ca create --pkcs11-lib LIB --token LABEL [--pin PIN]
        [--key-label blindvault-ca] [--policy re-verify|accept-certified-changes] [--replace]
    blindvault admin [--data DIR] ca show

`create` generates an Ed25519 key inside the PKCS#11 token (it never leaves it), signs the
CA descriptor (public key + the organisation's policy) with it and writes `ca.json` in the
data folder; the server signs certificates with it from its next start, given the PIN in
`BLINDVAULT_CA_PIN`. Exit codes: 0 done, 2 usage, 5 a CA exists already, 1 token error.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from pathlib import Path
from typing import Any

from blindvault.server.ca import CONFIG_NAME, PIN_ENV, POLICIES, CaError, create, load

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    ca = sub.add_parser("ca", help="the certificate authority of identity certificates")
    cmds = ca.add_subparsers(dest="ca_command", required=True)
    c = cmds.add_parser("create", help="generate the CA key in a PKCS#11 token (an HSM)")
    c.add_argument("--pkcs11-lib", required=True, help="the token's PKCS#11 module (.so)")
    c.add_argument("--token", required=True, help="the token's label")
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
