"""Account commands: signup, login, logout, whoami, recover, devices, passwd (`recovery`:
cli/recovery.py).

`passwd` and `recovery rotate` send proof of the current password (or, after `recover`, of
the recovery words) with the change (P-KEYPROOF); a refusal exits 8 and changes nothing."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from blindvault.cli.context import Context
from blindvault.cli.prompts import ask_secret, when, words_block
from blindvault.core.identity import safety_number
from blindvault.errors import LocalError, PolicyError, UsageError

__all__ = ["register", "show_words"]


def _write_words(path: Path, words: list[str]) -> None:
    """The recovery words into a new file readable by this user only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(" ".join(words) + "\n")


def show_words(args: argparse.Namespace, words: list[str], *, new: bool) -> str:
    """Write the words to --recovery-file, or return them to show once."""
    if args.recovery_file:
        _write_words(args.recovery_file, words)
        kind = "New recovery" if new else "Recovery"
        return f"{kind} words written to {args.recovery_file} (keep them offline)."
    if new:
        return (
            "Your NEW 24 recovery words (the old ones no longer work) — write them down now; "
            "they are shown only once:\n\n  " + words_block(words)
        )
    return (
        "Your 24 recovery words — write them down now; they are shown only once:\n\n  "
        + words_block(words)
    )


def new_password(ctx: Context, email: str) -> tuple[str, str | None]:
    """The new password (checked for strength) and, with --generate-password, the
    generated passphrase to show once."""
    from blindvault.cli.strength import check_new_password, generate_passphrase

    if getattr(ctx.args, "generate_password", False):
        made = generate_passphrase()
        return made, made
    password = ctx.password(new=True)
    check_new_password(password, email, accept_weak=ctx.args.accept_weak_password)
    return password, None


def shown_password(made: str | None) -> str:
    if made is None:
        return ""
    return (
        "\nYour generated password — write it down or put it in a password manager; "
        f"it is shown only once:\n\n  {made}\n"
    )


def cmd_signup(ctx: Context) -> int:
    args = ctx.args
    if not args.server or not args.email:
        raise UsageError("signup needs --server and --email")
    from blindvault.client import orgrecovery
    from blindvault.client.net.http import ApiClient
    from blindvault.client.vault import Vault

    api = ApiClient(args.server, insecure=args.insecure)
    try:  # the user is told before anything is made
        org = orgrecovery.served(api)
    finally:
        api.close()
    if org is not None and not args.accept_org_recovery:
        raise PolicyError(
            orgrecovery.warning(org) + "\nTo consent, run signup again with "
            "--accept-org-recovery; nothing was created."
        )
    password, made = new_password(ctx, args.email)
    vault, words = Vault.signup(
        args.server,
        args.email,
        password,
        store=ctx.store(),
        insecure=args.insecure,
        post_quantum=args.pq,
    )
    ctx.keep(vault)
    if org is not None:
        orgrecovery.consent(vault.session, org)  # exactly the key shown above (P-SHOWN)
    shown = show_words(args, words, new=False)
    ctx.show(
        {
            "email": vault.state.email,
            "server": vault.state.server,
            "fingerprint": vault.fingerprint.hex(),
            "recovery_words": None if args.recovery_file else words,
            "org_recovery": None if org is None else org.key_id,
            "generated_password": made,
        },
        f"Account {vault.state.email} created on {vault.state.server}."
        + shown_password(made)
        + f"\n{shown}"
        + ("" if org is None else "\n" + orgrecovery.warning(org)),
    )
    return 0


def cmd_login(ctx: Context) -> int:
    args = ctx.args
    if args.pair:
        from blindvault.cli.pairing import cmd_login_pair

        return cmd_login_pair(ctx)
    if not args.server or not args.email:
        raise UsageError("login needs --server and --email")
    store = ctx.store()
    state = store.load(args.server.rstrip("/"), args.email)
    state.token = ""  # a new device session
    store.save(state)
    from blindvault.client.vault import Vault

    vault = Vault.open(
        args.server,
        args.email,
        ctx.password(),
        store=store,
        insecure=args.insecure,
        device_name=args.device_name,
        totp=args.totp,
    )
    ctx.keep(vault)
    ctx.show(
        {"email": vault.state.email, "device_id": vault.state.device_id},
        f"Logged in as {vault.state.email} (device {vault.state.device_id}).",
    )
    from blindvault.client import orgrecovery

    orgrecovery.check(vault.session)  # pinned here from the signed consent; else exit 8
    return 0


def cmd_logout(ctx: Context) -> int:
    vault = ctx.open()
    vault.logout()
    from blindvault.client.agent.client import forget

    try:  # an unlocked account's key leaves the agent too (issue 18)
        forget(vault.state.server, vault.state.email)
    except (LocalError, PolicyError) as exc:
        sys.stderr.write(f"blindvault: {exc}\n")
    ctx.show({"logged_out": True}, "Logged out; this device's token is revoked.")
    return 0


def cmd_whoami(ctx: Context) -> int:
    from blindvault.client import orgrecovery
    from blindvault.wire.recovery import PendingList

    vault = ctx.open()
    fp = vault.fingerprint
    org = orgrecovery.check(vault.session)  # a swapped or added key: exit 8, warned
    asked = [
        p.request_id
        for p in vault.api.get_as(PendingList, "/v1/recovery/pending").requests
        if p.state == "open"
    ]
    ctx.show(
        {
            "email": vault.state.email,
            "server": vault.state.server,
            "device_id": vault.state.device_id,
            "fingerprint": fp.hex(),
            "safety_number": safety_number(fp),
            "org_recovery": None if org is None else {"key_id": org.key_id, "name": org.name},
            "recovery_requests": asked,
        },
        f"{vault.state.email} on {vault.state.server}\nsafety number: {safety_number(fp)}"
        + ("" if org is None else "\n" + orgrecovery.warning(org))
        + "".join(
            f"\nWARNING: recovery request {r} is open against this account; not you? "
            f"`blindvault recovery veto {r}`"
            for r in asked
        ),
    )
    return 0


def cmd_recover(ctx: Context) -> int:
    args = ctx.args
    if not args.server or not args.email:
        raise UsageError("recover needs --server and --email")
    words = ctx.stdin_line() if not sys.stdin.isatty() else ask_secret("Recovery words: ")
    new, _ = new_password(ctx, args.email)
    from blindvault.client.vault import Vault

    vault = Vault.recover(
        args.server, args.email, words, new, store=ctx.store(), insecure=args.insecure,
        totp=args.totp,
    )  # fmt: skip
    ctx.keep(vault)
    ctx.show({"email": vault.state.email}, "Recovered; the new password is set.")
    return 0


def cmd_devices(ctx: Context) -> int:
    args = ctx.args
    if args.action == "add":
        from blindvault.cli.pairing import cmd_devices_add

        return cmd_devices_add(ctx)
    vault = ctx.open()
    if args.action == "revoke":
        if not args.id:
            raise UsageError("devices revoke needs a device ID")
        vault.revoke_device(args.id)
        ctx.show({"revoked": args.id}, f"Device {args.id} revoked.")
        return 0
    devices = vault.devices()
    text = "\n".join(
        f"{d['id']}  {d['name']:<20} last seen {when(float(str(d['last_seen'])))}"
        f"{'  (this device)' if d['current'] else ''}{'  revoked' if d['revoked'] else ''}"
        for d in devices
    )
    ctx.show(devices, text)
    return 0


def cmd_passwd(ctx: Context) -> int:
    args = ctx.args
    vault = ctx.open(password=True)
    password, made = new_password(ctx, vault.state.email)
    words = vault.change_password(password, new_recovery=args.new_recovery, totp=args.totp)
    text = "Password changed (the vault key was re-wrapped; other devices are signed out)."
    text += shown_password(made)
    if words:
        text += "\n" + show_words(args, words, new=True)
    data: dict[str, object] = {"objects_written": 1}
    if made is not None:
        data["generated_password"] = made
    if args.new_recovery:
        data["recovery_words"] = None if args.recovery_file else words
    ctx.show(data, text)
    return 0


def password_flags(s: argparse.ArgumentParser, *, generate: bool = True) -> None:
    s.add_argument(
        "--accept-weak-password",
        action="store_true",
        help="keep a new password that zxcvbn scores below 3 (refused otherwise, exit 8)",
    )
    if generate:
        s.add_argument(
            "--generate-password",
            action="store_true",
            help="make a 6-word passphrase (EFF long list, ~77 bits) and show it once",
        )


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    s = add("signup", cmd_signup, "create an account; shows the 24 recovery words once")
    s.add_argument("--recovery-file", type=Path, help="write the recovery words to this new file")
    s.add_argument(
        "--pq",
        action="store_true",
        help="post-quantum identity: shares to you are sealed with ML-KEM-768+X25519",
    )
    s.add_argument(
        "--accept-org-recovery",
        action="store_true",
        help="consent to the server's organisation recovery key (its operator can recover you)",
    )
    password_flags(s)
    s = add("login", cmd_login, "log this device in")
    s.add_argument("--device-name", default=os.uname().nodename)
    s.add_argument("--totp", help="the 6-digit code, if the account has TOTP")
    s.add_argument(
        "--pair", metavar="CODE", help="pair with a signed-in device (`devices add` shows CODE)"
    )
    add("logout", cmd_logout, "revoke this device's session")
    add("whoami", cmd_whoami, "show the account and its safety number")
    s = add("recover", cmd_recover, "set a new password with the recovery words (read from stdin)")
    s.add_argument("--totp", help="the 6-digit code, if the account has TOTP")
    password_flags(s, generate=False)
    s = add("devices", cmd_devices, "list devices, `devices revoke ID`, or `devices add`")
    s.add_argument("action", nargs="?", choices=["list", "revoke", "add"], default="list")
    s.add_argument("id", nargs="?")
    s = add("passwd", cmd_passwd, "change the password (re-wraps one key)")
    s.add_argument("--new-recovery", action="store_true", help="also make new recovery words")
    s.add_argument("--recovery-file", type=Path, help="write the new words to this new file")
    s.add_argument("--totp", help="the 6-digit code, if the account has TOTP")
    password_flags(s)
