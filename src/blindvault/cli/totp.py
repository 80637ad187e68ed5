"""TOTP commands (issue 16), in two steps that scripts can drive:

    blindvault totp setup [--json]        a new secret, its otpauth:// URI and a QR code;
                                          nothing is enforced yet (kept on this device)
    blindvault totp enable --code CODE    turns it on once CODE (from that secret) checks
    blindvault totp disable --code CODE

The pending secret waits in this device's state folder (readable by this user only) until
`enable` sends it with proof of the password, and is deleted then.
"""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable
from pathlib import Path

from blindvault.cli.context import Context
from blindvault.client.account_keys import new_totp_secret, otpauth_uri
from blindvault.client.local.files import atomic_write
from blindvault.errors import CredentialError, UsageError

__all__ = ["register"]


def _account(ctx: Context) -> tuple[str, str]:
    current = ctx.store().current()
    server = ctx.args.server or (current[0] if current else None)
    email = ctx.args.email or (current[1] if current else None)
    if not server or not email:
        raise CredentialError("not logged in: run `blindvault login` first")
    return server.rstrip("/"), email


def _pending(ctx: Context, server: str, email: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in f"{email}@{server}")
    return ctx.store().home / "totp-pending" / f"{safe}.json"


def _qr(uri: str) -> str:
    import segno

    out = io.StringIO()
    segno.make(uri, error="m").terminal(out=out, compact=True)
    return out.getvalue()


def cmd_setup(ctx: Context) -> int:
    server, email = _account(ctx)
    secret = new_totp_secret()
    uri = otpauth_uri(secret, email)
    atomic_write(_pending(ctx, server, email), json.dumps({"secret": secret}).encode("utf-8"))
    text = (
        f"{_qr(uri)}\nSecret: {secret}\nURI:    {uri}\n\n"
        "Add it to an authenticator app, then run `blindvault totp enable --code CODE`."
    )
    ctx.show({"secret": secret, "uri": uri, "enabled": False}, text)
    return 0


def cmd_enable(ctx: Context) -> int:
    server, email = _account(ctx)
    pending = _pending(ctx, server, email)
    secret = ctx.args.secret
    if secret is None:
        if not pending.exists():
            raise UsageError("no pending TOTP secret: run `blindvault totp setup` first")
        secret = json.loads(pending.read_text(encoding="utf-8"))["secret"]
    ctx.open(password=True).totp_enable(secret, ctx.args.code, current=ctx.args.current)
    pending.unlink(missing_ok=True)
    ctx.show({"enabled": True}, "TOTP is on: logins and grants now need a code.")
    return 0


def cmd_disable(ctx: Context) -> int:
    ctx.open().totp_disable(ctx.args.code)
    ctx.show({"enabled": False}, "TOTP is off.")
    return 0


def cmd_totp(ctx: Context) -> int:
    action = ctx.args.action
    if action == "setup":
        return cmd_setup(ctx)
    if not ctx.args.code:
        raise UsageError(f"totp {action} needs --code CODE")
    return cmd_enable(ctx) if action == "enable" else cmd_disable(ctx)


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    s = add("totp", cmd_totp, "TOTP second factor: setup, enable --code, disable --code")
    s.add_argument("action", choices=["setup", "enable", "disable"])
    s.add_argument("--code", help="a current 6-digit code")
    s.add_argument("--secret", help="enable: this secret instead of the one `setup` kept")
    s.add_argument("--current", help="enable: a code of the secret that is on now (replace)")
