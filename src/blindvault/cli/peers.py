"""Peer commands: fingerprint (yours or a peer's) and trust (pin a peer's key)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from blindvault.cli.context import Context
from blindvault.cli.prompts import confirm_key
from blindvault.core.identity import safety_number
from blindvault.errors import PolicyError, UsageError

__all__ = ["register"]

_CERTIFIED = "  certified"  # by the server's CA, pinned on this device: a signal, not trust


def cmd_trust(ctx: Context) -> int:
    args = ctx.args
    vault = ctx.open()
    shown = args.fingerprint
    if shown is None and not args.trust_on_first_use:
        if not sys.stdin.isatty():
            raise UsageError("give --fingerprint (checked out of band) or --trust-on-first-use")
        from blindvault.client.peers import fetch_bundle

        seen = fetch_bundle(vault.api, args.peer)
        if not confirm_key(args.peer, seen.fingerprint):
            raise UsageError("not trusted")
        shown = seen.fingerprint.hex()  # P-SHOWN: pin exactly this key, or refuse
    bundle = vault.trust(args.peer, shown, replace=args.replace)
    fp = bundle.fingerprint
    cert = vault.peer_view(bundle.email).certified
    ctx.show(
        {
            "email": bundle.email,
            "fingerprint": fp.hex(),
            "safety_number": safety_number(fp),
            "certified": cert,
        },
        f"Trusted {bundle.email}: {safety_number(fp)}{_CERTIFIED if cert else ''}",
    )
    return 0


def cmd_fingerprint(ctx: Context) -> int:
    vault = ctx.open()
    if ctx.args.peer:
        seen = vault.peer_view(ctx.args.peer)
        fp = seen.bundle.fingerprint
        if seen.changed_by_ca:
            sys.stderr.write(
                f"blindvault: {seen.bundle.email}'s key changed; accepted because the server's "
                "CA certifies it and your organisation's policy (pinned) says so\n"
            )
        ctx.show(
            {
                "email": seen.bundle.email,
                "fingerprint": fp.hex(),
                "safety_number": safety_number(fp),
                "pinned": seen.pinned,
                "certified": seen.certified,
            },
            f"{safety_number(fp)}{_CERTIFIED if seen.certified else ''}\n{fp.hex()}"
            f"{'' if seen.pinned else '  (not pinned)'}",
        )
        return 0
    fp = vault.fingerprint
    ctx.show(
        {"fingerprint": fp.hex(), "safety_number": safety_number(fp)},
        f"{safety_number(fp)}\n{fp.hex()}",
    )
    return 0


def cmd_peers(ctx: Context) -> int:
    """Every pinned peer with its safety number, and whether the pinned CA certifies it;
    a peer whose served key no longer matches the pin is listed as changed (exit 8)."""
    vault = ctx.open()
    rows: list[dict[str, object]] = []
    for email in sorted(vault.state.peers):
        try:
            seen = vault.peer_view(email)
        except PolicyError as exc:
            if "certificate authority" in str(exc):
                raise
            rows.append({"email": email, "changed": True, "certified": False})
            continue
        fp = seen.bundle.fingerprint
        rows.append(
            {"email": email, "fingerprint": fp.hex(), "safety_number": safety_number(fp),
             "certified": seen.certified, "changed": False}
        )  # fmt: skip
    text = "\n".join(
        f"{r['email']}  KEY CHANGED: compare safety numbers, then `trust --replace`"
        if r["changed"]
        else f"{r['email']}  {r['safety_number']}{_CERTIFIED if r['certified'] else ''}"
        for r in rows
    )
    ctx.show(rows, text)
    return 8 if any(r["changed"] for r in rows) else 0


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    add("peers", cmd_peers, "list the people you verified, their safety numbers, certified")
    s = add("fingerprint", cmd_fingerprint, "show your (or a peer's) safety number and fingerprint")
    s.add_argument("peer", nargs="?", help="a peer's email")
    s = add("trust", cmd_trust, "pin a peer's key after checking its safety number out of band")
    s.add_argument("peer", help="the peer's email")
    s.add_argument("--fingerprint", help="the fingerprint (hex) or safety number they read to you")
    s.add_argument("--trust-on-first-use", action="store_true", help="pin without a check")
    s.add_argument("--replace", action="store_true", help="re-pin a peer whose key changed")
