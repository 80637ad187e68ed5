"""Unlocked commands (issue 18): `unlock [--for 15m]`, `lock`, `status`.

`unlock` opens the account with the password (Argon2id once) and hands only its vault key
to this user's key agent (`blindvault.client.agent`); until `lock` or the deadline, every
command of that account on this machine takes the key from there: no password, no KDF.
There is no OS keyring on this platform's default install; the agent is the only store."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import UTC, datetime

from blindvault.cli.context import Context, agent_name
from blindvault.client.agent import client as agent
from blindvault.client.agent.protocol import MAX_SECONDS
from blindvault.errors import CredentialError, LocalError, UsageError

__all__ = ["parse_duration", "register"]

DEFAULT_FOR = "15m"
WORKER = "blindvault.cli.agent_worker"  # the agent with the runner of forwarded commands
_UNITS = {"s": 1, "m": 60, "h": 3600}
_PART = re.compile(r"(\d+)([smh])")


def parse_duration(text: str) -> int:
    """`90s`, `15m`, `2h`, `1h30m` (a bare number is seconds) → seconds, 1 s to 24 h."""
    text = text.strip().lower()
    if text.isdigit():
        seconds = int(text)
    elif text and _PART.sub("", text) == "":
        seconds = sum(int(n) * _UNITS[u] for n, u in _PART.findall(text))
    else:
        raise UsageError(f"not a duration: {text!r} (e.g. 90s, 15m, 2h, 1h30m)")
    if not 0 < seconds <= MAX_SECONDS:  # mutant: agent.cli-max-for
        raise UsageError("--for must be between 1 second and 24 hours")
    return seconds


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds")


def cmd_unlock(ctx: Context) -> int:
    seconds = parse_duration(ctx.args.duration)
    vault = ctx.open(password=True)
    server, email = vault.state.server, vault.state.email
    until = agent.unlock(server, email, vault.opened.vault.material, seconds, module=WORKER)
    ctx.show(
        {"unlocked": True, "server": server, "email": email, "until": _iso(until),
         "until_ms": until},
        f"Unlocked {email} on {server} until {_iso(until)} (`blindvault lock` locks now).",
    )  # fmt: skip
    return 0


def cmd_lock(ctx: Context) -> int:
    was = agent.lock()
    ctx.show(
        {"locked": True, "was_unlocked": was},
        "Locked: the agent wiped its keys." if was else "Locked (nothing was unlocked).",
    )
    return 0


def cmd_status(ctx: Context) -> int:
    store = ctx.store()
    try:
        server, email = ctx.account(store)
    except CredentialError:
        server, email = "", ""
    note = ""
    try:
        entries = agent.status()
    except LocalError as exc:
        entries, note = [], str(exc)
    from blindvault.core.kdf import normalize_email

    name = (agent_name(server), normalize_email(email)) if email else None
    mine = [e for e in entries if name and (e.get("server"), e.get("email")) == name]
    until = int(mine[0]["until_ms"]) if mine else None
    data = {
        "server": server or None,
        "email": email or None,
        "logged_in": bool(email),
        "unlocked": until is not None,
        "until": _iso(until) if until else None,
        "until_ms": until,
        "agent": {"running": bool(entries), "entries": entries, "problem": note or None},
        "keyring": None,  # no OS keyring integration on this platform (issue 18)
    }
    if not email:
        text = "Not logged in."
    elif until is None:
        text = f"{email} on {server}: locked (commands ask for the password)."
    else:
        text = f"{email} on {server}: unlocked until {_iso(until)}."
    if note:
        text += f"\n{note}"
    ctx.show(data, text)
    return 0


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    s = add("unlock", cmd_unlock, "keep this account's vault key in the agent for a while")
    s.add_argument(
        "--for",
        dest="duration",
        default=DEFAULT_FOR,
        metavar="DURATION",
        help="how long (e.g. 90s, 15m, 2h; at most 24h; default 15m)",
    )
    add("lock", cmd_lock, "wipe the agent's keys now (commands ask for the password again)")
    add("status", cmd_status, "whether this account is unlocked, and until when")
