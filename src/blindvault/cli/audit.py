"""`blindvault audit [--json] [--since T]`: the account's audit log, verified (issue 20).

Every entry's hash is recomputed from its fields and the chain is checked against the
head this device pinned last time (`client.audit`); a broken, edited or rewound log exits
10 and the pin is left as it was."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime

from blindvault.cli.context import Context
from blindvault.cli.link import parse_duration
from blindvault.cli.prompts import when
from blindvault.errors import UsageError

__all__ = ["parse_since", "register"]


def parse_since(text: str, now: float | None = None) -> float:
    """'7d' (ago) or an ISO date/time ('2026-12-01', '2026-12-01T10:00', UTC if no zone)."""
    try:
        return (time.time() if now is None else now) - parse_duration(text)
    except UsageError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"not a time: {text!r} (use e.g. 7d, 12h or 2026-12-01T10:00)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _line(e: dict[str, object]) -> str:
    detail = e["detail"]
    extra = (
        " ".join(f"{k}={v}" for k, v in sorted(dict(detail).items()))
        if isinstance(detail, dict)
        else ""
    )
    return f"{e['seq']:>5}  {when(float(str(e['at'])))}  {e['event']}  {extra}".rstrip()


def cmd_audit(ctx: Context) -> int:
    """The account's audit log: signups, logins (device, address), failed logins, password
    and key changes, device revocations, shares and links, app grants, recoveries."""
    from blindvault.client.audit import verify_log
    from blindvault.wire.audit import AuditLog

    since = parse_since(ctx.args.since) if ctx.args.since else None
    vault = ctx.open()
    log = vault.api.get_as(AuditLog, "/v1/audit")
    check = verify_log(log.entries, vault.state)  # IntegrityError (exit 10): pin unchanged
    vault.save()
    shown = [e.model_dump() for e in check.entries if since is None or e.at >= since]
    seq, head = check.head
    text = "\n".join(_line(e) for e in shown) or "(no events)"
    text += f"\nchain verified: {seq} entries, head {head[:16]}…"
    ctx.show(
        {"entries": shown, "verified": True, "head": {"seq": seq, "hash": head}},
        text,
    )
    return 0


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    s = add("audit", cmd_audit, "show the account's audit log and verify its hash chain")
    s.add_argument("--since", metavar="T", help="only events since T (7d, 12h, 2026-12-01)")
