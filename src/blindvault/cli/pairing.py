"""Pairing a device by code: `blindvault devices add` and `blindvault login --pair CODE`.

Both commands print as they go (the code, the confirmation string) and wait for the other
device; with --json each of those is one JSON line on standard output, then the result."""

from __future__ import annotations

import io
import json
import sys

import segno

from blindvault.cli.context import Context
from blindvault.cli.prompts import when
from blindvault.errors import UsageError

__all__ = ["cmd_devices_add", "cmd_login_pair", "qr_text"]


def _line(ctx: Context, data: dict[str, object], text: str) -> None:
    """One progress line now (not at the end): JSON with --json, else `text`."""
    if ctx.args.json:
        print(json.dumps(data), flush=True)
    else:
        print(text, flush=True)


def qr_text(code: str) -> str:
    """The code as a QR code drawn with terminal characters."""
    out = io.StringIO()
    segno.make(code, error="m").terminal(out=out, compact=True, border=2)
    return out.getvalue()


def cmd_devices_add(ctx: Context) -> int:
    vault = ctx.open()

    def show(code: str, expires_at: float) -> None:
        _line(
            ctx,
            {"code": code, "expires_at": expires_at},
            f"{qr_text(code)}\nOn the new device run:\n\n  blindvault login --server "
            f"{vault.state.server} --pair {code}\n\nThe code works once, until "
            f"{when(expires_at)} UTC. Waiting for the new device…",
        )

    def confirm(confirmation: str, name: str) -> bool:
        _line(
            ctx,
            {"confirmation": confirmation, "device_name": name},
            f"Device {name!r} joined. Confirmation: {confirmation}",
        )
        if not sys.stdin.isatty() or ctx.args.json:
            return True
        return input("Does the new device show the same? [y/N] ").strip().lower() == "y"

    paired = vault.add_device(show=show, confirm=confirm)
    ctx.show(
        {"device_id": paired.device_id, "device_name": paired.device_name,
         "confirmation": paired.confirmation},
        f"Device {paired.device_name!r} ({paired.device_id}) is paired.",
    )  # fmt: skip
    return 0


def cmd_login_pair(ctx: Context) -> int:
    args = ctx.args
    if not args.server:
        raise UsageError("login --pair needs --server (shown by `blindvault devices add`)")
    from blindvault.client.vault import Vault

    def show(confirmation: str) -> None:
        _line(
            ctx,
            {"confirmation": confirmation},
            f"Confirmation: {confirmation} (the other device shows the same). Waiting…",
        )

    vault = ctx.keep(
        Vault.pair(
            args.server,
            args.pair,
            store=ctx.store(),
            insecure=args.insecure,
            device_name=args.device_name,
            show=show,
        )
    )
    ctx.show(
        {"email": vault.state.email, "device_id": vault.state.device_id, "paired": True},
        f"Logged in as {vault.state.email} (device {vault.state.device_id}), paired. "
        "Later commands ask for the account password as usual.",
    )
    return 0
