"""App commands (issue 16): authorize, list, revoke apps; grant, list and end grants.

blindvault apps authorize com.example.notes --out notes.cred
blindvault --app-credential notes.cred ls /            (the app's own container)
blindvault apps grant com.example.a com.example.b --read --totp 123456
blindvault --app-credential a.cred ls app:com.example.b/
blindvault apps ungrant com.example.a com.example.b
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from blindvault.cli.context import Context
from blindvault.cli.prompts import when
from blindvault.errors import LocalError, UsageError

__all__ = ["register"]

ACTIONS = ("authorize", "list", "revoke", "grant", "grants", "ungrant")
NAMES = {"authorize": 1, "list": 0, "revoke": 1, "grant": 2, "grants": 0, "ungrant": 2}


def _names(ctx: Context) -> list[str]:
    names: list[str] = ctx.args.names
    want = NAMES[ctx.args.action]
    if len(names) != want:
        raise UsageError(f"apps {ctx.args.action} takes {want} app id(s), got {len(names)}")
    return names


def _reserve(path: Path) -> int:
    """A new, empty file readable by this user only; an existing one is never overwritten."""
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise LocalError(f"{path} exists already: choose another --out") from None
    except OSError as exc:
        raise LocalError(f"cannot write {path}: {exc.strerror}") from None


def _authorize(ctx: Context, app_id: str) -> int:
    out: Path | None = ctx.args.out
    vault = ctx.open()
    # the file first: a credential is never issued that could not be written
    fd = _reserve(out) if out is not None else None
    try:
        cred = vault.apps.authorize(app_id)
    except BaseException:
        if out is not None and fd is not None:
            os.close(fd)
            out.unlink(missing_ok=True)
        raise
    data = json.dumps(cred.to_json(), indent=1).encode("utf-8") + b"\n"
    if out is None or fd is None:
        if sys.stdout.isatty():
            sys.stderr.write("blindvault: this credential is a secret: prefer --out FILE\n")
        sys.stdout.write(data.decode("utf-8"))
        return 0
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    ctx.show({"app_id": app_id, "credential": str(out), "space": cred.node_id.hex()},
             f"App {app_id} authorized; its credential is in {out} (keep it secret).")  # fmt: skip
    return 0


def _list(ctx: Context) -> int:
    apps = ctx.open().apps.listing()
    rows = [
        {"app_id": a["app_id"], "credentials": a["credentials"], "created_at": a["created_at"],
         "verified": a["verified"]}
        for a in apps
    ]  # fmt: skip
    text = "\n".join(
        f"{r['app_id']}  {r['credentials']} credential(s)  since {when(r['created_at'])}"
        + ("" if r["verified"] else "  UNVERIFIED KEY")
        for r in rows
    )
    ctx.show(rows, text or "no apps authorized")
    return 0


def _grants(ctx: Context) -> int:
    grants = ctx.open().apps.grants()
    rows = [{"from_app": g["from_app"], "to_app": g["to_app"], "role": g["role"],
             "created_at": g["created_at"]} for g in grants]  # fmt: skip
    text = "\n".join(f"{r['from_app']} -> {r['to_app']}  {r['role']}" for r in rows)
    ctx.show(rows, text or "no grants")
    return 0


def cmd_apps(ctx: Context) -> int:
    action, names = ctx.args.action, _names(ctx)
    if action == "authorize":
        return _authorize(ctx, names[0])
    if action == "list":
        return _list(ctx)
    if action == "grants":
        return _grants(ctx)
    apps = ctx.open().apps
    if action == "revoke":
        apps.revoke(names[0])
        ctx.show({"revoked": names[0]}, f"Revoked every credential of {names[0]}.")
    elif action == "grant":
        if ctx.args.read == ctx.args.write:
            raise UsageError("apps grant needs exactly one of --read or --write")
        if not ctx.args.totp:
            raise UsageError("apps grant needs --totp CODE (a current code of the account)")
        apps.grant(names[0], names[1], write=ctx.args.write, totp=ctx.args.totp)
        role = "write" if ctx.args.write else "read"
        ctx.show({"from_app": names[0], "to_app": names[1], "role": role},
                 f"{names[0]} may now {role} {names[1]}.")  # fmt: skip
    else:
        apps.ungrant(names[0], names[1])
        done = f"{names[0]} no longer reaches {names[1]}; {names[1]}'s keys were rotated."
        ctx.show({"ungranted": [names[0], names[1]]}, done)
    return 0


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    s = add("apps", cmd_apps, "app containers: authorize, list, revoke, grant, grants, ungrant")
    s.add_argument("action", choices=ACTIONS)
    s.add_argument("names", nargs="*", metavar="APP_ID")
    s.add_argument("--out", type=Path, help="authorize: write the credential to this new file")
    s.add_argument("--read", action="store_true", help="grant: read access")
    s.add_argument("--write", action="store_true", help="grant: read-write access")
    s.add_argument("--totp", help="grant: a current TOTP code of the account")
